"""Emissions by scope, category and source, with trends."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from console.data import emissions
from console.deps import ConnDep, Reader
from console.schemas import Ms, Page

router = APIRouter(prefix="/api/v1", tags=["emissions"])

GroupBy = Literal["enterprise", "scope", "category", "source", "factor_id"]


@router.get("/emissions")
def list_emissions(
    conn: ConnDep,
    scope: Reader,
    group_by: list[GroupBy] = Query(["enterprise"]),
    enterprise: str | None = Query(None, max_length=128),
    ghg_scope: int | None = Query(None, ge=1, le=3, description="GHG scope 1, 2 or 3"),
    category: str | None = Query(None, max_length=64),
    source: str | None = Query(None, max_length=128, description="point or stack id"),
    method: Literal["calculated", "measured"] = "calculated",
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
    bucket: Literal["total", "hour", "day", "month"] = "total",
) -> Page:
    """CO₂e (t) grouped as asked, over the period or per UTC bucket (trends). Calculated and
    measured (CEMS) emissions are separate answers, never added."""
    return Page.of(
        emissions.emissions(
            conn,
            scope,
            group_by=tuple(dict.fromkeys(group_by)),
            enterprise=enterprise,
            ghg_scope=ghg_scope,
            category=category,
            source=source,
            method=method,
            start_ms=start_ms,
            end_ms=end_ms,
            bucket=bucket,
        )
    )
