"""The worker's state writes (``streams.app._store``) and the Faust behaviour that makes them
necessary. Pure unit tests: no broker."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.producer import ProducerBuffer

from streams.app import _store


class FakeTable:
    """What ``_store`` uses of a Faust table: ``send_changelog`` and ``data``."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.sent: list[tuple[int, str, Any]] = []

    def send_changelog(self, partition: int, key: str, value: Any) -> str:
        self.sent.append((partition, key, value))
        return f"future-{key}"


def event(partition: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(partition=partition))


def test_store_returns_one_changelog_send_per_key_on_its_events_partition() -> None:
    table = FakeTable()
    working = {"dev-a": ({"p": 1}, event(3)), "dev-b": ({"p": 2}, event(0))}
    sends = _store(table, working)
    # the caller awaits these before the group's offsets are acked
    assert sends == ["future-dev-a", "future-dev-b"]
    assert table.sent == [(3, "dev-a", {"p": 1}), (0, "dev-b", {"p": 2})]
    assert table.data == {"dev-a": {"p": 1}, "dev-b": {"p": 2}}


def test_faust_buffer_flush_returns_with_records_still_queued() -> None:
    """Why ``_store`` awaits its changelog records itself: Faust's flush before an offset
    commit gives up on its producer buffer after 0.1 s without a completed send. Were this to
    change, the workaround could go (and this test would say so)."""

    async def run() -> int:
        buf = ProducerBuffer()
        buf.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
        sent: list[object] = []

        async def slow_send(fut: object) -> None:
            await asyncio.sleep(0.3)  # a busy event loop or a slow broker
            sent.append(fut)

        buf._send_pending = slow_send  # type: ignore[method-assign]
        await buf.start()
        try:
            for i in range(3):
                buf.put(i)  # type: ignore[arg-type]
            await buf.flush()
            return len(sent)
        finally:
            buf.pending = asyncio.Queue()
            await buf.stop()

    assert asyncio.run(run()) < 3  # flush returned before every record was sent
