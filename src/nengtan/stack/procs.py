"""Detached service processes with pid files, and the checks around them.

``down`` must stop every process the stack started and nothing else, so a pid file alone is
not trusted: a process is ours only while its command line still mentions our state directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from nengtan.errors import ServiceError


def cmdline(pid: int) -> str:
    """The command line of ``pid`` joined by spaces, or '' when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def owned_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` if that process is alive and its command line contains ``marker``."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid <= 0 or is_zombie(pid):
        return None
    line = cmdline(pid)
    # Just after exec the kernel may show an empty command line for a moment: look again.
    for _ in range(20):
        if line or not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.025)
        line = cmdline(pid)
    return pid if marker in line else None


def spawn(
    argv: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> int:
    """Start ``argv`` in its own session, output appended to ``log_file``; write its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd if cwd is not None else log_file.parent,
            env=env,
            start_new_session=True,
            user=user,
            group=_primary_group(user) if user is not None else None,
            extra_groups=[] if user is not None else None,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _primary_group(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def terminate(
    pid: int, *, timeout_s: float = 20.0, first: signal.Signals = signal.SIGTERM, group: bool = True
) -> None:
    """``first`` signal (SIGTERM), wait, then SIGKILL: the process is gone when this returns.

    ``group`` signals the whole process group the process leads; PostgreSQL wants only its
    postmaster signalled (SIGINT = fast shutdown) and stops its children itself.
    """
    for sig, wait_s in ((first, timeout_s), (signal.SIGKILL, 5.0)):
        if group or sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or is_zombie(pid):
                _reap(pid)
                return
            time.sleep(0.1)
    raise ServiceError(f"process {pid} did not stop after SIGKILL")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(port: int, what: str, setting: str) -> None:
    """Fail with an actionable message when another program holds the port we were told to use."""
    if port_in_use(port):
        raise ServiceError(
            f"{what}: port {port} on 127.0.0.1 is already in use by another program; "
            f"stop that program or choose another port with {setting}"
        )


def free_port(low: int = 20000, high: int = 32000) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Drawn below Linux's ephemeral range (32768+), so an outgoing connection cannot take the
    port between this call and the service binding it.
    """
    import random

    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServiceError(f"no free TCP port found between {low} and {high}")


def wait_until(
    check: Callable[[], bool], *, timeout_s: float, what: str, log_file: Path | None = None
) -> None:
    """Poll ``check`` until it is true; on timeout raise with the log's tail to say why."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = ""
    if log_file is not None and log_file.exists():
        lines = log_file.read_text(errors="replace").splitlines()[-8:]
        tail = " Last log lines:\n  " + "\n  ".join(lines)
    raise ServiceError(f"{what} was not ready after {timeout_s:.0f} s (log: {log_file}).{tail}")
