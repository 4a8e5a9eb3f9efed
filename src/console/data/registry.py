"""Registry queries: park, enterprises, units, devices, points, stacks (in the caller's scope)."""

from __future__ import annotations

from console.auth import Scope, filter_sql
from console.data import Conn, Row, fetch
from console.errors import NotFound


def park(conn: Conn, scope: Scope) -> Row:
    """The park and the number of enterprises the caller sees."""
    rows = fetch(
        conn,
        "SELECT p.id, p.name, p.region, count(e.id) AS enterprises FROM console_parks p"
        f" LEFT JOIN console_enterprises e ON e.park = p.id AND {filter_sql('e.id')}"
        " GROUP BY p.id, p.name, p.region",
        scope.params(),
    )
    if not rows:
        raise NotFound("no park loaded (start the console with --park FILE)")
    return rows[0]


def enterprises(conn: Conn, scope: Scope) -> list[Row]:
    return fetch(
        conn,
        "SELECT id, park, name, industry, region, output FROM console_enterprises"
        f" WHERE {filter_sql('id')} ORDER BY id",
        scope.params(),
    )


def enterprise(conn: Conn, scope: Scope, enterprise_id: str) -> Row:
    rows = fetch(
        conn,
        "SELECT id, park, name, industry, region, output FROM console_enterprises"
        f" WHERE id = %(id)s AND {filter_sql('id')}",
        {**scope.params(), "id": enterprise_id},
    )
    if not rows:
        raise NotFound(f"enterprise {enterprise_id!r}: not found")
    return rows[0]


_TABLES = {
    "units": "SELECT id, enterprise, name, level, parent FROM console_units",
    "devices": "SELECT id, enterprise, name, protocol FROM console_devices",
    "points": "SELECT id, enterprise, name, kind, carrier, uom, use, unit, level, device,"
    " inventory FROM console_points",
    "stacks": "SELECT id, enterprise, name, mn, unit, species, limits FROM console_stacks",
}


def items(conn: Conn, scope: Scope, kind: str, enterprise_id: str | None = None) -> list[Row]:
    """Units, devices, points or stacks, optionally of one enterprise."""
    base = _TABLES[kind]
    return fetch(
        conn,
        f"{base} WHERE {filter_sql('enterprise')}"
        " AND (%(ent)s::text IS NULL OR enterprise = %(ent)s) ORDER BY enterprise, id",
        {**scope.params(), "ent": enterprise_id},
    )
