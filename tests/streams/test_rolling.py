"""Rolling aggregates over event time, with corrections counted once."""

from __future__ import annotations

import pytest

from streams.rolling import book, local_day_start, sums, year_fraction
from streams.rules import load_rules
from streams.scope_alerts import advance, on_emission, on_seen

H = 3_600_000
TZ = 8 * H
T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z = 08:00 local


def test_windows_day_month_ytd() -> None:
    st: dict[str, object] = {}
    # 1 t a minute from 06:00Z on 2026-01-04 (14:00 local) to 02:00Z on 2026-01-05 (10:00 local)
    for m in range(20 * 60):
        book(st, "a", T0 - 18 * H + m * 60_000, 1.0, TZ)
    s = sums(st, T0 + 2 * H, TZ)
    assert s["last_hour"] == pytest.approx(60.0)
    assert s["last_24h"] == pytest.approx(20 * 60.0)
    # local day 2026-01-05 began at 16:00Z on the 4th: 10 hours of it have passed
    assert s["day"] == pytest.approx(600.0)
    assert s["month"] == pytest.approx(1200.0) and s["ytd"] == pytest.approx(1200.0)


def test_corrections_replace_and_resends_change_nothing() -> None:
    st: dict[str, object] = {}
    book(st, "a", T0, 2.0, TZ)
    book(st, "a", T0, 2.0, TZ)  # re-sent
    book(st, "b", T0, 1.0, TZ)
    book(st, "a", T0, 3.0, TZ)  # corrected
    assert sums(st, T0 + 60_000, TZ)["last_hour"] == pytest.approx(4.0)


def test_local_calendar() -> None:
    assert local_day_start(T0, TZ) == T0 - 8 * H
    assert 0.01 < year_fraction(T0, TZ) < 0.02  # 4 days and 8 h of 365


def test_enterprise_rules_on_event_time() -> None:
    rules = load_rules()
    st: dict[str, object] = {}
    out = []
    # 1 t a minute: the 1h sum reaches 60 t > 50 (warning) after 50 min; held 5 min
    for m in range(90):
        rec = {"source": "p", "start_ms": T0 + m * 60_000, "end_ms": T0 + (m + 1) * 60_000,
               "co2e_t": 1.0, "method": "calculated"}  # fmt: skip
        on_emission(st, rec, rules.timezone_offset_ms)
        on_seen(st, "dev", T0 + (m + 1) * 60_000)
        out += advance(rules, st, "enterprise", "ent")
    co2 = [a for a in out if a["rule_id"] == "enterprise-co2e-1h"]
    assert [a["state"] for a in co2] == ["raised"]
    assert co2[0]["severity"] == "warning" and co2[0]["ts"] == T0 + (51 + 5) * 60_000
    silent = [a for a in out if a["rule_id"] == "device-silent-10m"]
    assert silent == []


def test_an_interval_record_is_booked_beside_the_minute_of_its_start() -> None:
    """A long-gap interval starting in the minute of a minute record of the same source adds
    to it (its own key), and a re-sent interval changes nothing."""
    st: dict[str, object] = {}
    book(st, "a", T0, 1.0, TZ, T0 + 60_000)
    book(st, "a", T0 + 5_000, 10.0, TZ, T0 + 2 * H)
    book(st, "a", T0 + 5_000, 10.0, TZ, T0 + 2 * H)
    assert sums(st, T0 + 60_000, TZ)["last_hour"] == pytest.approx(11.0)
