"""The dashboard in headless Chromium against a running console (uvicorn on a loopback port):
it loads without console errors and shows the Sankey and the alert list; the Management tab, on
a database with management data (``mgmtkit``), shows the budget chart, the benchmark table, the
asset ledger and the decoupling states with the API's own figures, and an understandable empty
state for a token the API refuses (403) or a park without management inputs (404). Screenshots
are kept under ``test-artifacts/``."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cdp import Browser, chromium_path
from consolekit import ROOT, ConsoleEnv, serve
from mgmtkit import call, make_mgmt_db

from nengtan.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (scripts/setup)")
def test_dashboard_in_headless_chromium(console_env: ConsoleEnv, console_url: str) -> None:
    browser = Browser()
    try:
        browser.call("Page.navigate", url=f"{console_url}/#token={console_env.tokens['admin']}")
        browser.wait_for("document.body.dataset.loaded === 'true'")
        n_links = browser.evaluate("document.querySelectorAll('#sankey path.link').length")
        n_nodes = browser.evaluate("document.querySelectorAll('#sankey g.node').length")
        n_alerts = browser.evaluate("document.querySelectorAll('#alert-list tr.alert').length")
        n_cards = browser.evaluate("document.querySelectorAll('#cards .card').length")
        token_in_url = browser.evaluate("location.href.includes('token')")
        # drill down: one enterprise's view
        browser.evaluate("(() => { const s = document.querySelector('#enterprise');"
                         " s.value = 'acme'; s.dispatchEvent(new Event('change')); })()")  # fmt: skip
        browser.wait_for("document.querySelectorAll('#cards .card').length === 1")
        browser.wait_for("document.querySelectorAll('#alert-list tr.alert').length === 2")
        browser.screenshot(ARTIFACTS / "console-dashboard.png")
        errors = list(browser.errors)
    finally:
        browser.close()
    assert errors == []
    assert n_links >= 5 and n_nodes >= 5
    assert n_alerts == 5 and n_cards == 3
    assert token_in_url is False  # the fragment is taken and removed from the address
    assert (ARTIFACTS / "console-dashboard.png").stat().st_size > 10_000


def test_dashboard_assets_are_local(console_url: str) -> None:
    """Nothing is fetched from elsewhere: every src/href in the page and scripts is local."""
    import re

    static = Path(__file__).resolve().parents[2] / "src" / "console" / "static"
    for f in static.iterdir():
        text = f.read_text(encoding="utf-8")
        external = [u for u in re.findall(r"https?://[^\s\"'`)]+", text)
                    if not u.startswith("http://www.w3.org/2000/svg")]  # fmt: skip
        assert external == [], (f.name, external)
    with urllib.request.urlopen(f"{console_url}/static/sankey.js", timeout=5) as r:
        assert r.status == 200


# --- the Management tab ---------------------------------------------------------------------

NO_CHROMIUM = pytest.mark.skipif(chromium_path() is None,
                                 reason="chromium not installed (scripts/setup)")  # fmt: skip
TINPLATE = {"supplier": "steelco", "enterprise": "sunrise", "material": "tinplate",
            "period": "2026-01", "kind": "material", "quantity": 200, "uom": "t",
            "kgco2e_per_unit": 2150, "basis": "EPD"}  # fmt: skip
AS_OF = "2026-01-20"

# What the view shows, read from the page: the chart's raw figures (data-*), the table cells as
# displayed, the asset figures and ledger rows per enterprise, Tapio states.
READ_VIEW = """(() => {
  const t = (el) => el ? el.textContent : null;
  const all = (sel, root) => [...(root || document).querySelectorAll(sel)];
  return {
    chart: all('#budget-chart g.budget-row').map(g => [g.dataset.budget,
      Number(g.dataset.effective), Number(g.dataset.actual), Number(g.dataset.forecast)]),
    budgets: Object.fromEntries(all('#budget-table tbody tr[data-budget]').map(tr =>
      [tr.dataset.budget, ['.effective', '.actual', '.forecast'].map(c => t(tr.querySelector(c)))])),
    benchmark: all('#benchmark-table tbody tr[data-product]').map(tr => [tr.dataset.enterprise,
      tr.dataset.product, t(tr.querySelector('.intensity')), t(tr.querySelector('.grade'))]),
    assets: Object.fromEntries(all('.asset-box').map(b => [b.dataset.enterprise, {
      figures: Object.fromEntries(all('dd[data-key]', b).map(d => [d.dataset.key, d.textContent])),
      ledger: all('tr[data-entry]', b).map(tr => [tr.dataset.entry, t(tr.querySelector('.quantity'))]),
      position: t(b.querySelector('.position')), empty: t(b.querySelector('.empty'))}])),
    tapio: Object.fromEntries(all('#decoupling-table tbody tr[data-scope]').map(tr =>
      [tr.dataset.scope, [t(tr.querySelector('.tapio')), t(tr.querySelector('.elasticity'))]])),
    footprints: all('#footprint-table tbody tr[data-product]').map(tr => [tr.dataset.enterprise,
      tr.dataset.product, t(tr.querySelector('.kgco2e')), t(tr.querySelector('.coverage'))]),
    empty: all('[data-view=mgmt] .empty').map(e => e.textContent),
  };
})()"""


@pytest.fixture(scope="module")
def mgmt_console(stack_settings: Settings) -> Iterator[tuple[str, ConsoleEnv]]:
    """A running console on the management scenario, with one accepted supplier figure."""
    name, env = make_mgmt_db(stack_settings)
    try:
        with serve(env) as url:
            out = call(url, env.tokens["admin"], "/api/v1/management/supply/submissions",
                       body=[TINPLATE])  # fmt: skip
            assert [e["row"] for e in out["accepted"]] == [1], out
            yield url, env
    finally:
        with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _open_management(browser: Browser, url: str, token: str) -> None:
    """A fresh document (about:blank between: a changed fragment alone does not reload), then
    the Management tab, waiting for its first load."""
    browser.call("Page.navigate", url="about:blank")
    browser.call("Page.navigate", url=f"{url}/#token={token}")
    browser.wait_for("location.href.startsWith('http') && document.readyState === 'complete'"
                     " && !!document.querySelector('#tabs')")  # fmt: skip
    browser.evaluate("document.querySelector('#tabs button[data-view=mgmt]').click()")
    browser.wait_for("document.body.dataset.mgmtLoaded === 'true'")


def _set(browser: Browser, selector: str, value: str) -> None:
    browser.evaluate(f"(() => {{ const e = document.querySelector('{selector}');"
                     f" e.value = '{value}'; e.dispatchEvent(new Event('change')); }})()")  # fmt: skip
    browser.wait_for("document.body.dataset.mgmtLoaded === 'true'")


def _network_only(errors: list[str]) -> list[str]:
    """Errors other than the browser's own note of a refused request (expected for 403/404)."""
    return [e for e in errors if not e.startswith("log: Failed to load resource")]


