"""How each topic's records become rows: the staging columns, the target table, its natural
key and whether a newer record replaces an older one (outputs: yes, the stream re-emits
corrections; evidence: no, the first copy stays).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ingest.contract import (
    TOPIC_ALERTS,
    TOPIC_CONSUMPTION,
    TOPIC_DLQ,
    TOPIC_EMISSIONS,
    TOPIC_READINGS,
)

TOPIC_CEMS_HOURLY = "nt.streams.cems-hourly.v1"
"""Streams-internal topic of CEMS stack-hours (see docs/streams.md)."""

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """One table the sink writes: ``columns`` as staged (``*_ms`` columns become timestamptz)."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    replace: bool
    rows: Callable[[dict[str, Any]], Iterator[Row]]

    @property
    def table_columns(self) -> tuple[str, ...]:
        return tuple(_ts_name(c) for c in self.columns)

    def select_list(self) -> str:
        """Staged columns converted to the table's (epoch ms to timestamptz, exactly)."""
        out = []
        for c in self.columns:
            if c.endswith("_ms"):
                out.append(
                    f"'epoch'::timestamptz + {c} * INTERVAL '1 millisecond' AS {_ts_name(c)}"
                )
            else:
                out.append(_quote(c))
        return ", ".join(out)


def _ts_name(col: str) -> str:
    """Staged ``*_ms`` column to table column: ``ts_ms`` -> ``ts``, ``hour_start_ms`` ->
    ``hour_start``, ``start_ms`` -> ``start_ts``."""
    if not col.endswith("_ms"):
        return col
    base = col[: -len("_ms")]
    return base if base in ("ts", "hour_start") else base + "_ts"


def _quote(col: str) -> str:
    return f'"{col}"' if col == "window" else col


def _readings(batch: dict[str, Any]) -> Iterator[Row]:
    for r in batch["readings"]:
        yield (
            r["point"],
            r["ts"],
            float(r["value"]),
            r.get("q", "good"),
            batch["device"],
            batch["seq"],
            batch["sent_ms"],
        )


def _consumption(c: dict[str, Any]) -> Iterator[Row]:
    yield (
        c["point"],
        c["enterprise"],
        c["carrier"],
        c["start_ms"],
        c["end_ms"],
        float(c["quantity"]),
        c["uom"],
        float(c["kgce"]),
    )


def _emission(e: dict[str, Any]) -> Iterator[Row]:
    yield (
        e["source"],
        e["enterprise"],
        e["category"],
        int(e["scope"]),
        e["start_ms"],
        e["end_ms"],
        float(e["co2e_t"]),
        json.dumps(e["gases"], sort_keys=True),
        e["factor_id"],
        e["method"],
    )


def _cems(h: dict[str, Any]) -> Iterator[Row]:
    yield (
        h["stack"],
        h["enterprise"],
        h["hour_start_ms"],
        int(h["n_valid"]),
        bool(h["valid"]),
        float(h["co2_t"]),
        h.get("substitution"),
        json.dumps(h["pollutant_kg"], sort_keys=True),
        json.dumps(h["pollutant_avg_mg_m3"], sort_keys=True),
    )


def _alert(a: dict[str, Any]) -> Iterator[Row]:
    yield (
        a["alert_id"],
        a["rule_id"],
        a["state"],
        a["severity"],
        a["scope"],
        a["metric"],
        float(a["value"]),
        float(a["threshold"]),
        a["window"],
        a["ts"],
    )


def _dlq(d: dict[str, Any]) -> Iterator[Row]:
    digest = hashlib.sha256(json.dumps(d, sort_keys=True).encode("utf-8")).hexdigest()
    yield (d["received_ms"], d["source"], d["reason"], d["payload_b64"], digest)


TARGETS: dict[str, Target] = {
    TOPIC_READINGS: Target(
        "readings_raw",
        ("point", "ts_ms", "value", "q", "device", "seq", "sent_ms"),
        ("point", "ts"),
        False,
        _readings,
    ),
    TOPIC_CONSUMPTION: Target(
        "consumption",
        ("point", "enterprise", "carrier", "start_ms", "end_ms", "quantity", "uom", "kgce"),
        ("point", "start_ts", "end_ts"),
        True,
        _consumption,
    ),
    TOPIC_EMISSIONS: Target(
        "emissions",
        (
            "source",
            "enterprise",
            "category",
            "scope",
            "start_ms",
            "end_ms",
            "co2e_t",
            "gases",
            "factor_id",
            "method",
        ),
        ("source", "start_ts", "end_ts"),
        True,
        _emission,
    ),
    TOPIC_CEMS_HOURLY: Target(
        "cems_hourly",
        (
            "stack",
            "enterprise",
            "hour_start_ms",
            "n_valid",
            "valid",
            "co2_t",
            "substitution",
            "pollutant_kg",
            "pollutant_avg_mg_m3",
        ),
        ("stack", "hour_start"),
        True,
        _cems,
    ),
    TOPIC_ALERTS: Target(
        "alerts",
        (
            "alert_id",
            "rule_id",
            "state",
            "severity",
            "scope",
            "metric",
            "value",
            "threshold",
            "window",
            "ts_ms",
        ),
        ("alert_id", "state", "ts"),
        False,
        _alert,
    ),
    TOPIC_DLQ: Target(
        "dlq",
        ("received_ms", "source", "reason", "payload_b64", "digest"),
        ("received_ts", "digest"),
        False,
        _dlq,
    ),
}
