"""Vendor publishing: which devices and points a caller may publish readings for."""

from __future__ import annotations

from console.auth import Scope
from console.data import Conn
from console.errors import BadRequest, Forbidden


def check_batch(conn: Conn, scope: Scope, device: str, points: list[str]) -> None:
    """Refuse a batch whose device or points are not the caller's enterprise's (vendors) or
    not in the park (administrators)."""
    params = {"ent": scope.enterprise, "all": scope.role == "admin", "device": device}
    row = conn.execute(
        "SELECT 1 FROM console_devices WHERE id = %(device)s AND (enterprise = %(ent)s OR %(all)s)"
        " UNION ALL SELECT 1 FROM console_stacks WHERE id = %(device)s"
        " AND (enterprise = %(ent)s OR %(all)s)",
        params,
    ).fetchone()
    if row is None:
        raise Forbidden(f"device {device!r}: not a device of your enterprise")
    known = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM console_points WHERE id = ANY(%(pts)s) AND (enterprise = %(ent)s"
            " OR %(all)s)",
            {**params, "pts": sorted(set(points))},
        ).fetchall()
    }
    unknown = sorted(set(points) - known)
    if unknown:
        raise BadRequest(f"readings[].point {unknown[:5]}: not points of your enterprise")
