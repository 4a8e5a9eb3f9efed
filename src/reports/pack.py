"""Report files and the verification pack (a zip a verifier can check on their own).

The pack holds the report (PDF, Excel, JSON), the activity data and factor tables, the lineage
of every emission record (consumption intervals, raw readings with their batch and chain
hashes), the CEMS hours with validity flags, manual entries, the evidence roots, the
enterprise's own leaves with their Merkle audit paths (never the other enterprises' leaves that
share its seals) and the batch chain, the output of ``nengtan evidence verify`` over the year
and a standalone ``verify_pack.py`` with the output of running it on the pack's own files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

from evidence.audit import audit_paths
from evidence.lineage import source_lineage
from evidence.seals import Conn
from evidence.verify import verify
from reports.excel import write_excel
from reports.model import year_range_ms
from reports.pdf import write_pdf
from reports.tables import write_csv

FORMATS = ("pdf", "xlsx", "json")


def write_report(body: dict[str, Any], out_dir: Path, formats: tuple[str, ...] = FORMATS,
                 verification: dict[str, Any] | None = None) -> list[Path]:  # fmt: skip
    """Write the report in the formats asked; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ghg-report-{body['entity']['id']}-{body['period']['year']}-r{body.get('revision', 'draft')}"
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
        elif fmt == "xlsx":
            write_excel(body, path)
        elif fmt == "pdf":
            write_pdf(body, path, verification)
        else:
            raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
        paths.append(path)
    return paths


