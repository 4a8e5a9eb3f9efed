"""Manual entry (手工填报): readings typed in by a person, for points without acquisition.

A CSV file (header ``point,ts,value[,uom][,q][,note]``) or a YAML file (``entered_by`` and
``readings: [{point, ts, value, uom}]``) is validated like any other source and published as
one batch whose device is ``manual:{who}``: the batch itself records who entered it. ``ts``
may be epoch ms or an ISO 8601 date-time (a time zone is required; ``Z`` for UTC). Only points
with no device accept manual entries; a reading for an automatically acquired point is
rejected (a manual value beside a meter's would double count).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ingest.intake import Intake, now_ms
from ingest.validate import Validator, summarize
from nengtan.errors import ConfigError

_WHO = re.compile(r"^[\w.@\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ManualResult:
    device: str
    accepted: int
    rejected: list[str]


def parse_ts(text: Any, where: str) -> int | Any:
    """Epoch ms from an integer or an ISO 8601 date-time with zone; other input is returned
    as it is for validation to reject with the reading's position."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, datetime):
        if text.tzinfo is None:
            raise ConfigError(f"{where}: ts {text.isoformat()} has no time zone (add Z or +08:00)")
        return int(text.timestamp() * 1000)
    if isinstance(text, str):
        s = text.strip()
        if s.isdigit():
            return int(s)
        try:
            when = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: ts {text!r} is neither epoch ms nor ISO 8601") from None
        if when.tzinfo is None:
            raise ConfigError(f"{where}: ts {text!r} has no time zone (add Z or +08:00)")
        return int(when.timestamp() * 1000)
    return text


def _number(text: Any, where: str) -> Any:
    if isinstance(text, str):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{where}: value {text!r} is not a number") from None
    return text


def read_entries(path: Path) -> tuple[str | None, list[dict[str, Any]]]:
    """(entered_by from the file or None, readings) from a CSV or YAML file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        missing = {"point", "ts", "value"} - set(rows[0] if rows else {})
        if not rows or missing:
            raise ConfigError(
                f"{path}: CSV needs a header with point, ts, value (missing: {sorted(missing)})"
            )
        out = []
        for i, row in enumerate(rows, start=2):
            where = f"{path}: line {i}"
            entry: dict[str, Any] = {
                "point": (row.get("point") or "").strip(),
                "ts": parse_ts(row.get("ts"), where),
                "value": _number((row.get("value") or "").strip(), where),
            }
            if row.get("uom"):
                entry["uom"] = row["uom"].strip()
            if row.get("q"):
                entry["q"] = row["q"].strip()
            out.append(entry)
        return None, out
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("readings"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'readings' list")
    out = []
    for i, raw in enumerate(data["readings"]):
        where = f"{path}: readings[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping with point, ts, value")
        entry = dict(raw)
        entry.pop("note", None)
        if "ts" in entry:
            entry["ts"] = parse_ts(entry["ts"], where)
        if "value" in entry:
            entry["value"] = _number(entry["value"], where)
        out.append(entry)
    who = data.get("entered_by")
    return (str(who) if who is not None else None), out


def enter(path: Path, who: str | None, intake: Intake, *, dry_run: bool = False) -> ManualResult:
    """Validate the file's readings; publish the good ones and dead-letter the rest."""
    file_who, readings = read_entries(path)
    person = who or file_who
    if not person or not _WHO.match(person):
        raise ConfigError(
            f"{path}: who entered these readings? give --by NAME or entered_by in the file "
            "(letters, digits, . _ - @; up to 64)"
        )
    validator: Validator = intake.validator
    received = now_ms()
    good, bad = validator.check("", readings, received)
    bad = [_manual_reason(b) for b in bad]
    device = f"manual:{person}"
    if not dry_run:
        if bad:
            intake.reject(
                f"manual:{path.name}:{person}",
                f"manual entry {path.name} by {person}: " + summarize(bad, len(readings)),
                path.read_bytes(),
                received,
            )
        if good:
            intake.publish(device, received, received, good)
    return ManualResult(device, len(good), bad)


def _manual_reason(problem: str) -> str:
    marker = ", not to the sender ''"
    if marker in problem:
        return problem.replace(marker, "; manual entry is only for points without a device")
    return problem
