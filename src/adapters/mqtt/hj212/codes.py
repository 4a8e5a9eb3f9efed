"""The HJ 212-2017 monitoring-factor code table, read from ``data/pollutant_codes.yaml``.

Codes, names, the park species each maps to, and the flag-to-quality mapping are data with
provenance (see the file's header); this module only loads and indexes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from nengtan.errors import ConfigError

Quality = Literal["good", "uncertain", "bad"]
_DEFAULT = "pollutant_codes.yaml"


@dataclass(frozen=True, slots=True)
class PollutantCode:
    """One factor code: ``a21026`` is SO2, species ``SO2``, unit in the standard ``mg/m3``."""

    code: str
    name_zh: str
    name_en: str
    species: str | None
    uom_standard: str
    status: Literal["confirmed", "unconfirmed"]


@dataclass(frozen=True, slots=True)
class CodeTable:
    """The loaded table: codes by code and by species, and the flag -> quality map."""

    version: str
    document: str
    by_code: dict[str, PollutantCode]
    by_species: dict[str, PollutantCode]
    flag_quality: dict[str, Quality]

    def quality(self, flag: str | None) -> Quality:
        """Quality of a value with data flag ``flag`` (no flag: good; unknown flag: bad)."""
        if flag is None:
            return "good"
        return self.flag_quality.get(flag, "bad")


def _entry(path: str, index: int, raw: Any) -> PollutantCode:
    where = f"{path}: codes[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    try:
        status = raw["status"]
        if status not in ("confirmed", "unconfirmed"):
            raise ConfigError(f"{where}: status {status!r} is not confirmed or unconfirmed")
        return PollutantCode(
            code=str(raw["code"]),
            name_zh=str(raw["name_zh"]),
            name_en=str(raw["name_en"]),
            species=None if raw.get("species") is None else str(raw["species"]),
            uom_standard=str(raw["uom_standard"]),
            status=status,
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: missing key {exc.args[0]!r}") from None


def parse_codes(text: str, path: str) -> CodeTable:
    """Build a ``CodeTable`` from the YAML text of ``path`` (errors name the entry)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'codes' list")
    entries = [_entry(path, i, raw) for i, raw in enumerate(data["codes"])]
    by_code: dict[str, PollutantCode] = {}
    by_species: dict[str, PollutantCode] = {}
    for i, entry in enumerate(entries):
        if entry.code in by_code:
            raise ConfigError(f"{path}: codes[{i}]: code {entry.code} appears twice")
        by_code[entry.code] = entry
        if entry.species is not None:
            if entry.species in by_species:
                raise ConfigError(f"{path}: codes[{i}]: species {entry.species} mapped twice")
            by_species[entry.species] = entry
    flags: dict[str, Quality] = {}
    for i, raw in enumerate(data.get("flags") or []):
        if raw.get("quality") not in ("good", "uncertain", "bad"):
            raise ConfigError(f"{path}: flags[{i}]: quality must be good, uncertain or bad")
        flags[str(raw["flag"])] = raw["quality"]
    return CodeTable(
        version=str(data.get("version", "")),
        document=str(data.get("document", "")),
        by_code=by_code,
        by_species=by_species,
        flag_quality=flags,
    )


@cache
def load_codes(path: str | None = None) -> CodeTable:
    """The bundled code table, or the one at ``path`` (a project may ship its own)."""
    if path is None:
        text = resources.files("adapters.mqtt.hj212").joinpath("data", _DEFAULT).read_text("utf-8")
        return parse_codes(text, f"adapters/mqtt/hj212/data/{_DEFAULT}")
    return parse_codes(Path(path).read_text(encoding="utf-8"), path)
