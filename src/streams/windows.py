"""Tumbling-window arithmetic: which window an instant falls in, and how an amount that accrued
linearly over ``[t0, t1)`` splits over the windows it spans.

Splitting works on *cumulative* values interpolated at the window bounds and takes differences,
so the parts of one interval add up to the interval's amount and the parts of consecutive
intervals add up to the total (totals telescope) whatever the window size.
"""

from __future__ import annotations

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def window_start(ts_ms: int, size_ms: int) -> int:
    """Start of the tumbling window of ``size_ms`` containing ``ts_ms`` (aligned to the epoch)."""
    return ts_ms - ts_ms % size_ms


def split_linear(t0_ms: int, t1_ms: int, amount: float, size_ms: int) -> list[tuple[int, float]]:
    """Split ``amount``, accrued at a constant pace over ``[t0_ms, t1_ms)``, into
    ``(window_start_ms, part)`` pairs, one per window the interval touches, in time order.

    The last part is ``amount`` minus the cumulative value at the last inner bound, so the parts
    sum to ``amount`` up to one rounding step. An empty interval (``t1 <= t0``) books the whole
    amount on the window of ``t0`` (a counter step seen at one instant).
    """
    if t1_ms <= t0_ms:
        return [(window_start(t0_ms, size_ms), amount)]
    span = t1_ms - t0_ms
    parts: list[tuple[int, float]] = []
    start = window_start(t0_ms, size_ms)
    before = 0.0
    while True:
        end = start + size_ms
        if end >= t1_ms:
            parts.append((start, amount - before))
            return parts
        cumulative = amount * ((end - t0_ms) / span)
        parts.append((start, cumulative - before))
        before = cumulative
        start = end
