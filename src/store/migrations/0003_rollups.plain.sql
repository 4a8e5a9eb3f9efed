-- 0003 rollups: hourly, daily and monthly sums of consumption and emissions, by the same
-- names and columns in both modes (buckets in UTC). Plain PostgreSQL: ordinary views over the base
-- tables (the same results, computed at query time).

CREATE VIEW consumption_hourly AS
SELECT date_trunc('hour', start_ts, 'UTC') AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY 1, point, enterprise, carrier, uom;

CREATE VIEW emissions_hourly AS
SELECT date_trunc('hour', start_ts, 'UTC') AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY 1, source, enterprise, category, scope, method;

CREATE VIEW consumption_daily AS
SELECT date_trunc('day', start_ts, 'UTC') AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY 1, point, enterprise, carrier, uom;

CREATE VIEW emissions_daily AS
SELECT date_trunc('day', start_ts, 'UTC') AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY 1, source, enterprise, category, scope, method;

CREATE VIEW consumption_monthly AS
SELECT date_trunc('month', start_ts, 'UTC') AS bucket, point, enterprise, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce, count(*) AS n_minutes
FROM consumption
GROUP BY 1, point, enterprise, carrier, uom;

CREATE VIEW emissions_monthly AS
SELECT date_trunc('month', start_ts, 'UTC') AS bucket, source, enterprise, category, scope, method, sum(co2e_t) AS co2e_t, count(*) AS n_records
FROM emissions
GROUP BY 1, source, enterprise, category, scope, method;
