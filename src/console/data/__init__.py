"""The console's data layer: every function takes the caller's ``Scope`` and filters by
enterprise in SQL (``console.auth.filter_sql``), so no handler can forget to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

Conn = psycopg.Connection[tuple[Any, ...]]
Row = dict[str, Any]


def fetch(conn: Conn, query: str, params: dict[str, Any]) -> list[Row]:
    """Rows as dicts (column name -> value)."""
    cur = conn.execute(query.encode("utf-8"), params)
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def ms_to_dt(ms: int | None) -> datetime | None:
    """Epoch ms (the API's time unit) to an aware datetime for SQL."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def dt_to_ms(value: datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * 1000)


def period_params(start_ms: int | None, end_ms: int | None) -> dict[str, Any]:
    """``%(start)s`` / ``%(end)s`` parameters of a half-open period ``[start, end)``."""
    return {"start": ms_to_dt(start_ms), "end": ms_to_dt(end_ms)}


PERIOD_SQL = (
    "(%(start)s::timestamptz IS NULL OR {col} >= %(start)s)"
    " AND (%(end)s::timestamptz IS NULL OR {col} < %(end)s)"
)


def period_sql(col: str) -> str:
    """WHERE fragment: ``col`` inside ``[start, end)`` (open ends when not given)."""
    return PERIOD_SQL.format(col=col)
