"""Standalone check of a Nengtan verification pack (Python 3 standard library only).

Run in the unpacked pack: ``python3 verify_pack.py``. It recomputes, from the files of the pack
and nothing else: each emission record's row hash (it must equal the leaf hash listed with it),
the Merkle root of every sealed period from its leaves (RFC 6962), every seal's header hash and
the seal chain, and the chain hash of every raw batch listed. It prints one line per check and
exits 1 if any fails.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")  # fmt: skip


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def rows(name: str) -> list[dict[str, str]]:
    path = Path(name)
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def main() -> int:
    failures = 0

    def report(ok: bool, what: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(("ok    " if ok else "FAIL  ") + what)

    leaves: dict[str, list[tuple[int, str, str]]] = {}
    for r in rows("evidence_leaves.csv"):
        leaves.setdefault(r["seal_id"], []).append((int(r["ord"]), r["record_key"], r["leaf_hash"]))
    listed = {k for ls in leaves.values() for _, k, _ in ls}
    by_key = {k: h for ls in leaves.values() for _, k, h in ls}
    n = bad = 0
    for r in rows("lineage_emission_records.csv"):
        row = {"source": r["source"], "enterprise": r["enterprise"], "category": r["category"],
               "scope": int(r["scope"]), "start_ms": int(r["start_ms"]), "end_ms": int(r["end_ms"]),
               "co2e_t": float(r["co2e_t"]), "gases": json.loads(r["gases"]),
               "factor_id": r["factor_id"], "method": r["method"]}  # fmt: skip
        if r["record_key"] not in listed:
            continue
        n += 1
        if hashlib.sha256(canonical(row)).hexdigest() != by_key[r["record_key"]]:
            bad += 1
            report(False, f"emission record {r['record_key']}: row hash differs from its leaf")
    report(bad == 0, f"{n} emission records hash to their sealed leaves")
    prev: dict[tuple[str, str], str] = {}
    for s in rows("evidence_roots.csv"):
        header = {"kind": s["kind"], "scope": s["scope"], "range_from": int(s["range_from"]),
                  "range_to": int(s["range_to"]), "n_leaves": int(s["n_leaves"]), "root": s["root"],
                  "prev": s["prev_seal_hash"]}  # fmt: skip
        ok = hashlib.sha256(canonical(header)).hexdigest() == s["seal_hash"]
        key = (s["kind"], s["scope"])
        if key in prev:
            ok = ok and prev[key] == s["prev_seal_hash"]
        prev[key] = s["seal_hash"]
        if s["seal_id"] in leaves:
            ls = [bytes.fromhex(h) for _, _, h in sorted(leaves[s["seal_id"]])]
            ok = ok and mth(ls).hex() == s["root"] and len(ls) == int(s["n_leaves"])
        report(ok, f"seal #{s['seal_id']} {s['kind']} {s['scope']} root {s['root'][:16]}…")
    bad = 0
    batches = rows("evidence_batches.csv")
    for b in batches:
        chain = hashlib.sha256(bytes.fromhex(b["prev_chain"]) + bytes.fromhex(b["batch_hash"]))
        if chain.hexdigest() != b["chain_hash"]:
            bad += 1
            report(False, f"batch {b['device']} seq {b['seq']}: chain hash")
    report(bad == 0, f"{len(batches)} raw batches chain correctly")
    print("RESULT:", "OK" if failures == 0 else f"{failures} check(s) FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
