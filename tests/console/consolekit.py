"""Console test kit (imported by the tests; conftest puts this folder on the path): a fresh database on the session's PostgreSQL with the example park in the
registry, hand-made results of two enterprises (numbers in ``seed``), one token per role, and
the app on that database."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from console.settings import ConsoleSettings, load_console_settings
from nengtan.settings import Settings, load_settings
from nengtan.stack.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
PARK_FILE = ROOT / "examples" / "park-small.yaml"
T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
MIN = 60_000
HOUR = 3_600_000

# (point, enterprise, carrier, minute, quantity, uom, kgce); kgce per kWh 0.1229, per Nm3 1.33
CONSUMPTION = [
    ("acme.grid.kwh", "acme", "electricity", 0, 30.0, "kWh", 3.687),
    ("acme.grid.kwh", "acme", "electricity", 1, 30.0, "kWh", 3.687),
    ("acme.synth.kwh", "acme", "electricity", 0, 10.0, "kWh", 1.229),
    ("acme.boiler1.gas", "acme", "natural_gas", 0, 20.0, "Nm3", 26.6),
    ("acme.steam.t", "acme", "steam", 0, 0.2, "t", 20.0),
    ("acme.steam.gj", "acme", "steam", 0, 0.5, "GJ", 17.06),
    ("acme.feed.gas_total", "acme", "natural_gas", 0, 40.0, "Nm3", 53.2),
    ("hengli.grid.kwh", "hengli", "electricity", 0, 100.0, "kWh", 12.29),
    ("hengli.grid.export_kwh", "hengli", "electricity", 0, 5.0, "kWh", 0.6145),
    ("hengli.grid.kwh", "hengli", "electricity", 60, 100.0, "kWh", 12.29),  # the next hour
]
# (source, enterprise, category, scope, minute, minutes, co2e_t, factor_id, method)
EMISSIONS = [
    ("acme.grid.kwh", "acme", "purchased_electricity", 2, 0, 1, 0.0172, "grid-ec", "calculated"),
    ("acme.grid.kwh", "acme", "purchased_electricity", 2, 1, 1, 0.0172, "grid-ec", "calculated"),
    ("acme.boiler1.gas", "acme", "stationary_combustion", 1, 0, 1, 0.0432, "ng", "calculated"),
    ("acme-stk1", "acme", "stationary_combustion", 1, 0, 60, 0.5, "cems", "measured"),
    (
        "hengli.grid.kwh",
        "hengli",
        "purchased_electricity",
        2,
        0,
        1,
        0.0570,
        "grid-ec",
        "calculated",
    ),
]
ALERTS = [
    # (alert_id, rule, state, severity, scope, metric, value, threshold, window, minute)
    ("stack-pollutant-15m:hengli-stk1:1", "stack-pollutant-15m", "raised", "major",
     "stack:hengli-stk1", "so2_avg_mg_m3", 75.0, 50.0, "15m", 1),
    ("stack-pollutant-15m:hengli-stk1:1", "stack-pollutant-15m", "cleared", "major",
     "stack:hengli-stk1", "so2_avg_mg_m3", 20.0, 50.0, "15m", 10),
    ("device-silent-10m:hengli-dcs:2", "device-silent-10m", "raised", "warning",
     "device:hengli-dcs", "silent_min", 11.0, 10.0, "10m", 2),
    ("enterprise-co2e-1h:acme:3", "enterprise-co2e-1h", "raised", "warning",
     "enterprise:acme", "co2e_t", 55.0, 50.0, "1h", 3),
    ("point-counter-anomaly:acme.grid.kwh:4", "point-counter-anomaly", "raised", "warning",
     "point:acme.grid.kwh", "counter_reset", 1.0, 0.0, "event", 4),
    ("park-co2e-24h:demo-park:5", "park-co2e-24h", "raised", "major",
     "park:demo-park", "co2e_t", 2100.0, 2000.0, "24h", 5),
]  # fmt: skip
HENGLI_ALERT = "stack-pollutant-15m:hengli-stk1:1"


def new_database(admin_dsn: str) -> tuple[str, str]:
    name = f"nt_console_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(admin_dsn)
    params["dbname"] = name
    return name, make_conninfo(**params)


def seed(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The hand-made results the query tests check (see the module constants)."""
    ts = "'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"
    with conn.cursor() as cur:
        for point, ent, carrier, minute, qty, uom, kgce in CONSUMPTION:
            start = T0 + minute * MIN
            cur.execute(
                "INSERT INTO consumption (point, enterprise, carrier, start_ts, end_ts, quantity,"
                f" uom, kgce) VALUES (%s, %s, %s, {ts}, {ts}, %s, %s, %s)",
                (point, ent, carrier, start, start + MIN, qty, uom, kgce),
            )
        for source, ent, cat, scope, minute, n, co2e, factor, method in EMISSIONS:
            start = T0 + minute * MIN
            cur.execute(
                "INSERT INTO emissions (source, enterprise, category, scope, start_ts, end_ts,"
                f" co2e_t, gases, factor_id, method) VALUES (%s, %s, %s, %s, {ts}, {ts}, %s, %s,"
                " %s, %s)",
                (source, ent, cat, scope, start, start + n * MIN, co2e,
                 json.dumps({"CO2": co2e}), factor, method),
            )  # fmt: skip
        for stack, ent in (("acme-stk1", "acme"), ("hengli-stk1", "hengli")):
            cur.execute(
                "INSERT INTO cems_hourly (stack, enterprise, hour_start, n_valid, valid, co2_t,"
                f" substitution, pollutant_kg, pollutant_avg_mg_m3) VALUES (%s, %s, {ts}, 60,"
                " true, %s, NULL, %s, %s)",
                (stack, ent, T0, 0.5, json.dumps({"so2": 0.2}), json.dumps({"so2": 12.0})),
            )
        for aid, rule, state, sev, scope, metric, value, thr, window, minute in ALERTS:
            cur.execute(
                "INSERT INTO alerts (alert_id, rule_id, state, severity, scope, metric, value,"
                f' threshold, "window", ts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, {ts})',
                (aid, rule, state, sev, scope, metric, value, thr, window, T0 + minute * MIN),
            )


@dataclass
class ConsoleEnv:
    dsn: str
    settings: Settings
    console_settings: ConsoleSettings
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_env(stack_settings: Settings, dsn: str, **console: Any) -> ConsoleEnv:
    host, port = stack_settings.mqtt_host_port
    settings = load_settings(
        pg_dsn=dsn, kafka_bootstrap=stack_settings.bootstrap, mqtt_url=f"mqtt://{host}:{port}",
        state_dir=stack_settings.state_dir,
    )  # fmt: skip
    return ConsoleEnv(dsn, settings, load_console_settings(**console), {})


@contextmanager
def serve(env: ConsoleEnv) -> Iterator[str]:
    """The console app on ``env`` in uvicorn (a thread) on a free loopback port."""
    import uvicorn

    from console.app import create_app

    port = free_port()
    app = create_app(env.settings, env.console_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "console did not start"
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
