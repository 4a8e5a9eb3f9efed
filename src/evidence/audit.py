"""Merkle audit paths as explicit ``[side, hash]`` steps, for packs that show a verifier only
some leaves of a seal.

A verification pack for one enterprise must not list the other enterprises' records that share
its seals, yet the verifier still has to see that each of its own records is inside a sealed
root. An audit path gives exactly that: the sibling hashes from the leaf up to the root, each
marked ``"left"`` or ``"right"`` (the side the sibling sits on), so the root is recomputed with
nothing but SHA-256 and no index arithmetic. The tree is the one of
:func:`evidence.hashing.merkle_root` (RFC 6962: leaf ``SHA-256(0x00 || d)``, node
``SHA-256(0x01 || left || right)``, left subtree the largest power of two below n). Siblings
are subtree hashes, never another record's leaf value (even a single-leaf sibling is
``SHA-256(0x00 || d)``), so a path reveals nothing readable about its neighbours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from evidence.hashing import leaf_hash

LEFT = "left"
RIGHT = "right"

Step = tuple[str, str]
"""``(side, sibling hash hex)``: the sibling is on ``side`` of the running hash."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def audit_paths(leaves_hex: Sequence[str], indices: Iterable[int]) -> dict[int, list[Step]]:
    """The audit path (leaf to root) of each leaf in ``indices``, computing every node of the
    tree once: a seal of n leaves costs O(n) however many of its leaves are asked for."""
    n = len(leaves_hex)
    want = sorted(set(indices))
    for i in want:
        if not 0 <= i < n:
            raise IndexError(f"leaf {i} not in a tree of {n}")
    paths: dict[int, list[Step]] = {i: [] for i in want}
    if not want:
        return paths
    raw = [bytes.fromhex(h) for h in leaves_hex]

    def walk(lo: int, hi: int, ws: list[int]) -> bytes:
        if hi - lo == 1:
            return leaf_hash(raw[lo])
        mid = lo + _split(hi - lo)
        left_ws = [i for i in ws if i < mid]
        right_ws = [i for i in ws if i >= mid]
        left, right = walk(lo, mid, left_ws), walk(mid, hi, right_ws)
        for i in left_ws:
            paths[i].append((RIGHT, right.hex()))
        for i in right_ws:
            paths[i].append((LEFT, left.hex()))
        return _node(left, right)

    walk(0, n, want)
    return paths


def audit_path(leaves_hex: Sequence[str], index: int) -> list[Step]:
    """The audit path of one leaf."""
    return audit_paths(leaves_hex, [index])[index]


def root_from_path(leaf_hex: str, path: Sequence[Sequence[str]]) -> str:
    """The root a leaf and its path hash up to; ``ValueError`` for a side that is neither
    ``"left"`` nor ``"right"`` or a hash that is not hex."""
    cur = leaf_hash(bytes.fromhex(leaf_hex))
    for step in path:
        if len(step) != 2:
            raise ValueError(f"audit path step {list(step)!r}: expected [side, hash]")
        side, sibling = step
        sib = bytes.fromhex(sibling)
        if side == LEFT:
            cur = _node(sib, cur)
        elif side == RIGHT:
            cur = _node(cur, sib)
        else:
            raise ValueError(f"audit path side {side!r}: expected {LEFT!r} or {RIGHT!r}")
    return cur.hex()


def verify_path(leaf_hex: str, path: Sequence[Sequence[str]], root_hex: str) -> bool:
    """Whether the leaf and its path give ``root_hex`` (a malformed path does not)."""
    try:
        return root_from_path(leaf_hex, path) == root_hex
    except ValueError:
        return False
