"""The raw-batch ledger: every record on ``nt.readings.v1`` kept as its exact bytes, hashed,
chained per source and sealed in blocks.

A batch's hash is ``SHA-256`` of the record value exactly as Kafka delivered it (not a re-encoding),
so anyone holding the topic can recompute it. Sources are the record keys (the device): one
device's batches share a partition, so partition-offset order is the order they were accepted,
and ``chain_hash = SHA-256(prev_chain_hash || batch_hash)`` links each to all before it.

Blocks are aligned on offsets (block ``b`` of a partition holds offsets ``[b*N, (b+1)*N)``); a
block is sealed when a later offset shows it is complete, or on a flush (an idle period or the
operator's ``--flush``). Replaying the same topic therefore reproduces every batch and chain
hash, and every root of a complete block; only where a flush cut a block differs.

Appends are idempotent: offsets already stored are skipped, so the consumer can re-read after a
crash. The consumer's position is the ledger itself (next offset per partition), committed in
the same transaction as the batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence import events
from evidence.hashing import GENESIS, chain_hash, merkle_root, sha256_hex
from evidence.seals import Conn, Seal, insert_seal
from ingest.contract import TOPIC_READINGS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MANUAL_PREFIX = "manual:"
"""Device prefix of manually entered batches (``ingest.manual``): the suffix is who entered them."""

DEFAULT_BLOCK = 1000
"""Batches per sealed block (per partition)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One Kafka record of the readings topic, as delivered."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes


def describe(rec: RawRecord) -> tuple[str, int | None, int | None]:
    """(source, seq, sent_ms) of a record: the source is its key (the device); seq and sent_ms
    are read from the batch when it parses (an unreadable record is still evidence)."""
    seq: int | None = None
    sent_ms: int | None = None
    device: str | None = rec.key.decode("utf-8", "replace") if rec.key else None
    try:
        obj: Any = json.loads(rec.value)
        if isinstance(obj, dict):
            if isinstance(obj.get("seq"), int):
                seq = obj["seq"]
            if isinstance(obj.get("sent_ms"), int):
                sent_ms = obj["sent_ms"]
            if device is None and isinstance(obj.get("device"), str):
                device = obj["device"]
    except ValueError:
        pass
    return device or "(unkeyed)", seq, sent_ms