@NO_CHROMIUM
def test_management_view_shows_the_api_figures(
    mgmt_console: tuple[str, ConsoleEnv],
) -> None:
    url, env = mgmt_console
    token = env.tokens["admin"]
    browser = Browser()
    try:
        _open_management(browser, url, token)
        defaults = browser.evaluate("[document.querySelector('#mgmt-month').value,"
                                    " document.querySelector('#mgmt-asof').value]")  # fmt: skip
        _set(browser, "#mgmt-asof", AS_OF)
        view = browser.evaluate(READ_VIEW)
        browser.screenshot(ARTIFACTS / "console-management.png")
        _set(browser, "#enterprise", "acme")
        acme_view = browser.evaluate(READ_VIEW)
        errors = list(browser.errors)
    finally:
        browser.close()
    assert errors == []
    # the latest budget month that has begun, its last day
    assert defaults == ["2026-01", "2026-01-31"]

    api = "/api/v1/management"
    budgets = call(url, token, f"{api}/budgets", {"as_of": AS_OF})["items"]
    bench = call(url, token, f"{api}/benchmark", {"period": "2026-01"})
    assets = {e: call(url, token, f"{api}/assets/{e}", {"period": "2026", "as_of": AS_OF})
              for e in ("acme", "hengli", "sunrise")}  # fmt: skip
    analysis = call(url, token, f"{api}/analysis", {"periods": "2025-01,2026-01"})

    # budget chart and table: budget, actual and forecast as the API gives them
    assert view["chart"] == [[b["budget_id"], b["effective"], b["actual_to_date"], b["forecast"]]
                             for b in budgets]  # fmt: skip
    assert view["budgets"] == {
        b["budget_id"]: [f"{b[k]:.3f}" for k in ("effective", "actual_to_date", "forecast")]
        for b in budgets}  # fmt: skip
    # hand-checked in tests/management (seasonal history of January 2025 and the plan)
    assert view["budgets"]["acme-2026-01-energy"][2] == "3912.293"
    # benchmark table
    assert view["benchmark"] == [
        [p["enterprise"], p["product"],
         f"{p['kgce_per_unit']:.2f} {p['level']['unit'] if p['level'] else 'kgce/' + p['output_uom']}",
         p["grade"].replace("_", " ") if p["grade"] else "no level"]
        for p in bench["products"]]  # fmt: skip
    assert view["benchmark"][0][2:] == ["1125.05 kgce/t", "between"]
    # carbon assets: compliance position and ledger per enterprise
    assert set(view["assets"]) == {"acme", "hengli", "sunrise"}
    for ent, a in assets.items():
        shown = view["assets"][ent]
        assert shown["figures"]["gap_t"] == f"{a['gap_t']:.1f} t", ent
        assert shown["figures"]["allowances_t"] == f"{a['holdings']['allowances_t']:.1f} t", ent
        assert shown["figures"]["obligation_forecast_t"] == f"{a['obligation_forecast_t']:.1f} t"
        assert shown["ledger"] == [[e["id"], f"{e['quantity_t']:.1f}"] for e in a["ledger"]], ent
        assert shown["position"].startswith("short by" if a["short"] else "covered"), ent
    assert view["assets"]["hengli"]["ledger"] == [["l-001", "1000.0"], ["l-002", "2000.0"]]
    # decoupling: the Tapio state and elasticity of every row
    assert view["tapio"] == {
        f"{d['kind']}:{d['scope']}": [d["tapio_state"].replace("_", " "),
                                      "–" if d["elasticity"] is None else f"{d['elasticity']:.3f}"]
        for d in analysis["decoupling"]}  # fmt: skip
    assert view["tapio"]["enterprise:acme"][0] == "weak decoupling"
    # footprints: every product; sunrise's tinplate factor is the supplier's
    fp = {(e, p): (kg, cov) for e, p, kg, cov in view["footprints"]}
    acme_fp = call(url, token, f"{api}/footprints/acme",
                   {"product": "synthetic ammonia", "period": "2026-01"})  # fmt: skip
    assert fp[("acme", "synthetic ammonia")][0] == f"{acme_fp['kgco2e']:.2f}" == "1932.88"
    assert fp[("sunrise", "canned food")][1] == "1 of 2 (tinplate)"
    # acme and sunrise hold nothing yet: their ledgers say so, no other panel is empty
    assert view["empty"] == ["no ledger entries for this compliance year"] * 2
    # drill-down: one enterprise's rows only
    assert set(acme_view["assets"]) == {"acme"}
    assert {r[0] for r in acme_view["benchmark"]} == {"acme"}
    assert [c[0] for c in acme_view["chart"]] == ["acme-2026-01-energy"]
    assert set(acme_view["tapio"]) == {"enterprise:acme"}
    assert (ARTIFACTS / "console-management.png").stat().st_size > 10_000


