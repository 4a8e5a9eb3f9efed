"""Child processes of a pipeline run: each ``nengtan`` command in its own process and session,
its output in one log file, stoppable gently (SIGTERM, then SIGKILL) or brutally (SIGKILL).

Own sessions matter: Ctrl-C in the terminal reaches only the demo, which then stops the
children in the order that lets the data drain (simulators first, sink last).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = (
    "import sys, nengtan.cli as c; "
    "c.COMMAND_MODULES = ('streams.cli', 'store.cli', 'simulators.cli', 'adapters.cli', "
    "'console.cli'); c.main(sys.argv[1:])"
)
"""``nengtan`` with only the command groups a pipeline run needs (faster to start, and
independent of packages it does not use)."""


@dataclass
class Child:
    """One named child: its command line (to restart it the same way) and its process."""

    name: str
    args: list[str]
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Children:
    """The run's children by name, with their environment and log directory."""

    env: dict[str, str]
    log_dir: Path
    by_name: dict[str, Child] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Start ``nengtan ARGS`` as ``name`` (with ``env`` added to the run's environment); its
        stdout and stderr append to ``NAME.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, *args],
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        child = self.by_name[name] = Child(name, args, proc, env or {})
        return child

    def restart(self, name: str) -> Child:
        """Start ``name`` again with the same arguments (after a kill)."""
        old = self.by_name[name]
        return self.start(name, old.args, old.env)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hooks, no final commit, no flush."""
        child = self.by_name[name]
        if child.alive:
            child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(timeout=30)

    def stop(self, name: str, timeout_s: float = 30.0) -> int | None:
        """SIGTERM and wait (the command's own orderly shutdown); SIGKILL if it hangs."""
        child = self.by_name.get(name)
        if child is None:
            return None
        if child.alive:
            child.proc.send_signal(signal.SIGTERM)
        try:
            return child.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            return child.proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.by_name):
            self.stop(name, timeout_s=15.0)

    def log_tail(self, name: str, chars: int = 2000) -> str:
        """The end of a child's log (for error messages)."""
        path = self.log_dir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""


def child_env(bootstrap: str, dsn: str, mqtt: tuple[str, int], state_dir: Path, partitions: int) -> dict[str, str]:
    """The environment that points every child at one stack."""
    env = dict(os.environ)
    env.update(
        NENGTAN_KAFKA_BOOTSTRAP=bootstrap,
        NENGTAN_KAFKA_PARTITIONS=str(partitions),
        NENGTAN_PG_DSN=dsn,
        NENGTAN_MQTT_URL=f"mqtt://{mqtt[0]}:{mqtt[1]}",
        NENGTAN_STATE_DIR=str(state_dir),
        PYTHONUNBUFFERED="1",
    )
    return env
