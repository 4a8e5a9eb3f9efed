"""Product carbon footprints (GB/T 24067): what a downstream customer fetches, with its basis."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from console.deps import ConnDep, Reader
from console.routers.management_common import PERIOD_PATTERN, mapped
from management import api

router = APIRouter(prefix="/api/v1/management", tags=["management"])

PRODUCT = Query(None, max_length=200, description="default: the enterprise's first output")
PERIOD = Query(
    None,
    max_length=7,
    pattern=PERIOD_PATTERN,
    description="YYYY-MM or YYYY; default: the current month",
)


@router.get("/footprints/{enterprise}")
def footprint(
    enterprise: str,
    conn: ConnDep,
    scope: Reader,
    product: str | None = PRODUCT,
    period: str | None = PERIOD,
) -> dict[str, Any]:
    """Cradle-to-gate footprint per declared unit: every material, energy and process line with
    the factor and source it used, the green-certificate share and the grid-only figure."""
    with mapped():
        product = product or api.first_product(conn, scope, enterprise)
        return api.footprint(conn, scope, enterprise, product, period)


@router.get("/footprints/{enterprise}/report", response_class=PlainTextResponse)
def footprint_report(
    enterprise: str,
    conn: ConnDep,
    scope: Reader,
    product: str | None = PRODUCT,
    period: str | None = PERIOD,
) -> str:
    """The footprint report (Markdown): method, boundary, lines with sources, data quality."""
    with mapped():
        product = product or api.first_product(conn, scope, enterprise)
        return api.footprint_markdown(conn, scope, enterprise, product, period)
