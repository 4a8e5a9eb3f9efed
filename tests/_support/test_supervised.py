"""The tests' stand-in for the deployment's restart policy (``tests/_support/supervised.py``):
it restarts an exit with status 75 and nothing else, so a test's SIGKILL stays a kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from supervised import RESTART_ME, Supervised


def test_an_exit_75_is_restarted_a_kill_is_not() -> None:
    scripts = [f"raise SystemExit({RESTART_ME})", "import time; time.sleep(60)"]
    started: list[subprocess.Popen[bytes]] = []

    def launch() -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen([sys.executable, "-c", scripts[len(started)]]))
        return started[-1]

    proc = Supervised("worker", launch)
    started[0].wait(timeout=30)
    proc.check()
    assert proc.restarts == 1 and len(started) == 2 and proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    for _ in range(3):
        proc.check()
        time.sleep(0.1)
    assert proc.restarts == 1 and len(started) == 2 and proc.returncode == -signal.SIGKILL
