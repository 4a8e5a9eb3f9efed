"""``nengtan evidence bench``: how fast batches are hashed, chained and sealed (figures printed,
never asserted). In memory, and optionally through the ledger into a scratch database."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from evidence.hashing import GENESIS, chain_hash, merkle_root, sha256_hex
from evidence.ledger import Ledger, RawRecord


def synthetic(n: int, devices: int = 50, readings: int = 10) -> list[RawRecord]:
    """``n`` reading batches of ``readings`` readings from ``devices`` devices, 4 partitions."""
    out = []
    for i in range(n):
        d = f"bench-{i % devices}"
        batch = {"schema": "nt.readings/1", "device": d, "seq": i // devices, "sent_ms": 1_767_571_200_000 + i,
                 "readings": [{"point": f"{d}.p{k}", "ts": 1_767_571_200_000 + i, "value": i + k / 7}
                              for k in range(readings)]}  # fmt: skip
        out.append(RawRecord(i % 4, i // 4, d.encode(), json.dumps(batch).encode()))
    return out


def in_memory(records: list[RawRecord], block: int) -> dict[str, float]:
    """Hash, chain and root the records without a database."""
    t = time.perf_counter()
    heads: dict[bytes | None, str] = {}
    chains: list[str] = []
    for r in records:
        heads[r.key] = chain_hash(heads.get(r.key, GENESIS), sha256_hex(r.value))
        chains.append(heads[r.key])
    for i in range(0, len(chains), block):
        merkle_root(chains[i : i + block])
    s = time.perf_counter() - t
    return {"batches": len(records), "seconds": s, "batches_per_s": len(records) / s}


def through_db(admin_dsn: str, records: list[RawRecord], block: int) -> dict[str, Any]:
    """Append and seal through the ledger in a scratch database (dropped afterwards)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from store.migrate import migrate

    name = f"nt_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        params = conninfo_to_dict(admin_dsn)
        params["dbname"] = name
        dsn = make_conninfo("", **params)
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            ledger = Ledger(conn, block=block)
            t = time.perf_counter()
            for i in range(0, len(records), 5000):  # the consumer's poll size
                ledger.append(records[i : i + 5000])
            t_append = time.perf_counter() - t
            t = time.perf_counter()
            seals = ledger.seal(flush=True)
            t_seal = time.perf_counter() - t
        return {"batches": len(records), "append_s": t_append,
                "append_batches_per_s": len(records) / t_append, "seal_s": t_seal,
                "seals": len(seals)}  # fmt: skip
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
