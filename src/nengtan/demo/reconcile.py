"""Reconcile what the database holds with the simulator's ground truth: the demo's verdict and
the fault suite's assertion.

What must agree exactly (relative error below ``REL``), and why each is exact:

- every **counter**: stored consumption = Σ true increments between the first and the last
  emitted values the pipeline stored (``truth.span_by_time``); counters telescope, so missed
  polls, restarts and outages in between change nothing;
- every **rate**: stored consumption = sample-and-hold integral of the emitted samples over the
  stored span. Every protocol carries the device's own time: MQTT gateways in the payload, OPC UA
  as source timestamps (and history after a gap), Modbus meters in their load-profile ring;
- the recomputation over the whole run = the truth file's figure (a check of this module);
- each enterprise's calculated CO₂e = the accounting engine's coefficients applied to the
  expected quantities of its inventory points;
- each closed, unsubstituted CEMS hour: n_valid and CO₂ (t) = the truth's;
- no alert stored twice (same ``alert_id`` and state).

Reported but not part of the verdict: rates of sources with an ``out_of_order`` fault, whose
late sample the pipeline ignores by design (docs/streams.md), and rates of any protocol named
in ``sampled_rate_protocols`` (for meters without a time of their own; none in the examples).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from ingest.park import load_park
from nengtan.demo import truth as tr
from streams.points import build_point_table, year_of

REL = 1e-9


@dataclass(frozen=True)
class PointCheck:
    """One point: expected over the observed span, stored, and whether the verdict counts it."""

    point: str
    kind: str
    protocol: str
    expected: float
    stored: float
    checked: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.checked or _close(self.stored, self.expected)


@dataclass
class Verdict:
    """The reconciliation's result: ``ok`` and the figures it rests on."""

    points: list[PointCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    enterprises: dict[str, dict[str, float]] = field(default_factory=dict)
    cems_hours_checked: int = 0
    alerts: int = 0
    duplicate_alerts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and all(p.ok for p in self.points)

    def failures(self) -> list[str]:
        """Every reason for FAILED, one line each."""
        bad = [
            f"{p.point} ({p.kind}, {p.protocol}): stored {p.stored:.9g}, expected {p.expected:.9g}"
            for p in self.points
            if not p.ok
        ]
        return self.problems + bad


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), 1e-9)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def query(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]


def reconcile(
    dsn: str,
    park_file: Path,
    truth: dict[str, Any],
    log_path: Path,
    *,
    sampled_rate_protocols: frozenset[str] = frozenset(),
) -> Verdict:
    """Compare the database at ``dsn`` with the truth file and emitted-values log of one run.

    ``sampled_rate_protocols``: protocols whose rates the adapters only sample at poll time
    (Modbus meters without a load-profile ring), reported, not checked.
    """
    verdict = Verdict()
    table = build_point_table(load_park(park_file))
    emitted = tr.load_emitted(log_path)
    out_of_order = {f.get("target") for f in truth["faults"]["fired"] if f.get("kind") == "out_of_order"}
    points = sorted(truth["points"])
    stored = {
        r[0]: float(r[1])
        for r in query(dsn, "SELECT point, sum(quantity) FROM consumption WHERE point = ANY(%s)"
                            " GROUP BY point", points)
    }
    raw: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for point, ts, value in query(
        dsn, "SELECT point, ts, value FROM readings_raw WHERE q = 'good' AND point = ANY(%s)"
             " ORDER BY point, ts", points,
    ):  # fmt: skip
        raw[point].append((_ms(ts), float(value)))

    expected_qty: dict[str, float] = {}
    for point, t in sorted(truth["points"].items()):
        series = emitted.get(point)
        if series is None:
            verdict.problems.append(f"{point}: in the truth file but not in the emitted log")
            continue
        samples = series.ordered()
        full = tr.consumption(t["kind"], samples, t.get("modulus"), series.resets_ms)
        if not _close(full, float(t["consumption"])):
            verdict.problems.append(
                f"{point}: recomputed truth {full:.9g} != truth file {t['consumption']:.9g}"
            )
        got = raw.get(point)
        if not got:
            if t["consumption"] != 0:
                verdict.problems.append(f"{point}: no readings stored")
            continue
        span = tr.span_by_time(samples, got[0][0], got[-1][0])
        if span is None:
            verdict.problems.append(f"{point}: a stored value was never emitted")
            continue
        want = tr.consumption(t["kind"], span, t.get("modulus"), series.resets_ms)
        note, checked = "", True
        if t["kind"] == "rate" and series.protocol in sampled_rate_protocols:
            checked, note = False, f"{series.protocol} rate: integral depends on the samples read"
        elif t["kind"] == "rate" and t.get("source") in out_of_order:
            checked, note = False, "late sample ignored by design"
        value = stored.get(point, 0.0)
        expected_qty[point] = want if checked else value
        verdict.points.append(
            PointCheck(point, t["kind"], series.protocol, want, value, checked, note)
        )

    enterprises = sorted({i.enterprise for i in table.points.values()})
    _check_enterprises(verdict, dsn, table, expected_qty, int(truth["start_ms"]), enterprises)
    _check_cems(verdict, dsn, truth)
    _check_alerts(verdict, dsn, enterprises)
    return verdict


