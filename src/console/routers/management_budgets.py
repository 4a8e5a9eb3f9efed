"""Energy and carbon budgets: status and forecast, new budgets, re-allocations."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from console.deps import ConnDep, Reader, Writer
from console.routers.management_common import mapped
from console.schemas import Page
from management import api
from management.inputs import Budget, Reallocation

router = APIRouter(prefix="/api/v1/management", tags=["management"])


@router.get("/budgets")
def budgets(
    conn: ConnDep,
    scope: Reader,
    as_of: date | None = Query(None, description="data through this UTC day; default today"),
) -> Page:
    """Every started budget: actual to date, end-of-period forecast (seasonal history and
    production plan), effective budget after re-allocations, overrun."""
    with mapped():
        return Page.of(api.budgets(conn, scope, as_of))


@router.post("/budgets", status_code=201)
def add_budget(body: Budget, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    with mapped():
        return api.add_budget(conn, scope, body)


@router.post("/reallocations", status_code=201)
def add_reallocation(body: Reallocation, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Move budget between two budgets of the same period and metric (recorded with date and
    reason in the inputs and their history)."""
    with mapped():
        return api.add_reallocation(conn, scope, body)
