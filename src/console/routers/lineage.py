"""Lineage of reported figures (verification support): emission records -> factors with
provenance -> consumption intervals -> raw readings, each with its evidence hashes.

The figure's enterprise decides the scope: an enterprise user traces only their own figures
(403 otherwise); a stack's or source's enterprise is read from its emission records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query

from console.auth import Scope
from console.deps import ConnDep, Reader
from console.errors import Forbidden, NotFound
from console.schemas import Ms
from evidence import lineage

router = APIRouter(prefix="/api/v1/lineage", tags=["lineage"])

_DETAIL = Query(False, description="include the detail lists (records, intervals, readings)")
_LIMIT = Query(1000, ge=1, le=100000, description="rows per detail list")


def _shape(result: dict[str, Any], detail: bool, limit: int) -> dict[str, Any]:
    out = lineage.without_detail(result)
    if detail and "detail" in result:
        out["detail"] = {k: v[:limit] for k, v in result["detail"].items()}
        out["detail_truncated"] = {k: len(v) > limit for k, v in result["detail"].items()}
    return out


def _check_visible(conn: Any, scope: Scope, source: str) -> None:
    """404, in the same words, for a source without records and for one of another
    enterprise: a 403 would tell a tenant that the other's source exists."""
    row = conn.execute(
        "SELECT enterprise FROM emissions WHERE source = %s LIMIT 1", (source,)
    ).fetchone()
    if row is None or not scope.may_see(str(row[0])):
        raise NotFound(f"no emission records of source {source!r} in your scope")


@router.get("/enterprise/{enterprise}")
def enterprise_period(
    conn: ConnDep,
    scope: Reader,
    enterprise: str = Path(max_length=128),
    year: int | None = Query(None, ge=1970, le=9999, description="default: the current year"),
    month: int | None = Query(None, ge=1, le=12, description="absent: the whole year"),
    method: str = Query("calculated", pattern="^(calculated|measured|all)$"),
    detail: bool = _DETAIL,
    limit: int = _LIMIT,
) -> dict[str, Any]:
    """An enterprise's monthly (or annual) CO₂e: the records it sums, their factors, activity
    data and raw readings with batch, chain and seal hashes."""
    if not scope.may_see(enterprise):
        raise Forbidden(f"enterprise {enterprise!r} is outside your scope")
    y = year or datetime.now(UTC).year
    m = None if method == "all" else method
    if month is not None:
        result = lineage.enterprise_month(conn, enterprise, y, month, m, detail)
    else:
        start = int(datetime(y, 1, 1, tzinfo=UTC).timestamp() * 1000)
        end = int(datetime(y + 1, 1, 1, tzinfo=UTC).timestamp() * 1000) if y < 9999 else 253402300800000
        result = lineage.source_lineage(conn, start, end, enterprise=enterprise, method=m,
                                         detail=detail)
    return _shape(result, detail, limit)


@router.get("/stack/{stack}")
def stack_hour(
    conn: ConnDep,
    scope: Reader,
    stack: str = Path(max_length=128),
    hour_start_ms: int | None = Query(None, ge=0, le=32503680000000,
                                      description="epoch ms, UTC; default: the stack's newest hour"),
    detail: bool = _DETAIL,
    limit: int = _LIMIT,
) -> dict[str, Any]:
    """A stack's hourly CO₂ mass (CEMS, measured): the hour, its validity and the minute
    readings of the stack's species points."""
    _check_visible(conn, scope, stack)
    if hour_start_ms is None:
        row = conn.execute(
            "SELECT (extract(epoch FROM max(start_ts)) * 1000)::bigint FROM emissions"
            " WHERE source = %s",
            (stack,),
        ).fetchone()
        hour_start_ms = int(row[0]) if row and row[0] is not None else 0
    hour = hour_start_ms - hour_start_ms % 3_600_000
    return _shape(lineage.stack_hour(conn, stack, hour, detail), detail, limit)


@router.get("/source/{source}")
def source_period(
    conn: ConnDep,
    scope: Reader,
    source: str = Path(max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
    detail: bool = _DETAIL,
    limit: int = _LIMIT,
) -> dict[str, Any]:
    """Any source's emissions over ``[start_ms, end_ms)`` (a line of a report)."""
    _check_visible(conn, scope, source)
    result = lineage.source_lineage(conn, start_ms or 0, end_ms or 32503680000000, source=source,
                                     detail=detail)
    return _shape(result, detail, limit)
