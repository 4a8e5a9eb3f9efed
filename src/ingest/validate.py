"""Validation of readings against the park model, fast enough for 100k+ readings/s.

Each reading is checked with plain dict lookups and comparisons (no pydantic in the hot path):
the point exists and belongs to the device (or stack) that sent it, the unit (when the sender
states one) is the point's, the value is a finite number inside the plausible range of
``ingest/data/plausibility.yaml``, the timestamp is an integer epoch ms not too far in the
future or the past, the quality is one of the contract's. Readings that pass are returned as
contract dicts; each one that fails yields a reason naming the reading, the point, the field
and what was expected, so a person can act on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from ingest.park.models import Park

QUALITIES = frozenset({"good", "uncertain", "bad"})
MAX_LISTED = 5
"""Reasons list at most this many bad readings, then how many more there were."""


@dataclass(frozen=True, slots=True)
class PointRule:
    """What a reading of one point must satisfy."""

    point: str
    source: str
    enterprise: str
    uom: str
    kind: str
    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class Limits:
    """How far a timestamp may be from the receive time."""

    max_future_ms: int = 5 * 60_000
    max_past_ms: int = 400 * 86_400_000  # a year of backfill from a data logger, and some


@cache
def plausibility() -> dict[str, Any]:
    """The bundled plausibility table."""
    text = resources.files("ingest").joinpath("data", "plausibility.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _bounds(kind: str, uom: str) -> tuple[float, float]:
    table = plausibility()
    spec = table["by_kind"].get(kind, {})
    if kind != "counter" and uom in table["by_uom"]:
        spec = table["by_uom"][uom]
    lo = spec.get("min")
    hi = spec.get("max")
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def rules_from_park(park: Park) -> dict[str, PointRule]:
    """One rule per point of the park (devices' points and stacks' species points)."""
    ix = park.index
    rules: dict[str, PointRule] = {}
    for pid, pt in ix.points.items():
        lo, hi = _bounds(pt.kind, pt.uom)
        rules[pid] = PointRule(
            point=pid,
            source=pt.device or "",
            enterprise=ix.point_enterprise[pid],
            uom=pt.uom,
            kind=pt.kind,
            lo=lo,
            hi=hi,
        )
    return rules


class Validator:
    """Checks readings of one park; share one instance between adapters (it is read-only)."""

    def __init__(self, rules: dict[str, PointRule], limits: Limits | None = None) -> None:
        self.rules = rules
        self.limits = limits or Limits()
        self.sources: dict[str, str] = {}
        for rule in rules.values():
            if rule.source:
                self.sources[rule.source] = rule.enterprise

    @classmethod
    def for_park(cls, park: Park, limits: Limits | None = None) -> Validator:
        validator = cls(rules_from_park(park), limits)
        ix = park.index
        # devices and stacks without points still belong to an enterprise
        validator.sources.update(ix.device_enterprise)
        validator.sources.update(ix.stack_enterprise)
        return validator

    def check_source(self, source: str, enterprise: str | None = None) -> str | None:
        """A reason if ``source`` is unknown or not of ``enterprise`` (from a topic)."""
        owner = self.sources.get(source)
        if owner is None:
            return f"unknown device {source!r}: not in the park model"
        if enterprise is not None and owner != enterprise:
            return (
                f"wrong enterprise in topic: device {source!r} belongs to enterprise "
                f"{owner!r}, topic says {enterprise!r}"
            )
        return None

    def check(
        self, source: str, readings: Any, now_ms: int
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """(good readings as contract dicts, one reason per bad reading).

        Good readings are the input dicts themselves, completed in place (``q`` added, ``uom``
        removed): callers pass freshly parsed JSON, and copying 100k dicts a second costs more
        than the checks.
        """
        if not isinstance(readings, list):
            return [], [f"'readings' must be a list, got {type(readings).__name__}"]
        rules = self.rules
        earliest = now_ms - self.limits.max_past_ms
        latest = now_ms + self.limits.max_future_ms
        good: list[dict[str, Any]] = []
        bad: list[str] = []
        isfinite = math.isfinite
        append = good.append
        for i, r in enumerate(readings):
            try:
                point = r["point"]
                ts = r["ts"]
                value = r["value"]
            except (KeyError, TypeError):
                bad.append(_missing(i, r))
                continue
            rule = rules.get(point) if isinstance(point, str) else None
            if rule is None:
                bad.append(f"reading[{i}]: unknown point {point!r}: not in the park model")
                continue
            if rule.source != source:
                bad.append(
                    f"reading[{i}] point {point!r}: belongs to {rule.source!r}, "
                    f"not to the sender {source!r}"
                )
                continue
            tv = type(value)
            if tv is not float and tv is not int:
                bad.append(f"reading[{i}] point {point!r}: value {value!r} is not a number")
                continue
            if not isfinite(value):
                bad.append(f"reading[{i}] point {point!r}: value is {value!r} (must be finite)")
                continue
            if not rule.lo <= value <= rule.hi:
                bad.append(
                    f"reading[{i}] point {point!r}: value {value!r} {rule.uom} is outside the "
                    f"plausible range [{rule.lo:g}, {rule.hi:g}] for a {rule.kind} in {rule.uom}"
                )
                continue
            if type(ts) is not int:
                bad.append(f"reading[{i}] point {point!r}: ts {ts!r} is not integer epoch ms")
                continue
            if not earliest <= ts <= latest:
                when = "in the future" if ts > latest else "in the past"
                bad.append(
                    f"reading[{i}] point {point!r}: ts {ts} is {abs(ts - now_ms) / 1000:.0f} s "
                    f"{when} (allowed: {self.limits.max_future_ms // 1000} s ahead, "
                    f"{self.limits.max_past_ms // 86_400_000} days back)"
                )
                continue
            if len(r) == 3:
                r["q"] = "good"  # the parsed input is ours: complete it in place
                append(r)
                continue
            uom = r.pop("uom", None)
            if uom is not None and uom != rule.uom:
                bad.append(
                    f"reading[{i}] point {point!r}: unit {uom!r} does not match the "
                    f"point's unit {rule.uom!r}"
                )
                continue
            q = r.setdefault("q", "good")
            if type(q) is not str or q not in QUALITIES:
                bad.append(f"reading[{i}] point {point!r}: q {q!r} is not good, uncertain or bad")
                continue
            if len(r) != 4:
                r = {"point": point, "ts": ts, "value": value, "q": q}
            append(r)
        return good, bad


def _missing(i: int, r: Any) -> str:
    if not isinstance(r, dict):
        return f"reading[{i}]: expected an object with point, ts, value; got {type(r).__name__}"
    absent = [k for k in ("point", "ts", "value") if k not in r]
    return f"reading[{i}]: missing field(s) {', '.join(absent)}"


def summarize(problems: list[str], total: int) -> str:
    """One reason for a DLQ record from the per-reading problems of a batch."""
    listed = "; ".join(problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return f"{len(problems)} of {total} readings rejected: {listed}{more}"
