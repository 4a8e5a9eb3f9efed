"""Energy: consumption by carrier, level, unit and period; tce and intensity (GB/T 2589)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from console.data import energy
from console.deps import ConnDep, Reader
from console.schemas import Ms, Page

router = APIRouter(prefix="/api/v1/energy", tags=["energy"])


@router.get("/consumption")
def consumption(
    conn: ConnDep,
    scope: Reader,
    enterprise: str | None = Query(None, max_length=128),
    carrier: str | None = Query(None, max_length=64),
    level: int | None = Query(None, ge=1, le=3, description="metering level 1/2/3"),
    unit: str | None = Query(None, max_length=128, description="production unit (and children)"),
    point: str | None = Query(None, max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
    bucket: Literal["total", "hour", "day", "month"] = "total",
    by_point: bool = False,
) -> Page:
    """Consumption per enterprise and carrier (quantity in the carrier's uom, kgce), over the
    period or per UTC bucket. Without level/unit/point: enterprise totals (inventory points)."""
    return Page.of(
        energy.consumption(
            conn,
            scope,
            enterprise=enterprise,
            carrier=carrier,
            level=level,
            unit=unit,
            point=point,
            start_ms=start_ms,
            end_ms=end_ms,
            bucket=bucket,
            by_point=by_point,
        )
    )


@router.get("/tce")
def tce(
    conn: ConnDep,
    scope: Reader,
    enterprise: str | None = Query(None, max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
) -> Page:
    """Comprehensive energy consumption (tce) per enterprise, feedstock shown apart."""
    return Page.of(energy.tce_by_enterprise(conn, scope, start_ms, end_ms, enterprise))


@router.get("/intensity")
def intensity(
    conn: ConnDep,
    scope: Reader,
    enterprise: str | None = Query(None, max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
) -> Page:
    """Energy intensity: tce per 10⁴ CNY of output value and per unit of product."""
    return Page.of(energy.intensity(conn, scope, start_ms, end_ms, enterprise))
