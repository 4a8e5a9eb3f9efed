"""The adapter interface: what every protocol adapter implements, and nothing more.

An adapter is built from its typed config and the shared ``Intake`` (validation, publishing,
DLQ). ``validate`` checks the config (raising ``ConfigError``), ``start`` returns at once and
keeps the adapter connected in its own thread, reconnecting with exponential backoff,
``stop`` is safe to call twice, and ``status`` reports what the status line shows. Readings
leave an adapter only through ``Intake.accept``/``Intake.publish``: one batch per poll cycle
(Modbus), per subscription publish window (OPC UA) or per MQTT message.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ingest.intake import Intake
    from ingest.park.models import Park
    from nengtan.settings import Settings


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter for reconnects: initial, factor, ceiling (seconds)."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0

    def delays(self) -> Any:
        """An endless iterator of delays: 0.5, 1, 2, ... up to ``max_s``, each ±20 %."""
        delay = self.initial_s
        while True:
            yield delay * random.uniform(0.8, 1.2)
            delay = min(delay * self.factor, self.max_s)


class Adapter(ABC):
    """One protocol's connection(s) to the field."""

    protocol: ClassVar[str]

    def __init__(self, config: Any, intake: Intake, park: Park | None = None) -> None:
        self.config = config
        self.intake = intake
        self.park = park

    @classmethod
    @abstractmethod
    def configs_for_park(cls, park: Park, settings: Settings) -> list[Any]:
        """The configs this protocol needs to serve ``park`` (empty: not needed)."""

    def validate(self) -> None:  # noqa: B027 - optional hook: configs are pydantic-checked
        """Check the config beyond its schema; raise ``ConfigError`` naming the problem."""

    @abstractmethod
    def start(self) -> None:
        """Start in the background and return; (re)connect with backoff on its own."""

    @abstractmethod
    def stop(self) -> None:
        """Stop and release connections; safe to call twice."""

    @abstractmethod
    def status(self) -> dict[str, Any]:
        """Counters and state for the status line and metrics."""
