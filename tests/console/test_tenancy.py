"""Tenant isolation, walked over the app's own route table (a new route is covered, or this
test fails until it gets a request body below): no token → 401 everywhere; an enterprise
user's token aimed at another enterprise → 403, 404 or an answer that never mentions it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from consolekit import HENGLI_ALERT, T0, ConsoleEnv
from fastapi.routing import APIRoute, iter_route_contexts

pytestmark = pytest.mark.integration

OTHER = "hengli"
# values of the other enterprise for every path and query parameter the API has
OTHER_VALUES: dict[str, Any] = {
    "enterprise_id": OTHER,
    "enterprise": OTHER,
    "alert_id": HENGLI_ALERT,
    "stack": "hengli-stk1",
    "point": "hengli.grid.kwh",
    "source": "hengli.grid.kwh",
    "unit": "hengli.mill",
    "rule_id": "stack-pollutant-15m",
    "allow_id": 1,
    "grant_id": 1,
}
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/subscriptions"): {"channel": "mqtt", "enterprise": OTHER},
    ("POST", "/api/v1/delivery/allow-list"): {"network": "127.0.0.1/32", "note": "not mine"},
    ("POST", "/api/v1/delivery/kafka-grants"): {"enterprise": OTHER, "prefix": "erp.hengli."},
    ("POST", "/api/v1/alerts/{alert_id}/ack"): {"note": "not mine"},
    ("POST", "/api/v1/alerts/{alert_id}/comments"): {"body": "not mine"},
    ("POST", "/api/v1/readings"): {
        "device": "hengli-gw", "seq": 1, "sent_ms": T0,
        "readings": [{"point": "hengli.pv.kwh", "ts": T0, "value": 1.0}],
    },
    # management (issue 10) write routes, aimed at the other enterprise
    ("POST", "/api/v1/management/budgets"): {
        "id": "b-other", "scope": OTHER, "period": "2026", "metric": "co2e_t", "amount": 1.0},
    ("POST", "/api/v1/management/reallocations"): {
        "id": "r-other", "from_budget": "b-other", "to_budget": "b-other", "amount": 1.0,
        "day": "2026-01-05", "reason": "not mine"},
    ("POST", "/api/v1/management/ledger"): {
        "id": "l-other", "enterprise": OTHER, "compliance_period": "2026", "day": "2026-01-05",
        "kind": "allowance_buy", "quantity_t": 1.0},
    ("POST", "/api/v1/management/supply/submissions"): [],
    ("POST", "/api/v1/management/supply/csv"): {},
    ("PUT", "/api/v1/management/inputs"): {
        "document": {"schema": "nengtan.management/1", "budgets": [
            {"id": "b-other", "scope": OTHER, "period": "2026", "metric": "co2e_t",
             "amount": 1.0}]}},
}  # fmt: skip
DASHBOARD_PATHS = {"/", "/healthz", "/static", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                   "/redoc"}  # fmt: skip


def api_routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    out = []
    for ctx in iter_route_contexts(app.routes):
        route, path = ctx.original_route, ctx.path or ""
        if not isinstance(route, APIRoute):
            assert path in DASHBOARD_PATHS, f"unexpected non-API route {path}"
            continue
        if not path.startswith("/api/"):
            assert path in DASHBOARD_PATHS, f"route {path}: data routes belong under /api/"
            continue
        for method in sorted(route.methods):
            out.append((method, path, route))
    assert len(out) >= 20
    return out


def request(client: Any, method: str, path: str, route: APIRoute, headers: dict[str, str],
            subscription_id: int, only: tuple[str, ...] | None = None,
            strict: bool = True) -> Any:  # fmt: skip
    """Call a route with the other enterprise's ids in its path and query (``only``: just
    these query parameters)."""
    values = {**OTHER_VALUES, "subscription_id": subscription_id}
    url = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
    names = [q.name for q in route.dependant.query_params if q.name in values]
    query = {n: values[n] for n in names if only is None or n in only}
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        # without a token the body does not matter (authentication comes first); with one, a
        # new write route needs a body aimed at the other enterprise here
        assert (method, path) in BODIES or "Authorization" not in headers or not strict, (
            f"{method} {path}: add a request body aimed at {OTHER!r} to BODIES"
        )
        kwargs["json"] = BODIES.get((method, path), {})
    return client.request(method, url, **kwargs)


@pytest.fixture(scope="module")
def other_subscription(client: Any, console_env: ConsoleEnv) -> int:
    resp = client.post("/api/v1/subscriptions", json={"channel": "mqtt"},
                       headers=console_env.auth(OTHER))  # fmt: skip
    assert resp.status_code == 201 and resp.json()["enterprise"] == OTHER
    return int(resp.json()["id"])


def test_unauthenticated_gets_401_everywhere(
    client: Any, console_env: ConsoleEnv, other_subscription: int
) -> None:
    for method, path, route in api_routes(client.app):
        for headers in ({}, {"Authorization": "Bearer nt_not-a-token"}):
            resp = request(client, method, path, route, headers, other_subscription, strict=False)
            assert resp.status_code == 401, (method, path, resp.status_code)


def test_enterprise_user_never_sees_another_enterprise(
    client: Any, console_env: ConsoleEnv, other_subscription: int
) -> None:
    seen: dict[str, int] = {}
    for method, path, route in api_routes(client.app):
        resp = request(client, method, path, route, console_env.auth("acme"), other_subscription)
        seen[f"{method} {path}"] = resp.status_code
        if path == "/api/v1/energy/flow":  # flow node ids name carriers and units, not owners
            assert resp.json()["links"] == [], resp.text
        if resp.status_code in (403, 404):
            continue
        assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
        assert OTHER not in resp.text.lower(), (method, path, resp.text[:300])
    # nothing of hengli's was changed through those calls
    admin = console_env.auth("admin")
    alert = client.get(f"/api/v1/alerts/{HENGLI_ALERT}", headers=admin).json()
    assert alert["ack_by"] is None and alert["comment_list"] == []
    assert (
        client.get(f"/api/v1/subscriptions/{other_subscription}", headers=admin).status_code == 200
    )
    # explicit requests for the other enterprise are refused or empty, not errors
    assert seen["GET /api/v1/enterprises/{enterprise_id}"] == 404
    assert seen["POST /api/v1/subscriptions"] == 403


def test_the_walk_can_fail(client: Any, console_env: ConsoleEnv, other_subscription: int) -> None:
    """The same walk with the park administrator's token does see the other enterprise, so the
    test above would notice a leak."""
    leaked = []
    for method, path, route in api_routes(client.app):
        if method != "GET":
            continue
        resp = request(client, method, path, route, console_env.auth("admin"), other_subscription,
                       only=("enterprise",))  # fmt: skip
        if resp.status_code == 200 and OTHER in resp.text.lower():
            leaked.append(path)
    for path in ("/api/v1/enterprises", "/api/v1/energy/consumption", "/api/v1/emissions",
                 "/api/v1/alerts", "/api/v1/cems/hourly", "/api/v1/subscriptions",
                 "/api/v1/alerts/{alert_id}", "/api/v1/stacks"):  # fmt: skip
        assert path in leaked, path


def test_roles(client: Any, console_env: ConsoleEnv) -> None:
    auditor = console_env.auth("auditor")
    assert client.get("/api/v1/alerts", headers=auditor).json()["count"] == 5
    resp = client.post("/api/v1/subscriptions", json={"channel": "mqtt"}, headers=auditor)
    assert resp.status_code == 403
    vendor = console_env.auth("vendor")
    for path in ("/api/v1/park", "/api/v1/alerts", "/api/v1/energy/consumption"):
        assert client.get(path, headers=vendor).status_code == 403
    # an enterprise user's subscription is pinned to their enterprise
    resp = client.post("/api/v1/subscriptions", json={"channel": "kafka"},
                       headers=console_env.auth("acme"))  # fmt: skip
    assert resp.json()["enterprise"] == "acme"
    assert resp.json()["target"] == "nt.tenant.acme.alerts"
