"""Energy-flow (Sankey) data and the energy balance table over stored consumption."""

from __future__ import annotations

from console.auth import Scope, filter_sql
from console.data import Conn, fetch, period_params, period_sql
from console.data.flowmodel import Flow, PointTotal, build_flow


def point_totals(
    conn: Conn, scope: Scope, enterprise: str | None, start_ms: int | None, end_ms: int | None
) -> list[PointTotal]:
    """Per point consumption over ``[start, end)`` with its workshop (level-3 units rolled up)."""
    rows = fetch(
        conn,
        "SELECT c.point, c.enterprise, p.carrier, p.use, p.kind, p.level, p.inventory, c.uom,"
        " CASE WHEN u.level = 3 AND u.parent IS NOT NULL THEN u.parent ELSE u.id END AS area,"
        " sum(c.quantity) AS quantity, sum(c.kgce) AS kgce"
        " FROM consumption c JOIN console_points p ON p.id = c.point"
        " LEFT JOIN console_units u ON u.id = p.unit"
        f" WHERE {filter_sql('c.enterprise')} AND {period_sql('c.start_ts')}"
        " AND (%(ent)s::text IS NULL OR c.enterprise = %(ent)s)"
        " GROUP BY c.point, c.enterprise, p.carrier, p.use, p.kind, p.level, p.inventory, c.uom,"
        " area",
        {**scope.params(), **period_params(start_ms, end_ms), "ent": enterprise},
    )
    return [
        PointTotal(
            point=r["point"],
            enterprise=r["enterprise"],
            carrier=r["carrier"],
            use=r["use"],
            kind=r["kind"],
            level=int(r["level"]),
            area=r["area"],
            inventory=bool(r["inventory"]),
            quantity=float(r["quantity"]),
            uom=r["uom"],
            kgce=float(r["kgce"]),
        )
        for r in rows
    ]


def energy_flow(
    conn: Conn, scope: Scope, enterprise: str | None, start_ms: int | None, end_ms: int | None
) -> Flow:
    """The Sankey nodes/links and the balance rows of the enterprise (or everything in scope)."""
    return build_flow(point_totals(conn, scope, enterprise, start_ms, end_ms))
