"""Turning one point's readings into increments: counters differenced (rollover, reset,
implausible jumps), rates integrated by sample-and-hold, stale and duplicate readings ignored.

The rules follow the shared fault semantics (docs/streams.md): a reading older than, or as old
as, the point's latest accepted reading is kept as raw evidence but never counted, so
duplicates, out-of-order batches and a replay after a crash all leave the totals unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from streams.windows import HOUR_MS, split_linear, window_start

MS_PER_HOUR = 3_600_000.0
LONG_GAP_MS = HOUR_MS
"""Default bound above which a step is booked as one interval record (``book_step``)."""


class StepKind(StrEnum):
    """How one reading was taken into account."""

    FIRST = "first"
    """First reading of a point: the baseline, nothing accrues yet."""
    NORMAL = "normal"
    STALE = "stale"
    """Not newer than the latest accepted reading: a duplicate or out-of-order; not counted."""
    ROLLOVER = "rollover"
    """The register wrapped at its modulus: increment = v2 + M - v1."""
    RESET = "reset"
    """The register went back and it is no plausible rollover: increment = v2 (meter cleared)."""
    BAD = "bad"
    """Quality ``bad`` or not finite: kept as evidence, never accounted."""


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one reading: the increment accrued over ``[t0_ms, t1_ms)``."""

    kind: StepKind
    t0_ms: int
    t1_ms: int
    amount: float
    implausible: bool = False
    """The increment exceeds the point's plausible maximum (counted all the same: a stuck
    register that unsticks jumps to the true value; the jump is flagged for a person)."""


@dataclass(slots=True)
class PointState:
    """What the stream keeps per point between readings (JSON-serialisable via ``to_list``)."""

    last_ts_ms: int | None = None
    last_value: float = 0.0
    open_start_ms: int | None = None
    """Start of the window still open (the one holding the latest reading), if any."""
    open_amount: float = 0.0
    """What accrued so far in the open window."""

    def to_list(self) -> list[float | int | None]:
        return [self.last_ts_ms, self.last_value, self.open_start_ms, self.open_amount]

    @classmethod
    def from_list(cls, data: list[float | int | None]) -> PointState:
        ts, value, open_start, open_amount = data
        return cls(  # values as stored (``x or 0.0`` would turn a stored -0.0 into 0.0)
            None if ts is None else int(ts),
            0.0 if value is None else float(value),
            None if open_start is None else int(open_start),
            0.0 if open_amount is None else float(open_amount),
        )


def counter_step(
    state: PointState,
    ts_ms: int,
    value: float,
    *,
    modulus: float | None = None,
    max_rate_per_h: float | None = None,
) -> Step:
    """Difference a cumulative register reading against the state, updating the state.

    ``modulus`` is where the register wraps (None: it never does); ``max_rate_per_h`` bounds a
    plausible increment (quantity per hour) and decides rollover against reset: a drop is a
    rollover when the wrapped increment is plausible (or, without a bound, below half the
    modulus), otherwise a reset that counts the new value.
    """
    if state.last_ts_ms is None:
        state.last_ts_ms, state.last_value = ts_ms, value
        return Step(StepKind.FIRST, ts_ms, ts_ms, 0.0)
    if ts_ms <= state.last_ts_ms:
        return Step(StepKind.STALE, ts_ms, ts_ms, 0.0)
    t0, v1 = state.last_ts_ms, state.last_value
    hours = (ts_ms - t0) / MS_PER_HOUR
    bound = None if max_rate_per_h is None else max_rate_per_h * hours
    kind = StepKind.NORMAL
    if value >= v1:
        amount = value - v1
    else:
        wrapped = None if modulus is None else value + modulus - v1
        limit = bound if bound is not None else (None if modulus is None else modulus / 2)
        if wrapped is not None and limit is not None and wrapped <= limit:
            kind, amount = StepKind.ROLLOVER, wrapped
        else:
            kind, amount = StepKind.RESET, value
    state.last_ts_ms, state.last_value = ts_ms, value
    implausible = bound is not None and amount > bound
    return Step(kind, t0, ts_ms, amount, implausible)


def rate_step(state: PointState, ts_ms: int, value: float) -> Step:
    """Sample-and-hold integration: the previous sample's rate (per hour) holds until this one.

    The state keeps the previous sample; the step's amount is ``rate_prev × Δt_h``.
    """
    if state.last_ts_ms is None:
        state.last_ts_ms, state.last_value = ts_ms, value
        return Step(StepKind.FIRST, ts_ms, ts_ms, 0.0)
    if ts_ms <= state.last_ts_ms:
        return Step(StepKind.STALE, ts_ms, ts_ms, 0.0)
    t0, rate = state.last_ts_ms, state.last_value
    state.last_ts_ms, state.last_value = ts_ms, value
    return Step(StepKind.NORMAL, t0, ts_ms, rate * (ts_ms - t0) / MS_PER_HOUR)


def close_windows(state: PointState, step: Step, size_ms: int) -> list[tuple[int, float]]:
    """Book a step on tumbling windows and return the windows it closed, as
    ``(start_ms, amount)``; the window holding ``step.t1_ms`` stays open in the state.

    A window closes once a reading at or after its end has been accepted, so each window is
    emitted once, with its final amount (readings older than the latest are never counted).
    """
    if step.kind in (StepKind.STALE, StepKind.BAD):
        return []
    if step.kind is StepKind.FIRST:
        state.open_start_ms, state.open_amount = window_start(step.t1_ms, size_ms), 0.0
        return []
    closed: list[tuple[int, float]] = []
    for start, part in split_linear(step.t0_ms, step.t1_ms, step.amount, size_ms):
        if start == state.open_start_ms:
            part += state.open_amount
        if start + size_ms <= step.t1_ms:
            closed.append((start, part))
            state.open_start_ms, state.open_amount = None, 0.0
        else:
            state.open_start_ms, state.open_amount = start, part
    if state.open_start_ms is None:
        state.open_start_ms = window_start(step.t1_ms, size_ms)
    return closed


Booked = tuple[int, int, float]
"""A closed interval of one point: ``(start_ms, end_ms, amount)``."""


def book_step(
    state: PointState, step: Step, size_ms: int, long_gap_ms: int | None = LONG_GAP_MS
) -> list[Booked]:
    """``close_windows`` with a bound on the output: a step spanning more than ``long_gap_ms``
    (a point silent for that long, or a clock jump) is booked as **one** interval record
    ``[t0, t1)`` with the step's whole amount, after the window that was open at ``t0``
    (closed as it stood); the window of ``t1`` opens empty. Otherwise the step is split over
    windows as ``close_windows`` does. Totals telescope either way; only how a long step is
    spread differs (one record instead of one per window, which after a gap of months was
    hundreds of thousands of records).
    """
    if not is_long(step, long_gap_ms):
        return [(s, s + size_ms, a) for s, a in close_windows(state, step, size_ms)]
    out: list[Booked] = []
    if state.open_start_ms is not None:
        out.append((state.open_start_ms, state.open_start_ms + size_ms, state.open_amount))
    out.append((step.t0_ms, step.t1_ms, step.amount))
    state.open_start_ms, state.open_amount = window_start(step.t1_ms, size_ms), 0.0
    return out


def is_long(step: Step, long_gap_ms: int | None) -> bool:
    """Whether ``book_step`` books this step as one interval record."""
    return (
        long_gap_ms is not None
        and step.t1_ms - step.t0_ms > long_gap_ms
        and step.kind not in (StepKind.STALE, StepKind.BAD, StepKind.FIRST)
    )
