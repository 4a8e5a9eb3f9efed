"""Seals: a Merkle root over a block of leaves, chained to the previous seal of its kind.

``seal_hash`` commits to the header (kind, scope, range, count, root) and to the previous
seal's hash, so deleting, reordering or editing a whole seal breaks the chain just as editing
one leaf breaks a root. It is the value an external notary anchors (published on
``nt.evidence.roots.v1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from evidence.hashing import GENESIS, canonical, sha256_hex

Conn = psycopg.Connection[tuple[Any, ...]]
TOPIC_ROOTS = "nt.evidence.roots.v1"
ROOTS_SCHEMA = "nt.evidence.roots/1"


@dataclass(frozen=True, slots=True)
class Seal:
    """One stored seal (``range_from``/``range_to``: offsets, or epoch ms of a period)."""

    seal_id: int
    kind: str
    scope: str
    range_from: int
    range_to: int
    n_leaves: int
    root: str
    prev_seal_hash: str
    seal_hash: str

    def message(self, sealed_ms: int) -> dict[str, Any]:
        """The record published on ``nt.evidence.roots.v1``."""
        return {
            "schema": ROOTS_SCHEMA,
            "seal_id": self.seal_id,
            "kind": self.kind,
            "scope": self.scope,
            "range_from": self.range_from,
            "range_to": self.range_to,
            "n_leaves": self.n_leaves,
            "root": self.root,
            "prev_seal_hash": self.prev_seal_hash,
            "seal_hash": self.seal_hash,
            "sealed_ms": sealed_ms,
        }


def seal_hash_of(kind: str, scope: str, range_from: int, range_to: int, n_leaves: int,
                 root: str, prev_seal_hash: str) -> str:  # fmt: skip
    """The hash of a seal header (what verification recomputes)."""
    return sha256_hex(
        canonical(
            {
                "kind": kind,
                "scope": scope,
                "range_from": range_from,
                "range_to": range_to,
                "n_leaves": n_leaves,
                "root": root,
                "prev": prev_seal_hash,
            }
        )
    )


def last_seal(conn: Conn, kind: str, scope: str) -> Seal | None:
    """The newest seal of ``(kind, scope)``."""
    row = conn.execute(
        f"SELECT {_COLS} FROM evidence_seals WHERE kind = %s AND scope = %s"
        " ORDER BY seal_id DESC LIMIT 1",
        (kind, scope),
    ).fetchone()
    return None if row is None else Seal(*row)


def insert_seal(conn: Conn, kind: str, scope: str, range_from: int, range_to: int,
                n_leaves: int, root: str) -> Seal:  # fmt: skip
    """Store a seal chained to the last one of its kind and scope (caller holds the transaction)."""
    prev = last_seal(conn, kind, scope)
    prev_hash = GENESIS if prev is None else prev.seal_hash
    h = seal_hash_of(kind, scope, range_from, range_to, n_leaves, root, prev_hash)
    row = conn.execute(
        "INSERT INTO evidence_seals (kind, scope, range_from, range_to, n_leaves, root,"
        " prev_seal_hash, seal_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        f" RETURNING {_COLS}",
        (kind, scope, range_from, range_to, n_leaves, root, prev_hash, h),
    ).fetchone()
    assert row is not None
    return Seal(*row)


def seals(conn: Conn, kind: str | None = None) -> list[Seal]:
    """Stored seals in id order (optionally of one kind)."""
    rows = conn.execute(
        f"SELECT {_COLS} FROM evidence_seals WHERE (%(k)s::text IS NULL OR kind = %(k)s)"
        " ORDER BY seal_id",
        {"k": kind},
    ).fetchall()
    return [Seal(*r) for r in rows]


def unpublished(conn: Conn) -> list[tuple[Seal, int]]:
    """Seals not yet published, with their sealing time (epoch ms)."""
    rows = conn.execute(
        f"SELECT {_COLS}, (extract(epoch FROM sealed_at) * 1000)::bigint FROM evidence_seals"
        " WHERE published_at IS NULL ORDER BY seal_id"
    ).fetchall()
    return [(Seal(*r[:9]), int(r[9])) for r in rows]


def mark_published(conn: Conn, seal_ids: list[int]) -> None:
    """Record that the seals were acknowledged by Kafka."""
    conn.execute(
        "UPDATE evidence_seals SET published_at = now() WHERE seal_id = ANY(%s)", (seal_ids,)
    )


_COLS = (
    "seal_id, kind, scope, range_from, range_to, n_leaves, root, prev_seal_hash, seal_hash"
)
