"""Provenance of a reference figure: where it was read, which edition, valid when, how sure.

Every coefficient and factor the library ships carries one, so an auditor can see exactly which
document produced every tonne. ``status`` is ``confirmed`` only when the figure was read in the
source itself; anything secondary or remembered is ``unconfirmed`` until someone reads it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Status = Literal["confirmed", "unconfirmed"]
_STATUSES: tuple[str, ...] = ("confirmed", "unconfirmed")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Source document, clause, edition, validity window and status of one figure."""

    source: str
    clause: str | None = None
    edition: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    status: Status = "unconfirmed"
    note: str | None = None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in the validity window (open ends are unbounded)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day > self.valid_to)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (dates as ISO strings)."""
        return {
            "source": self.source,
            "clause": self.clause,
            "edition": self.edition,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "status": self.status,
            "note": self.note,
        }


def _as_date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where}: bad date {value!r} (want YYYY-MM-DD)") from exc


def provenance_from(entry: dict[str, Any], where: str) -> Provenance:
    """Read the provenance fields of a data-file entry; ``where`` names it in errors."""
    source = entry.get("source")
    if not source:
        raise ValueError(f"{where}: missing 'source'")
    status = entry.get("status", "unconfirmed")
    if status not in _STATUSES:
        raise ValueError(f"{where}: status {status!r} is not one of {_STATUSES}")
    return Provenance(
        source=str(source),
        clause=None if entry.get("clause") is None else str(entry["clause"]),
        edition=None if entry.get("edition") is None else str(entry["edition"]),
        valid_from=_as_date(entry.get("valid_from"), where),
        valid_to=_as_date(entry.get("valid_to"), where),
        status=status,
        note=None if entry.get("note") is None else str(entry["note"]),
    )
