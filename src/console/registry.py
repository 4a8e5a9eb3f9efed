"""Load the park model (``ingest.park``) into the console's registry tables.

The park file is the registry; the tables are its copy in the database so that every query
can join and filter by enterprise in SQL. A load replaces the park's rows in one transaction.
Which points count toward enterprise totals (``inventory``) is decided by the streams' own
rule (``streams.points.mark_inventory``), so the console's totals add up the same records.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from ingest.park.models import Park

Conn = psycopg.Connection[tuple[Any, ...]]


def load_registry(conn: Conn, park: Park) -> dict[str, int]:
    """Replace the registry with ``park``; returns row counts per table."""
    from streams.points import build_point_table

    table = build_point_table(park)
    ix = park.index
    counts = {"enterprises": 0, "units": 0, "devices": 0, "points": 0, "stacks": 0}
    with conn.transaction():
        conn.execute("DELETE FROM console_parks")
        conn.execute(
            "INSERT INTO console_parks (id, name, region) VALUES (%s, %s, %s)",
            (park.id, park.name, park.region),
        )
        for ent in park.enterprises:
            conn.execute(
                "INSERT INTO console_enterprises (id, park, name, industry, region, output)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    ent.id,
                    park.id,
                    ent.name or ent.id,
                    ent.industry,
                    ent.region or park.region,
                    json.dumps([o.model_dump() for o in ent.output]),
                ),
            )
            counts["enterprises"] += 1
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO console_units (id, enterprise, name, level, parent)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(u.id, ent.id, u.name or u.id, u.level, u.parent) for u in ent.units],
                )
                cur.executemany(
                    "INSERT INTO console_devices (id, enterprise, name, protocol)"
                    " VALUES (%s, %s, %s, %s)",
                    [(d.id, ent.id, d.name or d.id, d.protocol) for d in ent.devices],
                )
                rows = []
                for p in ent.points:
                    info = table.points.get(p.id)
                    level = (
                        info.tier
                        if info is not None
                        else (p.level or (ix.units[p.unit].level if p.unit in ix.units else 1))
                    )
                    rows.append(
                        (
                            p.id,
                            ent.id,
                            p.name or p.id,
                            p.kind,
                            p.carrier,
                            p.uom,
                            p.use,
                            p.unit,
                            level,
                            p.device,
                            bool(info and info.inventory),
                        )
                    )
                cur.executemany(
                    "INSERT INTO console_points (id, enterprise, name, kind, carrier, uom, use,"
                    " unit, level, device, inventory) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    rows,
                )
                cur.executemany(
                    "INSERT INTO console_stacks (id, enterprise, name, mn, unit, species, limits)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            s.id,
                            ent.id,
                            s.name or s.id,
                            s.mn,
                            s.unit,
                            json.dumps(s.species),
                            json.dumps(s.limits),
                        )
                        for s in ent.stacks
                    ],
                )
            counts["units"] += len(ent.units)
            counts["devices"] += len(ent.devices)
            counts["points"] += len(ent.points)
            counts["stacks"] += len(ent.stacks)
    return counts
