"""The demo's live terminal view: what the adapters take in and what the database holds.

Figures come from the database (what the pipeline has *stored*, end to end) and from the
adapters' ``status.json`` (what they have *taken in*); the gap between the two is the
pipeline's backlog. kgce per enterprise follows the console's definition (docs/console.md):
inventory inputs (purchased, fuel, feedstock) minus exports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from streams.points import PointTable

INPUT_USES = frozenset({"purchased", "fuel", "feedstock"})


@dataclass
class Snapshot:
    """One sample of the running pipeline."""

    at_s: float
    readings_stored: int = 0
    readings_in: int = 0
    dlq: int = 0
    kgce: dict[str, float] = field(default_factory=dict)
    co2e_t: dict[str, float] = field(default_factory=dict)
    cems_co2_t: dict[str, float] = field(default_factory=dict)
    open_alerts: list[tuple[str, str, str]] = field(default_factory=list)
    alerts_total: int = 0
    error: str = ""


def sample(dsn: str, table: PointTable, adapter_status: list[dict[str, Any]]) -> Snapshot:
    """Query the database and sum the adapters' status; errors become a note, not a crash
    (the view keeps going while a service restarts)."""
    snap = Snapshot(time.monotonic())
    snap.readings_in = sum(int(s.get("readings", 0)) for s in adapter_status)
    snap.dlq = sum(int(s.get("dlq", 0)) for s in adapter_status)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
            snap.readings_stored = int(conn.execute("SELECT count(*) FROM readings_raw").fetchone()[0])  # type: ignore[index]
            for point, kgce in conn.execute("SELECT point, sum(kgce) FROM consumption GROUP BY 1"):
                info = table.points.get(point)
                if info is None or not info.inventory:
                    continue
                sign = 1.0 if info.use in INPUT_USES else -1.0 if info.use == "exported" else 0.0
                snap.kgce[info.enterprise] = snap.kgce.get(info.enterprise, 0.0) + sign * float(kgce)
            for ent, method, co2e in conn.execute(
                "SELECT enterprise, method, sum(co2e_t) FROM emissions GROUP BY 1, 2"
            ):
                target = snap.co2e_t if method == "calculated" else snap.cems_co2_t
                target[ent] = float(co2e)
            snap.open_alerts = [
                (r[0], r[1], r[2])
                for r in conn.execute(
                    "SELECT DISTINCT ON (alert_id) rule_id, scope, state FROM alerts"
                    " ORDER BY alert_id, ts DESC, state DESC"
                )
                if r[2] == "raised"
            ]
            snap.alerts_total = int(conn.execute("SELECT count(*) FROM alerts").fetchone()[0])  # type: ignore[index]
            snap.dlq = max(snap.dlq, int(conn.execute("SELECT count(*) FROM dlq").fetchone()[0]))  # type: ignore[index]
    except psycopg.Error as exc:
        snap.error = f"database: {type(exc).__name__}"
    return snap


def rate(now: Snapshot, before: Snapshot | None, attr: str) -> float:
    """Per-second rate of a counter between two snapshots."""
    if before is None or now.at_s <= before.at_s:
        return 0.0
    return float(getattr(now, attr) - getattr(before, attr)) / (now.at_s - before.at_s)


def render(
    snap: Snapshot, before: Snapshot | None, *, title: str, console_url: str, info: dict[str, Any]
) -> Panel:
    """The whole screen: throughput line, per-enterprise table, open alerts."""
    head = Text.assemble(
        ("readings/s in ", "dim"), (f"{rate(snap, before, 'readings_in'):,.0f}", "bold"),
        ("   stored ", "dim"), (f"{rate(snap, before, 'readings_stored'):,.0f}", "bold"),
        ("   total stored ", "dim"), (f"{snap.readings_stored:,}", "bold"),
        ("   DLQ ", "dim"), (f"{snap.dlq}", "bold red" if snap.dlq else "bold"),
        ("   alerts ", "dim"), (f"{snap.alerts_total}", "bold"),
    )  # fmt: skip
    ents = Table(expand=True, box=None, header_style="bold cyan")
    ents.add_column("enterprise")
    ents.add_column("energy so far (kgce)", justify="right")
    ents.add_column("CO₂e calculated (t)", justify="right")
    ents.add_column("CO₂ measured, CEMS (t)", justify="right")
    for ent in sorted(set(snap.kgce) | set(snap.co2e_t) | set(snap.cems_co2_t)):
        ents.add_row(
            ent, f"{snap.kgce.get(ent, 0.0):,.1f}", f"{snap.co2e_t.get(ent, 0.0):,.3f}",
            f"{snap.cems_co2_t.get(ent, 0.0):,.3f}" if ent in snap.cems_co2_t else "—",
        )  # fmt: skip
    alerts = Table(expand=True, box=None, header_style="bold yellow")
    alerts.add_column(f"open alerts ({len(snap.open_alerts)})")
    alerts.add_column("scope")
    for rule, scope, _ in snap.open_alerts[:8]:
        alerts.add_row(rule, scope)
    foot = Text.assemble(("console ", "dim"), (console_url, "bold underline"))
    for key, value in info.items():
        foot.append(f"   {key} ", style="dim")
        foot.append(str(value))
    if snap.error:
        foot.append(f"   ({snap.error}; retrying)", style="yellow")
    return Panel(Group(head, Text(""), ents, Text(""), alerts, Text(""), foot), title=title)