class Ledger:
    """Appends and seals raw batches of one topic (one writer at a time: see ``lock``)."""

    def __init__(self, conn: Conn, topic: str = TOPIC_READINGS, block: int = DEFAULT_BLOCK) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self.conn = conn
        self.topic = topic
        self.block = block

    def lock(self) -> bool:
        """Take the session advisory lock that makes this the only ledger writer."""
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(hashtext('nengtan.evidence.ledger'))"
        ).fetchone()
        return bool(row and row[0])

    def next_offsets(self) -> dict[int, int]:
        """Partition -> the next offset to read (one past the newest stored)."""
        rows = self.conn.execute(
            'SELECT "partition", next_offset FROM evidence_positions WHERE topic = %s',
            (self.topic,),
        ).fetchall()
        return {int(p): int(o) for p, o in rows}

    def append(self, records: Iterable[RawRecord]) -> int:
        """Hash, chain and store the records not stored yet; returns how many were new."""
        ordered = sorted(records, key=lambda r: (r.partition, r.offset))
        if not ordered:
            return 0
        with self.conn.transaction():
            nxt = self.next_offsets()
            heads: dict[str, tuple[str, int]] = {}
            wanted = sorted({describe(r)[0] for r in ordered})
            for device, h, n in self.conn.execute(
                "SELECT device, chain_hash, n_batches FROM evidence_heads WHERE device = ANY(%s)",
                (wanted,),
            ).fetchall():
                heads[device] = (h, int(n))
            rows: list[tuple[Any, ...]] = []
            manual: list[tuple[str, int | None, int | None, str, RawRecord]] = []
            for rec in ordered:
                if rec.offset < nxt.get(rec.partition, 0):
                    continue
                nxt[rec.partition] = rec.offset + 1
                device, seq, sent_ms = describe(rec)
                prev, n = heads.get(device, (GENESIS, 0))
                bh = sha256_hex(rec.value)
                ch = chain_hash(prev, bh)
                heads[device] = (ch, n + 1)
                if device.startswith(MANUAL_PREFIX):
                    manual.append((device, seq, sent_ms, bh, rec))
                rows.append((self.topic, rec.partition, rec.offset, device, seq, sent_ms,
                             rec.value, bh, prev, ch))  # fmt: skip
            if not rows:
                return 0
            with self.conn.cursor() as cur:
                with cur.copy(
                    'COPY evidence_batches (topic, "partition", "offset", device, seq, sent_ts,'
                    " payload, batch_hash, prev_chain, chain_hash) FROM STDIN"
                ) as copy:
                    for r in rows:
                        sent = None if r[5] is None else _EPOCH + timedelta(milliseconds=r[5])
                        copy.write_row((*r[:5], sent, *r[6:]))
                cur.executemany(
                    "INSERT INTO evidence_heads (device, chain_hash, n_batches) VALUES (%s, %s, %s)"
                    " ON CONFLICT (device) DO UPDATE SET chain_hash = EXCLUDED.chain_hash,"
                    " n_batches = EXCLUDED.n_batches",
                    [(d, h, n) for d, (h, n) in heads.items()],
                )
                cur.executemany(
                    'INSERT INTO evidence_positions (topic, "partition", next_offset)'
                    " VALUES (%s, %s, %s) ON CONFLICT (topic, \"partition\")"
                    " DO UPDATE SET next_offset = EXCLUDED.next_offset",
                    [(self.topic, p, o) for p, o in nxt.items()],
                )
            for device, seq, sent_ms, bh, rec in manual:
                events.record(self.conn, "manual_entry", device, device[len(MANUAL_PREFIX):],
                              "manual entry (手工填报) published as a reading batch",
                              {"topic": self.topic, "partition": rec.partition,
                               "offset": rec.offset, "seq": seq, "batch_hash": bh},
                              sent_ms)  # fmt: skip
        return len(rows)

    def seal(self, *, flush: bool = False) -> list[Seal]:
        """Seal every complete block (and, with ``flush``, the incomplete tails too)."""
        made: list[Seal] = []
        with self.conn.transaction():
            parts = self.conn.execute(
                'SELECT DISTINCT "partition" FROM evidence_batches'
                " WHERE topic = %s AND seal_id IS NULL ORDER BY 1",
                (self.topic,),
            ).fetchall()
            for (partition,) in parts:
                made.extend(self._seal_partition(int(partition), flush))
        return made

    def _seal_partition(self, partition: int, flush: bool) -> list[Seal]:
        rows = self.conn.execute(
            'SELECT "offset", chain_hash FROM evidence_batches WHERE topic = %s'
            ' AND "partition" = %s AND seal_id IS NULL ORDER BY "offset"',
            (self.topic, partition),
        ).fetchall()
        top = self.next_offsets().get(partition, 0) - 1
        blocks: dict[int, list[tuple[int, str]]] = {}
        for off, ch in rows:
            blocks.setdefault(int(off) // self.block, []).append((int(off), ch))
        made = []
        for b, items in sorted(blocks.items()):
            complete = top >= (b + 1) * self.block - 1
            if not (complete or flush):
                continue
            root = merkle_root([ch for _, ch in items])
            seal = insert_seal(self.conn, "readings", f"{self.topic}/{partition}",
                               items[0][0], items[-1][0], len(items), root)  # fmt: skip
            self.conn.execute(
                "UPDATE evidence_batches SET seal_id = %s WHERE topic = %s"
                ' AND "partition" = %s AND "offset" BETWEEN %s AND %s AND seal_id IS NULL',
                (seal.seal_id, self.topic, partition, items[0][0], items[-1][0]),
            )
            made.append(seal)
        return made
