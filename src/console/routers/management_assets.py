"""Carbon assets: holdings, compliance-gap forecast and valuation; ledger entries."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from console.deps import ConnDep, Reader, Writer
from console.routers.management_common import mapped
from management import api
from management.inputs import LedgerEntry, Prices

router = APIRouter(prefix="/api/v1/management", tags=["management"])


@router.get("/assets/{enterprise}")
def assets(
    enterprise: str,
    conn: ConnDep,
    scope: Reader,
    period: str | None = Query(
        None,
        max_length=4,
        pattern=r"^\d{4}$",
        description="compliance year; default: the current one",
    ),
    as_of: date | None = Query(None, description="default today"),
    allowance_price: float | None = Query(None, ge=0, description="CNY/t; default: inputs"),
    ccer_price: float | None = Query(None, ge=0, description="CNY/t; default: inputs"),
) -> dict[str, Any]:
    """Allowances (ledger, entered or benchmark × output), CCER, the obligation forecast, the
    compliance gap and the holdings' value at the configured (or given) prices."""
    with mapped():
        prices = None
        if allowance_price is not None and ccer_price is not None:
            prices = Prices(allowance_cny_per_t=allowance_price, ccer_cny_per_t=ccer_price)
        elif allowance_price is not None or ccer_price is not None:
            raise ValueError("give both allowance_price and ccer_price, or neither")
        return api.assets(conn, scope, enterprise, period, as_of, prices)


@router.post("/ledger", status_code=201)
def add_ledger_entry(body: LedgerEntry, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Record an allocation, a trade or a surrender."""
    with mapped():
        return api.add_ledger_entry(conn, scope, body)
