"""The local stack as one object: start in dependency order, stop in reverse, report each."""

from __future__ import annotations

from nengtan.settings import Settings
from nengtan.stack.base import ServiceStatus
from nengtan.stack.kafka import KafkaService
from nengtan.stack.mosquitto import MosquittoService
from nengtan.stack.postgres import PostgresService


class Stack:
    """Kafka, PostgreSQL and Mosquitto for one state directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kafka = KafkaService(settings)
        self.postgres = PostgresService(settings)
        self.mosquitto = MosquittoService(settings)

    @property
    def services(self) -> tuple[KafkaService | PostgresService | MosquittoService, ...]:
        return (self.postgres, self.mosquitto, self.kafka)

    def up(self, *, echo: bool = False) -> None:
        """Start what is not running (``up`` twice is harmless); external services are checked."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.settings.state_dir.chmod(0o755)
        for service in self.services:
            if echo:
                print(f"- {service.name}: starting…", flush=True)
            service.start()

    def down(self) -> None:
        """Stop every process this stack started, and nothing else."""
        for service in reversed(self.services):
            service.stop()

    def status(self) -> list[ServiceStatus]:
        return [service.status() for service in self.services]
