"""Counter differencing, rate integration and window closing, with literal values."""

from __future__ import annotations

import math

import pytest

from streams.counters import (
    PointState,
    StepKind,
    close_windows,
    counter_step,
    rate_step,
)
from streams.windows import MINUTE_MS


def test_first_reading_is_a_baseline_then_differences() -> None:
    s = PointState()
    assert counter_step(s, 1_000, 100.0).kind is StepKind.FIRST
    step = counter_step(s, 61_000, 102.5)
    assert (step.kind, step.t0_ms, step.t1_ms, step.amount) == (StepKind.NORMAL, 1_000, 61_000, 2.5)


def test_duplicates_and_out_of_order_are_not_counted() -> None:
    s = PointState()
    counter_step(s, 1_000, 100.0)
    counter_step(s, 3_000, 104.0)
    assert counter_step(s, 3_000, 104.0).kind is StepKind.STALE  # duplicate
    assert counter_step(s, 2_000, 102.0).kind is StepKind.STALE  # late batch
    assert counter_step(s, 4_000, 105.0).amount == 1.0  # against 104, not 102


def test_rollover_at_modulus() -> None:
    # uint32 register with scale 0.01 kWh: M = 2^32 * 0.01 = 42949672.96.
    m = 2**32 * 0.01
    s = PointState()
    counter_step(s, 0, m - 3.0, modulus=m)
    step = counter_step(s, 60_000, 2.0, modulus=m)
    assert step.kind is StepKind.ROLLOVER
    assert step.amount == pytest.approx(5.0)  # 2 + M - (M - 3)


def test_reset_counts_the_new_value() -> None:
    # Reset from 1000 to 0 right after a reading; the next value 7 is the consumption since.
    m = 2**32 * 0.01
    s = PointState()
    counter_step(s, 0, 1_000.0, modulus=m)
    step = counter_step(s, 60_000, 7.0, modulus=m)
    assert (step.kind, step.amount) == (StepKind.RESET, 7.0)
    # Without a modulus (float register) any drop is a reset.
    s = PointState()
    counter_step(s, 0, 10.0)
    assert counter_step(s, 1, 3.0).kind is StepKind.RESET


def test_rate_bound_decides_rollover_and_flags_jumps() -> None:
    # Max 100/h; over 1 min a plausible increment is <= 100/60 = 1.667.
    s = PointState()
    counter_step(s, 0, 99.5, modulus=100.0, max_rate_per_h=100.0)
    assert (
        counter_step(s, 60_000, 0.5, modulus=100.0, max_rate_per_h=100.0).kind is StepKind.ROLLOVER
    )
    # 0.5 -> 0.2: wrapped increment 99.7 is implausible -> a reset counting 0.2.
    step = counter_step(s, 120_000, 0.2, modulus=100.0, max_rate_per_h=100.0)
    assert (step.kind, step.amount) == (StepKind.RESET, 0.2)
    # A stuck register unsticking: 0.2 -> 10.2 in one minute is counted and flagged.
    step = counter_step(s, 180_000, 10.2, modulus=100.0, max_rate_per_h=100.0)
    assert step.amount == pytest.approx(10.0) and step.implausible


def test_rate_sample_and_hold() -> None:
    # 6 t/h held for 10 min = 1 t, then 12 t/h for 5 min = 1 t.
    s = PointState()
    rate_step(s, 0, 6.0)
    assert rate_step(s, 600_000, 12.0).amount == pytest.approx(1.0)
    assert rate_step(s, 900_000, 0.0).amount == pytest.approx(1.0)
    assert rate_step(s, 900_000, 5.0).kind is StepKind.STALE


def test_windows_close_once_with_final_amounts() -> None:
    s = PointState()
    closed = close_windows(s, counter_step(s, 30_000, 0.0), MINUTE_MS)
    assert closed == [] and s.open_start_ms == 0
    # 30 s .. 90 s, 6 units: 3 in [0,60) (closed), 3 open in [60,120).
    closed = close_windows(s, counter_step(s, 90_000, 6.0), MINUTE_MS)
    assert closed == [(0, pytest.approx(3.0))]
    assert (s.open_start_ms, s.open_amount) == (60_000, pytest.approx(3.0))
    # A stale reading closes nothing.
    assert close_windows(s, counter_step(s, 80_000, 5.0), MINUTE_MS) == []
    # 90 s .. 180 s (on a bound), 3 more: [60,120) gets 3 + 1, [120,180) gets 2; both close.
    closed = close_windows(s, counter_step(s, 180_000, 9.0), MINUTE_MS)
    assert closed == [(60_000, pytest.approx(4.0)), (120_000, pytest.approx(2.0))]
    assert (s.open_start_ms, s.open_amount) == (180_000, 0.0)


def test_closed_windows_telescope_over_many_readings() -> None:
    # Irregular readings with a reset in the middle: the closed windows plus the open
    # remainder add up to the true consumption (sum of increments).
    s = PointState()
    values = [(7_000, 10.0), (50_000, 11.5), (200_000, 20.25), (200_500, 1.0), (400_123, 3.0)]
    total = 0.0
    for ts, v in values:
        total += sum(p for _, p in close_windows(s, counter_step(s, ts, v), MINUTE_MS))
    truth = (20.25 - 10.0) + 1.0 + 2.0
    assert math.isclose(total + s.open_amount, truth, rel_tol=1e-12)


def test_state_round_trips() -> None:
    s = PointState(1, 2.5, 0, 0.25)
    assert PointState.from_list(s.to_list()) == s
