"""Rolling CO₂e aggregates of one scope (an enterprise, the park): last hour, last 24 hours,
calendar day, month and year to date, over event time.

Minute buckets cover the last two hours, hour buckets the last day, calendar days (in the rule
file's time zone) the year; the state stays small enough to be written on every update. "Last
24 h" is the hour so far plus the 23 full hours before it. A minute of a source counts once: a
record for a (source, minute) booked in the last hour replaces the earlier value (a
correction), so re-sent records change nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.windows import DAY_MS, HOUR_MS, MINUTE_MS, window_start

RollingState = dict[str, Any]


KEEP_MINUTES_MS = 2 * HOUR_MS
KEEP_HOURS_MS = 25 * HOUR_MS
KEEP_BOOKED_MS = HOUR_MS
"""How long a (source, minute) value is remembered for corrections and re-sends: the streams
re-send an open minute while it grows (and its final value after a device gap), and after a
crash what they sent just before it. A device silent for longer than this has its open
minute counted again in the rolling sums (never in the database, which upserts)."""


def book(
    state: RollingState,
    source: str,
    start_ms: int,
    value: float,
    tz_ms: int,
    end_ms: int | None = None,
) -> None:
    """Add (or correct) one source's value for the minute starting at ``start_ms``.

    A record longer than a minute (a long-gap interval, ``streams.counters.book_step``) is
    booked whole on the minute it starts in, as the database's rollups do, under a key of its
    own: it never replaces the minute record of the same source and start minute."""
    minute = window_start(start_ms, MINUTE_MS)
    booked: dict[str, float] = state.setdefault("b", {})
    long = end_ms is not None and end_ms - start_ms != MINUTE_MS
    key = f"{source}|{start_ms}-{end_ms}|{minute}" if long else f"{source}|{minute}"
    delta = value - booked.get(key, 0.0)
    booked[key] = value
    for name, bucket in (
        ("m", minute),
        ("h", window_start(minute, HOUR_MS)),
        ("d", local_day_start(minute, tz_ms)),
    ):
        buckets: dict[str, float] = state.setdefault(name, {})
        buckets[str(bucket)] = buckets.get(str(bucket), 0.0) + delta
    newest = state["n"] = max(int(state.get("n", minute)), minute)
    _prune(state, newest, tz_ms)


def _prune(state: RollingState, newest: int, tz_ms: int) -> None:
    limits = {
        "m": newest - KEEP_MINUTES_MS,
        "h": newest - KEEP_HOURS_MS,
        "d": local_year_start(newest, tz_ms) - 31 * DAY_MS,
    }
    for name, oldest in limits.items():
        if any(int(k) < oldest for k in state[name]):
            state[name] = {k: v for k, v in state[name].items() if int(k) >= oldest}
    oldest = newest - KEEP_BOOKED_MS
    if any(int(k.rsplit("|", 1)[1]) < oldest for k in state["b"]):
        state["b"] = {k: v for k, v in state["b"].items() if int(k.rsplit("|", 1)[1]) >= oldest}


def sums(state: RollingState, end_ms: int, tz_ms: int) -> dict[str, float]:
    """Totals up to ``end_ms`` (a minute boundary): last hour, last 24 h, day, month, ytd."""
    minutes = {int(k): v for k, v in state.get("m", {}).items()}
    hours = {int(k): v for k, v in state.get("h", {}).items()}
    days = {int(k): v for k, v in state.get("d", {}).items()}
    hour0 = window_start(end_ms - 1, HOUR_MS)
    day0 = local_day_start(end_ms - 1, tz_ms)
    month0 = local_month_start(end_ms - 1, tz_ms)
    year0 = local_year_start(end_ms - 1, tz_ms)
    this_hour = sum(v for m, v in minutes.items() if hour0 <= m < end_ms)
    today = sum(v for h, v in hours.items() if day0 <= h < hour0) + this_hour
    return {
        "last_hour": sum(v for m, v in minutes.items() if end_ms - HOUR_MS <= m < end_ms),
        "last_24h": sum(v for h, v in hours.items() if hour0 - 23 * HOUR_MS <= h < hour0)
        + this_hour,
        "day": today,
        "month": sum(v for d, v in days.items() if month0 <= d < day0) + today,
        "ytd": sum(v for d, v in days.items() if year0 <= d < day0) + today,
    }


def local_day_start(ts_ms: int, tz_ms: int) -> int:
    """UTC ms of the start of the local calendar day holding ``ts_ms``."""
    return (ts_ms + tz_ms) // DAY_MS * DAY_MS - tz_ms


def _local(ts_ms: int, tz_ms: int) -> datetime:
    return datetime.fromtimestamp((ts_ms + tz_ms) / 1000, tz=UTC)


def _utc_ms(local: datetime, tz_ms: int) -> int:
    return int(local.timestamp() * 1000) - tz_ms


def local_month_start(ts_ms: int, tz_ms: int) -> int:
    d = _local(ts_ms, tz_ms)
    return _utc_ms(datetime(d.year, d.month, 1, tzinfo=UTC), tz_ms)


def local_year_start(ts_ms: int, tz_ms: int) -> int:
    d = _local(ts_ms, tz_ms)
    return _utc_ms(datetime(d.year, 1, 1, tzinfo=UTC), tz_ms)


def year_fraction(ts_ms: int, tz_ms: int) -> float:
    """Share of the local calendar year elapsed at ``ts_ms`` (for budget pace)."""
    start = local_year_start(ts_ms, tz_ms)
    d = _local(ts_ms, tz_ms)
    end = _utc_ms(datetime(d.year + 1, 1, 1, tzinfo=UTC), tz_ms)
    return (ts_ms - start) / (end - start)
