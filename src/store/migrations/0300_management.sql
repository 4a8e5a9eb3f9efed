-- 0300 management (docs/management.md): the management inputs of each park (budgets and their
-- re-allocations, the carbon-asset ledger, BOMs, plans ...) as one validated document, the
-- state of management alerts, and supply-chain submissions with their evidence. Same in both
-- modes (plain PostgreSQL and TimescaleDB).

CREATE TABLE mgmt_inputs (
    park        text        PRIMARY KEY,
    document    jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every change of the inputs document, kept (who changed what, when): re-allocations and ledger
-- entries are thereby recorded twice — in the document and in this history.
CREATE TABLE mgmt_inputs_history (
    id          bigserial   PRIMARY KEY,
    park        text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text        NOT NULL,
    change      text        NOT NULL,
    document    jsonb       NOT NULL
);

-- Active management alerts (budget forecast, compliance gap): finding key -> alert id, so an
-- evaluation publishes only state changes.
CREATE TABLE mgmt_alert_state (
    key         text        PRIMARY KEY,
    alert_id    text        NOT NULL,
    enterprise  text        NOT NULL,
    raised_at   timestamptz NOT NULL
);

-- Supply-chain payloads, kept whole (evidence), by digest.
CREATE TABLE mgmt_supplier_payloads (
    sha256      text        PRIMARY KEY,
    channel     text        NOT NULL CHECK (channel IN ('api', 'csv')),
    submitter   text        NOT NULL,
    received_at timestamptz NOT NULL,
    payload     bytea       NOT NULL
);

-- One evidence record per submitted row: accepted or rejected with the reason.
CREATE TABLE mgmt_supplier_evidence (
    evidence_id    text        PRIMARY KEY,
    payload_sha256 text        NOT NULL REFERENCES mgmt_supplier_payloads (sha256),
    row_no         integer     NOT NULL,
    accepted       boolean     NOT NULL,
    reason         text,
    enterprise     text,
    record         jsonb       NOT NULL
);
CREATE INDEX mgmt_supplier_evidence_enterprise ON mgmt_supplier_evidence (enterprise);
