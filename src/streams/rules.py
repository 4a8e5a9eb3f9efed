"""Alert rules as data: ``streams/data/alert_rules.yaml`` (or a file of the user's) loaded into
frozen rules; a bad entry is a ``ConfigError`` naming the file, the rule and the problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nengtan.errors import ConfigError

KINDS = (
    "co2e_window",
    "pollutant_avg",
    "pollutant_hourly",
    "ytd_pace",
    "meter_silent",
    "counter_anomaly",
    "cems_invalid_hour",
)
SCOPES = ("stack", "enterprise", "park", "device", "point")
LIMIT = "limit"
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """``15m`` -> 900000; ``1h``, ``24h``, ``30s``, ``2d`` likewise."""
    m = _DURATION.match(str(text).strip())
    if m is None:
        raise ValueError(f"{text!r} is not a duration like 15m, 1h or 24h")
    return int(m[1]) * _UNIT_MS[m[2]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule; ``levels`` are (severity, threshold) lowest first, threshold None for
    the stack's limit."""

    id: str
    kind: str
    scope: str
    window: str
    window_ms: int
    levels: tuple[tuple[str, float | None], ...]
    hysteresis: float = 0.0
    min_duration_ms: int = 0
    clear_after_ms: int = 0
    by_scope: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    budgets_t: dict[str, float] = field(default_factory=dict)

    def thresholds(
        self, scope_id: str, limit: float | None = None
    ) -> tuple[tuple[str, float], ...]:
        """The levels for one scope id (its own, else the defaults; ``limit`` filled in)."""
        if scope_id in self.by_scope:
            return self.by_scope[scope_id]
        out = []
        for sev, thr in self.levels:
            value = limit if thr is None else thr
            if value is None:
                return ()
            out.append((sev, value))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    timezone_offset_ms: int
    rules: tuple[Rule, ...]

    def of_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]


def load_rules(path: Path | None = None) -> RuleSet:
    """The bundled rules, or those of ``path``."""
    if path is None:
        text = resources.files("streams.data").joinpath("alert_rules.yaml").read_text("utf-8")
        name = "streams/data/alert_rules.yaml"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read alert rules: {exc.strerror}") from exc
        name = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"{name}: expected a mapping with a `rules` list")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["rules"]):
        where = f"{name}: rules[{i}]" + (f" ({entry.get('id')})" if isinstance(entry, dict) else "")
        try:
            rule = _rule(entry)
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if rule.id in seen:
            raise ConfigError(f"{where}: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        rules.append(rule)
    offset_h = data.get("timezone_offset_h", 0)
    if not isinstance(offset_h, int | float):
        raise ConfigError(f"{name}: timezone_offset_h must be a number of hours")
    return RuleSet(str(data.get("version", "")), int(offset_h * 3_600_000), tuple(rules))


def _levels(raw: Any, allow_limit: bool) -> tuple[tuple[str, float | None], ...]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError("`levels` must map severity to threshold")
    out: list[tuple[str, float | None]] = []
    for sev, thr in raw.items():
        if thr == LIMIT and allow_limit:
            out.append((str(sev), None))
        elif isinstance(thr, int | float) and not isinstance(thr, bool):
            out.append((str(sev), float(thr)))
        else:
            raise ValueError(f"level {sev!r}: threshold {thr!r} is not a number")
    numbers = [t for _, t in out if t is not None]
    if numbers != sorted(numbers):
        raise ValueError("`levels` must be listed lowest threshold first")
    return tuple(out)


def _rule(entry: Any) -> Rule:
    if not isinstance(entry, dict):
        raise TypeError("each rule must be a mapping")
    unknown = set(entry) - {
        "id", "kind", "scope", "window", "levels", "hysteresis", "min_duration",
        "clear_after", "by_scope", "budgets_t",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}")
    kind, scope = entry["kind"], entry["scope"]
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    window = str(entry.get("window", "event"))
    window_ms = 0 if window in ("event", "ytd") else parse_duration_ms(window)
    hysteresis = float(entry.get("hysteresis", 0.0))
    if not 0 <= hysteresis < 1:
        raise ValueError(f"hysteresis {hysteresis} must be in [0, 1)")
    by_scope = {
        str(k): tuple((s, t) for s, t in _levels(v, False) if t is not None)
        for k, v in (entry.get("by_scope") or {}).items()
    }
    budgets = {str(k): float(v) for k, v in (entry.get("budgets_t") or {}).items()}
    return Rule(
        id=str(entry["id"]),
        kind=kind,
        scope=scope,
        window=window,
        window_ms=window_ms,
        levels=_levels(entry["levels"], kind in ("pollutant_avg", "pollutant_hourly")),
        hysteresis=hysteresis,
        min_duration_ms=parse_duration_ms(entry.get("min_duration", "0m")),
        clear_after_ms=parse_duration_ms(entry.get("clear_after", "0m")),
        by_scope=by_scope,
        budgets_t=budgets,
    )
