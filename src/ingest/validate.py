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


def point_rule(point: str, device: str | None, enterprise: str, uom: str, kind: str) -> PointRule:
    """The rule of one point (``device`` None: a manually entered point), with its plausible
    range from the bundled table; used for a park file and for the console's registry alike."""
    lo, hi = _bounds(kind, uom)
    return PointRule(
        point=point, source=device or "", enterprise=enterprise, uom=uom, kind=kind, lo=lo, hi=hi
    )


def rules_from_park(park: Park) -> dict[str, PointRule]:
    """One rule per point of the park (devices' points and stacks' species points)."""
    ix = park.index
    return {
        pid: point_rule(pid, pt.device, ix.point_enterprise[pid], pt.uom, pt.kind)
        for pid, pt in ix.points.items()
    }


@dataclass(frozen=True, slots=True)
class Envelope:
    """The header of a reading batch (``nt.readings/1``); ``readings`` is checked later."""

    device: str
    seq: int
    sent_ms: int
    readings: Any


def check_envelope(batch: Any, device: str | None = None) -> Envelope | str:
    """The batch's header, or a reason it is not a reading batch. ``device`` is the device a
    transport names (an MQTT topic): the payload may omit it but not contradict it. Types are
    checked exactly (a JSON string or boolean is never taken for a number)."""
    if not isinstance(batch, dict):
        return f"expected a JSON object (a reading batch), got {type(batch).__name__}"
    schema = batch.get("schema", "nt.readings/1")
    if schema != "nt.readings/1":
        return f"schema {_short(schema)} is not 'nt.readings/1'"
    named = batch.get("device", device)
    if device is not None and named != device:
        return f"device {_short(named)} in the payload differs from {device!r} in the topic"
    if type(named) is not str or not named:
        return f"device {_short(named)} must be a non-empty string"
    seq = batch.get("seq")
    if type(seq) is not int or seq < 0:
        return f"seq {_short(seq)} must be a non-negative integer"
    sent_ms = batch.get("sent_ms")
    if type(sent_ms) is not int:
        return f"sent_ms {_short(sent_ms)} must be integer epoch ms"
    if "readings" not in batch:
        return "missing field 'readings'"
    unknown = sorted(set(batch) - {"schema", "device", "seq", "sent_ms", "readings"})
    if unknown:
        return f"unknown field(s) {_short(unknown)}"
    return Envelope(named, seq, sent_ms, batch["readings"])


def _short(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters: a reason never echoes a large input back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
                bad.append(f"reading[{i}]: unknown point {_short(point)}: not in the park model")
                continue
            if rule.source != source:
                bad.append(
                    f"reading[{i}] point {point!r}: belongs to {rule.source!r}, "
                    f"not to the sender {source!r}"
                )
                continue
            tv = type(value)
            if tv is not float and tv is not int:
                bad.append(f"reading[{i}] point {point!r}: value {_short(value)} is not a number")
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
                bad.append(f"reading[{i}] point {point!r}: ts {_short(ts)} is not integer epoch ms")
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
                    f"reading[{i}] point {point!r}: unit {_short(uom)} does not match the "
                    f"point's unit {rule.uom!r}"
                )
                continue
            q = r.setdefault("q", "good")
            if type(q) is not str or q not in QUALITIES:
                bad.append(
                    f"reading[{i}] point {point!r}: q {_short(q)} is not good, uncertain or bad"
                )
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
