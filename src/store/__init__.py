"""Storage: the TimescaleDB/PostgreSQL schema and its migrations, the idempotent sink from the
output topics, and the queries the console and reports run.
"""
