"""Typed configuration of the Modbus TCP adapter: one entry per device, registers per point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.modbus.codec import DataType, Encoding, Order
from adapters.modbus.ring import RingLayout

if TYPE_CHECKING:
    from ingest.park.profiles import DeviceProfile


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointRegister(_Model):
    """Where one point's value sits: a register of the device profile, resolved to addresses."""

    point: str
    name: str = Field(description="register name in the device profile")
    table: Literal["holding", "input"] = "holding"
    address: int = Field(ge=0, le=65535, description="0-based protocol address")
    dtype: DataType
    scale: float = 1.0
    word_order: Order = "big"
    byte_order: Order = "big"


class SampleField(_Model):
    """One register inside a load-profile sample (the profile's registers, in order)."""

    name: str
    dtype: DataType
    scale: float = 1.0


class LoadProfileConfig(_Model):
    """The device's ring of recent samples (layout: ``adapters.modbus.ring``)."""

    table: Literal["holding", "input"] = "holding"
    address: int = Field(ge=0, le=65535, description="header: latest sequence number (uint32)")
    depth: int = Field(ge=2, le=4096, description="samples the ring holds (a power of two)")
    word_order: Order = "big"
    byte_order: Order = "big"
    fields: list[SampleField] = Field(min_length=1)

    @field_validator("depth")
    @classmethod
    def _power_of_two(cls, depth: int) -> int:
        if depth & (depth - 1):
            raise ValueError(f"depth {depth} is not a power of two")
        return depth

    def layout(self) -> RingLayout:
        return RingLayout(
            address=self.address,
            depth=self.depth,
            fields=tuple(
                Encoding(f.dtype, self.word_order, self.byte_order, f.scale) for f in self.fields
            ),
            table=self.table,
            word_order=self.word_order,
            byte_order=self.byte_order,
        )

    def field_index(self, name: str) -> int:
        """Position of register ``name`` in a sample; ``KeyError`` if the ring lacks it."""
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i
        raise KeyError(name)


def load_profile_config(
    profile: DeviceProfile, word_order: Order, byte_order: Order
) -> LoadProfileConfig | None:
    """The ring of ``profile`` on a device with these orders, or None if it declares none."""
    lp = profile.load_profile
    if lp is None:
        return None
    return LoadProfileConfig(
        table=lp.table,
        address=lp.address,
        depth=lp.depth,
        word_order=word_order,
        byte_order=byte_order,
        fields=[SampleField(name=r.name, dtype=r.dtype, scale=r.scale) for r in profile.registers],
    )


class ModbusDeviceConfig(_Model):
    """One Modbus TCP device (a meter behind a unit id)."""

    device: str
    host: str = "127.0.0.1"
    port: int = Field(502, ge=1, le=65535)
    unit_id: int = Field(1, ge=0, le=255)
    interval_s: float = Field(2.5, gt=0, description="poll period")
    timeout_s: float = Field(1.0, gt=0, description="per request; must be below interval_s")
    report: Literal["all", "change"] = Field(
        "change", description="publish every poll, or only values that changed"
    )
    heartbeat_s: float = Field(
        300.0, gt=0, description="with report=change: republish an unchanged value this often"
    )
    max_registers: int = Field(125, ge=1, le=125, description="per request (FC3/FC4 limit)")
    readable: list[tuple[str, int, int]] = Field(
        default_factory=list,
        description="(table, start, end) spans the device is known to answer; gaps inside "
        "them may be read over to merge requests",
    )
    load_profile: LoadProfileConfig | None = Field(
        None,
        description="read the device's ring of samples (device timestamps, nothing missed); "
        "none: poll the live registers and stamp readings with the poll time",
    )
    points: list[PointRegister] = Field(min_length=1)


class ModbusConfig(_Model):
    """All Modbus devices of a park; each is polled by its own task on its own connection."""

    devices: list[ModbusDeviceConfig]
    state_dir: Path | None = Field(
        None,
        description="where the last handed-over ring sequence per device is kept across "
        "restarts; none: kept in memory only",
    )
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)


POLL_FRACTION = 0.25
"""A device is polled four times per update period by default (see ``default_poll_s``)."""


def default_poll_s(update_s: float, fraction: float = POLL_FRACTION) -> float:
    """The default poll period of a device updating every ``update_s`` seconds: a fraction of
    it, bounded to 0.5-60 s, so every value the meter holds is seen soon after it changes."""
    return min(max(update_s * fraction, 0.5), 60.0)
