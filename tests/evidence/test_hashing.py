"""The hash primitives against hand-built values (hashlib directly, RFC 6962 definitions)."""

from __future__ import annotations

import hashlib

import pytest

from evidence.hashing import (
    GENESIS,
    canonical,
    chain_hash,
    merkle_proof,
    merkle_root,
    verify_proof,
)


def h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def test_empty_tree_is_hash_of_empty_string() -> None:
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_three_leaves_split_at_largest_power_of_two() -> None:
    leaves = [h(bytes([i])).hex() for i in range(3)]
    raw = [bytes.fromhex(x) for x in leaves]
    l0, l1, l2 = (h(b"\x00" + r) for r in raw)
    # RFC 6962: MTH(d0,d1,d2) = H(0x01 || MTH(d0,d1) || MTH(d2)), MTH(d0,d1) = H(0x01||l0||l1)
    expected = h(b"\x01" + h(b"\x01" + l0 + l1) + l2).hex()
    assert merkle_root(leaves) == expected


def test_chain_hash_is_sha256_of_concatenated_digests() -> None:
    bh = h(b"batch").hex()
    assert chain_hash(GENESIS, bh) == h(bytes(32) + bytes.fromhex(bh)).hex()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_every_audit_path_verifies_and_a_wrong_leaf_does_not(n: int) -> None:
    leaves = [h(str(i).encode()).hex() for i in range(n)]
    root = merkle_root(leaves)
    for i in range(n):
        proof = merkle_proof(leaves, i)
        assert verify_proof(leaves[i], i, n, proof, root)
        assert not verify_proof(h(b"other").hex(), i, n, proof, root)


def test_canonical_form_sorts_keys_and_keeps_float_digits() -> None:
    assert canonical({"b": 0.1, "a": [1, "能"]}) == '{"a":[1,"能"],"b":0.1}'.encode()
