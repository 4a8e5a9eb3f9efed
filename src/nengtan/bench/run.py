"""``nengtan bench``: raw limits and the end-to-end pipeline measured in one run on a fresh
stack, printed with their ratios and saved as JSON under ``bench/results/``.

Order: stack up → raw PostgreSQL COPY and Kafka produce/consume (nothing else running) →
each stage alone (``stages``: CPU per reading, a backlog written straight into Kafka worked off
by the sink and by the stream worker ×1 and ×2, the MQTT adapter under a flat-out driver) →
pipeline up (MQTT adapter, stream worker(s), sink) → load levels of increasing readings/s
until the pipeline stops keeping up → a run at half the highest sustained load for the
reading → alert latency and the worker's memory over time. Method and figures:
docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from nengtan.bench import e2e, limits, stages
from nengtan.bench.load import BenchPark, Driver
from nengtan.demo.children import Children, child_env
from nengtan.demo.run import demo_stack
from nengtan.errors import ServiceError
from nengtan.settings import load_settings

RESULTS = Path(__file__).resolve().parents[3] / "bench" / "results"


@dataclass(frozen=True)
class Plan:
    """What one bench run does (``quick``: about five minutes)."""

    name: str
    levels: tuple[float, ...]
    warmup_s: float
    measure_s: float
    half_load_s: float
    copy_rows: int
    kafka_messages: int
    devices: int = 40
    points: int = 100
    drain_s: float = 30.0
    backlog_rounds: int = 150
    """rounds of every gateway's batch written straight into Kafka for the stage ceilings"""
    stage_s: float = 20.0
    """how long each stage works the backlog off (or MQTT load) while it is measured"""
    sink_batches: int = 2_000


QUICK = Plan("quick", (250, 500, 1_000, 2_000, 5_000, 20_000, 50_000), 8, 15, 30, 200_000, 2_000)
FULL = Plan("full", (250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000), 15, 45,
            600, 1_000_000, 10_000, drain_s=180.0, backlog_rounds=500, stage_s=60.0,
            sink_batches=10_000)  # fmt: skip


