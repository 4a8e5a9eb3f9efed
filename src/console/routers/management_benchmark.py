"""Efficiency benchmarking: unit-product energy against the 标杆/基准 levels, park peers,
equipment classes, trend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from console.deps import ConnDep, Reader
from console.routers.management_common import PERIOD_PATTERN, mapped
from management import api

router = APIRouter(prefix="/api/v1/management", tags=["management"])


@router.get("/benchmark")
def benchmark(
    conn: ConnDep,
    scope: Reader,
    period: str | None = Query(
        None,
        max_length=7,
        pattern=PERIOD_PATTERN,
        description="YYYY-MM or YYYY; default: the current month",
    ),
) -> dict[str, Any]:
    """Products (kgce per unit, grade, gaps), equipment classes and — for park-wide roles —
    the peer ranking by energy per output value."""
    with mapped():
        return api.benchmark(conn, scope, period)
