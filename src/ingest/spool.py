"""Store-and-forward spool: a bounded, ordered, on-disk log of records waiting for Kafka.

Every record an adapter produces is appended here *before* it is handed to Kafka, and leaves
only when Kafka has acknowledged it (``acks=all``). So a Kafka outage simply lets the spool
grow, a restarted adapter replays what was not acknowledged, and a process killed with SIGKILL
loses nothing: each append is one ``write(2)`` straight to the file (no user-space buffer), so
the kernel holds it the moment ``append`` returns. Against power loss the spool is fsync'd by
``sync()`` (group commit: the publisher calls it every ``fsync_interval_ms``; 0 = every append).

Layout of the spool directory::

    00000000000000000001.seg   records, appended in order; a new segment every segment_bytes
    ack                        "<segment> <offset>": the first record not yet acknowledged

A record is ``>IIHH`` (body length, CRC-32 of body, topic length, key length) followed by the
body: topic, key, value. A torn or corrupt tail (power loss mid-write) is cut off on open.
Replay after a crash may resend records Kafka had acknowledged after the last ``ack`` write:
delivery is at-least-once, and every consumer is idempotent on its natural keys.

Bounded: ``append`` raises ``SpoolFull`` when the segments on disk would exceed ``max_bytes``;
the caller decides (MQTT leaves the message unacknowledged at the broker, pollers count the
cycle as dropped and say so in their status).
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nengtan.errors import NengtanError

_HEADER = struct.Struct(">IIHH")
_SUFFIX = ".seg"
_ACK = "ack"
MAX_RECORD_BYTES = 20 << 20
"""Above the DLQ topic's 16 MiB records (a rejected input kept whole) plus topic and key."""
_READ_CHUNK = 8 << 20
"""Bytes read at a time; a record larger than this is read whole on its own."""


class SpoolFull(NengtanError):
    """The spool reached its size bound; nothing was written."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record starts: segment number and byte offset inside it."""

    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Record:
    """One spooled record and the position just after it (what to acknowledge up to)."""

    topic: str
    key: bytes
    value: bytes
    pos: Position
    next_pos: Position


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    """Fill level for status lines and metrics."""

    pending_records: int
    pending_bytes: int
    disk_bytes: int
    max_bytes: int

    @property
    def fill(self) -> float:
        return self.disk_bytes / self.max_bytes if self.max_bytes else 0.0


def _seg_name(number: int) -> str:
    return f"{number:020d}{_SUFFIX}"


def encode_record(topic: str, key: bytes, value: bytes) -> bytes:
    """The bytes of one record as stored on disk."""
    t = topic.encode("utf-8")
    body = t + key + value
    return _HEADER.pack(len(body), zlib.crc32(body), len(t), len(key)) + body


def _scan(data: bytes, start: int) -> Iterator[tuple[int, int, str, bytes, bytes]]:
    """Valid records in ``data`` from ``start``: (offset, next offset, topic, key, value)."""
    off = start
    size = len(data)
    hsize = _HEADER.size
    while off + hsize <= size:
        length, crc, tlen, klen = _HEADER.unpack_from(data, off)
        end = off + hsize + length
        if end > size or tlen + klen > length:
            return
        body = data[off + hsize : end]
        if zlib.crc32(body) != crc:
            return
        yield off, end, body[:tlen].decode("utf-8"), body[tlen : tlen + klen], body[tlen + klen :]
        off = end


