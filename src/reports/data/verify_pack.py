"""Standalone check of a Nengtan verification pack (Python 3 standard library only).

Run in the unpacked pack: ``python3 verify_pack.py``. It recomputes, from the files of the pack
and nothing else: each emission record's row hash (it must equal the leaf hash listed with it),
each listed leaf's Merkle audit path up to the root of its seal (RFC 6962 hashing; the pack
holds only this enterprise's leaves, so inclusion is shown by the path, not by the seal's other
leaves), every seal's header hash and the seal chain, and the chain hash of every raw batch
listed. It prints one line per check, names every leaf whose path misses its root, and exits 1
if any fails.
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


def leaf_root(leaf_hex: str, path: list[list[str]]) -> str:
    """The root a leaf hashes up to along its audit path ([side, sibling hash] from the leaf up:
    leaf SHA-256(0x00 || leaf), node SHA-256(0x01 || left || right))."""
    cur = hashlib.sha256(b"\x00" + bytes.fromhex(leaf_hex)).digest()
    for side, sibling in path:
        sib = bytes.fromhex(sibling)
        if side == "left":
            cur = hashlib.sha256(b"\x01" + sib + cur).digest()
        elif side == "right":
            cur = hashlib.sha256(b"\x01" + cur + sib).digest()
        else:
            raise ValueError(f"side {side!r}")
    return cur.hex()


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

    leaf_rows = rows("evidence_leaves.csv")
    listed = {r["record_key"] for r in leaf_rows}
    by_key = {r["record_key"]: r["leaf_hash"] for r in leaf_rows}
    n = bad = 0
    for r in rows("lineage_emission_records.csv"):
        row = {"source": r["source"], "enterprise": r["enterprise"], "category": r["category"],
               "scope": int(r["scope"]), "start_ms": int(r["start_ms"]), "end_ms": int(r["end_ms"]),
               "co2e_t": float(r["co2e_t"]), "gases": json.loads(r["gases"]),
               "factor_id": r["factor_id"], "method": r["method"]}  # fmt: skip
        if r["record_key"] not in listed:
            if r.get("seal_id"):
                bad += 1
                report(False, f"emission record {r['record_key']}: sealed (seal #{r['seal_id']})"
                              " but its leaf is not in evidence_leaves.csv")  # fmt: skip
            continue
        n += 1
        if hashlib.sha256(canonical(row)).hexdigest() != by_key[r["record_key"]]:
            bad += 1
            report(False, f"emission record {r['record_key']}: row hash differs from its leaf")
    report(bad == 0, f"{n} emission records hash to their sealed leaves")
    prev: dict[tuple[str, str], str] = {}
    roots: dict[str, str] = {}
    for s in rows("evidence_roots.csv"):
        header = {"kind": s["kind"], "scope": s["scope"], "range_from": int(s["range_from"]),
                  "range_to": int(s["range_to"]), "n_leaves": int(s["n_leaves"]), "root": s["root"],
                  "prev": s["prev_seal_hash"]}  # fmt: skip
        ok = hashlib.sha256(canonical(header)).hexdigest() == s["seal_hash"]
        key = (s["kind"], s["scope"])
        if key in prev:
            ok = ok and prev[key] == s["prev_seal_hash"]
        prev[key] = s["seal_hash"]
        roots[s["seal_id"]] = s["root"]
        report(ok, f"seal #{s['seal_id']} {s['kind']} {s['scope']} root {s['root'][:16]}…")
    bad = 0
    for r in leaf_rows:
        try:
            ok = leaf_root(r["leaf_hash"], json.loads(r["audit_path"])) == roots.get(r["seal_id"])
        except (ValueError, TypeError):
            ok = False
        if not ok:
            bad += 1
            report(False, f"leaf {r['record_key']} (seal #{r['seal_id']}, ord {r['ord']}):"
                          " its audit path does not give the seal's root")  # fmt: skip
    report(bad == 0, f"{len(leaf_rows)} leaves are in their seals' roots (audit paths)")
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
