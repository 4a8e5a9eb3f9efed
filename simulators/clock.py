"""Simulated time: a start instant and a speed factor over the wall clock.

``sim_ms = start_ms + (monotonic_now - monotonic_at_start) × 1000 × speed``. The same mapping
is written into the truth file (``clock``) so a poller that stamps readings with its own wall
clock (Modbus registers without a load-profile ring carry no time) can convert: ``sim_ms =
start_ms + (wall_ms - wall_start_ms) × speed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SimClock:
    start_ms: int
    speed: float = 1.0
    mono0_s: float = field(default_factory=time.monotonic)
    wall_start_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def now_ms(self) -> float:
        """The current simulated instant (epoch ms, UTC)."""
        return self.start_ms + (time.monotonic() - self.mono0_s) * 1000.0 * self.speed

    def wall_delay_s(self, sim_ms: float) -> float:
        """Wall seconds until the simulated instant ``sim_ms`` (negative if past)."""
        due = self.mono0_s + (sim_ms - self.start_ms) / 1000.0 / self.speed
        return due - time.monotonic()

    def as_dict(self) -> dict[str, float | int]:
        return {"start_ms": self.start_ms, "speed": self.speed, "wall_start_ms": self.wall_start_ms}
