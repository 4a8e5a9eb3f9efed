"""No input gives a 5xx: schemathesis generates requests from the console's own OpenAPI
document (valid and invalid bodies, path and query values) and sends each one with an
administrator's, an enterprise user's and a vendor's token to the app on a real database with
the example park, seeded results and management inputs. Bounded: ``EXAMPLES`` cases per
operation, schema-valid and schema-invalid alike (about two minutes for the whole API on a
small machine)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from consolekit import ConsoleEnv, seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mgmtkit import make_mgmt_db
from schemathesis.generation.modes import GenerationMode

from console.app import create_app
from console.settings import load_console_settings
from nengtan.settings import Settings, load_settings

pytestmark = pytest.mark.integration

EXAMPLES = 30
WHO = ("admin", "acme", "vendor")


def _schema() -> Any:
    app = create_app(load_settings(), load_console_settings())
    return schemathesis.openapi.from_dict(app.openapi())


SCHEMA = _schema()
OPERATIONS = sorted(
    (op.method.upper(), op.path) for op in (r.ok() for r in SCHEMA.get_all_operations())
)


@pytest.fixture(scope="module")
def env(stack_settings: Settings) -> Iterator[ConsoleEnv]:
    name, env = make_mgmt_db(stack_settings)
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        seed(conn)
    yield env
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def client(env: ConsoleEnv) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(env.settings, env.console_settings)) as c:
        yield c


def _request(client: Any, kwargs: dict[str, Any], token: str) -> Any:
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "authorization"}
    headers["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        body["content"] = data
    elif data is not None:
        body["data"] = data
    if kwargs.get("files"):
        body["files"] = kwargs["files"]
    return client.request(
        kwargs["method"], kwargs["url"], headers=headers, params=kwargs.get("params"), **body
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_input_gives_a_5xx(client: Any, env: ConsoleEnv, method: str, path: str) -> None:
    op = next(
        r.ok() for r in SCHEMA.get_all_operations()
        if r.ok().method.upper() == method and r.ok().path == path
    )  # fmt: skip
    failures: list[str] = []

    strategies = [op.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # an operation with nothing that can be made invalid
        strategies.append(op.as_strategy(GenerationMode.NEGATIVE))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        for who in WHO:
            resp = _request(client, kwargs, env.tokens[who])
            if resp.status_code >= 500:
                failures.append(
                    f"{who}: {method} {kwargs['url']} params={kwargs.get('params')!r:.200}"
                    f" body={str(kwargs.get('json', kwargs.get('data')))[:200]}"
                    f" -> {resp.status_code} {resp.text[:200]}"
                )

    run()
    assert not failures, "\n".join(failures[:5])


HOSTILE_TEXT = ("9999", "9999-12", "0000-00", "10000", "x" * 5000, "-1", "1e308")
HOSTILE_BY_FORMAT = {"date": ("9999-12-31", "0001-01-01"), "date-time": ("9999-12-31T23:59:59Z",)}
HOSTILE_INT = (2**63, -(2**63), 32503680000000)
PATH_VALUES = {"enterprise": "acme", "enterprise_id": "acme", "stack": "acme-stk1",
               "point": "acme.grid.kwh", "source": "acme.grid.kwh", "unit": "acme.synthesis",
               "alert_id": "x", "subscription_id": "1", "rule_id": "x"}  # fmt: skip


def _hostile(schema: dict[str, Any]) -> tuple[Any, ...]:
    options = [schema, *schema.get("anyOf", [])]
    for s in options:
        if s.get("format") in HOSTILE_BY_FORMAT:
            return HOSTILE_BY_FORMAT[s["format"]] + HOSTILE_TEXT[:2]
    if any(s.get("type") == "integer" for s in options):
        return (*HOSTILE_INT, "9999")
    return HOSTILE_TEXT


def _query_cases() -> list[tuple[str, str, str, Any]]:
    doc = create_app(load_settings(), load_console_settings()).openapi()
    out = []
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            for p in spec.get("parameters", []):
                if p["in"] == "query":
                    out += [(method.upper(), path, p["name"], v) for v in _hostile(p["schema"])]
    return out


@pytest.mark.parametrize(("method", "path", "name", "value"), _query_cases())
def test_hostile_query_value_gives_no_5xx(
    client: Any, env: ConsoleEnv, method: str, path: str, name: str, value: Any
) -> None:
    url = path.format(**PATH_VALUES)
    resp = client.request(method, url, params={name: value}, headers=env.auth("admin"))
    assert resp.status_code < 500, f"{method} {url} {name}={str(value)[:40]}: {resp.text[:300]}"
