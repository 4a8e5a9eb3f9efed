-- 0001 core tables: the same in both modes (plain PostgreSQL and TimescaleDB).
-- Every table has the natural key of its records as primary key, so the sink's upserts make a
-- replay change nothing. Times are timestamptz (UTC); the Kafka records carry epoch ms.

-- Raw readings: verification evidence, kept whole (also duplicates' first copy and late ones).
CREATE TABLE readings_raw (
    point      text             NOT NULL,
    ts         timestamptz      NOT NULL,
    value      double precision NOT NULL,
    q          text             NOT NULL,
    device     text             NOT NULL,
    seq        bigint           NOT NULL,
    sent_ts    timestamptz      NOT NULL,
    PRIMARY KEY (point, ts)
);

-- Consumption per point per minute (nt.consumption.v1).
CREATE TABLE consumption (
    point      text             NOT NULL,
    enterprise text             NOT NULL,
    carrier    text             NOT NULL,
    start_ts   timestamptz      NOT NULL,
    end_ts     timestamptz      NOT NULL,
    quantity   double precision NOT NULL,
    uom        text             NOT NULL,
    kgce       double precision NOT NULL,
    PRIMARY KEY (point, start_ts, end_ts)
);
CREATE INDEX consumption_enterprise_start ON consumption (enterprise, start_ts);

-- Emissions per source per interval (nt.emissions.v1): calculated per point-minute, measured
-- (CEMS) per stack-hour. Measured and calculated are never added together (docs/storage.md).
CREATE TABLE emissions (
    source     text             NOT NULL,
    enterprise text             NOT NULL,
    category   text             NOT NULL,
    scope      smallint         NOT NULL,
    start_ts   timestamptz      NOT NULL,
    end_ts     timestamptz      NOT NULL,
    co2e_t     double precision NOT NULL,
    gases      jsonb            NOT NULL,
    factor_id  text             NOT NULL,
    method     text             NOT NULL CHECK (method IN ('calculated', 'measured')),
    PRIMARY KEY (source, start_ts, end_ts)
);
CREATE INDEX emissions_enterprise_start ON emissions (enterprise, start_ts);

-- CEMS hourly values per stack (validity, substitution, pollutant mass and averages).
CREATE TABLE cems_hourly (
    stack               text             NOT NULL,
    enterprise          text             NOT NULL,
    hour_start          timestamptz      NOT NULL,
    n_valid             smallint         NOT NULL,
    valid               boolean          NOT NULL,
    co2_t               double precision NOT NULL,
    substitution        text,
    pollutant_kg        jsonb            NOT NULL,
    pollutant_avg_mg_m3 jsonb            NOT NULL,
    PRIMARY KEY (stack, hour_start)
);

-- Alert state changes (nt.alerts.v1); natural key (alert_id, state, ts).
CREATE TABLE alerts (
    alert_id   text             NOT NULL,
    rule_id    text             NOT NULL,
    state      text             NOT NULL CHECK (state IN ('raised', 'cleared')),
    severity   text             NOT NULL,
    scope      text             NOT NULL,
    metric     text             NOT NULL,
    value      double precision NOT NULL,
    threshold  double precision NOT NULL,
    "window"   text             NOT NULL,
    ts         timestamptz      NOT NULL,
    PRIMARY KEY (alert_id, state, ts)
);

-- Rejected inputs (nt.readings.dlq.v1), kept whole; keyed by time and a digest of the record.
CREATE TABLE dlq (
    received_ts timestamptz NOT NULL,
    source      text        NOT NULL,
    reason      text        NOT NULL,
    payload_b64 text        NOT NULL,
    digest      text        NOT NULL,
    PRIMARY KEY (received_ts, digest)
);
