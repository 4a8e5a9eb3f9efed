"""The hash primitives of the ledger: SHA-256 over exact bytes, per-source chains and RFC 6962
Merkle trees.

Everything here is a pure function of bytes, so anyone holding the raw batches (or the stored
rows) can recompute every hash with a few lines of any language: that is what makes the roots
worth publishing. The Merkle tree follows RFC 6962 (Certificate Transparency, section 2.1):
leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, the left
subtree holding the largest power of two below n leaves; the empty tree is ``SHA-256("")``.
Hashes are carried as lowercase hex strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

GENESIS = "0" * 64
"""The ``prev_chain_hash`` of a source's first batch."""


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    """The one byte form of a JSON-able value that is hashed: sorted keys, no spaces, UTF-8,
    floats in Python's shortest round-trip form (so a value read back from the database hashes
    the same as the value written)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(prev_chain_hex: str, batch_hash_hex: str) -> str:
    """``SHA-256(prev_chain_hash || batch_hash)`` over the raw 32-byte digests."""
    return sha256_hex(bytes.fromhex(prev_chain_hex) + bytes.fromhex(batch_hash_hex))


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


def merkle_root(leaves_hex: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash of the leaves (each a hex digest, hashed as its 32 bytes)."""
    if not leaves_hex:
        return sha256_hex(b"")
    return _mth([bytes.fromhex(h) for h in leaves_hex]).hex()


def merkle_proof(leaves_hex: Sequence[str], index: int) -> list[str]:
    """The audit path of leaf ``index`` (RFC 6962 ``PATH``), bottom-up, as hex: with it and the
    root, one batch can be shown to be in a seal without revealing the others."""
    if not 0 <= index < len(leaves_hex):
        raise IndexError(f"leaf {index} not in a tree of {len(leaves_hex)}")
    raw = [bytes.fromhex(h) for h in leaves_hex]

    def path(m: int, d: Sequence[bytes]) -> list[bytes]:
        if len(d) == 1:
            return []
        k = _split(len(d))
        if m < k:
            return [*path(m, d[:k]), _mth(d[k:])]
        return [*path(m - k, d[k:]), _mth(d[:k])]

    return [p.hex() for p in path(index, raw)]


def verify_proof(leaf_hex: str, index: int, size: int, proof_hex: Sequence[str], root_hex: str) -> bool:
    """Check an audit path from :func:`merkle_proof` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(bytes.fromhex(leaf_hex))
    for p_hex in proof_hex:
        p = bytes.fromhex(p_hex)
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root_hex
