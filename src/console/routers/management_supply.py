"""Supply-chain submissions (JSON rows or a CSV body) and their evidence records."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from console.body import RawBody
from console.deps import ConnDep, Reader, SettingsDep
from console.errors import TooLarge
from console.routers.management_common import Submitter, mapped
from console.schemas import Page
from management import api
from management.supply import TooManyRows

router = APIRouter(prefix="/api/v1/management/supply", tags=["management"])


@router.post("/submissions", status_code=201)
def submit_rows(
    rows: list[dict[str, Any]], conn: ConnDep, scope: Submitter, settings: SettingsDep
) -> dict[str, Any]:
    """Rows of supplier data (fields of ``management.supply.Submission``); each row is accepted
    or rejected with its reason, and every row gets an evidence record. At most
    ``NENGTAN_CONSOLE_MAX_SUBMISSION_ROWS`` rows (413 above, nothing stored)."""
    if len(rows) > settings.max_submission_rows:
        raise TooLarge(_too_many(settings.max_submission_rows))
    with mapped():
        payload = json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return api.submit(conn, scope, rows, None, payload)


@router.post("/csv", status_code=201)
def submit_csv(
    body: RawBody, conn: ConnDep, scope: Submitter, settings: SettingsDep
) -> dict[str, Any]:
    """A CSV body (``supplier,enterprise,material,period,kind,quantity,uom,kgco2e_per_unit,
    basis``), kept whole as evidence. At most ``NENGTAN_CONSOLE_MAX_BODY_BYTES`` and
    ``NENGTAN_CONSOLE_MAX_SUBMISSION_ROWS`` data rows (413 above, nothing stored)."""
    with mapped():
        try:
            return api.submit(conn, scope, None, body, body, max_rows=settings.max_submission_rows)
        except TooManyRows:
            raise TooLarge(_too_many(settings.max_submission_rows)) from None


def _too_many(limit: int) -> str:
    return f"more than {limit} rows in one submission (NENGTAN_CONSOLE_MAX_SUBMISSION_ROWS)"


@router.get("/evidence")
def evidence(conn: ConnDep, scope: Reader) -> Page:
    with mapped():
        return Page.of(api.evidence(conn, scope))
