"""The management inputs document (budgets, ledger, BOMs, plans ...) of the park."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from console.deps import ConnDep, Reader, Writer
from console.routers.management_common import mapped
from management import api

router = APIRouter(prefix="/api/v1/management", tags=["management"])


class InputsBody(BaseModel):
    """``document``: a ``nengtan.management/1`` inputs document; ``park``: the park model it
    refers to (optional when one is stored already)."""

    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]
    park: dict[str, Any] | None = None


@router.get("/inputs")
def get_inputs(conn: ConnDep, scope: Reader) -> dict[str, Any]:
    """The stored inputs, limited to the records of enterprises in your scope."""
    with mapped():
        return api.inputs_view(conn, scope)


@router.put("/inputs")
def put_inputs(body: InputsBody, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Replace the inputs (park administrators only); validated against the park model."""
    with mapped():
        return api.replace_inputs(conn, scope, body.document, body.park)
