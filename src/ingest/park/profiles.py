"""Device profiles: register maps of typical meters, kept as data in ``ingest/data/profiles``.

A profile lists a device's registers: 0-based protocol address, data type, scale
(``value = raw × scale``), the quantity it carries and its unit. The simulators encode and the
Modbus adapter decodes with ``adapters.modbus.codec`` using these same entries, so the two
sides cannot drift. Several registers may carry the same ``quantity`` in different encodings
(float32 and a scaled uint32 of the same energy counter); the simulator mirrors them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nengtan.errors import ConfigError

DType = Literal["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
Order = Literal["big", "little"]

REGISTER_COUNT: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "int64": 4,
    "uint64": 4,
    "float32": 2,
    "float64": 4,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterDef(_Model):
    """One value in a register map."""

    name: str = Field(min_length=1)
    address: int = Field(ge=0, le=65535, description="0-based protocol address")
    dtype: DType
    scale: float = 1.0
    table: Literal["holding", "input"] = "holding"
    quantity: str | None = Field(None, description="what it measures; default: the name")
    kind: Literal["counter", "rate", "gauge"]
    uom: str
    rollover: float | None = Field(
        None, gt=0, description="counter modulus when the meter wraps before its data type does"
    )
    default: float = Field(0.0, description="value held when no point is bound to it")
    description: str = ""

    @property
    def count(self) -> int:
        """Registers the value occupies."""
        return REGISTER_COUNT[self.dtype]

    @property
    def measures(self) -> str:
        return self.quantity or self.name

    @property
    def modulus(self) -> float | None:
        """Where the counter wraps, in physical units: ``rollover`` or 2^bits × scale (unsigned)."""
        if self.rollover is not None:
            return self.rollover
        if self.dtype.startswith("uint"):
            return float(2 ** (16 * self.count)) * self.scale
        return None


class DeviceProfile(_Model):
    """A register map with its default word/byte order and provenance."""

    id: str = Field(min_length=1)
    version: int = 1
    name: str
    description: str = ""
    source: str = Field(description="where the register layout comes from")
    word_order: Order = "big"
    byte_order: Order = "big"
    registers: list[RegisterDef] = Field(min_length=1)

    def register(self, name: str) -> RegisterDef:
        """The register called ``name``; ``KeyError`` if the profile has none."""
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(name)

    def register_names(self) -> list[str]:
        return [reg.name for reg in self.registers]

    def span(self) -> tuple[int, int]:
        """(first address, one past the last address) covered by the map."""
        start = min(r.address for r in self.registers)
        end = max(r.address + r.count for r in self.registers)
        return start, end


def _check_overlaps(profile: DeviceProfile, source: str) -> None:
    used: dict[tuple[str, int], str] = {}
    for reg in profile.registers:
        for addr in range(reg.address, reg.address + reg.count):
            key = (reg.table, addr)
            if key in used:
                raise ConfigError(
                    f"{source}: registers[{reg.name}]: address {addr} overlaps register "
                    f"{used[key]!r}"
                )
            used[key] = reg.name
    names = [r.name for r in profile.registers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: registers: duplicate names {dupes}")


def load_profile_file(path: Path) -> DeviceProfile:
    """Read and validate one profile YAML file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read device profile: {exc}") from exc
    try:
        profile = DeviceProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {err['msg']}") from exc
    _check_overlaps(profile, str(path))
    return profile


@lru_cache(maxsize=1)
def bundled_profiles() -> dict[str, DeviceProfile]:
    """The profiles shipped in ``ingest/data/profiles``, by id."""
    folder = resources.files("ingest") / "data" / "profiles"
    out: dict[str, DeviceProfile] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            with resources.as_file(entry) as path:
                profile = load_profile_file(path)
            if profile.id in out:
                raise ConfigError(f"{entry.name}: profile id {profile.id!r} is defined twice")
            out[profile.id] = profile
    return out


def load_profiles(extra_dir: Path | None = None) -> dict[str, DeviceProfile]:
    """Bundled profiles plus those in ``extra_dir`` (a project's own meters; same id wins)."""
    out = dict(bundled_profiles())
    if extra_dir is not None:
        for path in sorted(extra_dir.glob("*.y*ml")):
            profile = load_profile_file(path)
            out[profile.id] = profile
    return out
