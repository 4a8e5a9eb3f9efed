-- 0004 (TimescaleDB): compression and retention.
-- Compression after 7 days, segmented by the series id, so month and year queries read little.
-- Late corrections still land: upserts into compressed chunks are supported (TimescaleDB 2.11+).
ALTER TABLE readings_raw SET (timescaledb.compress, timescaledb.compress_segmentby = 'point');
SELECT add_compression_policy('readings_raw', INTERVAL '7 days');
ALTER TABLE consumption SET (timescaledb.compress, timescaledb.compress_segmentby = 'point');
SELECT add_compression_policy('consumption', INTERVAL '7 days');
ALTER TABLE emissions SET (timescaledb.compress, timescaledb.compress_segmentby = 'source');
SELECT add_compression_policy('emissions', INTERVAL '7 days');
-- Retention: only the dead-letter records expire (after 400 days, past a yearly review). Raw
-- readings, consumption, emissions, CEMS hours and alerts are verification evidence and are kept.
SELECT add_retention_policy('dlq', INTERVAL '400 days');