@NO_CHROMIUM
def test_management_view_scoped_and_empty_states(
    mgmt_console: tuple[str, ConsoleEnv],
    console_env: ConsoleEnv,
    console_url: str,
) -> None:
    """An enterprise token sees its own rows only; a vendor token (no read right: every
    management answer is 403) and a park without management inputs (404) get a sentence in
    every panel and no script error."""
    url, env = mgmt_console
    browser = Browser()
    try:
        _open_management(browser, url, env.tokens["acme"])
        mine: dict[str, Any] = browser.evaluate(READ_VIEW)
        leaked = browser.evaluate("[...document.querySelectorAll('[data-view=mgmt]')]"
                                  ".some(s => /hengli|sunrise/.test(s.textContent))")  # fmt: skip
        acme_errors = list(browser.errors)
        browser.errors.clear()
        _open_management(browser, url, env.tokens["vendor"])
        refused: dict[str, Any] = browser.evaluate(READ_VIEW)
        vendor_errors = list(browser.errors)
        browser.errors.clear()
        _open_management(browser, console_url, console_env.tokens["admin"])
        no_inputs: dict[str, Any] = browser.evaluate(READ_VIEW)
        no_input_errors = list(browser.errors)
    finally:
        browser.close()
    assert acme_errors == []
    assert set(mine["assets"]) == {"acme"} and {r[0] for r in mine["benchmark"]} == {"acme"}
    assert leaked is False
    assert _network_only(vendor_errors) == [] and _network_only(no_input_errors) == []
    assert vendor_errors  # the 403 answers did happen
    assert refused["chart"] == [] and refused["benchmark"] == [] and refused["tapio"] == {}
    assert refused["empty"].count("not in your token's scope") == 5  # 4 tables and the supply list
    assert "no enterprise in your scope" in refused["empty"]
    assert no_inputs["chart"] == [] and no_inputs["assets"].keys() == {"acme", "hengli", "sunrise"}
    assert all(
        a["empty"].startswith("no management data yet") for a in no_inputs["assets"].values()
    )
    assert sum(e.startswith("no management data yet") for e in no_inputs["empty"]) >= 5
