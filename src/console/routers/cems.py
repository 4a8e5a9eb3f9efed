"""CEMS hourly values."""

from __future__ import annotations

from fastapi import APIRouter, Query

from console.data import cems
from console.deps import ConnDep, Reader
from console.schemas import Ms, Page

router = APIRouter(prefix="/api/v1/cems", tags=["cems"])


@router.get("/hourly")
def hourly(
    conn: ConnDep,
    scope: Reader,
    stack: str | None = Query(None, max_length=128),
    enterprise: str | None = Query(None, max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
    limit: int = Query(1000, ge=1, le=100000),
) -> Page:
    """Stack-hours: validity, substitution, CO₂ (t), pollutant masses (kg) and averages."""
    return Page.of(
        cems.hourly(
            conn,
            scope,
            stack=stack,
            enterprise=enterprise,
            start_ms=start_ms,
            end_ms=end_ms,
            limit=limit,
        )
    )
