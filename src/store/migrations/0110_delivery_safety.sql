-- Subscriptions that fail alone and cannot reach inside.
--
-- Health: a subscription whose deliveries keep failing is marked `failing` with the category of
-- its last error (never the target's raw error text) and the time of its next attempt; while it
-- waits, its deliveries are `deferred` (the alert kept in `payload`) and sent once it recovers.
ALTER TABLE console_subscriptions
    ADD COLUMN health          text NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'failing')),
    ADD COLUMN failures        integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error      text,
    ADD COLUMN next_attempt_at timestamptz;

ALTER TABLE console_deliveries DROP CONSTRAINT console_deliveries_status_check;
ALTER TABLE console_deliveries ADD CONSTRAINT console_deliveries_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'deferred'));
ALTER TABLE console_deliveries ADD COLUMN payload jsonb;
CREATE INDEX console_deliveries_deferred ON console_deliveries (subscription_id, created_at)
    WHERE status = 'deferred';

-- Inside addresses (loopback, private, link-local, ...) a park administrator allows as webhook
-- targets; `port` NULL allows every port of the network.
CREATE TABLE console_target_allow (
    id         bigserial PRIMARY KEY,
    network    cidr NOT NULL,
    port       integer CHECK (port BETWEEN 1 AND 65535),
    note       text NOT NULL DEFAULT '',
    granted_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Kafka topic prefixes a park administrator grants to an enterprise (NULL: park-wide
-- subscriptions) beyond its default `nt.tenant.<enterprise>.`.
CREATE TABLE console_kafka_grants (
    id         bigserial PRIMARY KEY,
    enterprise text,
    prefix     text NOT NULL CHECK (prefix ~ '^[A-Za-z0-9._-]{3,200}$'),
    granted_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (enterprise, prefix)
);
