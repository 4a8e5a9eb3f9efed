"""Workers and sink against the real Kafka and PostgreSQL of the session stack, fed with
reading batches of a generated park: exact totals under faults, SIGKILL of the worker and of
the sink, and a replay of the whole input topic into a fresh database.

The park's ids are unique per run, so readings other tests left on ``nt.readings.v1`` do not
touch these totals (the worker ignores points it does not know; the asserts select ours).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from kafka import KafkaProducer

from accounting import cems
from ingest.contract import TOPIC_READINGS, ReadingBatch
from ingest.park import load_park
from nengtan.settings import Settings
from store.migrate import migrate
from store.sink import SINK_TOPICS
from streams.points import build_point_table

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
STEP_MS = 10_000
STEPS = 1_080  # 3 h of 10 s polls
MINUTES = 186  # 3 h of CEMS minutes, plus 6 to close the third hour

PARK = """
schema: nengtan.park/1
id: tp{s}
region: CN-JS
enterprises:
  - id: te{s}
    industry: chemicals
    region: CN-JS
    devices:
      - {{id: tg{s}, protocol: mqtt, update_s: 10}}
    points:
      - {{id: t{s}.kwh, kind: counter, carrier: electricity, uom: kWh, use: purchased,
          device: tg{s}, load: {{nominal: 600}}}}
      - {{id: t{s}.kw, kind: rate, carrier: electricity, uom: kW, use: purchased, device: tg{s}}}
      - {{id: t{s}.gas, kind: counter, carrier: natural_gas, uom: Nm3, use: fuel, device: tg{s},
          load: {{nominal: 300}}}}
      - {{id: t{s}.v, kind: gauge, uom: V, device: tg{s}}}
    stacks:
      - {{id: ts{s}, mn: "MN{s}", species: [co2, so2, nox, flow], limits: {{so2: 50, nox: 150}}}}
