"""Keep the agents' partitions paused until Faust has sought them to their committed offsets.

faust-streaming 0.15.3 ends every rebalance (``Recovery.on_recovery_completed`` and
``Recovery._resume_streams``) by first *resuming* the agents' partitions and then *seeking* them
to their committed offsets, after which it overwrites its bookkeeping (read and committed
offset of each partition) with the offsets it read before seeking. The fetcher is already
running then (the flow was resumed to restore the tables' changelogs), so for the length of the
seek (one round trip per assigned partition) it hands the agents messages from whatever
position the client had reached. They are processed and acked, the commit timer commits them,
and then the seek puts back older offsets:

- the committed offset Faust keeps goes back below offsets whose acks the commit has already
  consumed, so the head of its acked list never again joins the committed offset and the
  partition never commits again (seen after a worker's restart: ``committed 1510, read 1752,
  acked [1514..1752]``; ``streams.commit_watch`` exits the worker);
- the read offset of a message whose delivery was still waiting while the seek ran is set after
  the seek, and the re-read messages below it are dropped as already read.

Holding the partitions until the seek has finished closes that window: nothing is fetched or
acked for them before Faust's bookkeeping is right, and the first message each one delivers is
the one at its committed offset. Changelog partitions are left alone: they are resumed and read
during the restore, which seeks them itself.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import Any

log = logging.getLogger(__name__)

_INSTALLED = "_nengtan_seek_guard"


def hold_until_seek(consumer: Any, topics: Collection[str]) -> None:
    """Make ``consumer`` (a Faust consumer) defer resuming partitions of ``topics`` until its
    next ``perform_seek`` has completed. Idempotent: a consumer is wrapped once."""
    if getattr(consumer, _INSTALLED, False):
        return
    resume = consumer.resume_partitions
    perform_seek = consumer.perform_seek
    held: set[Any] = set()

    def resume_partitions(tps: Iterable[Any]) -> None:
        wanted = set(tps)
        mine = {tp for tp in wanted if getattr(tp, "topic", None) in topics}
        held.update(mine)
        resume(wanted - mine)

    async def seek_then_resume() -> None:
        await perform_seek()
        if held:
            assigned = set(consumer.assignment())
            ready = held & assigned
            held.clear()
            log.info("resuming %d stream partitions after the seek to committed offsets",
                     len(ready))  # fmt: skip
            resume(ready)

    consumer.resume_partitions = resume_partitions
    consumer.perform_seek = seek_then_resume
    setattr(consumer, _INSTALLED, True)
