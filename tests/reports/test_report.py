"""The annual report, its renderings, frozen revisions and the verification pack, on a real
PostgreSQL filled through the real sink writer."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook

from evidence.factors import correct, versions
from evidence.recalc import recalculate
from nengtan.errors import ConfigError
from reports.excel import SHEETS
from reports.model import build_report
from reports.pack import build_pack, write_report
from reports.snapshots import issue
from store import queries

pytestmark = pytest.mark.integration

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z, as in conftest.sample_records
HOUR = 3_600_000


def test_totals_equal_the_stored_totals_and_hand_sums(filled: str) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        body = build_report(conn, "acme", 2026)
        stored = queries.emissions_by_enterprise(conn)["acme"]
    # 180 minutes × (30 kWh × 0.000581 + 20 Nm3 × 0.0021622) = 180 × (0.01743 + 0.043244) = 10.92132
    assert body["emissions"]["total_co2e_t"] == pytest.approx(10.92132, rel=1e-12)
    assert body["emissions"]["total_co2e_t"] == pytest.approx(stored, rel=1e-12)
    assert body["emissions"]["by_scope"]["2"] == pytest.approx(180 * 30 * 0.000581, rel=1e-12)
    assert body["measured_vs_calculated"]["measured_co2e_t"] == 5.0  # two CEMS hours, not added
    jan, feb = body["emissions"]["monthly"][0], body["emissions"]["monthly"][1]
    assert jan["scope1_co2e_t"] == pytest.approx(120 * 20 * 0.0021622, rel=1e-12)
    assert feb["scope2_co2e_t"] == pytest.approx(60 * 30 * 0.000581, rel=1e-12)
    assert body["data_quality"]["emission_records"] == 362  # 2 × 180 minutes + 2 stack-hours
    assert body["data_quality"]["emission_records_sealed"] == 362
    fids = {f["factor_id"]: f for f in body["factors"]}
    assert fids["grid.national.2021.mee-2022-111"]["versions"][0]["values"] == {"ef": 0.581}
    assert "CEMS" in fids["cems.measured"]["note"]


def test_pdf_renders_and_excel_has_the_sheets(filled: str, tmp_path: Path) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        body = build_report(conn, "acme", 2026)
    pdf, xlsx, js = write_report(body, tmp_path)
    assert json.loads(js.read_text())["emissions"]["total_co2e_t"] == body["emissions"]["total_co2e_t"]
    wb = load_workbook(xlsx)
    assert tuple(wb.sheetnames) == SHEETS
    assert wb["Summary"]["B8"].value == pytest.approx(body["emissions"]["total_co2e_t"])
    assert [c.value for c in wb["Sources"][1]][:3] == ["source", "category", "scope"]
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is needed: scripts/setup installs it"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, capture_output=True)  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:"))) >= 2
    # the factor sources' Chinese document names are set in an embedded CJK font (scripts/setup
    # installs one), not in a reader-supplied CID font that renders as boxes without it
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    cjk = [ln.split() for ln in fonts.splitlines() if "TrueType" in ln]  # reportlab's Type 1 for Latin
    assert cjk, fonts
    assert all(row[-5] == "yes" for row in cjk), fonts  # columns: ... emb sub uni object ID
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "年度温室气体排放报告" in text, text[:500]


def test_issued_revision_is_frozen_and_a_correction_needs_a_new_revision(filled: str) -> None:
    from datetime import date

    with psycopg.connect(filled, autocommit=True) as conn:
        first, new = issue(conn, build_report(conn, "acme", 2026), "alice", None)
        assert new and first["revision"] == 1
        again, new = issue(conn, build_report(conn, "acme", 2026), "alice", None)
        assert not new and again == first
        fid = "grid.national.2021.mee-2022-111"
        v2 = correct(conn, fid, {"ef": 0.5703}, date(2026, 1, 1), None, "bob", "2022 notice")
        recalculate(conn, "acme", T0, T0 + 40 * 24 * HOUR, fid, v2.version, "bob", "corrected factor")
        changed = build_report(conn, "acme", 2026)
        assert changed["emissions"]["total_co2e_t"] == first["emissions"]["total_co2e_t"]
        assert changed["corrected_total_co2e_t"] == pytest.approx(
            first["emissions"]["total_co2e_t"] - 180 * 30 * (0.000581 - 0.0005703), rel=1e-9)
        with pytest.raises(ConfigError, match="Revision 1 stays as issued"):
            issue(conn, changed, "bob", None)
        second, new = issue(conn, changed, "bob", "factor corrected", revise=True)
        assert new and second["revision"] == 2
        stored = conn.execute("SELECT revision, body FROM report_snapshots ORDER BY revision").fetchall()
        assert [r[0] for r in stored] == [1, 2]
        assert json.loads(stored[0][1]) == first  # the first revision was not rewritten
        assert versions(conn, fid)[-1].version == 2
        from evidence.verify import verify

        assert verify(conn).ok
        conn.execute("UPDATE report_snapshots SET body = replace(body, '\"total_co2e_t\":10.92',"
                     " '\"total_co2e_t\":9.92') WHERE revision = 1")  # fmt: skip
        problems = verify(conn).problems
        assert [str(p) for p in problems] == [
            "[report snapshots] report_snapshots acme 2026 revision 1: report body changed since"
            " it was frozen"
        ]


def test_verification_pack_holds_everything_and_checks_itself(filled: str, tmp_path: Path) -> None:
    with psycopg.connect(filled, autocommit=True) as conn:
        body, _ = issue(conn, build_report(conn, "acme", 2026), "alice", None)
        result = build_pack(conn, body, tmp_path / "pack.zip")
    assert result["ok"] and result["pack_script_ok"]
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        names = {n.split("/", 1)[1] for n in z.namelist()}
        out = z.read("acme-2026/verify_pack_output.txt").decode()
        z.extractall(tmp_path / "x")
    assert {"ghg-report-acme-2026-r1.pdf", "ghg-report-acme-2026-r1.xlsx", "activity_data.csv",
            "factors.csv", "lineage_emission_records.csv", "lineage_consumption.csv",
            "lineage_raw_readings.csv", "cems_hourly.csv", "manual_entries.csv",
            "evidence_roots.csv", "verify.json", "verify_pack.py"} <= names  # fmt: skip
    assert "362 emission records hash to their sealed leaves" in out and "RESULT: OK" in out
    # the pack's own check catches an edited emission figure in the pack
    d = tmp_path / "x" / "acme-2026"
    text = (d / "lineage_emission_records.csv").read_text()
    (d / "lineage_emission_records.csv").write_text(text.replace(",0.01743,", ",0.01744,", 1))
    run = subprocess.run(["python3", "verify_pack.py"], cwd=d, capture_output=True, text=True)
    assert run.returncode == 1 and "row hash differs" in run.stdout
