"""Energy flow (Sankey data) and the energy balance table."""

from __future__ import annotations

from fastapi import APIRouter, Query

from console.data import flow
from console.deps import ConnDep, Reader
from console.schemas import Flow, Ms

router = APIRouter(prefix="/api/v1/energy", tags=["energy flow"])


@router.get("/flow")
def energy_flow(
    conn: ConnDep,
    scope: Reader,
    enterprise: str | None = Query(None, max_length=128),
    start_ms: int | None = Ms(),
    end_ms: int | None = Ms(),
) -> Flow:
    """Sources → conversion → distribution → end use, with losses (tce), and the balance
    table per carrier (docs/console.md explains the model)."""
    f = flow.energy_flow(conn, scope, enterprise, start_ms, end_ms)
    return Flow(nodes=f.nodes, links=f.links, balance=f.balance)
