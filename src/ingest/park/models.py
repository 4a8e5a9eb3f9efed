"""The park model: one YAML file describing enterprises, their metering and their field devices.

These pydantic models are the *shape* of a park file; cross-references (a point's device, a
register in a device profile, unique ids) are checked by ``ingest.park.loader`` after the shape
is valid, so every error can name the entry it is about. Fast lookups live in
``ingest.park.index.ParkIndex`` (``Park.index``), built once per park.

Times inside the simulation are seconds from the run start (``at_s``); everything else is UTC
epoch milliseconds, as everywhere in Nengtan.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

if TYPE_CHECKING:
    from ingest.park.index import ParkIndex

PARK_SCHEMA = "nengtan.park/1"

Kind = Literal["counter", "rate", "gauge"]
"""``counter``: cumulative register; ``rate``: t/h, Nm3/h, kW...; ``gauge``: no consumption."""
Use = Literal["fuel", "feedstock", "purchased", "generated", "exported"]
Protocol = Literal["modbus", "opcua", "mqtt"]
Order = Literal["big", "little"]
CemsFormat = Literal["hj212", "json"]

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Load(_Model):
    """How the simulator drives a point: a nominal level shaped by a named load profile.

    ``nominal`` is in the point's uom per hour for counters (kWh/h, t/h...), in the point's uom
    for rates and gauges. ``shape`` names an entry of the simulators' load-shape data file.
    """

    nominal: float = Field(ge=0)
    shape: str = "continuous"
    noise: float = Field(0.05, ge=0, le=1, description="relative standard deviation per sample")
    initial: float = Field(0.0, ge=0, description="counter register value at the run start")


class ModbusBinding(_Model):
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    unit_id: int = Field(ge=1, le=247)
    profile: str
    word_order: Order | None = Field(None, description="overrides the profile's word order")
    byte_order: Order | None = Field(None, description="overrides the profile's byte order")


class OpcUaBinding(_Model):
    endpoint: str = Field(pattern=r"^opc\.tcp://")
    namespace: str = "urn:nengtan:sim"


class MqttBinding(_Model):
    topic: str | None = Field(None, description="default nt/v1/{enterprise}/{device}/readings")


class Device(_Model):
    """A field device: how its points are reached and how often its values change."""

    id: Id
    name: str = ""
    protocol: Protocol
    modbus: ModbusBinding | None = None
    opcua: OpcUaBinding | None = None
    mqtt: MqttBinding | None = None
    update_s: float = Field(
        60.0, gt=0, description="simulated seconds between value updates / publishes"
    )


# ``register`` is the natural YAML key; pydantic warns that it shadows ABCMeta.register on the
# class (instances still read the field), so the warning is silenced for this one class.
warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)


class Point(_Model):
    """A metering point. ``register`` (Modbus profile register) or ``node`` (OPC UA node id)
    binds it to its device; MQTT gateway points need neither."""

    id: Id
    name: str = ""
    kind: Kind
    carrier: str | None = None
    uom: str
    use: Use | None = None
    unit: str | None = Field(None, description="production unit id; none means enterprise level")
    level: Literal[1, 2, 3] | None = None
    device: str | None = Field(None, description="none for manually entered points")
    register: str | None = None
    node: str | None = None
    load: Load | None = None


class ProductionUnit(_Model):
    """A level-2 workshop/line or a level-3 equipment/process (tertiary metering)."""

    id: Id
    name: str = ""
    level: Literal[2, 3]
    parent: str | None = None


class Stack(_Model):
    """A CEMS-monitored stack publishing minute data on ``nt/v1/{enterprise}/cems/{stack}``."""

    id: Id
    name: str = ""
    mn: str = Field(min_length=1, max_length=24, description="HJ 212 device MN code")
    unit: str | None = None
    format: CemsFormat = "hj212"
    species: list[str] = Field(min_length=1)
    limits: dict[str, float] = Field(default_factory=dict, description="species -> mg/m3")
    baseline: dict[str, float] = Field(
        default_factory=dict, description="species -> typical value, drives the simulator"
    )
    noise: float = Field(0.03, ge=0, le=1)
    topic: str | None = None
    update_s: float = Field(60.0, gt=0, description="minute data: one message per 60 s")
    pw: SecretStr | None = Field(
        None, description="HJ 212 PW the stack's logger sends; a message with another is refused"
    )
    pw_env: str | None = Field(
        None, description="environment variable holding the PW (keeps it out of the park file)"
    )

    @model_validator(mode="after")
    def _one_pw(self) -> Stack:
        if self.pw is not None and self.pw_env is not None:
            raise ValueError("give pw or pw_env, not both")
        return self

    def password(self) -> str | None:
        """The PW this stack must send (``None``: not checked); never put it in a message."""
        import os

        from nengtan.errors import ConfigError

        if self.pw is not None:
            return self.pw.get_secret_value()
        if self.pw_env is None:
            return None
        value = os.environ.get(self.pw_env)
        if not value:
            raise ConfigError(f"stack {self.id!r}: pw_env {self.pw_env} is not set")
        return value


class Output(_Model):
    """Production output (for intensity): a product and its yearly quantity and value."""

    product: str
    uom: str
    quantity_per_year: float = Field(ge=0)
    value_1e4_cny_per_year: float | None = Field(None, ge=0)


class Enterprise(_Model):
    id: Id
    name: str = ""
    industry: str
    region: str
    units: list[ProductionUnit] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    points: list[Point] = Field(default_factory=list)
    stacks: list[Stack] = Field(default_factory=list)
    output: list[Output] = Field(default_factory=list)


# -- faults --------------------------------------------------------------------------------------


class _Fault(_Model):
    target: str = Field(description="the point, device, stack or enterprise id the fault hits")
    at_s: float = Field(ge=0, description="simulated seconds after the run start")


class _Windowed(_Fault):
    duration_s: float = Field(gt=0)


class CounterReset(_Fault):
    """The counter register goes to 0 right after the first emission at or after ``at_s``."""

    kind: Literal["counter_reset"]


class CounterRollover(_Fault):
    """The counter starts just below its modulus so it wraps at about ``at_s``."""

    kind: Literal["counter_rollover"]


class StuckValue(_Windowed):
    """The register repeats its value while consumption goes on, then jumps to the truth."""

    kind: Literal["stuck_value"]


class Gap(_Windowed):
    """A publisher (MQTT device or stack) sends nothing for a while."""

    kind: Literal["gap"]


class Offline(_Windowed):
    """A device is unreachable: Modbus answers exception 0x0B, OPC UA values turn bad
    (BadNoCommunication), MQTT publishers go silent."""

    kind: Literal["offline"]


class Duplicate(_Windowed):
    """Every message of a publisher inside the window is sent twice."""

    kind: Literal["duplicate"]


class OutOfOrder(_Fault):
    """The message due at ``at_s`` is held back and delivered after the next one."""

    kind: Literal["out_of_order"]


class Malformed(_Fault):
    """``count`` extra garbage payloads on the publisher's topic, from ``at_s``."""

    kind: Literal["malformed"]
    count: int = Field(1, ge=1)


