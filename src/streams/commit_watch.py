"""A liveness check for the worker's offset commits.

faust-streaming 0.15.3 has been seen (after a Kafka restart, and after a worker's restart
following a SIGKILL) to keep a partition's committed offset still for good while the worker
read, processed and delivered everything behind it. The cause found is the order of its
resume and seek after a rebalance, which ``streams.seek_guard`` closes; this watch stays as the
backstop for any other way the commit could stop. The data is not at risk (outputs are
idempotent and a restart resumes from the committed offset), but a commit that never moves is a
lag alarm and an ever longer replay. So the worker watches its own commits and, when a
partition has been read past its committed offset without that offset moving for ``stall_s``,
exits with status 75 to be restarted, like a failed liveness probe.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

Position = tuple[int | None, int | None]
"""(committed offset: the next one to read; the offset of the last message read).

Faust sets the read offset *to the committed offset* when it seeks a partition on assignment,
before reading anything, so ``read == committed`` means nothing waits for a commit: a partition
no key hashes to stays like that for good and must never look stalled. (A single message read
at exactly the committed offset looks the same; its stall shows once the next one is read.)"""


@dataclass
class CommitWatch:
    """Which partitions' commits have stalled, from periodic looks at their positions."""

    stall_s: float
    _since: dict[Hashable, tuple[int | None, float]] = field(default_factory=dict)

    def stalled(self, positions: Mapping[Hashable, Position], now: float) -> list[Hashable]:
        """The partitions read past their committed offset whose committed offset has not moved
        for ``stall_s`` (``now`` in seconds, monotonic)."""
        out: list[Hashable] = []
        since: dict[Hashable, tuple[int | None, float]] = {}
        for tp, (committed, read) in positions.items():
            if read is None or (committed is not None and read <= committed):
                continue  # nothing read since the last commit (or since the seek to it)
            prev = self._since.get(tp)
            if prev is None or prev[0] != committed:
                since[tp] = (committed, now)
                continue
            since[tp] = prev
            if now - prev[1] >= self.stall_s:
                out.append(tp)
        self._since = since
        return out


def positions(consumer: Any, topics: Collection[str]) -> dict[Hashable, Position]:
    """Each partition of ``topics`` (the agents' inputs, which Faust commits; not the changelogs
    it reads to restore tables) with its committed and read offsets, from a Faust consumer's
    bookkeeping (``_committed_offset``, ``_read_offset``: names of the pinned faust-streaming;
    empty if they are missing, so the watch never fires on a Faust that renamed them)."""
    committed = getattr(consumer, "_committed_offset", None) or {}
    read = getattr(consumer, "_read_offset", None) or {}
    return {
        tp: (committed.get(tp), offset)
        for tp, offset in list(read.items())
        if getattr(tp, "topic", None) in topics
    }


def bookkeeping(consumer: Any, tp: Hashable) -> str:
    """Faust's commit bookkeeping of one partition, for the log line of a stall: what holds the
    commit back (an offset read but never acked, a gap) is in here. Private names of the pinned
    faust-streaming, read defensively: this runs on the way out and must not raise."""
    try:
        acked = sorted(getattr(consumer, "_acked", {}).get(tp, ()))
        gap = sorted(getattr(consumer, "_gap", {}).get(tp, ()))
        unacked = sorted(
            (m.offset, m.refcount, m.acked)
            for m in list(getattr(consumer, "_unacked_messages", ()))
            if getattr(m, "tp", None) == tp
        )
        committed = getattr(consumer, "_committed_offset", {}).get(tp)
        read = getattr(consumer, "_read_offset", {}).get(tp)
        return (
            f"{tp}: committed {committed}, read {read}, acked {len(acked)}"
            f" {acked[:5]}..{acked[-3:]}, gaps {[(i.begin, i.end) for i in gap[:5]]},"
            f" unacked (offset, refcount, acked) {len(unacked)} {unacked[:5]}"
        )
    except Exception as exc:  # a diagnostic must not mask the exit it explains
        return f"{tp}: bookkeeping not readable ({exc!r})"
