"""CEMS minute data to hourly values per stack: hourly CO₂ and pollutant mass
(``method: measured``), pollutant hourly averages, validity and substitution.

The arithmetic (minute mass, the valid-hour rule, scaling by 60 / n_valid) is the accounting
engine's (``accounting.cems``); this module only keeps the minutes of each stack, decides when
an hour is complete and applies the substitution rules over the stream of hours.

An hour is emitted when all its 60 minutes are in, or else when the stack's data has moved
``GRACE_MS`` past its end, and emitted again if a late minute for it still arrives (the sink
upserts on stack and hour). An invalid hour is
emitted at once with a provisional value (the last valid hour's) and emitted again with the
substitute once the next valid hour closes: the mean of the valid hours either side for a gap
of at most 24 hours, otherwise the maximum of the preceding 720 valid hours (HJ 75-2017 practice).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from accounting import cems
from streams.points import StackInfo
from streams.windows import HOUR_MS, MINUTE_MS, window_start

F64 = npt.NDArray[np.float64]

GRACE_MS = 5 * MINUTE_MS
"""How far past an hour's end a stack's data must be before the hour is taken as complete."""
KEEP_HOURS = 3
"""Closed hours whose minutes are kept, so a late minute re-emits its hour."""
HISTORY_HOURS = 720
"""Valid hours kept per stack for the long-gap substitute (HJ 75-2017: preceding 720)."""
SUBSTITUTION_CODES = {1: "mean_either_side", 2: "max_preceding_720h"}
FLOW = "flow"
CO2 = "co2"
MASS_SPECIES = ("so2", "nox", "pm", "co")
"""Species in mg/m3 whose hourly mass (kg) is computed; other species only get averages."""


@dataclass(slots=True)
class HourlyCems:
    """One stack-hour (natural key: stack, hour_start_ms)."""

    stack: str
    enterprise: str
    hour_start_ms: int
    n_valid: int
    valid: bool
    co2_t: float
    """Measured CO₂ mass of the hour, or its substitute when ``substitution`` is set."""
    substitution: str | None = None
    """None (measured), ``provisional``, ``mean_either_side`` or ``max_preceding_720h``."""
    pollutant_kg: dict[str, float] = field(default_factory=dict)
    pollutant_avg_mg_m3: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CemsState:
    """Per stack: minutes by ts, the latest ts, emitted hours and recent valid hours."""

    minutes: dict[int, dict[str, tuple[float, bool]]] = field(default_factory=dict)
    latest_ms: int | None = None
    emitted: dict[int, int] = field(default_factory=dict)
    """hour start -> number of minute entries it had when last emitted."""
    valid_hours: list[tuple[int, float]] = field(default_factory=list)
    """(hour start, CO₂ t) of the latest valid hours, oldest first."""
    pending: list[int] = field(default_factory=list)
    """Invalid hours waiting for the next valid hour to be substituted."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "m": {
                str(t): {s: [v, g] for s, (v, g) in row.items()} for t, row in self.minutes.items()
            },
            "l": self.latest_ms,
            "e": {str(h): n for h, n in self.emitted.items()},
            "v": [list(x) for x in self.valid_hours],
            "p": list(self.pending),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CemsState:
        if not data:
            return cls()
        return cls(
            {
                int(t): {s: (float(v), bool(g)) for s, (v, g) in row.items()}
                for t, row in data["m"].items()
            },
            data["l"],
            {int(h): int(n) for h, n in data["e"].items()},
            [(int(h), float(c)) for h, c in data["v"]],
            [int(h) for h in data["p"]],
        )


def accept_minute(state: CemsState, ts_ms: int, species: str, value: float, good: bool) -> None:
    """Record one species value of one minute (a duplicate overwrites itself)."""
    minute = window_start(ts_ms, MINUTE_MS)
    oldest_kept = _oldest_kept_hour(state)
    if oldest_kept is not None and minute < oldest_kept:
        return
    state.minutes.setdefault(minute, {})[species] = (value, good)
    if state.latest_ms is None or ts_ms > state.latest_ms:
        state.latest_ms = ts_ms