class BadCrc(_Fault):
    """``count`` extra HJ 212 messages whose CRC is wrong (copies of real minutes)."""

    kind: Literal["bad_crc"]
    count: int = Field(1, ge=1)


class ClockSkew(_Model):
    """A device's (or stack's) timestamps are offset by a constant over the whole run."""

    kind: Literal["clock_skew"]
    target: str
    skew_ms: int


class OverEmission(_Windowed):
    """A stack's pollutant concentrations, or an enterprise's loads, multiplied by ``factor``."""

    kind: Literal["over_emission"]
    factor: float = Field(3.0, gt=0)
    species: list[str] | None = Field(None, description="stack species hit; default all limited")


class CemsFlag(_Windowed):
    """A stack's minutes are flagged (e.g. ``C`` calibration, ``M`` maintenance): not valid."""

    kind: Literal["cems_flag"]
    flag: Literal["F", "M", "S", "D", "C", "T", "B"] = "C"


Fault = Annotated[
    CounterReset
    | CounterRollover
    | StuckValue
    | Gap
    | Offline
    | Duplicate
    | OutOfOrder
    | Malformed
    | BadCrc
    | ClockSkew
    | OverEmission
    | CemsFlag,
    Field(discriminator="kind"),
]
FAULT_KINDS: tuple[str, ...] = (
    "counter_reset",
    "counter_rollover",
    "stuck_value",
    "gap",
    "offline",
    "duplicate",
    "out_of_order",
    "malformed",
    "bad_crc",
    "clock_skew",
    "over_emission",
    "cems_flag",
)


class Simulation(_Model):
    """Run defaults for ``nengtan simulate`` (the command line overrides them)."""

    start: datetime | None = Field(None, description="simulated start (UTC); default: now")
    seed: int = 0
    speed: float = Field(1.0, gt=0)


class Park(_Model):
    schema_: Literal["nengtan.park/1"] = Field("nengtan.park/1", alias="schema")
    id: Id
    name: str = ""
    region: str = ""
    simulation: Simulation = Field(default_factory=Simulation)
    enterprises: list[Enterprise] = Field(min_length=1)
    faults: list[Fault] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _index: ParkIndex | None = PrivateAttr(None)

    @property
    def index(self) -> ParkIndex:
        """Lookups by id (built on first use, then cached)."""
        if self._index is None:
            from ingest.park.index import ParkIndex

            self._index = ParkIndex.build(self)
        return self._index
