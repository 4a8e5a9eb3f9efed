"""The management functions behind the console API: a caller's scope in, JSON-able answers out.

Everything is filtered here, below the route handlers: reads pass the scope's visibility to the
reports (``management.service``), and writes refuse records of enterprises outside the scope.
The park model and the management inputs are the ones stored by ``nengtan mgmt inputs-load``
(or ``PUT /api/v1/management/inputs``); metered energy comes from the ``consumption`` table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from ingest.park.loader import parse_park
from management import db
from management.inputs import (
    Budget,
    LedgerEntry,
    Prices,
    Reallocation,
    check_against,
    parse_inputs,
)
from management.periods import check_day, parse_period
from management.service import (
    Context,
    analysis_report,
    assets_report,
    benchmark_report,
    budget_report,
    footprint_report,
    history_start,
)
from management.supply import Outcome, validate_rows
from nengtan.errors import ConfigError

Conn = db.Conn


class ScopeLike(Protocol):
    """What the console's ``Scope`` offers (kept structural: no import of the console)."""

    @property
    def enterprise(self) -> str | None: ...

    @property
    def name(self) -> str: ...

    @property
    def sees_all(self) -> bool: ...

    def may_see(self, enterprise: str | None) -> bool: ...


class NoInputs(LookupError):
    """No management inputs stored yet (404)."""


class OutOfScope(PermissionError):
    """The record belongs to an enterprise outside the caller's scope (403)."""


def context(conn: Conn, with_submissions: bool = False) -> Context:
    found = db.load_park_document(conn)
    if found is None:
        raise NoInputs("no management inputs stored (nengtan mgmt inputs-load PARK --inputs FILE)")
    park_id, park_doc = found
    inputs = db.load_inputs(conn, park_id)
    assert inputs is not None
    ctx = Context(parse_park(park_doc, f"mgmt_inputs[{park_id}].park_document"), inputs)
    if with_submissions:
        ctx.submissions = db.submissions(conn)
    return ctx


def _today() -> date:
    return datetime.now(UTC).date()


def default_period() -> str:
    """The current UTC month."""
    t = _today()
    return f"{t.year}-{t.month:02d}"


def benchmark(conn: Conn, scope: ScopeLike, period: str | None) -> dict[str, Any]:
    ctx = context(conn)
    p = parse_period(period or default_period())
    return benchmark_report(ctx, db.load_metered(conn, p.first, p.last), p.label, scope.may_see)


def budgets(conn: Conn, scope: ScopeLike, as_of: date | None) -> list[dict[str, Any]]:
    ctx = context(conn)
    day = check_day(as_of or _today(), "as_of")
    m = db.load_metered(conn, date(day.year - 2, 1, 1), day)
    return budget_report(ctx, m, day, scope.may_see)


def assets(conn: Conn, scope: ScopeLike, enterprise: str, period: str | None,
           as_of: date | None, prices: Prices | None) -> dict[str, Any]:  # fmt: skip
    if not scope.may_see(enterprise):
        raise OutOfScope(enterprise)
    ctx = context(conn)
    day = check_day(as_of or _today(), "as_of")
    p = parse_period(period or str(day.year))
    m = db.load_metered(conn, history_start(p), day)
    return assets_report(ctx, m, enterprise, p.label, day, prices, scope.may_see)


def footprint(conn: Conn, scope: ScopeLike, enterprise: str, product: str,
              period: str | None) -> dict[str, Any]:  # fmt: skip
    if not scope.may_see(enterprise):
        raise OutOfScope(enterprise)
    ctx = context(conn, with_submissions=True)
    p = parse_period(period or default_period())
    return footprint_report(ctx, db.load_metered(conn, p.first, p.last), enterprise, product,
                            p.label, scope.may_see)


def footprint_markdown(conn: Conn, scope: ScopeLike, enterprise: str, product: str,
                       period: str | None) -> str:  # fmt: skip
    """The footprint report (Markdown) of a product."""
    from management.footprint import footprint as compute
    from management.fpreport import render_markdown

    if not scope.may_see(enterprise):
        raise OutOfScope(enterprise)
    ctx = context(conn, with_submissions=True)
    p = parse_period(period or default_period())
    m = db.load_metered(conn, p.first, p.last)
    return render_markdown(compute(ctx.model, ctx.inputs, m, enterprise, product, p,
                                   ctx.submissions))


def first_product(conn: Conn, scope: ScopeLike, enterprise: str) -> str:
    """The enterprise's first output (the default product of the footprint routes)."""
    if not scope.may_see(enterprise):
        raise OutOfScope(enterprise)
    ctx = context(conn)
    ent = ctx.park.index.enterprises.get(enterprise)
    if ent is None or not ent.output:
        raise ConfigError(f"enterprise {enterprise!r} has no output")
    return ent.output[0].product


def analysis(conn: Conn, scope: ScopeLike, periods: list[str] | None) -> dict[str, Any]:
    ctx = context(conn)
    labels = periods or [default_period()]
    ps = [parse_period(x) for x in labels]
    m = db.load_metered(conn, min(p.first for p in ps), max(p.last for p in ps))
    pollutants = {e: v for e, v in db.pollutants_t(conn, ps).items() if scope.may_see(e)}
    return analysis_report(ctx, m, labels, pollutants, scope.may_see)


