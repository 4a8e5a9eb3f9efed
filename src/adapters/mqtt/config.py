"""Typed configuration of the MQTT adapter (defaults stated here are the documented ones)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class MqttConfig(BaseModel):
    """One broker connection serving every gateway and CEMS stack of a park."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str = Field(
        "nengtan-adapters", min_length=1, description="stable: the broker keeps the session"
    )
    username: str | None = Field(None, description="broker login (nengtan.mqttauth.login_for)")
    password: SecretStr | None = None
    readings_topic: str = "nt/v1/+/+/readings"
    cems_topic: str = "nt/v1/+/cems/+"
    qos: int = Field(1, ge=0, le=2)
    keepalive_s: int = Field(30, ge=5)
    tz_offset_min: int = Field(
        480, ge=-720, le=840, description="HJ 212 DataTime zone, minutes east of UTC (Beijing)"
    )
    accept_cn: frozenset[str] = Field(
        frozenset({"2051"}),
        description="HJ 212 commands turned into readings (2051 minute data); others, such as "
        "2061 hourly or 2031 daily values derived from the minutes, are counted and skipped",
    )
    value_fields: tuple[str, ...] = Field(
        ("Rtd", "Avg"), description="HJ 212 field taken as the reading value, first present wins"
    )
    ignore_codes: frozenset[str] = Field(
        frozenset(), description="HJ 212 factor codes skipped without a DLQ record"
    )
    codes_file: str | None = Field(None, description="own HJ 212 code table; default: bundled")
