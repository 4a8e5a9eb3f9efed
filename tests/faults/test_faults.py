"""Fault injection: the example park simulated through the whole pipeline while one component
(then two at once) is killed and restarted; afterwards the database must reconcile exactly with
the simulator's truth (``nengtan.demo.reconcile``, the demo's own verdict) and no alert may
appear twice on ``nt.alerts.v1`` or in the database.

Each scenario is its own run: the park with ids suffixed (runs share the session's topics) and
free ports, a fresh database, its own consumer groups. The process kills are SIGKILL (no
shutdown hooks); the services are killed with the stack's ``kill()`` and started again with
``start()``. After a service comes back, a pipeline process that gave up while it was away is
started again, as its supervisor (systemd ``Restart=always``, docs/performance.md) would.

Exactness per scenario is the reconciliation's (see its docstring), the same in every scenario:
every counter and every rate of every protocol. What the meters and DCS emitted while the
adapters were down is read afterwards from the Modbus load-profile rings and the OPC UA
servers' history.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nengtan.demo.pipeline import Pipeline
from nengtan.demo.reconcile import alert_topic_duplicates
from nengtan.settings import Settings
from nengtan.stack.procs import port_in_use
from nengtan.stack.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"
SIM_S = 40.0
"""Wall seconds simulated per scenario (40 simulated minutes at 60×)."""
SIM_S_CEMS = 66.0
"""For the scenarios that interrupt the MQTT path (the CEMS stacks' only path): 66 simulated
minutes, so the first CEMS hour closes and is reconciled too."""
CEMS_SCENARIOS = frozenset({"adapters", "mosquitto"})
DOWN_S = 6.0
SETTLE_S = 600.0
"""How long the run may take to drain after the simulation (the pipeline's lag back to 0)."""
PROCESSES = ("worker", "sink", "adapters-mqtt", "adapters-poll")
SERVICES = ("kafka", "postgres", "mosquitto")

SCENARIOS: dict[str, tuple[str, ...]] = {
    "worker": ("worker",),
    "sink": ("sink",),
    "adapters": ("adapters-mqtt", "adapters-poll"),
    "kafka": ("kafka",),
    "postgres": ("postgres",),
    "mosquitto": ("mosquitto",),
    "worker+kafka": ("worker", "kafka"),
    "sink+postgres": ("sink", "postgres"),
}


def kill_service(stack: Stack, name: str) -> None:
    getattr(stack, name).kill()


def start_service(stack: Stack, name: str) -> None:
    """Start a killed service again, once its port is released."""
    service = getattr(stack, name)
    port = {"kafka": stack.settings.kafka_port, "postgres": stack.settings.pg_port,
            "mosquitto": stack.settings.mqtt_port}[name]  # fmt: skip
    deadline = time.monotonic() + 30
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    service.start()


def wait_flowing(pipe: Pipeline, min_rows: int = 300, timeout_s: float = 120.0) -> None:
    """Until the run has stored some consumption (so the fault hits a flowing pipeline)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fp = pipe.fingerprint()
        if isinstance(fp[1], int) and fp[1] >= min_rows:
            return
        time.sleep(0.5)
    raise AssertionError(f"no {min_rows} consumption rows after {timeout_s} s:\n"
                         f"{pipe.children.log_tail('worker')}")  # fmt: skip


def alerts_on_topic(bootstrap: str, suffix: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", "nt.alerts.v1", "-o", "beginning", "-e", "-q",
         "-f", "%s\\n"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    recs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return [r for r in recs if suffix in r["scope"]]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_kill_and_restart_reconciles_exactly(
    scenario: str, local_stack: Stack, drained: Settings, fresh_dsn: Callable[[], str],
    tmp_path: Path,
) -> None:
    victims = SCENARIOS[scenario]
    suffix = f"f{uuid.uuid4().hex[:5]}"
    pipe = Pipeline(local_stack.settings, fresh_dsn(), EXAMPLE, tmp_path / "run", speed=60.0,
                    run_id=suffix, suffix=suffix)  # fmt: skip
    restarted: list[str] = []
    try:
        pipe.start(SIM_S_CEMS if scenario in CEMS_SCENARIOS else SIM_S)
        wait_flowing(pipe)
        for victim in victims:
            if victim in PROCESSES:
                pipe.children.kill(victim)
            else:
                kill_service(local_stack, victim)
        time.sleep(DOWN_S)
        for victim in victims:
            if victim in SERVICES:
                start_service(local_stack, victim)
        for victim in victims:
            if victim in PROCESSES:
                pipe.children.restart(victim)
        # a process that gave up while a service was away is restarted, as in production
        while pipe.simulating:
            restarted += pipe.revive()
            time.sleep(1.0)
        restarted += pipe.revive()
        # a worker restarted together with Kafka may take minutes to commit its last offsets
        # (Faust, after the broker's restart); exactness is what is checked, not that speed
        pipe.finish(quiet_s=12.0, timeout_s=SETTLE_S)
        verdict = pipe.reconcile()
    finally:
        pipe.stop()
        for name in SERVICES:  # leave the session's stack whole for the next test
            if getattr(local_stack, name).pid() is None:
                start_service(local_stack, name)
    checked = [p for p in verdict.points if p.checked]
    print(f"{scenario}: {len(checked)} points exact, {verdict.cems_hours_checked} CEMS hours, "
          f"{verdict.alerts} alerts; restarted after the fault: {restarted or 'none'}")  # fmt: skip
    assert verdict.ok, "\n".join(verdict.failures())
    assert len(checked) >= 15
    if scenario in CEMS_SCENARIOS:
        assert verdict.cems_hours_checked >= 2  # both stacks' first hour
    topic = alerts_on_topic(local_stack.settings.bootstrap, suffix)
    assert topic, "the run raised no alert on nt.alerts.v1"
    assert alert_topic_duplicates(topic) == []