def inputs_view(conn: Conn, scope: ScopeLike) -> dict[str, Any]:
    """The stored inputs, reduced to the records of enterprises the caller sees."""
    ctx = context(conn)
    doc = ctx.inputs.model_dump(mode="json", by_alias=True)
    if scope.sees_all:
        return doc
    ent_of = ctx.model.enterprise_of
    out = {"schema": doc["schema"], "park": doc["park"]}
    for key, rows in doc.items():
        if isinstance(rows, list):
            out[key] = [r for r in rows if scope.may_see(_record_enterprise(key, r, ent_of))]
    return out


def _record_enterprise(key: str, rec: dict[str, Any], ent_of: Callable[[str], str]) -> str | None:
    if "enterprise" in rec:
        return str(rec["enterprise"])
    if key == "budgets":
        return ent_of(str(rec["scope"]))
    if key == "equipment":
        return ent_of(str(rec["unit"]))
    return None  # re-allocations are checked through their budgets on write


def replace_inputs(conn: Conn, scope: ScopeLike, document: dict[str, Any],
                   park_document: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """Park administrators replace the whole inputs document (and optionally the park model)."""
    if not scope.sees_all:
        raise OutOfScope("only park administrators replace the management inputs")
    inputs = parse_inputs(document, "request body: document")
    if park_document is not None:
        park = parse_park(park_document, "request body: park")
    else:
        park = context(conn).park
    check_against(inputs, park, "request body")
    db.save_inputs(conn, inputs, scope.name, "replace inputs", park_document)
    return {"park": inputs.park, "stored": True}


def _append(conn: Conn, scope: ScopeLike, key: str, record: Any, enterprise: str,
            change: str) -> dict[str, Any]:  # fmt: skip
    if not scope.may_see(enterprise):
        raise OutOfScope(enterprise)
    with conn.transaction():
        conn.execute("SELECT 1 FROM mgmt_inputs FOR UPDATE")
        ctx = context(conn)
        current = list(getattr(ctx.inputs, key))
        ids = {getattr(r, "id", None) for r in current}
        if getattr(record, "id", None) in ids:
            raise ConfigError(f"{key}: id {record.id!r} exists already")
        updated = ctx.inputs.model_copy(update={key: [*current, record]})
        check_against(updated, ctx.park, "request body")
        db.save_inputs(conn, updated, scope.name, change)
    return record.model_dump(mode="json")  # type: ignore[no-any-return]


def add_budget(conn: Conn, scope: ScopeLike, body: Budget) -> dict[str, Any]:
    ent = context(conn).model.enterprise_of(body.scope)
    return _append(conn, scope, "budgets", body, ent, f"add budget {body.id}")


def add_reallocation(conn: Conn, scope: ScopeLike, body: Reallocation) -> dict[str, Any]:
    ctx = context(conn)
    budgets_by_id: dict[str, Budget] = {b.id: b for b in ctx.inputs.budgets}
    for end in (body.from_budget, body.to_budget):
        b = budgets_by_id.get(end)
        if b is None or not scope.may_see(ctx.model.enterprise_of(b.scope)):
            raise OutOfScope(f"budget {end!r}")
    ent = ctx.model.enterprise_of(budgets_by_id[body.to_budget].scope)
    return _append(conn, scope, "reallocations", body, ent,
                   f"re-allocate {body.amount} from {body.from_budget} to {body.to_budget}: "
                   f"{body.reason}")


def add_ledger_entry(conn: Conn, scope: ScopeLike, body: LedgerEntry) -> dict[str, Any]:
    return _append(conn, scope, "ledger", body, body.enterprise,
                   f"ledger {body.kind} {body.quantity_t} t")


def submit(conn: Conn, scope: ScopeLike, rows: list[dict[str, Any]] | None,
           csv_payload: bytes | None, payload: bytes,
           max_rows: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Validate and keep a supplier submission; rows for enterprises outside the caller's
    scope are rejected (with evidence) like any other invalid row."""
    from management.supply import parse_csv

    ctx = context(conn)
    # vendors (publish only) submit for their own enterprise; park-wide roles for any
    allowed = {e.id for e in ctx.park.enterprises
               if scope.sees_all or e.id == scope.enterprise}
    now = int(time.time() * 1000)
    if csv_payload is not None:
        out: Outcome = parse_csv(csv_payload, submitter=scope.name, received_ms=now,
                                 enterprises=allowed, max_rows=max_rows)
    else:
        out = validate_rows(rows or [], channel="api", submitter=scope.name, payload=payload,
                            received_ms=now, enterprises=allowed)
    db.store_submission(conn, out, csv_payload if csv_payload is not None else payload)
    return {"accepted": [ev.as_dict() for _, ev in out.accepted],
            "rejected": [ev.as_dict() for _, ev in out.rejected]}


def evidence(conn: Conn, scope: ScopeLike) -> list[dict[str, Any]]:
    return db.evidence(conn, scope.enterprise, scope.sees_all)


def validation_message(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
