"""Management periods: a calendar month ``YYYY-MM`` or a calendar year ``YYYY`` (UTC dates).

Budgets, production records, plans and compliance periods are all named this way, so one parser
decides which days belong to which period.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
FIRST_YEAR = 1900
LAST_YEAR = 2999
"""Years a period or a day may name: forecasts, rolling windows and epoch-ms conversions add a
year or more to a date, which past ``date.max`` (9999-12-31) would overflow."""


def check_day(day: date, what: str = "day") -> date:
    """``day`` if its year is within ``FIRST_YEAR``..``LAST_YEAR``; ``ValueError`` otherwise."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{what} {day.isoformat()}: year must be {FIRST_YEAR}..{LAST_YEAR}")
    return day


def _year(y: int, label: str) -> int:
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise ValueError(f"period {label!r}: year must be {FIRST_YEAR}..{LAST_YEAR}")
    return y


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A closed range of days ``[first, last]`` with its label."""

    first: date
    last: date
    label: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def year(self) -> int:
        return self.first.year

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    def each_day(self) -> Iterator[date]:
        d = self.first
        while d <= self.last:
            yield d
            d += timedelta(days=1)

    def months(self) -> list[Period]:
        """The calendar months of the period (itself when it is a month)."""
        if self.label.count("-") == 1:
            return [self]
        return [parse_period(f"{self.year}-{m:02d}") for m in range(1, 13)]

    def shifted_years(self, years: int) -> Period:
        """The same period ``years`` earlier (negative) or later."""
        y = self.first.year + years
        return parse_period(str(y) if "-" not in self.label else f"{y}-{self.first.month:02d}")


def parse_period(label: str) -> Period:
    """``YYYY-MM`` or ``YYYY``; ``ValueError`` says what is wrong."""
    text = str(label).strip()
    if m := _MONTH.match(text):
        y, mo = _year(int(m[1]), text), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"period {label!r}: month {mo} is not 1..12")
        return Period(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), text)
    if m := _YEAR.match(text):
        y = _year(int(m[1]), text)
        return Period(date(y, 1, 1), date(y, 12, 31), text)
    raise ValueError(f"period {label!r}: expected YYYY-MM (a month) or YYYY (a year)")


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365
