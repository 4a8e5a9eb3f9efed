"""The inputs file: errors name the file, the entry and the problem."""

from __future__ import annotations

import pytest

from management.inputs import check_against, parse_inputs
from management.periods import parse_period
from nengtan.errors import ConfigError


def test_periods() -> None:
    p = parse_period("2024-02")
    assert (p.days, p.first.isoformat(), p.last.isoformat()) == (29, "2024-02-01", "2024-02-29")
    assert len(parse_period("2026").months()) == 12
    assert parse_period("2026-01").shifted_years(-1).label == "2025-01"
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        parse_period("Jan 2026")


def test_schema_errors_name_the_entry() -> None:
    with pytest.raises(ConfigError, match=r"f.yaml: budgets\[0\].amount"):
        parse_inputs({"park": "demo-park", "budgets": [
            {"id": "b", "scope": "acme", "period": "2026-01", "metric": "energy_tce",
             "amount": -1}]}, "f.yaml")
    with pytest.raises(ConfigError, match=r"budgets\[0\].period"):
        parse_inputs({"park": "demo-park", "budgets": [
            {"id": "b", "scope": "acme", "period": "2026-1", "metric": "energy_tce",
             "amount": 1}]}, "f.yaml")


def test_cross_check_against_park(park, inputs) -> None:
    bad = inputs.model_copy(update={"products": [
        inputs.products[0].model_copy(update={"product": "urea"})]})
    with pytest.raises(ConfigError, match=r"products\[0\]: enterprise 'acme' has no output 'urea'"):
        check_against(bad, park, "x.yaml")
    bad = inputs.model_copy(update={"products": [
        inputs.products[0].model_copy(update={"level": "nope"})]})
    with pytest.raises(ConfigError, match="unknown efficiency level 'nope'"):
        check_against(bad, park, "x.yaml")


def test_budget_product_and_bom_units_are_checked(park, inputs) -> None:
    bad = inputs.model_copy(update={"budgets": [
        inputs.budgets[0].model_copy(update={"product": "urea"})]})
    with pytest.raises(ConfigError, match=r"budgets\[0\]: enterprise 'acme' has no output 'urea'"):
        check_against(bad, park, "x.yaml")
    bom = inputs.boms[0]
    line = bom.materials[0].model_copy(update={"uom": "bananas"})
    bad = inputs.model_copy(update={"boms": [bom.model_copy(update={"materials": [line]})]})
    with pytest.raises(ConfigError, match=r"boms\[0\].materials\[0\].uom: .*bananas"):
        check_against(bad, park, "x.yaml")
