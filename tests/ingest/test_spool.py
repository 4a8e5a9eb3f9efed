"""The store-and-forward spool: order, acknowledgement, bound, restart and torn tails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.spool import Record, Spool, SpoolFull, encode_record


def _drain(spool: Spool) -> list[Record]:
    out: list[Record] = []
    while batch := spool.read(1000, timeout_s=0.01):
        out.extend(batch)
    return out


def _ack_all(spool: Spool, records: list[Record]) -> None:
    size = sum(len(encode_record(r.topic, r.key, r.value)) for r in records)
    spool.acknowledge(records[-1].next_pos, len(records), size)


def test_records_come_back_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(100):
        spool.append("t", b"dev%d" % (i % 3), b"value %d" % i)
    got = _drain(spool)
    assert [r.value for r in got] == [b"value %d" % i for i in range(100)]
    assert got[4].key == b"dev1"
    assert got[0].topic == "t"
    assert spool.status().pending_records == 100
    spool.close()


def test_unacknowledged_records_are_replayed_after_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=200)  # small segments: many files
    for i in range(50):
        spool.append("t", b"k", b"v%02d" % i)
    got = _drain(spool)
    _ack_all(spool, got[:20])
    spool.sync()
    # no close(): as after SIGKILL, only what write(2) and sync() put on disk survives
    again = Spool(tmp_path, segment_bytes=200)
    replay = _drain(again)
    assert [r.value for r in replay] == [b"v%02d" % i for i in range(20, 50)]
    assert again.status().pending_records == 30
    again.close()


def test_acknowledged_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=100)
    for i in range(40):
        spool.append("t", b"k", b"value %02d" % i)
    assert len(list(tmp_path.glob("*.seg"))) > 5
    got = _drain(spool)
    _ack_all(spool, got)
    spool.sync()
    assert len(list(tmp_path.glob("*.seg"))) == 1
    assert spool.status().pending_records == 0
    spool.close()


def test_rewind_resends_from_first_unacknowledged(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(10):
        spool.append("t", b"k", b"%d" % i)
    got = _drain(spool)
    _ack_all(spool, got[:3])
    spool.rewind()
    assert [r.value for r in _drain(spool)] == [b"%d" % i for i in range(3, 10)]
    spool.close()


def test_bound_is_enforced_and_released_by_acks(tmp_path: Path) -> None:
    record = len(encode_record("t", b"k", b"x" * 100))
    spool = Spool(tmp_path, max_bytes=record * 5, segment_bytes=record * 2)
    for _ in range(5):
        spool.append("t", b"k", b"x" * 100)
    with pytest.raises(SpoolFull, match="is full"):
        spool.append("t", b"k", b"x" * 100)
    assert spool.status().fill == pytest.approx(1.0)
    got = _drain(spool)
    _ack_all(spool, got[:4])
    spool.sync()  # deletes the two fully acknowledged segments
    spool.append("t", b"k", b"x" * 100)
    spool.close()


def test_torn_tail_is_cut_and_earlier_records_survive(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append("t", b"k", b"%d" % i)
    spool.close()
    seg = next(tmp_path.glob("*.seg"))
    with open(seg, "ab") as fh:  # half a record, as a power cut mid-write leaves it
        fh.write(encode_record("t", b"k", b"torn")[:9])
    size_with_tail = seg.stat().st_size
    again = Spool(tmp_path)
    assert [r.value for r in _drain(again)] == [b"0", b"1", b"2"]
    assert seg.stat().st_size == size_with_tail - 9
    again.append("t", b"k", b"3")
    assert [r.value for r in _drain(again)] == [b"3"]
    again.close()


def test_corrupt_record_stops_the_scan(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("t", b"k", b"good")
    spool.append("t", b"k", b"flip")
    spool.close()
    seg = next(tmp_path.glob("*.seg"))
    data = bytearray(seg.read_bytes())
    data[-1] ^= 0xFF
    seg.write_bytes(bytes(data))
    again = Spool(tmp_path)
    assert [r.value for r in _drain(again)] == [b"good"]
    again.close()


def test_close_twice_is_safe(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.close()
    spool.close()
    with pytest.raises(RuntimeError, match="closed"):
        spool.append("t", b"k", b"v")


def test_survives_a_killed_writer_process(tmp_path: Path) -> None:
    """A child appends and is SIGKILLed without closing; the parent replays everything."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            s = Spool(tmp_path)
            for i in range(1000):
                s.append("t", b"k", b"%d" % i)
        finally:
            os.kill(os.getpid(), 9)
    os.waitpid(pid, 0)
    again = Spool(tmp_path)
    assert [r.value for r in _drain(again)] == [b"%d" % i for i in range(1000)]
    again.close()


def test_a_record_above_the_read_chunk_comes_back_whole(tmp_path: Path) -> None:
    # a DLQ record carries a rejected input whole: 14 MiB, above the 8 MiB read chunk
    spool = Spool(tmp_path, segment_bytes=1 << 20)
    big = bytes(range(256)) * (14 * 4096)
    spool.append("t", b"k", b"small")
    spool.append("t", b"k", big)
    spool.append("t", b"k", b"after")
    assert [r.value for r in _drain(spool)] == [b"small", big, b"after"]
    spool.close()
    reopened = Spool(tmp_path, segment_bytes=1 << 20)
    assert reopened.status().pending_records == 3
    assert [r.value for r in _drain(reopened)] == [b"small", big, b"after"]
    reopened.close()