def close_hours(state: CemsState, stack: StackInfo) -> list[HourlyCems]:
    """Hours that became complete, or changed after being emitted, as hourly records."""
    if state.latest_ms is None:
        return []
    by_hour: dict[int, list[int]] = {}
    for minute in state.minutes:
        by_hour.setdefault(window_start(minute, HOUR_MS), []).append(minute)
    out: list[HourlyCems] = []
    for hour in sorted(by_hour):
        complete = len(by_hour[hour]) == HOUR_MS // MINUTE_MS
        if not complete and hour + HOUR_MS + GRACE_MS > state.latest_ms:
            continue
        entries = sum(len(state.minutes[m]) for m in by_hour[hour])
        if state.emitted.get(hour) == entries:
            continue
        state.emitted[hour] = entries
        out.extend(_emit_hour(state, stack, hour, sorted(by_hour[hour])))
    _prune(state)
    return out


def _emit_hour(
    state: CemsState, stack: StackInfo, hour: int, minutes: list[int]
) -> list[HourlyCems]:
    rows = [state.minutes[m] for m in minutes]

    def column(species: str) -> tuple[F64, npt.NDArray[np.bool_]]:
        vals = np.array([r.get(species, (np.nan, False))[0] for r in rows], dtype=float)
        good = np.array([r.get(species, (np.nan, False))[1] for r in rows], dtype=bool)
        return vals, good & np.isfinite(vals)

    flow, flow_ok = column(FLOW)
    co2, co2_ok = column(CO2)
    ok = co2_ok & flow_ok
    co2_hour = cems.hourly_mass(np.where(ok, cems.co2_minute_mass_t(co2, flow), 0.0), ok)
    valid = bool(co2_hour.valid)
    record = HourlyCems(
        stack.stack,
        stack.enterprise,
        hour,
        int(co2_hour.n_valid),
        valid,
        float(co2_hour.value) if valid else 0.0,
    )
    for species in stack.species:
        if species in (FLOW, CO2):
            continue
        vals, good = column(species)
        mean = cems.hourly_mean(np.where(good, vals, 0.0), good)
        if int(mean.n_valid) > 0:
            record.pollutant_avg_mg_m3[species] = float(mean.value)
        if species in MASS_SPECIES:
            both = good & flow_ok
            minute_kg = np.where(both, cems.pollutant_minute_mass_kg(vals, flow), 0.0)
            kg = cems.hourly_mass(minute_kg, both)
            if bool(kg.valid):
                record.pollutant_kg[species] = float(kg.value)
    return _substitute(state, record)


def _substitute(state: CemsState, record: HourlyCems) -> list[HourlyCems]:
    """Substitution over the stream of hours (``accounting.cems.substitute_hours``): an invalid
    hour goes out at once as ``provisional`` (the last valid hour's value) and again with its
    substitute once the next valid hour has closed."""
    hour = record.hour_start_ms
    if not record.valid:
        record.substitution = "provisional"
        record.co2_t = state.valid_hours[-1][1] if state.valid_hours else 0.0
        if hour not in state.pending:
            state.pending.append(hour)
            state.pending.sort()
        return [record]
    out = [record]
    gaps = [h for h in state.pending if h < hour]
    if gaps:
        history = [v for v in state.valid_hours if v[0] < hour]
        first = min([gaps[0], *(h for h, _ in history)])
        n = (hour - first) // HOUR_MS + 1
        values = np.full(n, np.nan)
        ok = np.zeros(n, dtype=bool)
        for h, c in [*history, (hour, record.co2_t)]:
            values[(h - first) // HOUR_MS], ok[(h - first) // HOUR_MS] = c, True
        filled, code = cems.substitute_hours(values, ok)
        for h in gaps:
            i = (h - first) // HOUR_MS
            sub = HourlyCems(record.stack, record.enterprise, h, 0, False, float(filled[i]))
            sub.substitution = SUBSTITUTION_CODES.get(int(code[i]), "none_available")
            if sub.substitution == "none_available":
                sub.co2_t = 0.0
            out.append(sub)
            state.pending.remove(h)
    kept = [v for v in state.valid_hours if v[0] != hour]
    state.valid_hours = sorted([*kept, (hour, record.co2_t)])[-HISTORY_HOURS:]
    return out


def _oldest_kept_hour(state: CemsState) -> int | None:
    if state.latest_ms is None:
        return None
    return window_start(state.latest_ms, HOUR_MS) - KEEP_HOURS * HOUR_MS


def _prune(state: CemsState) -> None:
    oldest = _oldest_kept_hour(state)
    if oldest is None:
        return
    state.minutes = {m: r for m, r in state.minutes.items() if m >= oldest}
    state.emitted = {h: n for h, n in state.emitted.items() if h >= oldest}