def _check_enterprises(
    verdict: Verdict, dsn: str, table: Any, expected_qty: dict[str, float], start_ms: int,
    enterprises: list[str],
) -> None:
    """Calculated CO₂e per enterprise = coefficients × expected quantities of its inventory."""
    ids = sorted(p for p in expected_qty if p in table.points and table.points[p].inventory)
    _, _, kgce, co2e = table.convert(year_of(start_ms), ids, np.array([expected_qty[p] for p in ids]))
    want_co2e: dict[str, float] = defaultdict(float)
    want_kgce: dict[str, float] = defaultdict(float)
    for i, p in enumerate(ids):
        ent = table.points[p].enterprise
        want_co2e[ent] += float(co2e[i])
        want_kgce[ent] += float(kgce[i])
    got_co2e = dict(
        query(dsn, "SELECT enterprise, sum(co2e_t) FROM emissions WHERE method = 'calculated'"
                   " AND enterprise = ANY(%s) GROUP BY 1", enterprises)
    )
    for ent in sorted(set(want_co2e) | set(got_co2e)):
        got, want = float(got_co2e.get(ent, 0.0)), want_co2e.get(ent, 0.0)
        verdict.enterprises[ent] = {"co2e_t": got, "co2e_t_expected": want,
                                    "kgce_expected": want_kgce.get(ent, 0.0)}  # fmt: skip
        if not _close(got, want):
            verdict.problems.append(f"{ent}: calculated CO₂e stored {got:.9g} t, expected {want:.9g} t")


def _check_cems(verdict: Verdict, dsn: str, truth: dict[str, Any]) -> None:
    """Every closed, unsubstituted hour the database holds equals the truth's hour."""
    hours = {
        (stack, _ms(h)): (float(co2), int(n))
        for stack, h, co2, n in query(
            dsn, "SELECT stack, hour_start, co2_t, n_valid FROM cems_hourly"
                 " WHERE substitution IS NULL AND valid AND stack = ANY(%s)", sorted(truth["stacks"]))
    }
    for stack, st in truth["stacks"].items():
        for h in st["hours"]:
            got = hours.get((stack, int(h["hour_ms"])))
            if got is None or not h.get("valid"):
                continue
            co2, n = got
            if n != h["n_valid"] or not _close(co2, float(h["co2_t"])):
                verdict.problems.append(
                    f"{stack} hour {h['hour_ms']}: stored CO₂ {co2:.9g} t over {n} minutes,"
                    f" truth {h['co2_t']:.9g} t over {h['n_valid']}"
                )
            verdict.cems_hours_checked += 1


def _check_alerts(verdict: Verdict, dsn: str, enterprises: list[str]) -> None:
    """No alert of this park's scopes stored twice."""
    like = [f"%{e}%" for e in enterprises]
    rows = query(dsn, "SELECT alert_id, state, count(*) FROM alerts WHERE scope LIKE ANY(%s)"
                      " GROUP BY 1, 2", like)  # fmt: skip
    verdict.alerts = sum(int(r[2]) for r in rows)
    dups = [(a, s, int(n)) for a, s, n in rows if n > 1]
    verdict.duplicate_alerts = len(dups)
    for a, s, n in dups:
        verdict.problems.append(f"alert {a} stored {n} times as {s}")


def alert_topic_duplicates(records: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(alert_id, state, n) delivered more than once on ``nt.alerts.v1``."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for rec in records:
        seen[(rec["alert_id"], rec["state"])] += 1
    return [(a, s, n) for (a, s), n in seen.items() if n > 1]
