"""The dashboard in headless Chromium against a running console (uvicorn on a loopback port):
it loads without console errors and shows the Sankey and the alert list; a screenshot is kept
under ``test-artifacts/``."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from cdp import Browser, chromium_path
from consolekit import ROOT, ConsoleEnv

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