"""


@dataclass
class Feed:
    """What was sent, and the truth recomputed from it."""

    s: str
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    rate_kwh: float = 0.0
    hours: dict[int, tuple[float, int]] = field(default_factory=dict)
    raw: set[tuple[str, int]] = field(default_factory=set)


def make_feed(s: str, seed: int = 7) -> Feed:
    """Gateway batches every 10 s with a counter reset, duplicates, an out-of-order pair and
    an offline gap; stack minutes with an invalid stretch and a NOx episode."""
    rng = random.Random(seed)
    feed = Feed(s)
    gw, kwh, kw, gas, v = f"tg{s}", f"t{s}.kwh", f"t{s}.kw", f"t{s}.gas", f"t{s}.v"
    reg = {kwh: 1_000.0, gas: 500.0}
    feed.counters = {kwh: 0.0, gas: 0.0}
    batches: list[tuple[int, bytes]] = []
    rates: list[tuple[int, float]] = []
    for i in range(STEPS):
        ts = T0 + i * STEP_MS
        if i > 0:
            for p, lo, hi in ((kwh, 0.5, 2.5), (gas, 0.5, 1.2)):
                inc = round(rng.uniform(lo, hi), 3)
                reg[p] += inc
                feed.counters[p] += inc
        rate = round(rng.uniform(100.0, 300.0), 1)
        if 700 <= i < 740:  # offline: nothing emitted (the rate holds, counters telescope)
            continue
        readings = [(kwh, reg[kwh]), (kw, rate), (gas, reg[gas]), (v, 230.0)]
        body = ReadingBatch(device=gw, seq=i, sent_ms=ts, readings=[
            {"point": p, "ts": ts, "value": val} for p, val in readings]).to_json()  # type: ignore[list-item]  # fmt: skip
        batches.append((ts, body))
        if i != 600:  # the late sample of the out-of-order pair is ignored by design
            rates.append((ts, rate))
        feed.raw.update((p, ts) for p, _ in readings)
        if i == 400:
            reg[kwh] = 0.0  # meter cleared right after this reading
    order = list(range(len(batches)))
    k = next(j for j, (ts, _) in enumerate(batches) if ts == T0 + 600 * STEP_MS)
    order[k], order[k + 1] = order[k + 1], order[k]  # 601 delivered before 600
    for j in order:
        feed.messages.append((gw, batches[j][1]))
        if 500 <= j < 510:
            feed.messages.append((gw, batches[j][1]))  # duplicated
    gateway = list(feed.messages)
    feed.messages = []
    feed.rate_kwh = math.fsum(
        v * (t1 - t0) / 3_600_000 for (t0, v), (t1, _) in itertools.pairwise(rates)
    )
    stack = _stack(feed, rng)
    # interleave by time (the gateway's 10 s batches and the stack's minutes), keeping each
    # source's own order (with its faults)
    per_minute = len(gateway) / len(stack)
    merged = [(i / per_minute, 0, m) for i, m in enumerate(gateway)]
    merged += [(float(j), 1, m) for j, m in enumerate(stack)]
    feed.messages = [m for _, _, m in sorted(merged, key=lambda x: (x[0], x[1]))]
    return feed


def _stack(feed: Feed, rng: random.Random) -> list[tuple[str, bytes]]:
    stack = f"ts{feed.s}"
    out = []
    rows: list[tuple[int, float, float, bool]] = []
    for m in range(MINUTES):
        ts = T0 + m * 60_000
        co2, flow = round(rng.uniform(8.0, 10.0), 2), round(rng.uniform(40_000, 44_000), 0)
        nox = 270.0 if 30 <= m < 45 else round(rng.uniform(85.0, 95.0), 1)
        q = "uncertain" if 100 <= m < 120 else "good"
        values = {"co2": co2, "so2": 20.0, "nox": nox, "flow": flow}
        body = ReadingBatch(device=stack, seq=m, sent_ms=ts, readings=[
            {"point": f"{stack}.{sp}", "ts": ts, "value": val, "q": q}  # type: ignore[misc]
            for sp, val in values.items()]).to_json()  # fmt: skip
        out.append((stack, body))
        feed.raw.update((f"{stack}.{sp}", ts) for sp in values)
        rows.append((ts, co2, flow, q == "good"))
    ts_a = np.array([r[0] for r in rows])
    mass = cems.co2_minute_mass_t([r[1] for r in rows], [r[2] for r in rows])
    hours, hourly = cems.hourly_mass_by_ts(ts_a, mass, [r[3] for r in rows])
    for h, value, n in zip(hours, hourly.value, hourly.n_valid, strict=True):
        feed.hours[int(h)] = (float(value), int(n))
    return out


def publish(settings: Settings, feed: Feed, first: int, last: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", linger_ms=5)
    for key, body in feed.messages[first:last]:
        producer.send(TOPIC_READINGS, key=key.encode(), value=body)
    producer.flush()
    producer.close()


def totals(dsn: str, s: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        q = dict(conn.execute(
            "SELECT point, sum(quantity) FROM consumption WHERE point LIKE %s GROUP BY point",
            (f"t{s}.%",)).fetchall())  # fmt: skip
        co2e = conn.execute(
            "SELECT sum(co2e_t) FROM emissions WHERE enterprise = %s AND method = 'calculated'",
            (f"te{s}",)).fetchone()  # fmt: skip
        hours = conn.execute(
            "SELECT (extract(epoch FROM hour_start) * 1000)::bigint, co2_t, n_valid, substitution"
            " FROM cems_hourly WHERE stack = %s ORDER BY 1", (f"ts{s}",)).fetchall()  # fmt: skip
        alerts = conn.execute(
            "SELECT alert_id, state, ts FROM alerts WHERE scope LIKE %s ORDER BY ts, state",
            (f"%ts{s}%",)).fetchall()  # fmt: skip
        raw = conn.execute(
            "SELECT count(*) FROM readings_raw WHERE point LIKE %s OR point LIKE %s",
            (f"t{s}.%", f"ts{s}.%")).fetchone()  # fmt: skip
    return {"q": q, "co2e": co2e[0] if co2e else None, "hours": hours, "alerts": alerts,
            "raw": raw[0] if raw else 0}  # fmt: skip


def snapshot(dsn: str, s: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of this run, for comparing two databases."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {
            "consumption": conn.execute(
                "SELECT * FROM consumption WHERE point LIKE %s ORDER BY 1, 4", (f"t{s}.%",)).fetchall(),
            "emissions": conn.execute(
                "SELECT * FROM emissions WHERE enterprise = %s ORDER BY 1, 5", (f"te{s}",)).fetchall(),
            "cems_hourly": conn.execute(
                "SELECT * FROM cems_hourly WHERE stack = %s ORDER BY 3", (f"ts{s}",)).fetchall(),
            "alerts": conn.execute(
                "SELECT * FROM alerts WHERE scope LIKE %s ORDER BY 1, 3", (f"%{s}%",)).fetchall(),
            "readings_raw": conn.execute(
                "SELECT * FROM readings_raw WHERE point LIKE %s OR point LIKE %s ORDER BY 1, 2",
                (f"t{s}.%", f"ts{s}.%")).fetchall(),
        }  # fmt: skip


def settle(procs: Any, worker_group: str, sink_group: str) -> None:
    """Wait until the worker has processed every reading so far, then the sink every output."""
    procs.wait_caught_up(worker_group, (TOPIC_READINGS,))
    procs.wait_caught_up(sink_group, SINK_TOPICS)


def wait_rows(dsn: str, s: str, above: int, timeout_s: float = 120.0) -> int:
    """Wait until more than ``above`` consumption rows of this run are stored; their count."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM consumption WHERE point LIKE %s", (f"t{s}.%",)
            ).fetchone()
        n = int(row[0]) if row else 0
        if n > above:
            return n
        time.sleep(0.1)
    raise AssertionError(f"no more than {above} consumption rows after {timeout_s} s")


