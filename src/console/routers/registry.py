"""Registry: park, enterprises, units, devices, points, stacks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from console.data import registry
from console.deps import ConnDep, Reader
from console.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/park")
def park(conn: ConnDep, scope: Reader) -> dict[str, Any]:
    """The park and how many of its enterprises you see."""
    return registry.park(conn, scope)


@router.get("/enterprises")
def enterprises(conn: ConnDep, scope: Reader) -> Page:
    return Page.of(registry.enterprises(conn, scope))


@router.get("/enterprises/{enterprise_id}")
def enterprise(enterprise_id: str, conn: ConnDep, scope: Reader) -> dict[str, Any]:
    return registry.enterprise(conn, scope, enterprise_id)


def _items(kind: str) -> Any:
    def handler(
        conn: ConnDep, scope: Reader, enterprise: str | None = Query(None, max_length=128)
    ) -> Page:
        return Page.of(registry.items(conn, scope, kind, enterprise))

    handler.__doc__ = f"The park's {kind} (of one enterprise when given)."
    return handler


for _kind in ("units", "devices", "points", "stacks"):
    router.add_api_route(
        f"/{_kind}", _items(_kind), methods=["GET"], name=_kind, response_model=Page
    )
