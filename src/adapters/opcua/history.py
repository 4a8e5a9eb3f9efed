"""HistoryRead (raw) of one tag from a source timestamp on: what the adapter missed.

A DCS historian (and the bundled simulator) keeps each tag's value changes. After a
(re)connect the adapter reads, per tag, everything from its watermark on, in pages: the
server's continuation points when it gives them, else a new read from the newest timestamp
seen (``NumValuesPerNode`` bounds each answer, and an open end time with a page size is the
form the specification defines for "from here on"). A tag or server without history answers a
Bad status; that is ``HistoryUnavailable``, and the adapter carries on with live values only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import ua
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError

PAGE_VALUES = 10_000
"""Values asked for per tag and request (asyncua's memory history answers at most 10,000)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CONNECTION_LOST = frozenset(
    {
        StatusCodes.BadSessionIdInvalid,
        StatusCodes.BadSessionClosed,
        StatusCodes.BadSessionNotActivated,
        StatusCodes.BadSecureChannelIdInvalid,
        StatusCodes.BadSecureChannelClosed,
        StatusCodes.BadConnectionClosed,
        StatusCodes.BadCommunicationError,
        StatusCodes.BadServerHalted,
        StatusCodes.BadShutdown,
        StatusCodes.BadNotConnected,
        StatusCodes.BadTimeout,
        StatusCodes.BadRequestTimeout,
    }
)
"""Service results that mean the connection, not the history, failed: raised as they are, so
the connection is re-made and the read retried. Any other Bad result (unsupported, not
readable, not historized, an internal error of the server's history) means "no history here":
``HistoryUnavailable``, and the adapter carries on with live values rather than reconnecting
forever."""

NO_DATA = frozenset({StatusCodes.BadNoData, StatusCodes.GoodNoData})
"""Nothing in the range: an empty answer, not a missing history."""


class HistoryUnavailable(Exception):
    """The server keeps no readable history for a tag; ``status`` names why."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def dt_of_ms(ts_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ts_ms)


async def read_since(
    node: Any, start: datetime, page: int = PAGE_VALUES
) -> AsyncIterator[list[ua.DataValue]]:
    """Pages of ``node``'s raw history from ``start`` (inclusive) on, each sorted by source
    timestamp; raises ``HistoryUnavailable`` when the server has none for it."""
    details = ua.ReadRawModifiedDetails()
    details.IsReadModified = False
    details.StartTime = start
    details.EndTime = ua.get_win_epoch()  # open end: everything from start on
    details.NumValuesPerNode = page
    details.ReturnBounds = False
    continuation: bytes | None = None
    while True:
        try:
            result = await node.history_read(details, continuation)
        except UaStatusCodeError as exc:
            if exc.code in CONNECTION_LOST:
                raise
            raise HistoryUnavailable(ua.StatusCode(exc.code).name) from exc
        if result.StatusCode.value in NO_DATA:
            return
        if not result.StatusCode.is_good():
            raise HistoryUnavailable(result.StatusCode.name)
        values = list(getattr(result.HistoryData, "DataValues", None) or [])
        values.sort(key=_source_time)
        if values:
            yield values
        if result.ContinuationPoint:
            continuation = result.ContinuationPoint
            continue
        if len(values) < page:
            return
        # resume from the newest *value* (a status-only entry may carry another clock's time)
        valued = [v for v in values if v.Value is not None and v.Value.Value is not None]
        newest = _source_time((valued or values)[-1])
        if newest <= _aware(details.StartTime):
            return  # a full page all at one instant: no progress possible by time
        details.StartTime = newest
        continuation = None


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _source_time(dv: ua.DataValue) -> datetime:
    """A value's source time (else server time); one without either sorts first."""
    when = dv.SourceTimestamp or dv.ServerTimestamp
    return _aware(when) if when is not None else _EPOCH
