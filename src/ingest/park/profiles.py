"""Device profiles: register maps of typical meters, kept as data in ``ingest/data/profiles``.

A profile lists a device's registers: 0-based protocol address, data type, scale
(``value = raw × scale``), the quantity it carries and its unit. The simulators encode and the
Modbus adapter decodes with ``adapters.modbus.codec`` using these same entries, so the two
sides cannot drift. Several registers may carry the same ``quantity`` in different encodings
(float32 and a scaled uint32 of the same energy counter); the simulator mirrors them.

A profile may also declare a ``load_profile`` block, the "frozen data" ring of smart meters:
the last ``depth`` samples, each ``(sequence uint32, device time uint64 epoch ms, then every
register of the map in profile order and in its own encoding)``, behind a header register pair
holding the latest sequence number (layout and sequence rules: ``adapters.modbus.ring``).
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


SAMPLE_HEAD_REGISTERS = 6
"""A load-profile sample starts with its sequence number (uint32) and device time (uint64)."""
MAX_SAMPLE_REGISTERS = 125
"""One sample must fit one read request (the FC3/FC4 limit)."""


class LoadProfileDef(_Model):
    """Where a meter keeps its ring of recent samples (see the module docstring)."""

    address: int = Field(ge=0, le=65535, description="header: latest sequence number (uint32)")
    depth: int = Field(ge=2, le=4096, description="samples the ring holds; a power of two")
    table: Literal["holding", "input"] = "holding"
    description: str = ""


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
    load_profile: LoadProfileDef | None = Field(
        None, description="ring of recent samples with device timestamps; none: poll only"
    )

    @property
    def sample_registers(self) -> int:
        """Registers one load-profile sample occupies (head plus every register of the map)."""
        return SAMPLE_HEAD_REGISTERS + sum(r.count for r in self.registers)

    def load_profile_span(self) -> tuple[int, int] | None:
        """(header address, one past the ring's last register), or None without a block."""
        lp = self.load_profile
        if lp is None:
            return None
        return lp.address, lp.address + 2 + lp.depth * self.sample_registers

    def register(self, name: str) -> RegisterDef:
        """The register called ``name``; ``KeyError`` if the profile has none."""
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(name)

    def register_names(self) -> list[str]:
        return [reg.name for reg in self.registers]

    def span(self) -> tuple[int, int]:
        """(first address, one past the last address) covered by the map and its ring."""
        start = min(r.address for r in self.registers)
        end = max(r.address + r.count for r in self.registers)
        ring = self.load_profile_span()
        if ring is not None:
            start, end = min(start, ring[0]), max(end, ring[1])
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
    _check_load_profile(profile, source, used)
    names = [r.name for r in profile.registers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: registers: duplicate names {dupes}")


def _check_load_profile(
    profile: DeviceProfile, source: str, used: dict[tuple[str, int], str]
) -> None:
    lp = profile.load_profile
    span = profile.load_profile_span()
    if lp is None or span is None:
        return
    where = f"{source}: load_profile"
    if lp.depth & (lp.depth - 1):
        raise ConfigError(
            f"{where}: depth {lp.depth} must be a power of two (the ring slot of sequence s is "
            f"s mod depth, which must stay continuous when the uint32 sequence wraps)"
        )
    if profile.sample_registers > MAX_SAMPLE_REGISTERS:
        raise ConfigError(
            f"{where}: a sample takes {profile.sample_registers} registers; at most "
            f"{MAX_SAMPLE_REGISTERS} fit one read request"
        )
    if span[1] > 65536:
        raise ConfigError(f"{where}: the ring ends at {span[1]}, beyond address 65535")
    for addr in range(*span):
        if (lp.table, addr) in used:
            raise ConfigError(
                f"{where}: address {addr} overlaps register {used[(lp.table, addr)]!r}"
            )


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
