"""What every service of the local stack looks like to ``Stack``."""

from __future__ import annotations

import signal
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


class ManagedProcess:
    """The pid-file lifecycle every local service shares: ``pid``, ``stop`` and ``kill``.

    Subclasses set ``name``, ``settings`` and ``paths``; ``stop_signal``/``stop_group`` say how
    the process wants to be asked to stop (PostgreSQL: SIGINT to the postmaster only).
    """

    name: str
    settings: Settings
    paths: Paths
    stop_timeout_s: float = 20.0
    stop_signal: signal.Signals = signal.SIGTERM
    stop_group: bool = True

    def pid(self) -> int | None:
        from nengtan.stack import procs

        return procs.owned_pid(self.paths.pid, str(self.settings.state_dir))

    def stop(self) -> None:
        """Ask the process to stop, SIGKILL it after ``stop_timeout_s``; forget its pid."""
        from nengtan.stack import procs

        pid = self.pid()
        if pid is not None:
            procs.terminate(
                pid, timeout_s=self.stop_timeout_s, first=self.stop_signal, group=self.stop_group
            )
        self.paths.pid.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the process group (fault injection): no clean shutdown."""
        from nengtan.stack import procs

        pid = self.pid()
        if pid is not None:
            procs.terminate(pid, timeout_s=0, first=signal.SIGKILL)
        self.paths.pid.unlink(missing_ok=True)
