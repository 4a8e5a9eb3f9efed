"""The verification pack of one enterprise in a two-enterprise park: only its own leaves, each
with an audit path that the pack's own check recomputes to the seal's root."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from pathlib import Path

import psycopg
import pytest

from evidence.audit import verify_path
from reports.model import build_report
from reports.pack import build_pack
from reports.snapshots import issue

pytestmark = pytest.mark.integration


def _files(zip_path: Path) -> dict[str, bytes]:
    """Every file of the pack, and every member of the Office files in it (deflated inside)."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(zip_path) as z:
        for name in z.namelist():
            data = z.read(name)
            out[name] = data
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    out.update({f"{name}!{n}": inner.read(n) for n in inner.namelist()})
    return out


def _pack(conn: psycopg.Connection[tuple[object, ...]], out: Path) -> dict[str, object]:
    body, _ = issue(conn, build_report(conn, "acme", 2026), "alice", None)
    return build_pack(conn, body, out)


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_pack_holds_none_of_another_enterprises_leaves_and_its_paths_verify(
    filled: str, tmp_path: Path
) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        result = _pack(conn, tmp_path / "pack.zip")
        leaves = conn.execute("SELECT seal_id, record_key, leaf_hash FROM evidence_leaves").fetchall()
    theirs = [(sid, k, h) for sid, k, h in leaves if "hengli" in k]
    ours = {k for _, k, _ in leaves if "hengli" not in k}
    assert theirs and ours
    # the two enterprises share seals: their leaves sit in the trees the pack's paths go through
    assert {sid for sid, _, _ in theirs} & {sid for sid, k, _ in leaves if k in ours}
    assert result["ok"] and result["pack_script_ok"]
    files = _files(tmp_path / "pack.zip")
    for name, data in files.items():
        for _, key, leaf in theirs:
            assert key.encode() not in data, f"{name} holds {key}"
            assert leaf.encode() not in data, f"{name} holds the leaf hash of {key}"
        assert b"hengli" not in data, name
    listed = _csv(files["acme-2026/evidence_leaves.csv"])
    assert {r["record_key"] for r in listed} == ours
    roots = {r["seal_id"]: r["root"] for r in _csv(files["acme-2026/evidence_roots.csv"])}
    for r in listed:
        assert verify_path(r["leaf_hash"], json.loads(r["audit_path"]), roots[r["seal_id"]]), r
    out = files["acme-2026/verify_pack_output.txt"].decode()
    assert f"{len(ours)} leaves are in their seals' roots (audit paths)" in out
    assert "RESULT: OK" in out


def test_pack_check_names_a_tampered_leaf_and_a_tampered_path(filled: str, tmp_path: Path) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        _pack(conn, tmp_path / "pack.zip")
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        z.extractall(tmp_path / "x")
    d = tmp_path / "x" / "acme-2026"
    path = d / "evidence_leaves.csv"
    rows = _csv(path.read_bytes())
    cons = [r for r in rows if r["record_key"].startswith("consumption:")]
    leaf, sibling = cons[0], cons[1]
    leaf["leaf_hash"] = "0" * 64
    steps = json.loads(sibling["audit_path"])
    steps[-1][0] = "left" if steps[-1][0] == "right" else "right"
    sibling["audit_path"] = json.dumps(steps)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    run = subprocess.run(["python3", "verify_pack.py"], cwd=d, capture_output=True, text=True)
    assert run.returncode == 1
    failed = [ln for ln in run.stdout.splitlines() if ln.startswith("FAIL")]
    assert failed[:2] == [
        f"FAIL  leaf {r['record_key']} (seal #{r['seal_id']}, ord {r['ord']}): its audit path"
        " does not give the seal's root" for r in (leaf, sibling)
    ]
    assert failed[2] == f"FAIL  {len(rows)} leaves are in their seals' roots (audit paths)"


def test_pack_lists_only_its_own_verification_problems(filled: str, tmp_path: Path) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        conn.execute("UPDATE emissions SET co2e_t = co2e_t * 2 WHERE source = 'hengli.grid.kwh'"
                     " AND start_ts = (SELECT min(start_ts) FROM emissions)")  # fmt: skip
        result = _pack(conn, tmp_path / "pack.zip")
    assert not result["ok"] and "hengli.grid.kwh" in str(result["first_broken_link"])
    files = _files(tmp_path / "pack.zip")
    shown = json.loads(files["acme-2026/verify.json"])
    assert not shown["ok"] and shown["problems"] == [] and shown["problems_withheld"] == 1
    assert not any(b"hengli" in data for data in files.values())
