"""Typed configuration of the Modbus TCP adapter: one entry per device, registers per point."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.modbus.codec import DataType, Order


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
    points: list[PointRegister] = Field(min_length=1)


class ModbusConfig(_Model):
    """All Modbus devices of a park; each is polled by its own task on its own connection."""

    devices: list[ModbusDeviceConfig]
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
