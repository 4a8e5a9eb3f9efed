"""The park file's faults turned into simulated-time windows and instants, by target.

Everything here is in simulated epoch ms: a fault at ``at_s`` starts at ``start_ms + at_s ×
1000``; a window is half-open ``[t0, t1)``. Publishers and the engine ask questions such as
"is this device silent at t?"; the one-shot faults (out-of-order, malformed, bad CRC) are
consumed when they fire, so each fires exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ingest.park.models import Park

Window = tuple[int, int]


def _in(windows: list[Window], t_ms: int) -> bool:
    return any(t0 <= t_ms < t1 for t0, t1 in windows)


@dataclass(frozen=True)
class Episode:
    """An over-emission episode: a multiplier on some species (stack) or loads (enterprise)."""

    t0: int
    t1: int
    factor: float
    species: tuple[str, ...] | None


def _windows() -> defaultdict[str, list[Window]]:
    return defaultdict(list)


@dataclass
class FaultPlan:
    """Faults by target id, in simulated ms."""

    offline: defaultdict[str, list[Window]] = field(default_factory=_windows)
    gap: defaultdict[str, list[Window]] = field(default_factory=_windows)
    duplicate: defaultdict[str, list[Window]] = field(default_factory=_windows)
    stuck: defaultdict[str, list[Window]] = field(default_factory=_windows)
    cems_flag: defaultdict[str, list[tuple[int, int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    over_emission: defaultdict[str, list[Episode]] = field(
        default_factory=lambda: defaultdict(list)
    )
    skew_ms: dict[str, int] = field(default_factory=dict)
    reset_at: dict[str, int] = field(default_factory=dict)
    rollover_at: dict[str, int] = field(default_factory=dict)
    out_of_order: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    malformed: defaultdict[str, list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    bad_crc: defaultdict[str, list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def build(cls, park: Park, start_ms: int) -> FaultPlan:
        plan = cls()
        for f in park.faults:
            if f.kind == "clock_skew":
                plan.skew_ms[f.target] = f.skew_ms
                continue
            t0 = start_ms + round(f.at_s * 1000)
            t1 = t0 + round(float(getattr(f, "duration_s", 0.0)) * 1000)
            match f.kind:
                case "offline":
                    plan.offline[f.target].append((t0, t1))
                case "gap":
                    plan.gap[f.target].append((t0, t1))
                case "duplicate":
                    plan.duplicate[f.target].append((t0, t1))
                case "stuck_value":
                    plan.stuck[f.target].append((t0, t1))
                case "cems_flag":
                    plan.cems_flag[f.target].append((t0, t1, f.flag))
                case "over_emission":
                    species = tuple(f.species) if f.species else None
                    plan.over_emission[f.target].append(Episode(t0, t1, f.factor, species))
                case "counter_reset":
                    plan.reset_at[f.target] = min(t0, plan.reset_at.get(f.target, t0))
                case "counter_rollover":
                    plan.rollover_at[f.target] = t0
                case "out_of_order":
                    plan.out_of_order[f.target].append(t0)
                case "malformed":
                    plan.malformed[f.target].append((t0, f.count))
                case "bad_crc":
                    plan.bad_crc[f.target].append((t0, f.count))
        return plan

    # -- questions ------------------------------------------------------------------------------
    def is_offline(self, source: str, t_ms: int) -> bool:
        return _in(self.offline.get(source, []), t_ms)

    def is_silent(self, source: str, t_ms: int) -> bool:
        """No message from this publisher at ``t_ms`` (offline or in a gap)."""
        return self.is_offline(source, t_ms) or _in(self.gap.get(source, []), t_ms)

    def is_duplicated(self, source: str, t_ms: int) -> bool:
        return _in(self.duplicate.get(source, []), t_ms)

    def flag_at(self, stack: str, t_ms: int) -> str:
        """The CEMS data flag of a stack's minute at ``t_ms`` (``N`` when valid)."""
        for t0, t1, flag in self.cems_flag.get(stack, []):
            if t0 <= t_ms < t1:
                return flag
        return "N"

    def factor_at(self, target: str, t_ms: int, species: str | None = None) -> float:
        """Product of the over-emission factors active on ``target`` (stack or enterprise)."""
        out = 1.0
        for ep in self.over_emission.get(target, []):
            hit = species is None or ep.species is None or species in ep.species
            if hit and ep.t0 <= t_ms < ep.t1:
                out *= ep.factor
        return out

    # -- one-shot faults: how many fire at t (then forgotten) ------------------------------------
    def take_out_of_order(self, source: str, t_ms: int) -> bool:
        due = [t for t in self.out_of_order.get(source, []) if t <= t_ms]
        for t in due:
            self.out_of_order[source].remove(t)
        return bool(due)

    def take_malformed(self, source: str, t_ms: int) -> int:
        return _take_counted(self.malformed, source, t_ms)

    def take_bad_crc(self, source: str, t_ms: int) -> int:
        return _take_counted(self.bad_crc, source, t_ms)


def _take_counted(table: dict[str, list[tuple[int, int]]], source: str, t_ms: int) -> int:
    entries = table.get(source, [])
    due = [e for e in entries if e[0] <= t_ms]
    for e in due:
        entries.remove(e)
    return sum(n for _, n in due)
