-- 0200 evidence ledger (issue 9; versions 0200-0299 belong to src/evidence and src/reports).
-- The same in both modes: these tables are small beside the readings and are never compressed
-- (a compressed chunk cannot be checked row by row by a verifier with plain SQL).

-- Every record accepted on nt.readings.v1, kept as its exact bytes, hashed and chained per
-- source (the Kafka key, the device) in partition-offset order.
CREATE TABLE evidence_batches (
    topic       text        NOT NULL,
    "partition" integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    device      text        NOT NULL,
    seq         bigint,
    sent_ts     timestamptz,
    payload     bytea       NOT NULL,
    batch_hash  text        NOT NULL,
    prev_chain  text        NOT NULL,
    chain_hash  text        NOT NULL,
    seal_id     bigint,
    PRIMARY KEY (topic, "partition", "offset")
);
CREATE INDEX evidence_batches_device_seq ON evidence_batches (device, seq);
CREATE INDEX evidence_batches_unsealed ON evidence_batches (topic, "partition", "offset") WHERE seal_id IS NULL;
CREATE INDEX evidence_batches_seal ON evidence_batches (seal_id);

-- The newest chain hash of each source (a cache of the last batch's chain_hash, updated in the
-- same transaction as the batch).
CREATE TABLE evidence_heads (
    device      text   PRIMARY KEY,
    chain_hash  text   NOT NULL,
    n_batches   bigint NOT NULL
);

-- Seals: one Merkle root over a block of batches (kind 'readings', scope 'topic/partition') or
-- over the row hashes of one period of a stored table (kind = the table, scope = the table).
-- Seals of one (kind, scope) are chained through prev_seal_hash; seal_hash is what is published.
CREATE TABLE evidence_seals (
    seal_id        bigserial   PRIMARY KEY,
    kind           text        NOT NULL,
    scope          text        NOT NULL,
    range_from     bigint      NOT NULL,
    range_to       bigint      NOT NULL,
    n_leaves       integer     NOT NULL,
    root           text        NOT NULL,
    prev_seal_hash text        NOT NULL,
    seal_hash      text        NOT NULL UNIQUE,
    sealed_at      timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX evidence_seals_kind ON evidence_seals (kind, scope, range_from);

-- Leaves of table seals: the hash of one stored row, under its natural key.
CREATE TABLE evidence_leaves (
    seal_id    bigint  NOT NULL REFERENCES evidence_seals (seal_id),
    ord        integer NOT NULL,
    record_key text    NOT NULL,
    leaf_hash  text    NOT NULL,
    PRIMARY KEY (seal_id, ord)
);
CREATE INDEX evidence_leaves_key ON evidence_leaves (record_key);

-- Evidence events: manual entries, factor versions, recalculations, report snapshots, notes.
-- Who, when, what (body and its hash), why; chained in event_id order.
CREATE TABLE evidence_events (
    event_id   bigserial   PRIMARY KEY,
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    actor      text        NOT NULL,
    at_ts      timestamptz NOT NULL,
    reason     text        NOT NULL,
    body       text        NOT NULL, -- canonical JSON, exactly the bytes hashed
    prev_hash  text        NOT NULL,
    event_hash text        NOT NULL UNIQUE
);
CREATE INDEX evidence_events_subject ON evidence_events (kind, subject);

-- Factor versions in force: the library's records as loaded, and corrections with validity
-- periods. A row is never updated: a correction is a new version.
CREATE TABLE factor_versions (
    factor_id   text        NOT NULL,
    version     integer     NOT NULL,
    kind        text        NOT NULL,
    subject     text        NOT NULL,
    valid_from  date,
    valid_to    date,
    "values"    jsonb       NOT NULL,
    units       jsonb       NOT NULL,
    attrs       jsonb       NOT NULL,
    provenance  jsonb       NOT NULL,
    row_hash    text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text        NOT NULL,
    reason      text        NOT NULL,
    PRIMARY KEY (factor_id, version)
);

-- Recalculations of a past period with a corrected factor version: the stored emission records
-- stay as the streams wrote them; the corrected figures live here and in new report revisions.
CREATE TABLE recalculations (
    recalc_id        bigserial   PRIMARY KEY,
    enterprise       text        NOT NULL,
    start_ts         timestamptz NOT NULL,
    end_ts           timestamptz NOT NULL,
    factor_id        text        NOT NULL,
    from_version     integer     NOT NULL,
    to_version       integer     NOT NULL,
    n_records        integer     NOT NULL,
    original_co2e_t  double precision NOT NULL,
    corrected_co2e_t double precision NOT NULL,
    actor            text        NOT NULL,
    at_ts            timestamptz NOT NULL,
    reason           text        NOT NULL,
    event_id         bigint      NOT NULL REFERENCES evidence_events (event_id)
);

-- Reported figures, frozen: a report is a revision; a new figure is a new revision, never an
-- update of an old one.
CREATE TABLE report_snapshots (
    enterprise  text        NOT NULL,
    year        integer     NOT NULL,
    revision    integer     NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    reason      text        NOT NULL,
    body        text        NOT NULL, -- canonical JSON, exactly the bytes hashed
    body_hash   text        NOT NULL,
    event_id    bigint      NOT NULL REFERENCES evidence_events (event_id),
    PRIMARY KEY (enterprise, year, revision)
);
