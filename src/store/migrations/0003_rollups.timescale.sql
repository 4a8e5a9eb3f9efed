-- 0003 rollups: hourly, daily and monthly sums of consumption and emissions, by the same
-- names and columns in both modes (buckets in UTC). TimescaleDB: continuous aggregates with real-time
-- aggregation (materialized_only = false), so a query sees rows not yet materialised; refresh
-- policies re-materialise the recent past, where late and corrected records land.

CREATE MATERIALIZED VIEW consumption_hourly
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', start_ts) AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY bucket, point, enterprise, carrier, uom
WITH NO DATA;
SELECT add_continuous_aggregate_policy('consumption_hourly', start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');

CREATE MATERIALIZED VIEW emissions_hourly
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', start_ts) AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY bucket, source, enterprise, category, scope, method
WITH NO DATA;
SELECT add_continuous_aggregate_policy('emissions_hourly', start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');

CREATE MATERIALIZED VIEW consumption_daily
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', start_ts) AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY bucket, point, enterprise, carrier, uom
WITH NO DATA;
SELECT add_continuous_aggregate_policy('consumption_daily', start_offset => INTERVAL '35 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');

CREATE MATERIALIZED VIEW emissions_daily
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', start_ts) AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY bucket, source, enterprise, category, scope, method
WITH NO DATA;
SELECT add_continuous_aggregate_policy('emissions_daily', start_offset => INTERVAL '35 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');

CREATE MATERIALIZED VIEW consumption_monthly
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 month', start_ts) AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY bucket, point, enterprise, carrier, uom
WITH NO DATA;
SELECT add_continuous_aggregate_policy('consumption_monthly', start_offset => INTERVAL '400 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 day');

CREATE MATERIALIZED VIEW emissions_monthly
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 month', start_ts) AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY bucket, source, enterprise, category, scope, method
WITH NO DATA;
SELECT add_continuous_aggregate_policy('emissions_monthly', start_offset => INTERVAL '400 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 day');
