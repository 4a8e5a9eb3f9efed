"""What every service of the local stack looks like to ``Stack``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from nengtan.settings import Settings

State = Literal["running", "stopped", "external", "unreachable"]


@dataclass(frozen=True)
class ServiceStatus:
    """One line of ``nengtan stack status``."""

    name: str
    state: State
    endpoint: str
    detail: str = ""
    pid: int | None = None


class Service(Protocol):
    """A service the stack can start, stop and inspect; ``start`` and ``stop`` are idempotent."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> ServiceStatus: ...


@dataclass(frozen=True)
class Paths:
    """Where one service keeps its data, config, log and pid under the state directory."""

    root: Path
    log: Path
    pid: Path

    @classmethod
    def of(cls, settings: Settings, name: str) -> Paths:
        state = settings.state_dir
        return cls(
            root=state / name, log=state / "logs" / f"{name}.log", pid=state / "run" / f"{name}.pid"
        )
