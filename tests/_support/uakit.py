"""Pieces the OPC UA adapter tests share: a two-tag park and an asyncua server's event loop in
a thread of its own (the adapter under test runs its own loop; the server must not share it)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

NS = "urn:nengtan:test"
"""The namespace the test servers register their ``fuel`` and ``temp`` tags in."""


def ua_park(park_id: str) -> dict[str, Any]:
    """A park with one DCS: ``fuel`` (a natural-gas rate) and ``temp`` (a gauge)."""
    return {
        "schema": "nengtan.park/1",
        "id": park_id,
        "enterprises": [
            {
                "id": "e",
                "industry": "chemicals",
                "region": "CN-JS",
                "devices": [{"id": "dcs", "protocol": "mqtt"}],
                "points": [
                    {
                        "id": "fuel",
                        "kind": "rate",
                        "carrier": "natural_gas",
                        "uom": "Nm3/h",
                        "use": "fuel",
                        "device": "dcs",
                    },
                    {"id": "temp", "kind": "gauge", "uom": "degC", "device": "dcs"},
                ],
            }
        ],
    }


class LoopThread:
    """An event loop running in a daemon thread; ``call`` runs a coroutine on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def close(self) -> None:
        """Cancel what is still running on the loop (asyncua leaves tasks), then stop it."""
        self.call(self._cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _cancel_rest(self) -> None:
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)


def wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Whether ``predicate`` came true within ``timeout_s`` (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