def _dicts(conn: Conn, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def own_leaves(conn: Conn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sealed leaves of ``records`` (lineage rows with ``record_key`` and ``seal_id``), each
    with its audit path to its seal's root as JSON ``[[side, hash], ...]``. The seals' other
    leaves are read to compute the paths but never written: they are other enterprises' records."""
    keys = {str(r["record_key"]) for r in records if r.get("seal_id") is not None}
    seal_ids = sorted({int(r["seal_id"]) for r in records if r.get("seal_id") is not None})
    by_seal: dict[int, list[tuple[int, str, str]]] = {}
    for sid, ord_, key, h in conn.execute(
        "SELECT seal_id, ord, record_key, leaf_hash FROM evidence_leaves WHERE seal_id = ANY(%s)"
        " ORDER BY seal_id, ord",
        (seal_ids,),
    ).fetchall():
        by_seal.setdefault(int(sid), []).append((int(ord_), str(key), str(h)))
    out = []
    for sid, leaves in by_seal.items():
        mine = [i for i, (_, key, _) in enumerate(leaves) if key in keys]
        paths = audit_paths([h for _, _, h in leaves], mine)
        for i in mine:
            ord_, key, h = leaves[i]
            out.append({"seal_id": sid, "ord": ord_, "record_key": key, "leaf_hash": h,
                        "audit_path": json.dumps([list(s) for s in paths[i]], separators=(",", ":"))})  # fmt: skip
    return out


_SHARED_CHECKS = ("seals", "published roots", "factor versions")
"""Checks whose problems name nothing of any one enterprise (seal headers and chains, the
park-wide factor library)."""


def scoped_result(result: dict[str, Any], enterprise: str, detail: dict[str, Any]) -> dict[str, Any]:
    """``nengtan evidence verify`` output as the pack shows it: the park-wide verdict and counts,
    but only the problems that name this enterprise's own records, readings, batches, report or
    a park-wide object; the others are counted in ``problems_withheld``, not listed, since
    their names are other enterprises' record keys, points and devices."""
    keys = {str(r["record_key"]) for k in ("emission_records", "consumption", "cems_hours")
            for r in detail[k] if r.get("record_key")}  # fmt: skip
    points = {str(r["point"]) for r in detail["raw_readings"]}
    devices = {str(r["device"]) for r in detail["raw_readings"] if r.get("device")}

    def mine(p: dict[str, Any]) -> bool:
        rec = str(p["record"])
        if p["check"] in _SHARED_CHECKS or rec in keys or rec.startswith(f"report_snapshots {enterprise} "):
            return True
        if rec.startswith("readings_raw point="):
            return rec.removeprefix("readings_raw point=").rsplit(" ts=", 1)[0] in points
        return any(f"(device {dv}, seq " in rec for dv in devices)

    shown = [p for p in result["problems"] if mine(p)]
    first = shown[0] if shown else None
    return {**result, "problems": shown,
            "first_broken_link": f"[{first['check']}] {first['record']}: {first['detail']}" if first else None,
            "problems_withheld": len(result["problems"]) - len(shown)}  # fmt: skip


def build_pack(conn: Conn, body: dict[str, Any], out_zip: Path) -> dict[str, Any]:
    """Write the verification pack for a (frozen) report body; returns the whole park's verify
    result (for the operator; the pack holds only the enterprise's part of it)."""
    enterprise, year = body["entity"]["id"], int(body["period"]["year"])
    start, end = year_range_ms(year)
    full = verify(conn, start, end).as_dict()
    lin = source_lineage(conn, start, end, enterprise=enterprise)
    detail = lin["detail"]
    result = scoped_result(full, enterprise, detail)
    with tempfile.TemporaryDirectory(prefix="nengtan-pack-") as tmp:
        d = Path(tmp)
        write_report(body, d, FORMATS, result)
        write_csv(d / "activity_data.csv", body["activity_data"])
        factor_rows = [{"factor_id": f["factor_id"], "version_in_force": f["version_in_force"],
                        **v, "note": f.get("note")} for f in body["factors"]
                       for v in (f["versions"] or [{}])]  # fmt: skip
        write_csv(d / "factors.csv", factor_rows)
        write_csv(d / "lineage_emission_records.csv", detail["emission_records"])
        write_csv(d / "lineage_consumption.csv", detail["consumption"])
        write_csv(d / "lineage_raw_readings.csv", detail["raw_readings"])
        write_csv(d / "cems_hourly.csv", detail["cems_hours"],
                  ["stack", "enterprise", "hour_start_ms", "n_valid", "valid", "substitution",
                   "co2_t", "pollutant_kg", "pollutant_avg_mg_m3", "leaf_hash", "seal_id"])  # fmt: skip
        points = sorted({a["point"] for a in body["activity_data"]})
        write_csv(d / "manual_entries.csv", _dicts(conn,
            "SELECT r.point, (extract(epoch FROM r.ts) * 1000)::bigint AS ts_ms, r.value, r.q,"
            " r.device, r.seq, b.batch_hash, b.chain_hash, e.actor, e.at_ts, e.reason"
            " FROM readings_raw r LEFT JOIN evidence_batches b ON b.device = r.device"
            " AND b.seq = r.seq LEFT JOIN evidence_events e ON e.kind = 'manual_entry'"
            " AND e.subject = r.device AND (e.body::jsonb ->> 'batch_hash') = b.batch_hash"
            " WHERE r.device LIKE 'manual:%%' AND r.point = ANY(%s) ORDER BY r.ts", (points,)),
            ["point", "ts_ms", "value", "q", "device", "seq", "batch_hash", "chain_hash", "actor",
             "at_ts", "reason"])  # fmt: skip
        write_csv(d / "evidence_roots.csv", _dicts(conn,
            "SELECT seal_id, kind, scope, range_from, range_to, n_leaves, root, prev_seal_hash,"
            " seal_hash, sealed_at, published_at FROM evidence_seals ORDER BY seal_id"))  # fmt: skip
        own = [r for k in ("emission_records", "consumption", "cems_hours") for r in detail[k]]
        write_csv(d / "evidence_leaves.csv", own_leaves(conn, own),
                  ["seal_id", "ord", "record_key", "leaf_hash", "audit_path"])  # fmt: skip
        batch_keys = sorted({(r["topic"], r["partition"], r["offset"]) for r in detail["raw_readings"]
                             if r.get("topic") is not None})  # fmt: skip
        write_csv(d / "evidence_batches.csv", _dicts(conn,
            'SELECT topic, "partition", "offset", device, seq, batch_hash, prev_chain, chain_hash,'
            " seal_id FROM evidence_batches WHERE (topic, \"partition\", \"offset\") IN"
            " (SELECT * FROM unnest(%s::text[], %s::int[], %s::bigint[])) ORDER BY 1, 2, 3",
            ([k[0] for k in batch_keys], [k[1] for k in batch_keys], [k[2] for k in batch_keys])),
            ["topic", "partition", "offset", "device", "seq", "batch_hash", "prev_chain",
             "chain_hash", "seal_id"])  # fmt: skip
        (d / "verify.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        script = resources.files("reports").joinpath("data/verify_pack.py").read_text(encoding="utf-8")
        (d / "verify_pack.py").write_text(script, encoding="utf-8")
        run = subprocess.run([sys.executable, "verify_pack.py"], cwd=d, capture_output=True,
                             text=True, timeout=600, check=False)  # fmt: skip
        (d / "verify_pack_output.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
        (d / "README.txt").write_text(_README.format(enterprise=enterprise, year=year), encoding="utf-8")
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        tmp_zip = out_zip.with_suffix(".zip.part")
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(d.iterdir()):
                z.write(f, f"{enterprise}-{year}/{f.name}")
        shutil.move(tmp_zip, out_zip)
    return {**full, "pack_script_ok": run.returncode == 0}


_README = """Verification pack: {enterprise}, {year}

ghg-report-*.pdf/.xlsx/.json   the annual GHG report (GB/T 32150 structure), frozen revision
activity_data.csv              activity data per metering point (quantity, kgce)
factors.csv                    emission factors used, every version, provenance, row hash
lineage_emission_records.csv   every emission record with its leaf hash and seal
lineage_consumption.csv        consumption intervals (activity data per minute) with evidence
lineage_raw_readings.csv       raw readings with the batch hash, chain hash and seal root
cems_hourly.csv                CEMS stack-hours with validity and substitution flags
manual_entries.csv             manually entered readings: who, when, batch hash
evidence_roots.csv             every seal (Merkle root, chained seal hash; also published on
                               Kafka topic nt.evidence.roots.v1 for external anchoring)
evidence_leaves.csv            this enterprise's sealed leaves only, each with its Merkle audit
                               path to its seal's root (JSON [side, sibling hash], leaf upwards)
evidence_batches.csv           raw batches referenced (batch hash, chain)
verify.json                    output of `nengtan evidence verify` over the year (verdict and
                               counts park-wide; problems listed only for this enterprise)
verify_pack.py                 standalone check of this pack (python3, standard library)
verify_pack_output.txt         its output when the pack was made
"""
