"""Ground truth: what the simulators emitted, reduced to the totals the pipeline must reproduce.

Meter points are accounted inside the engine (vectorised; see ``simulators.engine``): a
counter's consumption is the sum of its increments between emitted values (plus the modulus
per wrap, or the value itself after a reset), a rate's is the sample-and-hold integral of its
emitted samples. CEMS truth is computed here from the emitted minutes, per stack and UTC hour:

- minute CO₂ mass (t) = C% / 100 × Q / 60 × 1.9643 / 1000 (1.9643 kg/Nm³ = 44 / 22.4);
- minute pollutant mass (kg) = C(mg/m³) × Q / 60 × 10⁻⁶;
- a minute is valid when its flag is ``N``; an hour is valid with ≥ 45 valid minutes and its
  mass is Σ valid minute masses × 60 / n_valid; the hourly mean of a species is the mean of
  its valid minutes.

``EmissionLog`` writes every emitted value as JSON lines so a test can recompute all of this
independently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from ingest.park.vocabulary import cems_species
from simulators.cems import CemsMinute
from simulators.reference import HOUR_MS

CO2_KG_PER_NM3 = 1.9643
"""Density of CO₂ at 273.15 K and 101.325 kPa (44 / 22.4), as the project's semantics fix it."""
MIN_VALID_MINUTES = 45
TRUTH_SCHEMA = "nengtan.truth/1"


def minute_masses(values: dict[str, float]) -> dict[str, float]:
    """Masses of one minute: ``co2_t`` and ``{species}_kg`` for each pollutant present."""
    flow = values.get("flow")
    if flow is None:
        return {}
    out: dict[str, float] = {}
    for sp, c in values.items():
        mass = cems_species()[sp].mass if sp in cems_species() else None
        if mass == "co2_t":
            out["co2_t"] = c / 100.0 * flow / 60.0 * CO2_KG_PER_NM3 / 1000.0
        elif mass == "kg":
            out[f"{sp}_kg"] = c * flow / 60.0 * 1e-6
    return out


def hour_truth(minutes: list[tuple[dict[str, float], str]]) -> dict[str, Any]:
    """Truth of one stack-hour from its emitted minutes (values, flag)."""
    valid = [v for v, flag in minutes if flag == "N"]
    n_valid = len(valid)
    out: dict[str, Any] = {"n_emitted": len(minutes), "n_valid": n_valid}
    out["valid"] = n_valid >= MIN_VALID_MINUTES
    sums: dict[str, float] = {}
    for v in valid:
        for key, mass in minute_masses(v).items():
            sums[key] = sums.get(key, 0.0) + mass
    for key, total in sums.items():
        out[key] = total * 60.0 / n_valid if out["valid"] else None
    if valid:
        for sp in valid[0]:
            out[f"{sp}_avg"] = sum(v[sp] for v in valid) / n_valid
    return out


class CemsTruth:
    """Emitted minutes by stack and hour (a re-sent minute counts once)."""

    def __init__(self) -> None:
        self.minutes: dict[str, dict[int, tuple[dict[str, float], str]]] = {}
        self.meta: dict[str, dict[str, str]] = {}

    def add(self, m: CemsMinute) -> None:
        if not m.emitted:
            return
        self.meta.setdefault(m.stack.id, {"enterprise": m.enterprise, "mn": m.stack.mn})
        self.minutes.setdefault(m.stack.id, {})[m.ts_ms] = (m.values, m.flag)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for stack_id, by_ts in self.minutes.items():
            hours: dict[int, list[tuple[dict[str, float], str]]] = {}
            for ts in sorted(by_ts):
                hours.setdefault(ts // HOUR_MS * HOUR_MS, []).append(by_ts[ts])
            rows = []
            totals: dict[str, float] = {}
            n_invalid = 0
            for hour_ms, mins in sorted(hours.items()):
                row = {"hour_ms": hour_ms, **hour_truth(mins)}
                rows.append(row)
                if not row["valid"]:
                    n_invalid += 1
                    continue
                for key, val in row.items():
                    if (key == "co2_t" or key.endswith("_kg")) and val is not None:
                        totals[key] = totals.get(key, 0.0) + val
            out[stack_id] = {
                **self.meta[stack_id],
                "hours": rows,
                "totals": {
                    **totals,
                    "valid_hours": len(rows) - n_invalid,
                    "invalid_hours": n_invalid,
                },
            }
        return out


class EmissionLog:
    """Every emitted value as one JSON object a line (``--log FILE``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[str] | None = path.open("w", encoding="utf-8") if path else None

    @property
    def enabled(self) -> bool:
        return self._fh is not None

    def write(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(record, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        """Make everything written so far readable by others (the file stays open)."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def write_truth(path: Path, document: dict[str, Any]) -> None:
    """Write the truth file atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
