"""``nengtan stack up | down | status`` as a user runs it, with foreign clients (kcat, psql,
mosquitto_pub/sub) checking what it started, and the one-line errors for bad settings."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import make_state_dir

from nengtan.stack.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def nengtan(
    env: dict[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nengtan.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture()
def cli_env() -> Iterator[dict[str, str]]:
    state = make_state_dir("nengtan-cli-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NENGTAN_")}
    env.update(
        NENGTAN_STATE_DIR=str(state),
        NENGTAN_KAFKA_PORT=str(free_port()),
        NENGTAN_KAFKA_CONTROLLER_PORT=str(free_port()),
        NENGTAN_PG_PORT=str(free_port()),
        NENGTAN_MQTT_PORT=str(free_port()),
    )
    yield env
    nengtan(env, "stack", "down")
    shutil.rmtree(state, ignore_errors=True)


def pids(state: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if state in cmd and "pytest" not in cmd:
                found.append(int(entry.name))
    return found


def test_up_status_down_up_keeps_data(cli_env: dict[str, str]) -> None:
    env = cli_env
    first = nengtan(env, "stack", "up")
    assert first.returncode == 0, first.stderr
    again = nengtan(env, "stack", "up")  # up twice is harmless
    assert again.returncode == 0, again.stderr

    kafka = f"127.0.0.1:{env['NENGTAN_KAFKA_PORT']}"
    listing = subprocess.run(
        ["kcat", "-b", kafka, "-L"], capture_output=True, text=True, check=True
    )
    assert " 1 brokers:" in listing.stdout
    assert 'topic "nt.readings.v1"' in listing.stdout

    dsn = f"postgresql://postgres@127.0.0.1:{env['NENGTAN_PG_PORT']}/nengtan"
    subprocess.run(
        ["psql", dsn, "-c", "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"],
        check=True,
        capture_output=True,
    )

    port = env["NENGTAN_MQTT_PORT"]
    sub = subprocess.Popen(
        ["mosquitto_sub", "-p", port, "-t", "probe/#", "-C", "1", "-W", "10"],
        stdout=subprocess.PIPE,
        text=True,
    )
    for _ in range(20):  # publish until the subscriber is attached
        subprocess.run(["mosquitto_pub", "-p", port, "-t", "probe/x", "-m", "hello"], check=True)
        try:
            out, _ = sub.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            continue
    assert out.strip() == "hello"

    status = nengtan(env, "stack", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "kafka" in status.stdout and "mosquitto" in status.stdout
    assert "plain PostgreSQL" in status.stdout or "TimescaleDB" in status.stdout

    down = nengtan(env, "stack", "down")
    assert down.returncode == 0, down.stderr
    assert pids(env["NENGTAN_STATE_DIR"]) == []
    assert nengtan(env, "stack", "status").returncode == 1

    assert nengtan(env, "stack", "up").returncode == 0
    kept = subprocess.run(
        ["psql", dsn, "-tAc", "SELECT x FROM kept"], capture_output=True, text=True, check=True
    )
    assert kept.stdout.strip() == "42"
    listing = subprocess.run(
        ["kcat", "-b", kafka, "-L"], capture_output=True, text=True, check=True
    )
    assert 'topic "nt.alerts.v1"' in listing.stdout


def test_port_in_use_is_one_clear_line(cli_env: dict[str, str]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(cli_env["NENGTAN_MQTT_PORT"])))
        blocker.listen()
        done = nengtan(cli_env, "stack", "up")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert (
        f"port {cli_env['NENGTAN_MQTT_PORT']}" in done.stderr and "NENGTAN_MQTT_PORT" in done.stderr
    )


def test_unreachable_urls_are_named(cli_env: dict[str, str]) -> None:
    env = dict(cli_env, NENGTAN_PG_DSN=f"postgresql://postgres@127.0.0.1:{free_port()}/nengtan")
    done = nengtan(env, "stack", "up")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "NENGTAN_PG_DSN" in done.stderr and "cannot connect" in done.stderr

    env = dict(cli_env, NENGTAN_MQTT_URL=f"mqtt://127.0.0.1:{free_port()}")
    done = nengtan(env, "stack", "up")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "NENGTAN_MQTT_URL" in done.stderr and "no MQTT broker answered" in done.stderr


def test_missing_java_says_what_to_install(cli_env: dict[str, str]) -> None:
    env = dict(cli_env, PATH="/nonexistent")
    done = nengtan(env, "stack", "up")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "java was not found" in done.stderr and "NENGTAN_KAFKA_BOOTSTRAP" in done.stderr


def test_bad_setting_value_is_named(cli_env: dict[str, str]) -> None:
    done = nengtan(dict(cli_env, NENGTAN_KAFKA_PORT="ninety"), "stack", "status")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "kafka_port" in done.stderr
