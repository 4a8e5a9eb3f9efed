"""A console on a database with management data, for the dashboard's management view: the
example park, the golden scenario of ``tests/management`` (January 2026 metered days, January
2025 history for acme; ``tests/management/conftest.py``) stored in ``consumption`` as daily
rows, the demo management inputs, and tokens for admin, acme (enterprise) and a vendor."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import yaml
from consolekit import PARK_FILE, ROOT, ConsoleEnv, make_env, new_database

from console.auth import create_token
from console.registry import load_registry
from ingest.park.loader import load_park
from management import db
from management.inputs import load_inputs
from management.metered import EnergyModel, Metered
from nengtan.settings import Settings
from store.migrate import migrate


def scenario_metered() -> Metered:
    """The management tests' golden scenario (loaded from their conftest by path: the tests
    run with ``--import-mode=importlib``, so it is not importable as a package)."""
    path = ROOT / "tests" / "management" / "conftest.py"
    spec = importlib.util.spec_from_file_location("nt_mgmt_scenario", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    metered: Metered = mod.scenario_metered(date(2026, 1, 31))
    return metered


def make_mgmt_db(stack_settings: Settings) -> tuple[str, ConsoleEnv]:
    """A new migrated database with the park, the scenario's consumption, the demo inputs and
    tokens; returns (database name, env)."""
    name, dsn = new_database(stack_settings.dsn)
    migrate(dsn)
    env = make_env(stack_settings, dsn)
    park = load_park(PARK_FILE)
    inputs = load_inputs(Path(str(resources.files("management") / "data" / "examples"
                                  / "demo-park.yaml")))  # fmt: skip
    model = EnergyModel(park)
    rows = []
    for point, days in scenario_metered().daily.items():
        info = model.table.points[point]
        for d, q in days.items():
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            rows.append((point, info.enterprise, info.carrier, start, start + timedelta(days=1),
                         q, info.quantity_uom, 0.0))  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_registry(conn, park)
        for who, role, ent in (("admin", "admin", None), ("acme", "enterprise", "acme"),
                               ("vendor", "vendor", "acme")):  # fmt: skip
            env.tokens[who] = create_token(conn, role, ent, who)[1]
        db.save_inputs(conn, inputs, "test", "load", yaml.safe_load(PARK_FILE.read_text()))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO consumption VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    return name, env


def call(url: str, token: str, path: str, params: dict[str, str] | None = None,
         body: Any = None) -> Any:  # fmt: skip
    """One API call (GET, or POST with a JSON body); the decoded answer."""
    from urllib.parse import urlencode

    q = f"?{urlencode(params)}" if params else ""
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(f"{url}{path}{q}", data=data, method="GET" if data is None
                                 else "POST", headers={"Authorization": f"Bearer {token}",
                                                       "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())