class Spool:
    """The on-disk log. Thread-safe: adapters append from their threads, one sender reads."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 16 << 20,
    ) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one sync at a time: the ack file has one tmp name
        self._new_data = threading.Condition(self._lock)
        self._segments: list[int] = sorted(
            int(p.name[: -len(_SUFFIX)]) for p in self.dir.glob(f"*{_SUFFIX}")
        )
        self._sizes: dict[int, int] = {}
        self._ack = self._read_ack()
        self._acked_written = self._ack
        self._pending_records = 0
        self._pending_bytes = 0
        self._recover()
        if not self._segments:
            self._segments.append(self._ack.segment if self._ack.segment else 1)
            self._sizes[self._segments[-1]] = 0
        tail = self._segments[-1]
        self._fd = self._open_segment(tail)
        self._dirty = False
        # the sender's read cursor; starts at the acknowledged position
        self._cursor = self._ack
        self._closed = False

    # -- opening -------------------------------------------------------------------------------
    def _read_ack(self) -> Position:
        path = self.dir / _ACK
        try:
            seg, off = path.read_text(encoding="ascii").split()
            return Position(int(seg), int(off))
        except (FileNotFoundError, ValueError):
            first = self._segments[0] if self._segments else 1
            return Position(first, 0)

    def _recover(self) -> None:
        """Drop acknowledged segments, cut a torn tail, count what is pending."""
        keep: list[int] = []
        for number in self._segments:
            path = self.dir / _seg_name(number)
            if number < self._ack.segment:
                path.unlink(missing_ok=True)
                continue
            data = path.read_bytes()
            good_end = 0
            start = self._ack.offset if number == self._ack.segment else 0
            if number == self._ack.segment and start > len(data):
                start = len(data)
            for _off, end, _t, _k, _v in _scan(data, 0):
                good_end = end
                if _off >= start:
                    self._pending_records += 1
                    self._pending_bytes += end - _off
            if good_end < len(data):
                with open(path, "r+b") as fh:
                    fh.truncate(good_end)
                    fh.flush()
                    os.fsync(fh.fileno())
            self._sizes[number] = good_end
            keep.append(number)
        self._segments = keep
        if self._segments and self._ack.segment < self._segments[0]:
            self._ack = Position(self._segments[0], 0)

    # -- writing -------------------------------------------------------------------------------
    def append(self, topic: str, key: bytes, value: bytes) -> None:
        """Append one record (one ``write(2)``); raises ``SpoolFull`` at the bound."""
        data = encode_record(topic, key, value)
        if len(data) > MAX_RECORD_BYTES:
            raise ValueError(f"record of {len(data)} bytes exceeds {MAX_RECORD_BYTES}")
        with self._lock:
            if self._closed:
                raise RuntimeError("spool is closed")
            disk = sum(self._sizes.values())
            if disk + len(data) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.dir} is full ({disk} of {self.max_bytes} bytes); Kafka has "
                    "not acknowledged older records"
                )
            tail = self._segments[-1]
            if self._sizes[tail] and self._sizes[tail] + len(data) > self.segment_bytes:
                tail = self._roll()
            written = os.write(self._fd, data)
            while written < len(data):  # regular files write fully; loop for safety
                written += os.write(self._fd, data[written:])
            self._sizes[tail] += len(data)
            self._pending_records += 1
            self._pending_bytes += len(data)
            self._dirty = True
            self._new_data.notify_all()

    def _roll(self) -> int:
        os.fsync(self._fd)
        os.close(self._fd)
        number = self._segments[-1] + 1
        self._segments.append(number)
        self._sizes[number] = 0
        self._fd = self._open_segment(number)
        self._fsync_dir()
        return number

    def _open_segment(self, number: int) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        return os.open(self.dir / _seg_name(number), flags, 0o644)

    def _fsync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sync(self) -> None:
        """fsync what was appended since the last call, and persist the ack position.

        Safe from several threads (the sender's group commit, an adapter that needs its
        appends durable before it records progress elsewhere)."""
        with self._sync_lock:
            self._sync()

    def _sync(self) -> None:
        with self._lock:
            if self._closed:
                return
            fd = self._fd if self._dirty else None
            self._dirty = False
            ack = self._ack
        if fd is not None:
            with contextlib.suppress(OSError):  # the segment may have rolled (already fsync'd)
                os.fsync(fd)
        if ack != self._acked_written:
            self._write_ack(ack)

    def _write_ack(self, ack: Position) -> None:
        tmp = self.dir / f"{_ACK}.tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(f"{ack.segment} {ack.offset}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.dir / _ACK)
        self._acked_written = ack
        with self._lock:
            doomed = [n for n in self._segments[:-1] if n < ack.segment]
            for n in doomed:
                self._segments.remove(n)
                del self._sizes[n]
        for n in doomed:
            (self.dir / _seg_name(n)).unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------
    def read(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` records after the read cursor, waiting up to ``timeout_s``."""
        with self._lock:
            if not self._has_unread():
                self._new_data.wait(timeout_s)
        while True:
            with self._lock:
                if not self._has_unread():
                    return []
                cursor = self._cursor
                end = self._sizes.get(cursor.segment, 0)
                if cursor.offset >= end:
                    # finished a rolled segment: move on to the next one
                    following = self._segments[self._segments.index(cursor.segment) + 1]
                    self._cursor = Position(following, 0)
                    continue
            out = self._read_segment(cursor, end, max_records)
            if out:
                with self._lock:
                    self._cursor = out[-1].next_pos
            return out

    def _read_segment(self, cursor: Position, end: int, max_records: int) -> list[Record]:
        out: list[Record] = []
        with open(self.dir / _seg_name(cursor.segment), "rb") as fh:
            fh.seek(cursor.offset)
            data = fh.read(min(end - cursor.offset, _READ_CHUNK))
            if len(data) >= _HEADER.size:
                first = _HEADER.size + _HEADER.unpack_from(data)[0]
                if len(data) < first <= end - cursor.offset:  # one record above the chunk
                    data += fh.read(first - len(data))
        seg, base = cursor.segment, cursor.offset
        for off, nxt, topic, key, value in _scan(data, 0):
            start, after = Position(seg, base + off), Position(seg, base + nxt)
            out.append(Record(topic, key, value, start, after))
            if len(out) >= max_records:
                break
        return out

    def _has_unread(self) -> bool:
        c = self._cursor
        return c.offset < self._sizes.get(c.segment, 0) or c.segment < self._segments[-1]

    def rewind(self) -> None:
        """Move the read cursor back to the first unacknowledged record (after a send failure)."""
        with self._lock:
            self._cursor = self._ack

    def acknowledge(self, upto: Position, records: int, nbytes: int) -> None:
        """Kafka has every record before ``upto``; they may be discarded."""
        with self._lock:
            if (upto.segment, upto.offset) <= (self._ack.segment, self._ack.offset):
                return
            self._ack = upto
            self._pending_records = max(0, self._pending_records - records)
            self._pending_bytes = max(0, self._pending_bytes - nbytes)

    def status(self) -> SpoolStatus:
        with self._lock:
            return SpoolStatus(
                pending_records=self._pending_records,
                pending_bytes=self._pending_bytes,
                disk_bytes=sum(self._sizes.values()),
                max_bytes=self.max_bytes,
            )

    def close(self) -> None:
        """fsync, persist the ack position and close; safe to call twice."""
        if self._closed:
            return
        self.sync()
        with self._lock:
            self._closed = True
            self._new_data.notify_all()
            os.close(self._fd)
