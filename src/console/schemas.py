"""Request and response models of the API (what the OpenAPI document shows)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from ingest.contract import Reading


def Ms() -> Any:
    """A query parameter in epoch ms (a new one per use: FastAPI binds each to one name)."""
    return Query(None, description="epoch ms, UTC", ge=0, le=32503680000000)


class Page(BaseModel):
    """A list answer: ``items`` and how many."""

    count: int
    items: list[dict[str, Any]]

    @classmethod
    def of(cls, items: list[dict[str, Any]]) -> Page:
        return cls(count=len(items), items=items)


class SubscriptionCreate(BaseModel):
    """Filters (absent: match everything in your scope) and a channel.

    ``target``: the URL of a webhook (public addresses only, unless an administrator
    allow-listed the network), one plain e-mail address, the topic of a Kafka subscription
    (under ``nt.tenant.<enterprise>.`` or a granted prefix; default
    ``nt.tenant.<enterprise>.alerts``, park-wide: the console's downstream topic); nothing for
    MQTT, which publishes on ``nt/v1/alerts/{enterprise}/{severity}``. ``secret``: the webhook's HMAC key (generated
    and returned once when not given).
    """

    model_config = ConfigDict(extra="forbid")

    channel: Literal["webhook", "mqtt", "email", "kafka"]
    target: str = Field("", max_length=2000)
    enterprise: str | None = Field(None, max_length=128)
    stack: str | None = Field(None, max_length=128)
    severities: list[str] | None = Field(None, max_length=10)
    rule_id: str | None = Field(None, max_length=128)
    metric: str | None = Field(None, max_length=128)
    secret: str | None = Field(None, min_length=16, max_length=200)


class AllowCreate(BaseModel):
    """An inside network allowed as webhook target: CIDR (``127.0.0.1/32``, ``fd00::/8``) and
    optionally one port."""

    model_config = ConfigDict(extra="forbid")

    network: str = Field(min_length=2, max_length=64)
    port: int | None = Field(None, ge=1, le=65535)
    note: str = Field("", max_length=500)


class KafkaGrantCreate(BaseModel):
    """A Kafka topic prefix granted to an enterprise (none: park-wide subscriptions)."""

    model_config = ConfigDict(extra="forbid")

    enterprise: str | None = Field(None, max_length=128)
    prefix: str = Field(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=10000)


class PublishBatch(BaseModel):
    """A reading batch (``nt.readings/1``) a vendor gateway publishes through the console."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0, le=2**62)
    sent_ms: int = Field(ge=0, le=32503680000000)
    readings: list[Reading] = Field(min_length=1, max_length=20000)


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined, for a route that documents a body it
    parses itself (``openapi_extra``): OpenAPI would resolve ``#/$defs/..`` from its root."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


class Flow(BaseModel):
    """Energy flow in tce: Sankey nodes and links, and the balance table per carrier."""

    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    balance: list[dict[str, Any]]
