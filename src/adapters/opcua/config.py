"""Typed configuration of the OPC UA adapter: one entry per server endpoint."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpcUaNode(_Model):
    """One monitored tag: the point it feeds, its device, and how it is sampled."""

    point: str
    device: str
    node_id: str | None = Field(
        None, description="e.g. 'ns=2;s=acme.boiler1.temp'; default: s=<point> in `namespace`"
    )
    deadband: float | None = Field(
        None, ge=0, description="absolute deadband in the point's unit; none: every change"
    )


class OpcUaEndpointConfig(_Model):
    """One server: a connection, one subscription, all its tags."""

    endpoint: str = Field(pattern=r"^opc\.tcp://")
    namespace: str = Field("urn:nengtan:sim", description="namespace URI of default node ids")
    sampling_interval_ms: float = Field(500.0, ge=0)
    publishing_interval_ms: float = Field(1000.0, gt=0)
    queue_size: int = Field(
        100, ge=1, description="values kept per tag between publishes: no change is lost"
    )
    timeout_s: float = Field(4.0, gt=0)
    nodes: list[OpcUaNode] = Field(min_length=1)


class OpcUaSecurity(_Model):
    """Basic256Sha256 SignAndEncrypt: the adapter's certificate and key, and the server
    certificate it trusts (pinned: a server presenting another is refused)."""

    certificate: Path
    private_key: Path
    server_certificate: Path
    application_uri: str = Field(
        "urn:nengtan:adapters", description="must be the URI in the certificate"
    )


class OpcUaConfig(_Model):
    endpoints: list[OpcUaEndpointConfig]
    security: OpcUaSecurity | None = Field(
        None, description="none: the unsecured endpoint (NENGTAN_OPCUA_SECURITY=1 sets it)"
    )
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    history_lookback_s: float | None = Field(
        None,
        gt=0,
        description="a tag with no watermark yet reads history from this many seconds before "
        "now; none: from the first value the server keeps",
    )
    watermarks_path: Path | None = Field(
        None,
        description="where the last handed-over source time per tag is kept; "
        "default: opcua-watermarks.json beside the spool",
    )
