"""Product carbon footprints (GB/T 24067): what a downstream customer fetches, with its basis."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from console.deps import ConnDep, Reader
from console.routers.management_common import mapped
from management import api

router = APIRouter(prefix="/api/v1/management", tags=["management"])


@router.get("/footprints/{enterprise}")
def footprint(
    enterprise: str,
    conn: ConnDep,
    scope: Reader,
    product: str | None = Query(None, max_length=200, description="default: the first output"),
    period: str | None = Query(None, max_length=7, description="default: the current month"),
) -> dict[str, Any]:
    """Cradle-to-gate footprint per declared unit: every material, energy and process line with
    the factor and source it used, the green-certificate share and the grid-only figure."""
    with mapped():
        if product is None:
            ctx = api.context(conn)
            outputs = ctx.park.index.enterprises[enterprise].output \
                if enterprise in ctx.park.index.enterprises else []
            if not scope.may_see(enterprise):
                raise api.OutOfScope(enterprise)
            if not outputs:
                raise ValueError(f"enterprise {enterprise!r} has no output")
            product = outputs[0].product
        return api.footprint(conn, scope, enterprise, product, period)
