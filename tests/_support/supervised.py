"""A stand-in for a deployment's restart policy, for tests that run workers and sinks."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from streams.app import EXIT_RESTART_ME as RESTART_ME


class Supervised:
    """A worker or sink under a supervisor that starts it again when it exits with status 75
    ("restart me": undeliverable outputs, stalled offset commits; ``streams.app``), as the
    production compose file's ``restart: unless-stopped`` does. Any other exit (a test's
    SIGKILL included) is left alone. Stands in for the ``Popen`` of the current process."""

    def __init__(self, name: str, launch: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.name = name
        self._launch = launch
        self.proc = launch()
        self.restarts = 0

    def check(self) -> None:
        if self.proc.poll() == RESTART_ME:
            self.restarts += 1
            print(f"supervisor: {self.name} exited with {RESTART_ME}; restart {self.restarts}")
            self.proc = self._launch()

    def poll(self) -> int | None:
        return self.proc.poll()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def terminate(self) -> None:
        self.proc.terminate()

    def kill(self) -> None:
        self.proc.kill()

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout=timeout)
