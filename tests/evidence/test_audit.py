"""Audit paths with explicit sides against the seal's Merkle root (evidence.hashing)."""

from __future__ import annotations

import hashlib

import pytest

from evidence.audit import LEFT, RIGHT, audit_path, audit_paths, root_from_path, verify_path
from evidence.hashing import merkle_root


def leaves(n: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", range(1, 34))
def test_every_leaf_of_trees_of_1_to_33_leaves_verifies(n: int) -> None:
    ls = leaves(n)
    root = merkle_root(ls)
    paths = audit_paths(ls, range(n))
    for i in range(n):
        assert paths[i] == audit_path(ls, i)
        assert root_from_path(ls[i], paths[i]) == root
        assert verify_path(ls[i], paths[i], root)


@pytest.mark.parametrize("n", [2, 3, 7, 16, 33])
def test_a_changed_leaf_sibling_or_side_fails(n: int) -> None:
    ls = leaves(n)
    root = merkle_root(ls)
    other = hashlib.sha256(b"other").hexdigest()
    for i in range(n):
        path = audit_path(ls, i)
        assert not verify_path(other, path, root)
        for j, (side, sib) in enumerate(path):
            flipped = [*path[:j], (RIGHT if side == LEFT else LEFT, sib), *path[j + 1 :]]
            assert not verify_path(ls[i], flipped, root)
            changed = [*path[:j], (side, other), *path[j + 1 :]]
            assert not verify_path(ls[i], changed, root)
        assert not verify_path(ls[i], path[:-1], root)


def test_a_single_leaf_tree_has_an_empty_path_and_the_leaf_is_hashed() -> None:
    ls = leaves(1)
    assert audit_path(ls, 0) == []
    assert merkle_root(ls) != ls[0]


def test_first_step_is_the_hashed_sibling_never_its_raw_leaf() -> None:
    ls = leaves(4)
    side, sib = audit_path(ls, 0)[0]
    assert side == RIGHT
    assert sib == hashlib.sha256(b"\x00" + bytes.fromhex(ls[1])).hexdigest() != ls[1]


def test_malformed_paths_and_indices_are_refused() -> None:
    ls = leaves(3)
    root = merkle_root(ls)
    assert not verify_path(ls[0], [("up", "00" * 32)], root)
    assert not verify_path(ls[0], [(LEFT, "zz")], root)
    with pytest.raises(ValueError, match="side 'up'"):
        root_from_path(ls[0], [("up", "00" * 32)])
    with pytest.raises(IndexError, match="leaf 3 not in a tree of 3"):
        audit_path(ls, 3)
