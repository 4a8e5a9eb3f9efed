"""Analysis views: energy structure and trend, decoupling, STIRPAT drivers, recommendations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from console.deps import ConnDep, Reader
from console.routers.management_common import PERIODS_PATTERN, mapped
from management import api

router = APIRouter(prefix="/api/v1/management", tags=["management"])


@router.get("/analysis")
def analysis(
    conn: ConnDep,
    scope: Reader,
    periods: str | None = Query(
        None,
        max_length=400,
        pattern=PERIODS_PATTERN,
        description="comma-separated periods, oldest first; default: the current month",
    ),
) -> dict[str, Any]:
    with mapped():
        labels = [p.strip() for p in periods.split(",") if p.strip()] if periods else None
        return api.analysis(conn, scope, labels)
