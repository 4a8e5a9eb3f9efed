-- 0100 console (same in both modes): the park registry the console filters by, API tokens,
-- alert acknowledgements and comments, alert subscriptions and the delivery ledger.
-- Owned by the console package (docs/console.md); versions 0100-0199 are the console's.

-- Registry: a copy of the park model (ingest.park), refreshed by `nengtan console --park FILE`,
-- so every query can be filtered by enterprise in SQL.
CREATE TABLE console_parks (
    id     text PRIMARY KEY,
    name   text NOT NULL,
    region text NOT NULL
);
CREATE TABLE console_enterprises (
    id       text PRIMARY KEY,
    park     text NOT NULL REFERENCES console_parks (id) ON DELETE CASCADE,
    name     text NOT NULL,
    industry text NOT NULL,
    region   text NOT NULL,
    output   jsonb NOT NULL          -- [{product, uom, quantity_per_year, value_1e4_cny_per_year}]
);
CREATE TABLE console_units (
    id         text PRIMARY KEY,
    enterprise text NOT NULL REFERENCES console_enterprises (id) ON DELETE CASCADE,
    name       text NOT NULL,
    level      smallint NOT NULL,
    parent     text
);
CREATE TABLE console_devices (
    id         text PRIMARY KEY,
    enterprise text NOT NULL REFERENCES console_enterprises (id) ON DELETE CASCADE,
    name       text NOT NULL,
    protocol   text NOT NULL
);
CREATE TABLE console_points (
    id         text PRIMARY KEY,
    enterprise text NOT NULL REFERENCES console_enterprises (id) ON DELETE CASCADE,
    name       text NOT NULL,
    kind       text NOT NULL,
    carrier    text,
    uom        text NOT NULL,
    use        text,
    unit       text,
    level      smallint NOT NULL,     -- metering level: 1 enterprise, 2 line, 3 equipment
    device     text,
    inventory  boolean NOT NULL       -- counted in enterprise totals (streams.points.mark_inventory)
);
CREATE INDEX console_points_enterprise ON console_points (enterprise);
CREATE TABLE console_stacks (
    id         text PRIMARY KEY,
    enterprise text NOT NULL REFERENCES console_enterprises (id) ON DELETE CASCADE,
    name       text NOT NULL,
    mn         text NOT NULL,
    unit       text,
    species    jsonb NOT NULL,
    limits     jsonb NOT NULL
);

-- Alert state changes with the enterprise their scope belongs to (NULL for park-wide alerts).
CREATE VIEW console_alert_events AS
SELECT a.*,
       split_part(a.scope, ':', 1) AS scope_kind,
       substr(a.scope, length(split_part(a.scope, ':', 1)) + 2) AS scope_id,
       CASE split_part(a.scope, ':', 1)
           WHEN 'enterprise' THEN substr(a.scope, 12)
           WHEN 'stack' THEN (SELECT s.enterprise FROM console_stacks s WHERE s.id = substr(a.scope, 7))
           WHEN 'device' THEN (SELECT d.enterprise FROM console_devices d WHERE d.id = substr(a.scope, 8))
           WHEN 'point' THEN (SELECT p.enterprise FROM console_points p WHERE p.id = substr(a.scope, 7))
       END AS enterprise
FROM alerts a;

-- API tokens: only a SHA-256 digest of the token is stored (tokens are 256-bit random).
CREATE TABLE console_tokens (
    id         bigserial PRIMARY KEY,
    digest     text NOT NULL UNIQUE,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('admin', 'enterprise', 'auditor', 'vendor')),
    enterprise text,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK ((role IN ('enterprise', 'vendor')) = (enterprise IS NOT NULL))
);

CREATE TABLE console_alert_acks (
    alert_id text PRIMARY KEY,
    ack_by   text NOT NULL,
    ack_ts   timestamptz NOT NULL DEFAULT now(),
    note     text NOT NULL DEFAULT ''
);
CREATE TABLE console_alert_comments (
    id       bigserial PRIMARY KEY,
    alert_id text NOT NULL,
    author   text NOT NULL,
    ts       timestamptz NOT NULL DEFAULT now(),
    body     text NOT NULL
);
CREATE INDEX console_alert_comments_alert ON console_alert_comments (alert_id, ts);

-- Subscriptions: who gets which alerts, how. NULL filters match everything; an enterprise
-- user's subscriptions always carry their enterprise.
CREATE TABLE console_subscriptions (
    id         bigserial PRIMARY KEY,
    owner      text NOT NULL,
    enterprise text,
    stack      text,
    severities text[],
    rule_id    text,
    metric     text,
    channel    text NOT NULL CHECK (channel IN ('webhook', 'mqtt', 'email', 'kafka')),
    target     text NOT NULL,        -- URL, e-mail address, Kafka topic, or '' for MQTT
    secret     text,                 -- webhook HMAC key; never returned after creation
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- Delivery ledger: one row per (subscription, alert, state); the unique key is what makes a
-- subscriber receive each event once. `pending` is written before the send, `sent`/`failed`
-- after it, and Kafka offsets are committed only after that.
CREATE TABLE console_deliveries (
    subscription_id bigint NOT NULL REFERENCES console_subscriptions (id),
    alert_id        text NOT NULL,
    state           text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, alert_id, state)
);
CREATE INDEX console_deliveries_status ON console_deliveries (status, updated_at);
