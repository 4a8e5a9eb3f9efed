"""Modbus poll times on the simulator's clock, for pipeline runs faster than real time.

Modbus carries no time, so the adapter stamps each poll with its wall clock. With the
simulators at ``--speed 60`` a meter's register then advances sixty times faster per stamped
hour than the meter's rating allows: the stream's plausibility bound (docs/streams.md) rejects
the wrapped increment at a rollover and counts it as a reset. For demo and fault runs the
adapters' clock is therefore mapped onto the simulated one with the simulator's ``--clock``
file (docs/simulators.md): ``sim_ms = start_ms + (wall_ms − wall_start_ms) × speed``.
Only the child processes of a run import this; the adapters themselves are unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

ENV = "NENGTAN_DEMO_SIM_CLOCK"
"""Environment variable naming the clock file (set only for a run's adapters process)."""


def sim_clock(clock_file: Path) -> Callable[[], int]:
    """A ``now_ms`` that reads the simulated clock; the wall clock until the simulator has
    written its clock file (the adapters start first; no Modbus meter answers before then)."""
    clock: dict[str, float] = {}

    def now_ms() -> int:
        wall_ms = time.time_ns() // 1_000_000
        if not clock:
            try:
                data = json.loads(clock_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return wall_ms
            clock.update(start=float(data["start_ms"]), wall=float(data["wall_start_ms"]),
                         speed=float(data["speed"]))  # fmt: skip
        return int(clock["start"] + (wall_ms - clock["wall"]) * clock["speed"])

    return now_ms


def install(clock_file: str) -> None:
    """Make the Modbus adapter stamp polls with the simulated clock."""
    import adapters.modbus.adapter as modbus

    setattr(modbus, "now_ms", sim_clock(Path(clock_file)))  # noqa: B010 (a module global, on purpose)
