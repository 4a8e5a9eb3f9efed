"""Run every adapter a park needs in one process, sharing one intake and one Kafka publisher.

``nengtan adapters PARK.yaml`` is a thin shell around ``AdapterRunner``: it asks each
registered protocol which configs the park needs, builds the adapters, starts the publisher
(which replays whatever an earlier run left in the spool) and the adapters, and reports a
status line until stopped.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.registry import ADAPTERS, adapter_class
from ingest.intake import Intake
from ingest.publisher import Publisher
from ingest.validate import Validator

if TYPE_CHECKING:
    from adapters.base import Adapter
    from ingest.park.models import Park
    from nengtan.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rates:
    """One status sample: totals and per-second rates since the previous sample."""

    batches: int
    readings: int
    dlq: int
    batches_per_s: float
    readings_per_s: float
    spool_records: int
    spool_bytes: int
    spool_fill: float
    kafka_connected: bool
    adapters: dict[str, dict[str, Any]]

    def line(self) -> str:
        """The one-line status shown by ``nengtan adapters``."""
        parts = [
            f"{self.batches_per_s:,.1f} batches/s",
            f"{self.readings_per_s:,.0f} readings/s",
            f"{self.readings:,} readings",
            f"DLQ {self.dlq:,}",
            f"spool {self.spool_records:,} rec / {self.spool_bytes / 1e6:,.1f} MB "
            f"({self.spool_fill:.1%})",
            "kafka " + ("ok" if self.kafka_connected else "DOWN (spooling)"),
        ]
        for name, st in self.adapters.items():
            online = st.get("online", st.get("connected"))
            total = st.get("devices", st.get("endpoints"))
            if total is not None:
                parts.append(f"{name} {online}/{total} online")
            else:
                parts.append(f"{name} {'up' if online else 'DOWN'}")
        return " | ".join(parts)


class AdapterRunner:
    """All adapters of one park, one shared intake; ``start`` / ``sample`` / ``stop``."""

    def __init__(
        self,
        park: Park,
        settings: Settings,
        *,
        spool_dir: Path | None = None,
        protocols: list[str] | None = None,
        max_spool_bytes: int = 1 << 30,
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.park = park
        self.settings = settings
        directory = spool_dir or settings.state_dir / "adapters" / park.id
        self.publisher = Publisher(
            settings.bootstrap,
            directory,
            client_id=f"nengtan-adapters-{park.id}",
            max_spool_bytes=max_spool_bytes,
        )
        self.intake = Intake(Validator.for_park(park), self.publisher)
        self.adapters: dict[str, Adapter] = {}
        for protocol in protocols or list(ADAPTERS):
            cls = adapter_class(protocol)
            for i, config in enumerate(cls.configs_for_park(park, settings)):
                if overrides and protocol in overrides:
                    config = config.model_copy(update=overrides[protocol])
                adapter = cls(config, self.intake, park)
                adapter.validate()
                self.adapters[protocol if i == 0 else f"{protocol}{i + 1}"] = adapter
        self._last = (time.monotonic(), 0, 0)
        self._stopped = False

    def start(self) -> None:
        self.publisher.start()
        for name, adapter in self.adapters.items():
            log.info("starting %s adapter", name)
            adapter.start()

    def sample(self) -> Rates:
        """Totals and rates since the previous call."""
        c = self.intake.snapshot()
        pub = self.publisher.status()
        now = time.monotonic()
        t0, b0, r0 = self._last
        dt = max(now - t0, 1e-9)
        self._last = (now, c.batches, c.readings)
        return Rates(
            batches=c.batches,
            readings=c.readings,
            dlq=c.dlq,
            batches_per_s=(c.batches - b0) / dt,
            readings_per_s=(c.readings - r0) / dt,
            spool_records=pub.spool.pending_records,
            spool_bytes=pub.spool.pending_bytes,
            spool_fill=pub.spool.fill,
            kafka_connected=pub.connected,
            adapters={name: a.status() for name, a in self.adapters.items()},
        )

    def write_status(self, rates: Rates) -> None:
        """``status.json`` beside the spool (atomic replace): the metrics for other tools."""
        from dataclasses import asdict

        from ingest.contract import dumps

        path = self.publisher.spool.dir.parent / "status.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(
            dumps({"park": self.park.id, "time_ms": time.time_ns() // 1_000_000, **asdict(rates)})
        )
        tmp.replace(path)

    def stop(self, drain_timeout_s: float = 10.0) -> None:
        """Stop adapters, give Kafka ``drain_timeout_s`` to take the rest, persist the spool."""
        if self._stopped:
            return
        self._stopped = True
        for adapter in self.adapters.values():
            adapter.stop()
        self.publisher.drain(drain_timeout_s)
        self.publisher.close()
