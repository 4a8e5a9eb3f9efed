"""Stored records sealed by period: row hashes of consumption, emissions and CEMS hours.

The streams may re-emit a record (an open minute replaced by its final value), so a period is
sealed only once it is closed (``through_ms``, normally now minus a grace period). Each row is
hashed in a canonical form (times as epoch ms, numbers as stored, JSON with sorted keys) under
its natural key; the leaves of one period are stored with the seal so that verification can
name the one row that no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from evidence.hashing import canonical, merkle_root, sha256_hex
from evidence.seals import Conn, Seal, insert_seal

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Table:
    """How one stored table is read for hashing: its columns (``*_ms`` are epoch-ms views of
    timestamptz columns), natural key and the time column that assigns a row to a period."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    time_column: str

    def select(self) -> str:
        parts = []
        for c in self.columns:
            if c.endswith("_ms"):
                src = _ts_column(c)
                parts.append(f"(extract(epoch FROM {src}) * 1000)::bigint AS {c}")
            else:
                parts.append(c)
        return ", ".join(parts)


def _ts_column(ms_col: str) -> str:
    base = ms_col[: -len("_ms")]
    return "hour_start" if base == "hour_start" else base + "_ts"


TABLES: dict[str, Table] = {
    "consumption": Table(
        "consumption",
        ("point", "enterprise", "carrier", "start_ms", "end_ms", "quantity", "uom", "kgce"),
        ("point", "start_ms", "end_ms"),
        "start_ts",
    ),
    "emissions": Table(
        "emissions",
        ("source", "enterprise", "category", "scope", "start_ms", "end_ms", "co2e_t", "gases",
         "factor_id", "method"),
        ("source", "start_ms", "end_ms"),
        "start_ts",
    ),
    "cems_hourly": Table(
        "cems_hourly",
        ("stack", "enterprise", "hour_start_ms", "n_valid", "valid", "co2_t", "substitution",
         "pollutant_kg", "pollutant_avg_mg_m3"),
        ("stack", "hour_start_ms"),
        "hour_start",
    ),
}


def record_key(table: Table, row: dict[str, Any]) -> str:
    """``table:k1|k2|...``, e.g. ``emissions:e1.elec|1767571200000|1767571260000``."""
    return f"{table.name}:" + "|".join(str(row[k]) for k in table.key)


def row_hash(row: dict[str, Any]) -> str:
    """Hash of one row's canonical form."""
    return sha256_hex(canonical(row))


def read_rows(conn: Conn, table: Table, start_ms: int, end_ms: int) -> Iterator[dict[str, Any]]:
    """Rows whose period time is in ``[start_ms, end_ms)``, in natural-key order."""
    key = ", ".join(table.key)
    cur = conn.execute(
        f"SELECT {table.select()} FROM {table.name}"
        f" WHERE {table.time_column} >= 'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"
        f" AND {table.time_column} < 'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"
        f" ORDER BY {key}",
        (start_ms, end_ms),
    )
    names = [d.name for d in cur.description or []]
    for r in cur:
        yield {n: (float(v) if isinstance(v, float) else v) for n, v in zip(names, r, strict=True)}


def sealed_through(conn: Conn, table: str) -> int | None:
    """End (epoch ms) of the newest sealed period of ``table``."""
    row = conn.execute(
        "SELECT max(range_to) FROM evidence_seals WHERE kind = %s", (table,)
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _next_start(conn: Conn, table: Table, after_ms: int | None, period_ms: int) -> int | None:
    row = conn.execute(
        f"SELECT (extract(epoch FROM min({table.time_column})) * 1000)::bigint FROM {table.name}"
        f" WHERE (%(a)s::bigint IS NULL OR {table.time_column} >="
        " 'epoch'::timestamptz + %(a)s * INTERVAL '1 millisecond')",
        {"a": after_ms},
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]) // period_ms * period_ms


def seal_table(conn: Conn, table_name: str, through_ms: int, period_ms: int = HOUR_MS) -> list[Seal]:
    """Seal every closed, unsealed period of one table that ends at or before ``through_ms``.
    Empty periods are skipped (a row appearing later in one is reported by verification)."""
    table = TABLES[table_name]
    made: list[Seal] = []
    with conn.transaction():
        after = sealed_through(conn, table.name)
        while True:
            start = _next_start(conn, table, after, period_ms)
            if start is None or start + period_ms > through_ms:
                break
            end = start + period_ms
            keys, leaves = [], []
            for row in read_rows(conn, table, start, end):
                keys.append(record_key(table, row))
                leaves.append(row_hash(row))
            seal = insert_seal(conn, table.name, table.name, start, end, len(leaves),
                               merkle_root(leaves))  # fmt: skip
            with conn.cursor() as cur, cur.copy(
                "COPY evidence_leaves (seal_id, ord, record_key, leaf_hash) FROM STDIN"
            ) as copy:
                for i, (k, h) in enumerate(zip(keys, leaves, strict=True)):
                    copy.write_row((seal.seal_id, i, k, h))
            made.append(seal)
            after = end
    return made


def seal_records(conn: Conn, through_ms: int, period_ms: int = HOUR_MS) -> list[Seal]:
    """Seal the closed periods of every stored-record table."""
    out: list[Seal] = []
    for name in TABLES:
        out.extend(seal_table(conn, name, through_ms, period_ms))
    return out
