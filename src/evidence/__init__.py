"""Tamper-evident evidence ledger: raw reading batches hashed and chained per source, stored
records and factor versions hashed, everything sealed into Merkle roots; verification and lineage."""
