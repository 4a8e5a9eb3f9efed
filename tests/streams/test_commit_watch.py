"""The worker's commit liveness check (``streams.commit_watch``): pure, literal offsets."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from faust.types import TP

from streams.commit_watch import CommitWatch, positions


def test_a_partition_read_past_a_commit_that_does_not_move_is_stalled_after_stall_s() -> None:
    w = CommitWatch(stall_s=120.0)
    assert w.stalled({"p0": (100, 150)}, 0.0) == []
    assert w.stalled({"p0": (100, 160)}, 110.0) == []
    assert w.stalled({"p0": (100, 190)}, 120.0) == ["p0"]


def test_a_moving_commit_or_nothing_read_since_it_never_stalls() -> None:
    w = CommitWatch(stall_s=120.0)
    for i in range(100):  # a backlog: the commit moves every look
        assert w.stalled({"p0": (100 + i, 500)}, i * 10.0) == []
    w = CommitWatch(stall_s=120.0)
    for i in range(100):  # idle: everything read is committed (committed = last read + 1)
        assert w.stalled({"p0": (501, 500), "p1": (None, None)}, i * 10.0) == []


def test_a_partition_seeked_to_its_commit_and_idle_since_never_stalls() -> None:
    """Faust's seek on assignment sets the read offset to the committed one (next to read):
    an input partition that gets no data after a restart must not look stalled (it did, and the
    watch stopped a healthy worker two minutes after a restart in the park acceptance run)."""
    w = CommitWatch(stall_s=120.0)
    for i in range(100):
        assert w.stalled({"p2": (4_711, 4_711)}, i * 10.0) == []
    assert w.stalled({"p2": (4_711, 4_712)}, 1_000.0) == []  # data again: a clock starts
    assert w.stalled({"p2": (4_711, 4_730)}, 1_120.0) == ["p2"]


def test_the_clock_restarts_when_the_commit_moves_or_the_partition_goes_quiet() -> None:
    w = CommitWatch(stall_s=120.0)
    w.stalled({"p0": (100, 150)}, 0.0)
    w.stalled({"p0": (151, 150)}, 60.0)  # committed everything
    w.stalled({"p0": (151, 170)}, 100.0)  # read more
    assert w.stalled({"p0": (151, 170)}, 200.0) == []
    assert w.stalled({"p0": (151, 170)}, 220.0) == ["p0"]


def test_a_partition_never_committed_in_this_process_counts_from_its_first_read() -> None:
    w = CommitWatch(stall_s=120.0)
    assert w.stalled({"p0": (None, 10)}, 0.0) == []
    assert w.stalled({"p0": (None, 40)}, 130.0) == ["p0"]


def test_positions_of_the_input_topics_from_faust_bookkeeping_and_nothing_without_it() -> None:
    p0, p1 = TP("nt.readings.v1", 0), TP("nt.readings.v1", 1)
    changelog = TP("w-nt-streams-device-changelog", 0)  # read to restore, never committed
    committed: defaultdict[TP, int | None] = defaultdict(lambda: None, {p0: 7})
    read: defaultdict[TP, int | None] = defaultdict(lambda: None, {p0: 9, p1: 3, changelog: 80})
    consumer = SimpleNamespace(_committed_offset=committed, _read_offset=read)
    assert positions(consumer, {"nt.readings.v1"}) == {p0: (7, 9), p1: (None, 3)}
    assert positions(SimpleNamespace(), {"nt.readings.v1"}) == {}


def test_faust_seek_on_assignment_reads_as_idle_not_stalled() -> None:
    """Pins the Faust behaviour the watch relies on: ``Consumer.perform_seek`` (run on every
    assignment) sets the read offset of each partition to its committed offset."""
    import asyncio

    from faust.transport.consumer import Consumer

    tp = TP("nt.readings.v1", 2)

    async def seek_to_committed() -> dict[TP, int]:
        return {tp: 4_711}

    consumer = SimpleNamespace(
        _read_offset=defaultdict(lambda: None),
        _committed_offset=defaultdict(lambda: None),
        seek_to_committed=seek_to_committed,
    )
    asyncio.run(Consumer.perform_seek(consumer))  # type: ignore[arg-type]
    assert positions(consumer, {"nt.readings.v1"}) == {tp: (4_711, 4_711)}
    w = CommitWatch(stall_s=120.0)
    assert all(
        w.stalled(positions(consumer, {"nt.readings.v1"}), t * 10.0) == [] for t in range(50)
    )


def test_bookkeeping_names_what_holds_a_commit_back_and_never_raises() -> None:
    from intervaltree import IntervalTree

    from streams.commit_watch import bookkeeping

    tp, other = TP("nt.readings.v1", 2), TP("nt.readings.v1", 0)
    held = SimpleNamespace(tp=tp, offset=100, refcount=1, acked=False)
    consumer = SimpleNamespace(
        _committed_offset={tp: 100},
        _read_offset={tp: 140},
        _acked={tp: [103, 101, 102]},
        _gap={tp: IntervalTree.from_tuples([(120, 125)])},
        _unacked_messages=[held, SimpleNamespace(tp=other, offset=7, refcount=1, acked=False)],
    )
    line = bookkeeping(consumer, tp)
    assert "committed 100, read 140, acked 3 [101, 102, 103]" in line
    assert (
        "gaps [(120, 125)]" in line
        and "unacked (offset, refcount, acked) 1 [(100, 1, False)]" in line
    )
    assert "not readable" in bookkeeping(SimpleNamespace(_acked=42), tp)
