-- The console's audit trail: every write (POST/PUT/PATCH/DELETE, refused ones included) and
-- every read by a park-wide role (administrator, auditor) of enterprise data. Append-only: the
-- database refuses UPDATE, DELETE and TRUNCATE. Each record is also an evidence event
-- (`console_audit`), so a removed or altered record breaks the evidence chain as well.
CREATE TABLE console_audit (
    audit_id   bigserial   PRIMARY KEY,
    at_ts      timestamptz NOT NULL,
    token_id   bigint,                -- NULL: no valid token
    actor      text        NOT NULL,  -- token name, or 'anonymous'
    role       text        NOT NULL,  -- token role, or 'none'
    method     text        NOT NULL,
    route      text        NOT NULL,  -- the route template (/api/v1/alerts/{alert_id}/ack)
    path       text        NOT NULL,  -- the path asked for
    enterprise text,                  -- the subject enterprise, when the request names one
    status     integer     NOT NULL,
    event_id   bigint      NOT NULL   -- its evidence_events row (created by a later migration)
);
CREATE INDEX console_audit_at ON console_audit (at_ts);
CREATE INDEX console_audit_enterprise ON console_audit (enterprise, at_ts);

CREATE FUNCTION console_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'console_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER console_audit_no_update_delete BEFORE UPDATE OR DELETE ON console_audit
    FOR EACH ROW EXECUTE FUNCTION console_audit_append_only();
CREATE TRIGGER console_audit_no_truncate BEFORE TRUNCATE ON console_audit
    FOR EACH STATEMENT EXECUTE FUNCTION console_audit_append_only();
