"""Validation against the park model: every rule, with the reason a person reads."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ingest.park.models import Park
from ingest.validate import Limits, Validator, summarize

NOW = 1_795_253_400_000


@pytest.fixture
def validator(tiny_park: Park) -> Validator:
    return Validator.for_park(tiny_park, Limits(max_future_ms=60_000, max_past_ms=86_400_000))


def _one(validator: Validator, reading: dict[str, Any], source: str = "gw1") -> str:
    good, bad = validator.check(source, [reading], NOW)
    assert good == []
    assert len(bad) == 1
    return bad[0]


def test_good_readings_pass_as_contract_dicts(validator: Validator) -> None:
    good, bad = validator.check(
        "gw1",
        [
            {"point": "p.kwh", "ts": NOW, "value": 12.5},
            {"point": "p.kw", "ts": NOW - 1000, "value": 3, "q": "uncertain", "uom": "kW"},
        ],
        NOW,
    )
    assert bad == []
    assert good == [
        {"point": "p.kwh", "ts": NOW, "value": 12.5, "q": "good"},
        {"point": "p.kw", "ts": NOW - 1000, "value": 3, "q": "uncertain"},
    ]


@pytest.mark.parametrize(
    ("reading", "reason"),
    [
        ({"point": "nope", "ts": NOW, "value": 1.0}, "reading[0]: unknown point 'nope'"),
        ({"point": "q.kwh", "ts": NOW, "value": 1.0}, "belongs to 'gw2', not to the sender 'gw1'"),
        (
            {"point": "p.kwh", "ts": NOW, "value": 1.0, "uom": "MWh"},
            "unit 'MWh' does not match the point's unit 'kWh'",
        ),
        ({"point": "p.kwh", "ts": NOW, "value": math.nan}, "value is nan (must be finite)"),
        ({"point": "p.kwh", "ts": NOW, "value": math.inf}, "value is inf (must be finite)"),
        ({"point": "p.kwh", "ts": NOW, "value": "12"}, "value '12' is not a number"),
        ({"point": "p.kwh", "ts": NOW, "value": True}, "value True is not a number"),
        (
            {"point": "p.kwh", "ts": NOW, "value": -1.0},
            "value -1.0 kWh is outside the plausible range [0, 1e+15] for a counter in kWh",
        ),
        (
            {"point": "p.pf", "ts": NOW, "value": 1.5},
            "outside the plausible range [-1, 1] for a gauge in PF",
        ),
        (
            {"point": "p.kwh", "ts": NOW + 120_000, "value": 1.0},
            "ts 1795253520000 is 120 s in the future",
        ),
        (
            {"point": "p.kwh", "ts": NOW - 2 * 86_400_000, "value": 1.0},
            "s in the past (allowed: 60 s ahead, 1 days back)",
        ),
        (
            {"point": "p.kwh", "ts": 1.5e12, "value": 1.0},
            "ts 1500000000000.0 is not integer epoch ms",
        ),
        (
            {"point": "p.kwh", "ts": NOW, "value": 1.0, "q": "meh"},
            "q 'meh' is not good, uncertain or bad",
        ),
        ({"point": "p.kwh", "value": 1.0}, "reading[0]: missing field(s) ts"),
    ],
)
def test_each_rule_names_point_field_and_expectation(
    validator: Validator, reading: dict[str, Any], reason: str
) -> None:
    assert reason in _one(validator, reading)


def test_non_object_reading_and_non_list(validator: Validator) -> None:
    assert "expected an object" in _one(validator, 3)  # type: ignore[arg-type]
    good, bad = validator.check("gw1", {"a": 1}, NOW)
    assert good == [] and bad == ["'readings' must be a list, got dict"]


def test_source_checks(validator: Validator) -> None:
    assert validator.check_source("gw1", "ent1") is None
    assert validator.check_source("stk1", "ent1") is None
    assert "unknown device 'zz'" in (validator.check_source("zz") or "")
    assert "device 'gw1' belongs to enterprise 'ent1', topic says 'ent2'" in (
        validator.check_source("gw1", "ent2") or ""
    )


def test_summary_lists_five_then_counts() -> None:
    text = summarize([f"r{i}" for i in range(8)], 100)
    assert text == "8 of 100 readings rejected: r0; r1; r2; r3; r4; and 3 more"
