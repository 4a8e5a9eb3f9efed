"""Acceptance on the small example park: the simulators, the adapters (MQTT, Modbus, OPC UA), a
stream worker, the sink and the evidence sealer, started with their ``nengtan`` commands. For
every enterprise, the annual report's totals equal the stored totals and the accounting engine
applied to the simulator's truth, and every emission record of the report traces through the
lineage to raw readings with their evidence hashes; untouched data verifies and one changed raw
reading is named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from evidence.lineage import enterprise_month, stack_hour
from evidence.verify import verify
from ingest.park.loader import load_park
from nengtan.demo.pipeline import park_copy
from nengtan.settings import Settings
from reports.model import build_report
from store import queries
from store.migrate import migrate
from streams.points import build_point_table, year_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PARK_FILE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"
SIM_WALL_S = 90  # 90 simulated minutes at --speed 60: the first CEMS hour closes
REL = 1e-9


@pytest.fixture
def env(tmp_path: Path, drained: Settings) -> Iterator[tuple[dict[str, str], str]]:
    stack_settings = drained
    name = f"nt_rep_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(stack_settings.dsn)
    params["dbname"] = name
    dsn = make_conninfo(**params)
    e = dict(os.environ)
    host, port = stack_settings.mqtt_host_port
    e.update(NENGTAN_KAFKA_BOOTSTRAP=stack_settings.bootstrap, NENGTAN_PG_DSN=dsn,
             NENGTAN_MQTT_URL=f"mqtt://{host}:{port}", NENGTAN_STATE_DIR=str(tmp_path / "state"))  # fmt: skip
    yield e, dsn
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start(env: dict[str, str], log_dir: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "nengtan.cli", *args], env=env, stdout=log,
                            stderr=log)  # fmt: skip


def wait_stable(dsn: str, enterprise: str, timeout_s: float = 240) -> None:
    deadline, last, since = time.monotonic() + timeout_s, None, time.monotonic()
    while time.monotonic() < deadline:
        with psycopg.connect(dsn, autocommit=True) as conn:
            now = conn.execute("SELECT count(*), sum(quantity) FROM consumption WHERE enterprise = %s",
                               (enterprise,)).fetchone()  # fmt: skip
        if now != last:
            last, since = now, time.monotonic()
        elif now and now[0] and time.monotonic() - since > 15:
            return
        time.sleep(2)
    raise AssertionError(f"pipeline did not settle for {enterprise}: {last}")


def test_report_totals_equal_stored_and_truth_and_trace_to_raw_readings(
    env: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    e, dsn = env
    run = uuid.uuid4().hex[:6]
    park_file = park_copy(PARK_FILE, tmp_path / f"park-{run}.yaml", run)
    park = load_park(park_file)
    migrate(dsn)
    truth_file = tmp_path / "truth.json"
    procs = [
        start(e, tmp_path, "sink", "sink", "--group-id", f"rep-sink-{run}"),
        start(e, tmp_path, "worker", "worker", str(park_file), "--app-id", f"rep-worker-{run}"),
        # every protocol; MQTT keeps nothing for a late subscriber, so the adapters start first
        # (the Modbus rings and the OPC UA history cover the pollers' start anyway)
        start(e, tmp_path, "adapters", "adapters", str(park_file), "--duration",
              str(SIM_WALL_S + 30), "--spool-dir", str(tmp_path / "spool")),
    ]  # fmt: skip
    enterprises = sorted(f"{name}{run}" for name in ("acme", "hengli", "sunrise"))
    try:
        log = tmp_path / "adapters.log"
        deadline = time.monotonic() + 60
        while "mqtt up" not in log.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.2)
        host, port = e["NENGTAN_MQTT_URL"].removeprefix("mqtt://").split(":")
        sim = start(e, tmp_path, "simulate", "simulate", str(park_file), "--speed", "60",
                    "--duration", str(SIM_WALL_S), "--truth", str(truth_file), "--mqtt",
                    f"{host}:{port}")  # fmt: skip
        procs.append(sim)
        assert sim.wait(timeout=SIM_WALL_S + 120) == 0
        for ent in enterprises:
            wait_stable(dsn, ent)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    seal = subprocess.run([sys.executable, "-m", "nengtan.cli", "evidence", "seal", "--once",
                           "--records-through", "2100-01-01"], env=e, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert seal.returncode == 0, seal.stderr[-2000:]
    subprocess.run([sys.executable, "-m", "nengtan.cli", "evidence", "factors", "sync"], env=e,
                   check=True, capture_output=True, timeout=120)  # fmt: skip

    table = build_point_table(park)
    year = year_of(truth["start_ms"])
    month = int(time.strftime("%m", time.gmtime(truth["start_ms"] / 1000)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        stored_all = queries.emissions_by_enterprise(conn)
        raw_points: set[str] = set()
        for exact in enterprises:
            ids = sorted(pid for pid in truth["points"] if pid in table.points
                         and table.points[pid].enterprise == exact and table.points[pid].inventory)  # fmt: skip
            coef, idx, _kgce, co2e = table.convert(
                year, ids, np.array([truth["points"][i]["consumption"] for i in ids]))  # fmt: skip
            want = sum(float(co2e[i]) for i in range(len(ids))
                       if int(idx[i]) >= 0 and int(coef.scope[int(idx[i])]) != 0)  # fmt: skip
            assert want > 0
            body = build_report(conn, exact, year, park=park)
            stored = stored_all[exact]
            total = body["emissions"]["total_co2e_t"]
            print(f"{exact}: report {total!r} stored {stored!r} truth {want!r}")
            assert total == pytest.approx(stored, rel=1e-12)
            assert total == pytest.approx(want, rel=REL), exact
            # every line of the report traces to raw readings with evidence hashes
            lin = enterprise_month(conn, exact, year, month)
            assert lin["figure"]["co2e_t"] == pytest.approx(total, rel=1e-12)
            recs = lin["detail"]["emission_records"]
            assert recs and all(r["leaf_hash"] and r["seal_root"] for r in recs)
            traced = {r["point"] for r in lin["detail"]["raw_readings"] if r["batch_hash"]}
            assert {r["source"] for r in recs} <= traced, exact
            raw_points |= traced
            per_source = {s["source"]: s["co2e_t"] for s in body["sources"]}
            for s in lin["sources"]:
                assert s["co2e_t"] == pytest.approx(per_source[s["source"]], rel=1e-12)
        # CEMS: the first closed stack-hour traced, equal to the truth's
        stack, st = next(iter(truth["stacks"].items()))
        hour = next(h for h in st["hours"] if h["valid"] and h["n_emitted"] >= 60)
        sh = stack_hour(conn, stack, hour["hour_ms"])
        assert sh["figure"]["co2e_t"] == pytest.approx(hour["co2_t"], rel=REL)
        assert any(r["batch_hash"] for r in sh["detail"]["raw_readings"])
        result = verify(conn)
        assert result.ok, [str(p) for p in result.problems[:5]]
        point = sorted(raw_points)[0]
        conn.execute("UPDATE readings_raw SET value = value + 0.5 WHERE (point, ts) ="
                     " (SELECT point, max(ts) FROM readings_raw WHERE point = %s GROUP BY point)",
                     (point,))  # fmt: skip
        bad = verify(conn)
    assert not bad.ok and bad.problems[0].record.startswith(f"readings_raw point={point} ts=")
