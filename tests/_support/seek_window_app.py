"""A minimal Faust worker for ``tests/streams/test_seek_guard.py`` (not a test module).

One agent reads ``SW_IN`` in groups (``take_events``, as the real agents do), writes a
changelogged table (so a restart restores state and takes Faust's recovery path) and sends
``partition:offset`` of every message it processed to ``SW_OUT``. ``SW_SEEK_DELAY_S`` slows the
seek to committed offsets at the end of each rebalance (before and after the client's seek) to
widen the window in which faust-streaming has resumed the partitions but not yet sought them;
``SW_GUARD=1`` installs ``streams.seek_guard``.

Run: ``python seek_window_app.py worker -l info`` with SW_BOOTSTRAP, SW_APP_ID, SW_IN, SW_OUT,
SW_DATADIR set.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import faust

from streams.seek_guard import hold_until_seek

ENV = os.environ
DELAY_S = float(ENV.get("SW_SEEK_DELAY_S", "0"))
GROUP_PAUSE_S = 0.1
"""After each group of up to 100: at most 1,000 messages a second, so a backlog of thousands
outlasts the widened window (a fast machine would otherwise finish it before the seek)."""

app = faust.App(
    ENV["SW_APP_ID"],
    broker=f"kafka://{ENV['SW_BOOTSTRAP']}",
    store="memory://",
    processing_guarantee="at_least_once",
    topic_partitions=2,
    web_enabled=False,
    datadir=ENV["SW_DATADIR"],
    key_serializer="raw",
    value_serializer="raw",
    consumer_auto_offset_reset="earliest",
    consumer_group_instance_id=ENV["SW_APP_ID"] + "-1",
)
source = app.topic(ENV["SW_IN"], key_type=bytes, value_type=bytes)
out = app.topic(ENV["SW_OUT"], key_type=bytes, value_type=bytes)
last = app.Table("sw-last", default=int, partitions=2)


@app.agent(source)
async def record(stream: Any) -> None:
    async for events in stream.take_events(100, within=0.05):
        sends = []
        for event in events:
            msg = event.message
            sends.append(await out.send(value=f"{msg.partition}:{msg.offset}".encode(), force=True))
            # as streams.app._store does: a grouped agent writes the changelog itself
            sends.append(last.send_changelog(msg.partition, str(msg.partition), msg.offset))
            last.data[str(msg.partition)] = msg.offset
        await asyncio.gather(*sends)
        await asyncio.sleep(GROUP_PAUSE_S)


@app.on_partitions_assigned.connect
def prepare(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    consumer = app.consumer
    if DELAY_S and not getattr(consumer, "_sw_slow", False):
        seek = consumer.seek_to_committed

        async def slow_seek() -> Any:
            await asyncio.sleep(DELAY_S)
            offsets = await seek()
            await asyncio.sleep(DELAY_S)
            return offsets

        consumer.seek_to_committed = slow_seek
        consumer._sw_slow = True
    if ENV.get("SW_GUARD") == "1":
        hold_until_seek(consumer, {ENV["SW_IN"]})


if __name__ == "__main__":
    app.main()
