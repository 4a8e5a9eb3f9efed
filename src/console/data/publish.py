"""Vendor publishing: the validator a caller's batch is checked with.

The console validates with the same ``ingest.validate.Validator`` the adapters use, built from
the registry tables (the park's copy in the database) instead of a park file. Its rules hold
only the points of the caller's enterprise (every point for an administrator), so a point of
another enterprise is reported as unknown: a vendor learns nothing about other tenants.
"""

from __future__ import annotations

import json

from console.auth import Scope
from console.data import Conn
from ingest.park.index import stack_point_id
from ingest.park.vocabulary import cems_species
from ingest.validate import PointRule, Validator, point_rule


def validator_for(conn: Conn, scope: Scope) -> Validator:
    """A validator over the points, devices and stacks ``scope`` may publish for."""
    params = {"ent": scope.enterprise, "all": scope.role == "admin"}
    where = "(enterprise = %(ent)s OR %(all)s)"
    rules: dict[str, PointRule] = {}
    for pid, ent, uom, kind, device in conn.execute(
        f"SELECT id, enterprise, uom, kind, device FROM console_points WHERE {where}", params
    ).fetchall():
        rules[pid] = point_rule(pid, device, ent, uom, kind)
    species = cems_species()
    stacks = conn.execute(
        f"SELECT id, enterprise, species FROM console_stacks WHERE {where}", params
    ).fetchall()
    for sid, ent, names in stacks:
        for sp in names if isinstance(names, list) else json.loads(names):
            spec = species.get(sp)
            pid = stack_point_id(sid, sp)
            rules[pid] = point_rule(pid, sid, ent, spec.uom if spec else "", "gauge")
    validator = Validator(rules)
    for did, ent in conn.execute(
        f"SELECT id, enterprise FROM console_devices WHERE {where}", params
    ).fetchall():
        validator.sources[did] = ent
    for sid, ent, _names in stacks:
        validator.sources[sid] = ent
    return validator
