"""Supply-chain submissions: suppliers send material and energy data (API JSON or CSV), validated
like every other input, each with its own evidence record.

Every submitted row is kept: accepted rows become ``Submission`` records a footprint may use
(supplier-provided factors take precedence over the upstream library); rejected rows are kept
with the reason. Each row's evidence record holds the SHA-256 of the payload it came in, the
channel, the submitter, the receipt time and the row number, so a figure in a footprint can be
traced to the exact bytes a supplier sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accounting.carriers import is_carrier
from accounting.errors import AccountingInputError
from accounting.units import check_uom, parse_uom
from management.periods import parse_period

Kind = Literal["material", "energy"]
CSV_COLUMNS: tuple[str, ...] = ("supplier", "enterprise", "material", "period", "kind",
                                "quantity", "uom", "kgco2e_per_unit", "basis")


class Submission(BaseModel):
    """One supplier figure: the footprint of a unit of ``material`` delivered to ``enterprise``
    in ``period`` (``kind`` material), or the energy behind it (``kind`` energy: ``material``
    is a carrier id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    supplier: str = Field(min_length=1)
    enterprise: str = Field(min_length=1)
    material: str = Field(min_length=1)
    period: str
    kind: Kind = "material"
    quantity: float | None = Field(None, ge=0, description="delivered amount in uom")
    uom: str = Field(min_length=1)
    kgco2e_per_unit: float = Field(ge=0)
    basis: str = Field(min_length=1, description="the study or report the figure comes from")

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str:
        parse_period(str(value))
        return str(value)

    @field_validator("uom")
    @classmethod
    def _uom(cls, value: str) -> str:
        unit = parse_uom(value)
        if unit.is_rate:
            raise ValueError(f"uom {value!r} is a rate; give an amount unit")
        return unit.symbol


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where one submitted row came from and what became of it."""

    evidence_id: str
    payload_sha256: str
    channel: str
    submitter: str
    received_ms: int
    row: int
    accepted: bool
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Accepted submissions with their evidence, and every rejected row's evidence."""

    accepted: tuple[tuple[Submission, Evidence], ...]
    rejected: tuple[tuple[dict[str, Any], Evidence], ...]


def _semantic(sub: Submission, enterprises: set[str] | None) -> str | None:
    if enterprises is not None and sub.enterprise not in enterprises:
        return f"enterprise {sub.enterprise!r} is not in the park"
    if sub.kind == "energy":
        if not is_carrier(sub.material):
            return f"energy submission: {sub.material!r} is not an energy carrier"
        try:
            check_uom(sub.material, sub.uom, allow_rate=False)
        except AccountingInputError as exc:
            return str(exc)
    return None


def validate_rows(rows: list[dict[str, Any]], *, channel: str, submitter: str, payload: bytes,
                  received_ms: int, enterprises: set[str] | None = None) -> Outcome:  # fmt: skip
    """Validate rows (row numbers start at 1; a CSV passes its line numbers via ``_row``)."""
    digest = hashlib.sha256(payload).hexdigest()
    accepted, rejected = [], []
    for i, raw in enumerate(rows, start=1):
        row_no = int(raw.get("_row", i))
        data = {k: v for k, v in raw.items() if k != "_row"}
        eid = hashlib.sha256(f"{digest}:{row_no}".encode()).hexdigest()[:24]
        reason: str | None = None
        sub: Submission | None = None
        try:
            sub = Submission.model_validate(data)
            reason = _semantic(sub, enterprises)
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(str(x) for x in e["loc"]) or "<row>"
            reason = f"{loc}: {e['msg']}"
        except AccountingInputError as exc:
            reason = str(exc)
        ev = Evidence(eid, digest, channel, submitter, received_ms, row_no, reason is None,
                      reason)
        if reason is None and sub is not None:
            accepted.append((sub, ev))
        else:
            rejected.append((data, ev))
    return Outcome(tuple(accepted), tuple(rejected))


class TooManyRows(ValueError):
    """A CSV upload with more data rows than the caller allows (nothing of it is kept)."""


def parse_csv(payload: bytes, *, submitter: str, received_ms: int,
              enterprises: set[str] | None = None,
              max_rows: int | None = None) -> Outcome:  # fmt: skip
    """A CSV upload (UTF-8, header row with ``CSV_COLUMNS``; ``quantity`` may be empty).
    Above ``max_rows`` data rows it raises ``TooManyRows`` before any row is validated."""
    text = payload.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in CSV_COLUMNS if c not in header and c != "quantity"]
    digest = hashlib.sha256(payload).hexdigest()
    if missing:
        ev = Evidence(hashlib.sha256(f"{digest}:0".encode()).hexdigest()[:24], digest, "csv",
                      submitter, received_ms, 0, False,
                      f"header: missing column(s) {', '.join(missing)}")
        return Outcome((), (({"header": header}, ev),))
    rows: list[dict[str, Any]] = []
    for line_no, row in enumerate(reader, start=2):
        if max_rows is not None and len(rows) >= max_rows:
            raise TooManyRows(f"more than {max_rows} data rows")
        clean: dict[str, Any] = {k: (v.strip() if isinstance(v, str) else v)
                                 for k, v in row.items() if k is not None}
        if clean.get("quantity") in ("", None):
            clean.pop("quantity", None)
        if None in row:
            clean["_extra"] = row[None]  # more cells than columns: rejected by the model
        clean["_row"] = line_no
        rows.append(clean)
    return validate_rows(rows, channel="csv", submitter=submitter, payload=payload,
                         received_ms=received_ms, enterprises=enterprises)


def supplier_factor(submissions: list[Submission], enterprise: str, material: str,
                    period: str, supplier: str | None = None) -> Submission | None:  # fmt: skip
    """The supplier figure for a material delivered to an enterprise whose period covers
    ``period`` (a month is covered by itself and by its year); of several, the last one given
    (submissions come oldest first)."""
    want = parse_period(period)
    best = None
    for s in submissions:
        if s.kind != "material" or s.enterprise != enterprise or s.material != material:
            continue
        if supplier is not None and s.supplier != supplier:
            continue
        p = parse_period(s.period)
        if p.first <= want.first and want.last <= p.last:
            best = s
    return best