def run_bench(plan: Plan, *, workers: int, out_dir: Path | None = None) -> dict[str, Any]:
    """The whole bench; returns the result document (also written to ``out_dir``)."""
    out = Console()
    base = load_settings()
    stack = demo_stack(base, base.state_dir / "bench")
    out.print(f"[bold]Nengtan bench[/] ({plan.name}): starting a fresh stack …")
    stack.up()
    s = stack.settings
    from store.migrate import migrate

    migrate(s.dsn)
    result: dict[str, Any] = {
        "schema": "nengtan.bench/1",
        "plan": plan.name,
        "started": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform(), "load_avg_at_start": os.getloadavg()},
        "workers": workers,
    }  # fmt: skip
    park = BenchPark(plan.devices, plan.points, alarm_points=1000)
    try:
        result["limits"] = measure_limits(out, s.dsn, s.bootstrap, plan)
        result["stages"] = measure_stages(out, s, park, plan, base.state_dir / "bench")
        result.update(measure_pipeline(out, s, park, plan, workers, base.state_dir / "bench"))
    finally:
        stack.down()
    result["finished"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
    result["ratios"] = ratios(result)
    print_result(out, result)
    target = out_dir or RESULTS
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{result['started'].replace(':', '').replace('+0000', 'Z')}-{plan.name}.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    out.print(f"saved {path}")
    return result


def measure_limits(out: Console, dsn: str, bootstrap: str, plan: Plan) -> dict[str, Any]:
    """COPY rows/s into readings_raw and consumption; Kafka produce/consume msgs/s."""
    out.print("raw limits: PostgreSQL COPY, Kafka produce/consume (kcat) …")
    raw = limits.copy_readings_direct(dsn, plan.copy_rows)
    binary = stages.copy_readings_binary(dsn, plan.copy_rows)
    cons = limits.copy_consumption(dsn, plan.copy_rows)
    size = batch_bytes(plan.points)
    prod, got = limits.kafka_produce_consume(bootstrap, "nt.bench.raw", plan.kafka_messages, size)
    return {
        "pg_copy_readings_raw_rows_per_s": raw.per_s,
        "pg_copy_readings_raw_binary_rows_per_s": binary.per_s,
        "pg_copy_consumption_rows_per_s": cons.per_s,
        "pg_copy_rows": plan.copy_rows,
        "kafka_message_bytes": size,
        "kafka_produce_msgs_per_s": prod.per_s,
        "kafka_consume_msgs_per_s": got.per_s,
        "kafka_messages": plan.kafka_messages,
        "kafka_produce_readings_per_s": prod.per_s * plan.points,
        "kafka_consume_readings_per_s": got.per_s * plan.points,
    }


def measure_stages(out: Console, s: Any, park: BenchPark, plan: Plan, root: Path) -> dict[str, Any]:
    """Each stage's own ceiling, one at a time on the otherwise idle stack: the adapter's and
    the sink's CPU per reading; a backlog written straight into Kafka (the load generator),
    worked off by the sink alone and by the stream worker alone (1 and 2 processes); the MQTT
    adapter alone under a driver publishing as fast as it can."""
    out.print("stages: CPU per reading of the edge and the sink's writer …")
    res: dict[str, Any] = {"edge_cpu_us_per_reading": stages.edge_costs()}
    res["sink_writer"] = {
        "direct": stages.sink_cost(s.dsn, plan.sink_batches, plan.points, direct=True).as_dict(),
        "staged": stages.sink_cost(s.dsn, plan.sink_batches, plan.points, direct=False).as_dict(),
    }
    out.print(f"stages: {plan.backlog_rounds} rounds of the park written straight into Kafka …")
    work = root / "stages"
    park_file = park.write(root / "bench-park.yaml")
    offsets = e2e.Offsets(s.bootstrap)
    env = child_env(s.bootstrap, s.dsn, s.mqtt_host_port, work / "state", s.kafka_partitions)
    children = Children(env, work / "logs")
    try:
        start = offsets.end()
        messages, gen = stages.produce_backlog(
            s.bootstrap, park.device_ids(), park.points, plan.backlog_rounds
        )
        res["load_generator_readings_per_s"] = gen.per_s
        res["backlog_readings"] = messages * park.points

        def ceiling(name: str, group: str) -> float:
            rate = stages.drain_rate(lambda: offsets.committed(group), start, messages,
                                     park.points, plan.stage_s)  # fmt: skip
            out.print(f"  {name}: {rate:,.0f} readings/s")
            return rate

        children.start("sink", ["sink", "--group-id", "nt-stage-sink"])
        res["sink_readings_per_s"] = ceiling("sink alone", "nt-stage-sink")
        children.stop("sink")
        for n in (1, 2):
            app = f"nt-stage-worker{n}"
            for i in range(n):
                children.start(f"w{n}.{i}", ["worker", str(park_file), "--app-id", app],
                               env={"NENGTAN_STATE_DIR": str(work / f"{app}-{i}")})  # fmt: skip
            res[f"worker_{n}_readings_per_s"] = ceiling(f"stream worker ×{n}", app)
            for i in range(n):
                children.stop(f"w{n}.{i}")
        children.start("adapters", ["adapters", str(park_file), "--only", "mqtt"])
        time.sleep(5)
        host, port = s.mqtt_host_port
        driver = Driver(park, host, port, interval_s=0.0)
        end0 = offsets.end()
        driver.start()
        time.sleep(2)
        pub0, e0, t0 = driver.published_readings, offsets.end(), time.monotonic()
        time.sleep(plan.stage_s)
        pub1, e1, t1 = driver.published_readings, offsets.end(), time.monotonic()
        driver.stop()
        settle(offsets)  # the broker's queue for the adapter and its spool reach Kafka now,
        # not in the pipeline run that follows
        res["mqtt_offered_readings_per_s"] = (pub1 - pub0) / (t1 - t0)
        res["mqtt_adapter_readings_per_s"] = (e1 - e0) * park.points / (t1 - t0)
        out.print(f"  MQTT adapter alone: {res['mqtt_adapter_readings_per_s']:,.0f} readings/s"
                  f" (offered {res['mqtt_offered_readings_per_s']:,.0f})")  # fmt: skip
        res["mqtt_stage_messages"] = offsets.end() - end0
    finally:
        children.stop_all()
        offsets.close()
    # the pipeline run that follows starts its groups at the end of what is there
    from store.sink import SINK_TOPICS

    stages.commit_end(s.bootstrap, "nt-bench-sink", SINK_TOPICS)
    stages.commit_end(s.bootstrap, "nt-bench-worker", (e2e.TOPIC,))
    return res


def settle(offsets: e2e.Offsets, quiet_s: float = 3.0, timeout_s: float = 120.0) -> None:
    """Until the readings topic's end has not moved for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last, since = offsets.end(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.5)
        now = offsets.end()
        if now != last:
            last, since = now, time.monotonic()


def batch_bytes(points: int) -> int:
    """Size of one gateway batch of ``points`` readings as the adapters publish it."""
    reading = '{"point":"bench000.p00000","ts":1767225600000,"value":12345.678,"q":"good"},'
    return 80 + points * len(reading)


def measure_pipeline(
    out: Console, s: Any, park: BenchPark, plan: Plan, workers: int, root: Path
) -> dict[str, Any]:
    """Levels of increasing load until one falls behind, then a run at half the maximum."""
    work = root / "run"
    park_file = park.write(root / "bench-park.yaml")
    from ingest.park import load_park

    load_park(park_file)  # a bad park is a clear error here, not silent children
    env = child_env(s.bootstrap, s.dsn, s.mqtt_host_port, work / "state", s.kafka_partitions)
    children = Children(env, work / "logs")
    sink_group, worker_group = "nt-bench-sink", "nt-bench-worker"
    children.start("sink", ["sink", "--group-id", sink_group])
    for i in range(workers):
        children.start(f"worker{i}", ["worker", str(park_file), "--app-id", worker_group],
                       env={"NENGTAN_STATE_DIR": str(work / f"worker{i}")})  # fmt: skip
    children.start("adapters", ["adapters", str(park_file), "--only", "mqtt"])
    host, port = s.mqtt_host_port
    driver = Driver(park, host, port, interval_s=2.0)
    pids = [c.proc.pid for n, c in children.by_name.items() if n.startswith("worker")]
    probe = e2e.Probe(s.dsn, park, driver, pids)
    offsets = e2e.Offsets(s.bootstrap)
    levels: list[e2e.Level] = []
    half: e2e.Level | None = None
    try:
        time.sleep(5)
        dead = [n for n, c in children.by_name.items() if not c.alive]
        if dead:
            raise ServiceError(f"{dead[0]} exited at start:\n{children.log_tail(dead[0])}")
        driver.start()
        probe.start()
        wait_started(out, offsets, sink_group, worker_group)
        for rate in plan.levels:
            out.print(f"level {rate:,.0f} readings/s …")
            level = e2e.run_level(rate, warmup_s=plan.warmup_s, measure_s=plan.measure_s,
                                  park=park, driver=driver, probe=probe, offsets=offsets,
                                  sink_group=sink_group, worker_group=worker_group)  # fmt: skip
            levels.append(level)
            out.print(f"  stored {level.stored_per_s:,.0f}/s, processed {level.processed_per_s:,.0f}/s,"
                      f" kept up: {level.kept_up}")  # fmt: skip
            if not level.kept_up:
                break
        top = max((lv.end_to_end_per_s for lv in levels), default=0.0)
        if top > 0:
            rate = max(top / 2, 50.0)
            out.print(f"half load {rate:,.0f} readings/s for {plan.half_load_s:.0f} s …")
            driver.interval_s = park.devices * park.points / rate
            drain(offsets, (sink_group, worker_group), timeout_s=plan.drain_s)
            half = e2e.run_level(rate, warmup_s=plan.warmup_s, measure_s=plan.half_load_s,
                                 park=park, driver=driver, probe=probe, offsets=offsets,
                                 sink_group=sink_group, worker_group=worker_group)  # fmt: skip
    finally:
        driver.stop()
        probe.stop()
        offsets.close()
        children.stop_all()
    sustained = max((lv.end_to_end_per_s for lv in levels if lv.kept_up), default=0.0)
    return {
        "max_end_to_end_per_s": max((lv.end_to_end_per_s for lv in levels), default=0.0),
        "park": {"gateways": park.devices, "points_per_gateway": park.points,
                 "alarm_points": park.alarm_points},
        "levels": [lv.as_dict() for lv in levels],
        "sustained_readings_per_s": sustained,
        "half_load": half.as_dict() if half else None,
    }  # fmt: skip


def drain(offsets: e2e.Offsets, groups: tuple[str, ...], timeout_s: float) -> None:
    """Until the groups' backlog on the readings topic is (nearly) gone, so the next
    measurement starts from a pipeline that keeps up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        end = offsets.end()
        if all(end - offsets.committed(g) <= 10 for g in groups):
            return
        time.sleep(2)


def wait_started(out: Console, offsets: e2e.Offsets, *groups: str, timeout_s: float = 120) -> None:
    """Until every group has committed something (Faust joins its group in a few seconds)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if all(offsets.committed(g) > 0 for g in groups):
                return
        except Exception:  # the group does not exist yet
            pass
        time.sleep(1)
    out.print("[yellow]the pipeline committed nothing within 120 s; measuring anyway[/]")


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """End to end (the saturated maximum: what the pipeline does when offered more than it
    can take) against the raw limits."""
    lim = result.get("limits", {})
    e2e_rate = float(result.get("max_end_to_end_per_s", 0.0))
    out: dict[str, float] = {}
    if lim.get("pg_copy_readings_raw_rows_per_s"):
        out["e2e_over_pg_copy_readings_raw"] = e2e_rate / lim["pg_copy_readings_raw_rows_per_s"]
    if lim.get("kafka_produce_readings_per_s"):
        out["e2e_over_kafka_produce"] = e2e_rate / lim["kafka_produce_readings_per_s"]
    if lim.get("kafka_consume_readings_per_s"):
        out["e2e_over_kafka_consume"] = e2e_rate / lim["kafka_consume_readings_per_s"]
    st = result.get("stages", {})
    for raw in ("pg_copy_readings_raw_rows_per_s", "pg_copy_readings_raw_binary_rows_per_s"):
        base = lim.get(raw)
        if not base:
            continue
        short = "copy_text" if "binary" not in raw else "copy_binary"
        out[f"e2e_over_{short}"] = e2e_rate / base
        for stage in ("sink", "worker_1", "worker_2", "mqtt_adapter"):
            if st.get(f"{stage}_readings_per_s"):
                out[f"{stage}_over_{short}"] = st[f"{stage}_readings_per_s"] / base
    return out


def print_result(out: Console, r: dict[str, Any]) -> None:
    lim = r["limits"]
    t = Table(title=f"Nengtan bench ({r['plan']}) — {r['machine']['cpus']} cores")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("sustained end to end, kept up (readings/s)", f"{r['sustained_readings_per_s']:,.0f}")
    t.add_row("maximum end to end, saturated (readings/s)", f"{r['max_end_to_end_per_s']:,.0f}")
    t.add_row("PostgreSQL COPY → readings_raw (rows/s)", f"{lim['pg_copy_readings_raw_rows_per_s']:,.0f}")
    t.add_row("PostgreSQL COPY → consumption (rows/s)", f"{lim['pg_copy_consumption_rows_per_s']:,.0f}")
    t.add_row(f"Kafka produce ({lim['kafka_message_bytes']:,} B msgs/s)", f"{lim['kafka_produce_msgs_per_s']:,.0f}")
    t.add_row("Kafka consume (msgs/s)", f"{lim['kafka_consume_msgs_per_s']:,.0f}")
    for key, value in r["ratios"].items():
        t.add_row(f"ratio {key}", f"{value:.3f}")
    half = r.get("half_load")
    if half:
        for name in ("row_latency_s", "alert_latency_s"):
            lat = half.get(name) or {}
            if lat:
                t.add_row(f"half load {half['offered_per_s']:,.0f}/s: {name} p50 / p99",
                          f"{lat['p50']:.2f} / {lat['p99']:.2f} (n={lat['n']})")  # fmt: skip
        rss = half.get("worker_rss_mb") or {}
        if rss:
            t.add_row("worker RSS MB first / last / max",
                      f"{rss['first']:.0f} / {rss['last']:.0f} / {rss['max']:.0f}")  # fmt: skip
    out.print(t)
    st = r.get("stages")
    if st:
        print_stages(out, st)
    lv = Table(title="load levels")
    for col in ("offered/s", "published/s", "stored/s", "processed/s", "kept up",
                "row p50/p99 s", "alert p50/p99 s", "worker cores", "load"):  # fmt: skip
        lv.add_column(col, justify="right")
    for level in r["levels"]:
        row, alert = level["row_latency_s"], level["alert_latency_s"]
        lv.add_row(
            f"{level['offered_per_s']:,.0f}", f"{level['published_per_s']:,.0f}",
            f"{level['stored_per_s']:,.0f}", f"{level['processed_per_s']:,.0f}",
            "yes" if level["kept_up"] else "no",
            f"{row['p50']:.2f}/{row['p99']:.2f}" if row else "—",
            f"{alert['p50']:.2f}/{alert['p99']:.2f}" if alert else "—",
            f"{level.get('worker_cpu_cores', 0.0):.2f}", f"{level.get('load_avg_1m', 0.0):.1f}",
        )  # fmt: skip
    out.print(lv)


def print_stages(out: Console, st: dict[str, Any]) -> None:
    t = Table(title="stages, each alone")
    t.add_column("stage")
    t.add_column("readings/s", justify="right")
    t.add_row("load generator (kcat ×2 straight into Kafka)",
              f"{st['load_generator_readings_per_s']:,.0f}")  # fmt: skip
    t.add_row("MQTT adapter (offered {:,.0f}/s)".format(st["mqtt_offered_readings_per_s"]),
              f"{st['mqtt_adapter_readings_per_s']:,.0f}")  # fmt: skip
    t.add_row("stream worker ×1", f"{st['worker_1_readings_per_s']:,.0f}")
    t.add_row("stream worker ×2", f"{st['worker_2_readings_per_s']:,.0f}")
    t.add_row("sink (readings_raw)", f"{st['sink_readings_per_s']:,.0f}")
    out.print(t)
    c = Table(title="CPU µs per reading")
    c.add_column("work")
    c.add_column("µs", justify="right")
    for key, value in st["edge_cpu_us_per_reading"].items():
        if key.endswith("_us"):
            c.add_row(key.removesuffix("_us"), f"{value:.3f}")
    for path, fig in st["sink_writer"].items():
        server = fig["server_cpu_us_per_reading"]
        c.add_row(f"sink writer {path}: client / server",
                  f"{fig['client_cpu_us_per_reading']:.2f} / "
                  + (f"{server:.2f}" if server is not None else "—"))  # fmt: skip
    out.print(c)
