"""The commands as a user runs them: ``nengtan evidence verify`` (exit 0, then 1 naming the
changed record), ``nengtan evidence lineage``, ``nengtan report emissions`` and
``nengtan report verification-pack``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration


def nengtan(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NENGTAN_PG_DSN": dsn}
    return subprocess.run([sys.executable, "-m", "nengtan.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_commands_end_to_end(filled: str, tmp_path: Path) -> None:
    ok = nengtan(filled, "evidence", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: every hash, chain and root verifies" in ok.stdout

    lin = nengtan(filled, "evidence", "lineage", "--enterprise", "acme", "--month", "2026-01",
                  "--csv-dir", str(tmp_path / "lin"))  # fmt: skip
    assert lin.returncode == 0, lin.stderr
    summary = json.loads(lin.stdout)
    assert summary["figure"]["n_emission_records"] == 240  # 2 sources × 120 January minutes
    assert (tmp_path / "lin" / "lineage_raw_readings.csv").read_text().count("\n") > 240

    rep = nengtan(filled, "report", "emissions", "--enterprise", "acme", "--year", "2026",
                  "--out", str(tmp_path / "rep"), "--by", "alice")  # fmt: skip
    assert rep.returncode == 0, rep.stderr
    assert "revision 1 (issued now)" in rep.stdout
    assert sorted(p.suffix for p in (tmp_path / "rep").iterdir()) == [".json", ".pdf", ".xlsx"]

    pack = nengtan(filled, "report", "verification-pack", "--enterprise", "acme", "--year", "2026",
                   "--out", str(tmp_path / "pack.zip"))  # fmt: skip
    assert pack.returncode == 0, pack.stderr
    assert "revision 1 (already issued, unchanged)" in pack.stdout
    assert "evidence OK; pack check OK" in pack.stdout
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        assert "acme-2026/ghg-report-acme-2026-r1.pdf" in z.namelist()

    with psycopg.connect(filled, autocommit=True) as conn:
        conn.execute("UPDATE emissions SET co2e_t = 0 WHERE source = 'acme.grid.kwh'"
                     " AND start_ts = '2026-01-05T00:30:00Z'")  # fmt: skip
    bad = nengtan(filled, "evidence", "verify")
    assert bad.returncode == 1
    assert "first broken link" in bad.stdout
    assert "emissions:acme.grid.kwh|1767573000000|1767573060000" in bad.stdout