def done(t: dict[str, Any], feed: Feed) -> bool:
    s = feed.s
    return (
        t["raw"] == len(feed.raw)
        and all(math.isclose(t["q"].get(p, 0.0), v, rel_tol=1e-9) for p, v in feed.counters.items())
        and math.isclose(t["q"].get(f"t{s}.kw", 0.0), feed.rate_kwh, rel_tol=1e-9)
        and len(t["hours"]) == 3
        and len(t["alerts"]) >= 2
    )


def wait_for(dsn: str, feed: Feed, timeout_s: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    t = totals(dsn, feed.s)
    while time.monotonic() < deadline and not done(t, feed):
        time.sleep(2.0)
        t = totals(dsn, feed.s)
    return t


def check(t: dict[str, Any], feed: Feed, park_file: Path) -> None:
    s = feed.s
    assert t["raw"] == len(feed.raw)
    for point, truth in feed.counters.items():
        assert t["q"][point] == pytest.approx(truth, rel=1e-9), point
    assert t["q"][f"t{s}.kw"] == pytest.approx(feed.rate_kwh, rel=1e-9)
    # CO2e of the enterprise = the accounting engine applied to the truth (inventory points:
    # the kWh counter and the gas counter; the kW signal is not added to the counter)
    coef = build_point_table(load_park(park_file)).coefficients(2026)
    expected = sum(feed.counters[p] * coef.co2e_t_per_unit[coef.index[p]] for p in feed.counters)
    assert t["co2e"] == pytest.approx(expected, rel=1e-9)
    # CEMS: hours 0 and 2 measured as the truth; hour 1 (40 valid minutes) substituted by the
    # mean of the valid hours either side
    hours = {h: (co2, n, sub) for h, co2, n, sub in t["hours"]}
    h0, h1, h2 = (T0 + i * 3_600_000 for i in range(3))
    assert hours[h0][0] == pytest.approx(feed.hours[h0][0], rel=1e-12) and hours[h0][2] is None
    assert hours[h2][0] == pytest.approx(feed.hours[h2][0], rel=1e-12)
    assert feed.hours[h1][1] == 40 and hours[h1][2] == "mean_either_side"
    assert hours[h1][0] == pytest.approx((feed.hours[h0][0] + feed.hours[h2][0]) / 2, rel=1e-12)
    # the NOx episode: raised and cleared once each, one alert id
    nox = [a for a in t["alerts"] if a[0].startswith(f"stack-pollutant-15m:ts{s}.nox")]
    assert [a[1] for a in nox] == ["raised", "cleared"] and nox[0][0] == nox[1][0]


def key_partitions(bootstrap: str, topic: str) -> dict[bytes, set[int]]:
    """Every key on ``topic`` and the partitions its records are on."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3000, enable_auto_commit=False)  # fmt: skip
    seen: dict[bytes, set[int]] = {}
    try:
        for rec in consumer:
            seen.setdefault(rec.key or b"", set()).add(rec.partition)
    finally:
        consumer.close()
    return seen


def check_changelog_partitions(bootstrap: str, app_id: str, s: str) -> None:
    """Each device's state is on the changelog partition of its readings: the worker writes a
    group's states after the group, to the partition of each key's own last event
    (``streams.app._store``), not while handling each event."""
    readings = {k: p for k, p in key_partitions(bootstrap, TOPIC_READINGS).items() if s.encode() in k}
    changelog = {  # table keys are JSON-serialised
        json.loads(k).encode(): p
        for k, p in key_partitions(bootstrap, f"{app_id}-nt-streams-device-changelog").items()
    }
    assert readings and set(changelog) == set(readings)
    for key, parts in changelog.items():
        assert len(readings[key]) == 1 and parts == readings[key], key


def test_exact_totals_through_kills_and_a_replay(
    stack_settings: Settings, fresh_dsn: Callable[[], str], procs: Any, tmp_path: Path
) -> None:
    s = uuid.uuid4().hex[:8]
    park_file = tmp_path / "park.yaml"
    park_file.write_text(PARK.format(s=s), encoding="utf-8")
    feed = make_feed(s)
    dsn = fresh_dsn()
    migrate(dsn)

    half = len(feed.messages) // 2
    publish(stack_settings, feed, 0, half)
    worker = procs.supervised(
        "worker", ["worker", str(park_file), "--app-id", f"w{s}", "--loglevel", "info"]
    )
    sink = procs.supervised("sink", ["sink", "--group-id", f"s{s}"], dsn)
    # SIGKILL the worker as soon as its first results land (offsets are committed every few
    # seconds, so some of its work is not committed yet), publish the rest while it is down
    at_kill = wait_rows(dsn, s, above=0)
    procs.kill(worker)
    publish(stack_settings, feed, half, len(feed.messages))
    worker = procs.supervised(
        "worker", ["worker", str(park_file), "--app-id", f"w{s}", "--loglevel", "info"]
    )
    # SIGKILL the sink while it is storing the restarted worker's results
    wait_rows(dsn, s, above=at_kill)
    procs.kill(sink)
    sink = procs.supervised("sink", ["sink", "--group-id", f"s{s}"], dsn)

    t = wait_for(dsn, feed)
    check(t, feed, park_file)
    settle(procs, f"w{s}", f"s{s}")
    first = snapshot(dsn, s)
    check_changelog_partitions(stack_settings.bootstrap, f"w{s}", s)

    # replay the whole input topic through a new worker and sink into a fresh database
    dsn2 = fresh_dsn()
    migrate(dsn2)
    procs.supervised("worker2", ["worker", str(park_file), "--app-id", f"rw{s}", "--loglevel", "info"])
    procs.supervised("sink2", ["sink", "--group-id", f"rs{s}"], dsn2)
    t2 = wait_for(dsn2, feed)
    check(t2, feed, park_file)
    settle(procs, f"rw{s}", f"rs{s}")
    second = snapshot(dsn2, s)
    for table in first:
        a, b = {repr(r) for r in first[table]}, {repr(r) for r in second[table]}
        only1, only2 = sorted(a - b), sorted(b - a)
        assert not only1 and not only2, f"{table}: first only {only1[:5]}; replay only {only2[:5]}"
    procs.wait_caught_up(f"s{s}", SINK_TOPICS)  # the first sink stored the replay's outputs too
    assert snapshot(dsn, s) == first
