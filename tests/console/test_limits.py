"""Limits: bodies above the console's size limit and CSV files above its row limit are refused
(413) before anything is stored; a 422 never echoes a large input back; periods far in the
future and text PostgreSQL cannot hold are 422, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from consolekit import HENGLI_ALERT, ConsoleEnv, seed
from mgmtkit import make_mgmt_db

from console.settings import load_console_settings
from nengtan.settings import Settings

pytestmark = pytest.mark.integration

MAX_BODY = 64 * 1024
MAX_ROWS = 50
CSV_HEAD = "supplier,enterprise,material,period,kind,quantity,uom,kgco2e_per_unit,basis\n"
CSV_ROW = "s1,acme,steel,2026-01,material,1,t,1850,EPD\n"


@pytest.fixture(scope="module")
def env(stack_settings: Settings) -> Iterator[ConsoleEnv]:
    name, env = make_mgmt_db(stack_settings)
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        seed(conn)
    env.console_settings = load_console_settings(
        max_body_bytes=MAX_BODY, max_submission_rows=MAX_ROWS
    )
    yield env
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def client(env: ConsoleEnv) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from console.app import create_app

    with TestClient(create_app(env.settings, env.console_settings)) as c:
        yield c


def evidence_rows(env: ConsoleEnv) -> int:
    with psycopg.connect(env.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM mgmt_supplier_evidence").fetchone()
        assert row is not None
        return int(row[0])


def test_csv_above_the_body_limit_is_413(client: Any, env: ConsoleEnv) -> None:
    before = evidence_rows(env)
    body = (CSV_HEAD + CSV_ROW * (MAX_BODY // len(CSV_ROW) + 10)).encode()
    resp = client.post(
        "/api/v1/management/supply/csv", content=body,
        headers={**env.auth("vendor"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert resp.status_code == 413 and len(resp.content) < 500
    assert evidence_rows(env) == before


def test_csv_above_the_row_limit_is_413(client: Any, env: ConsoleEnv) -> None:
    before = evidence_rows(env)
    body = (CSV_HEAD + CSV_ROW * (MAX_ROWS + 1)).encode()
    assert len(body) < MAX_BODY
    resp = client.post(
        "/api/v1/management/supply/csv", content=body,
        headers={**env.auth("vendor"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert resp.status_code == 413, resp.text
    assert str(MAX_ROWS) in resp.json()["detail"]
    assert evidence_rows(env) == before
    rows = [{"supplier": "s1"}] * (MAX_ROWS + 1)
    resp = client.post("/api/v1/management/supply/submissions", json=rows,
                       headers=env.auth("vendor"))  # fmt: skip
    assert resp.status_code == 413
    assert evidence_rows(env) == before


def test_csv_within_the_limits_is_taken(client: Any, env: ConsoleEnv) -> None:
    body = (CSV_HEAD + CSV_ROW * MAX_ROWS).encode()
    resp = client.post(
        "/api/v1/management/supply/csv", content=body,
        headers={**env.auth("vendor"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert resp.status_code == 201, resp.text


def test_a_422_does_not_echo_a_large_field(client: Any, env: ConsoleEnv) -> None:
    big = "y" * 40_000
    resp = client.post(f"/api/v1/alerts/{HENGLI_ALERT}/comments", json={"body": big},
                       headers=env.auth("admin"))  # fmt: skip
    assert resp.status_code == 422
    assert len(resp.content) < 2_000, resp.text[:300]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/management/benchmark", {"period": "9999"}),
        ("/api/v1/management/analysis", {"periods": "9999-12"}),
        ("/api/v1/management/footprints/acme", {"period": "9999"}),
        ("/api/v1/management/footprints/acme/report", {"period": "9999-12"}),
        ("/api/v1/management/assets/acme", {"period": "9999"}),
        ("/api/v1/management/assets/acme", {"as_of": "9999-12-31"}),
        ("/api/v1/management/budgets", {"as_of": "9999-12-31"}),
    ],
)
def test_far_future_period_is_422(
    client: Any, env: ConsoleEnv, path: str, params: dict[str, str]
) -> None:
    resp = client.get(path, params=params, headers=env.auth("admin"))
    assert resp.status_code < 500, resp.text[:300]


def test_lone_surrogate_in_a_comment_is_422(client: Any, env: ConsoleEnv) -> None:
    body = b'{"body": "bad \\ud800 text"}'
    resp = client.post(
        f"/api/v1/alerts/{HENGLI_ALERT}/comments", content=body,
        headers={**env.auth("admin"), "Content-Type": "application/json"},
    )  # fmt: skip
    assert resp.status_code == 422, resp.text[:300]
