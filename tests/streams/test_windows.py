"""Window arithmetic with literal timestamps (no broker)."""

from __future__ import annotations

import math

import pytest

from streams.windows import MINUTE_MS, split_linear, window_start


def test_window_start_aligns_to_epoch() -> None:
    assert window_start(0, MINUTE_MS) == 0
    assert window_start(59_999, MINUTE_MS) == 0
    assert window_start(60_000, MINUTE_MS) == 60_000
    assert window_start(1_700_000_123_456, MINUTE_MS) == 1_700_000_100_000


def test_split_interpolates_at_bounds() -> None:
    # 9 units over 30 s .. 120 s: 30 s in [0,60), 60 s in [60,120) -> 3 and 6 units.
    parts = split_linear(30_000, 120_000, 9.0, MINUTE_MS)
    assert parts == [(0, pytest.approx(3.0)), (60_000, pytest.approx(6.0))]


def test_split_within_one_window_and_empty_interval() -> None:
    assert split_linear(1_000, 2_000, 5.0, MINUTE_MS) == [(0, 5.0)]
    assert split_linear(61_000, 61_000, 2.5, MINUTE_MS) == [(60_000, 2.5)]


def test_parts_telescope_to_the_amount() -> None:
    # An awkward interval over 1,000 windows: the parts add up to the amount.
    amount = 123_456.789
    parts = split_linear(12_345, 12_345 + 1_000 * MINUTE_MS + 17, amount, MINUTE_MS)
    assert len(parts) == 1_001
    assert math.isclose(math.fsum(p for _, p in parts), amount, rel_tol=1e-12)
    assert [s for s, _ in parts] == [i * MINUTE_MS for i in range(1_001)]
