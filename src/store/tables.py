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
    """One table the sink writes: ``columns`` as staged (``*_ms`` columns become timestamptz).

    ``direct`` targets are binary COPY'd straight into their table (their records are never
    re-emitted, so a key already present can only come from a duplicate input, which falls
    back to the staged insert); their ``rows`` must yield values of the exact column types
    (``str``, ``int``, ``float``), because a wrong type found in the middle of a COPY would
    abort the whole batch instead of dead-lettering its one record.
    """

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    replace: bool
    rows: Callable[[dict[str, Any]], Iterator[Row]]
    direct: bool = False

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


MIN_TS_MS = -62_135_596_800_000
"""0001-01-01T00:00:00Z: the range both write paths store exactly (PostgreSQL goes further)."""
MAX_TS_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z."""


def _text(v: Any, what: str) -> str:
    if type(v) is not str:
        raise TypeError(f"{what} must be a string, got {type(v).__name__}")
    return v


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise TypeError(f"{what} must be an integer, got {type(v).__name__}")
    return v


def _epoch_ms(v: Any, what: str) -> int:
    ms = _int(v, what)
    if not MIN_TS_MS <= ms <= MAX_TS_MS:
        raise ValueError(f"{what} {ms} is outside years 1-9999")
    return ms


def _readings(batch: dict[str, Any]) -> Iterator[Row]:
    device = _text(batch["device"], "device")
    seq = _int(batch["seq"], "seq")
    sent_ms = _epoch_ms(batch["sent_ms"], "sent_ms")
    out = []
    for r in batch["readings"]:
        out.append(
            (
                _text(r["point"], "point"),
                _epoch_ms(r["ts"], "ts"),
                float(r["value"]),
                _text(r.get("q", "good"), "q"),
                device,
                seq,
                sent_ms,
            )
        )
    # all or nothing: a record with one unreadable reading goes to the DLQ whole
    yield from out


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
        direct=True,
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
