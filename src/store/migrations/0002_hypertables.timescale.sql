-- 0002 (TimescaleDB): the time-series tables become hypertables. Chunk intervals suit a park
-- of ~100,000 points at minute resolution (a day of consumption is ~144 M rows at most).
SELECT create_hypertable('readings_raw', 'ts', chunk_time_interval => INTERVAL '1 day');
SELECT create_hypertable('consumption', 'start_ts', chunk_time_interval => INTERVAL '1 day');
SELECT create_hypertable('emissions', 'start_ts', chunk_time_interval => INTERVAL '1 day');
SELECT create_hypertable('cems_hourly', 'hour_start', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('alerts', 'ts', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('dlq', 'received_ts', chunk_time_interval => INTERVAL '7 days');
