"""Which differences between two report bodies make a new revision necessary."""

from __future__ import annotations

from reports.snapshots import first_difference


def test_float_noise_from_summation_order_is_the_same_figure() -> None:
    a = {"emissions": {"total_co2e_t": 0.1 + 0.2 + 0.3}, "sources": [{"co2e_t": 10.921320}]}
    b = {"emissions": {"total_co2e_t": 0.3 + 0.2 + 0.1}, "sources": [{"co2e_t": 10.921320}]}
    assert a != b  # the noise is real: 0.6000000000000001 vs 0.6
    assert first_difference(a, b) is None


def test_a_real_change_is_named_by_its_path() -> None:
    a = {"emissions": {"total_co2e_t": 10.0}, "sources": [{"co2e_t": 4.0}, {"co2e_t": 6.0}]}
    b = {"emissions": {"total_co2e_t": 10.0}, "sources": [{"co2e_t": 4.0}, {"co2e_t": 6.001}]}
    assert first_difference(a, b) == "/sources[1]/co2e_t"


def test_added_keys_rows_and_changed_text_differ() -> None:
    assert first_difference({"a": 1}, {"a": 1, "b": 2}) == "/b"
    assert first_difference({"s": [1]}, {"s": [1, 2]}) == "/s[len 1 != 2]"
    assert first_difference({"f": "ipcc"}, {"f": "gbt"}) == "/f"
    assert first_difference({"v": True}, {"v": 1}) == "/v"
    assert first_difference({"v": None}, {"v": 0.0}) == "/v"
