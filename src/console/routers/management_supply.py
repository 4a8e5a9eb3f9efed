"""Supply-chain submissions (JSON rows or a CSV body) and their evidence records."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from console.deps import ConnDep, Reader
from console.routers.management_common import Submitter, mapped
from console.schemas import Page
from management import api

router = APIRouter(prefix="/api/v1/management/supply", tags=["management"])


@router.post("/submissions", status_code=201)
def submit_rows(rows: list[dict[str, Any]], conn: ConnDep, scope: Submitter) -> dict[str, Any]:
    """Rows of supplier data (fields of ``management.supply.Submission``); each row is accepted
    or rejected with its reason, and every row gets an evidence record."""
    with mapped():
        payload = json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return api.submit(conn, scope, rows, None, payload)


@router.post("/csv", status_code=201)
async def submit_csv(request: Request, conn: ConnDep, scope: Submitter) -> dict[str, Any]:
    """A CSV body (``supplier,enterprise,material,period,kind,quantity,uom,kgco2e_per_unit,
    basis``), kept whole as evidence."""
    body = await request.body()
    with mapped():
        return api.submit(conn, scope, None, body, body)


@router.get("/evidence")
def evidence(conn: ConnDep, scope: Reader) -> Page:
    with mapped():
        return Page.of(api.evidence(conn, scope))
