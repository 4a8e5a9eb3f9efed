"""Reports of the management functions as JSON-able dicts, shared by the CLI and the console
routes. Every report takes ``visible`` (enterprise id -> may the caller see it) and leaves out
what the caller may not see, so scoping happens here, below the handlers; park-wide figures
(peer ranking, STIRPAT, park intensity) are only given to callers who see every enterprise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ingest.park.models import Park
from management import assets, benchmark, budget, footprint, views
from management.inputs import ManagementInputs, Prices, check_against
from management.metered import EnergyModel, Metered
from management.periods import Period, parse_period
from management.supply import Submission
from nengtan.errors import ConfigError

Visible = Callable[[str | None], bool]


def everyone(_: str | None) -> bool:
    return True


@dataclass
class Context:
    """The park, its management inputs and the energy model built from them."""

    park: Park
    inputs: ManagementInputs
    submissions: list[Submission] = field(default_factory=list)
    model: EnergyModel = field(init=False)

    def __post_init__(self) -> None:
        check_against(self.inputs, self.park)
        self.model = EnergyModel(self.park)


def history_start(period: Period) -> date:
    """The first day a budget or compliance forecast of ``period`` may read (a year earlier)."""
    return period.shifted_years(-1).first


def benchmark_report(ctx: Context, metered: Metered, period: str,
                     visible: Visible = everyone) -> dict[str, Any]:  # fmt: skip
    p = parse_period(period)
    rows = [r.as_dict() for r in benchmark.product_intensities(ctx.model, ctx.inputs, metered, p)
            if visible(r.enterprise)]
    equipment = [plain(r) for r in benchmark.equipment(ctx.model, ctx.inputs, metered, p)
                 if visible(r.enterprise)]
    out: dict[str, Any] = {"period": p.label, "products": rows, "equipment": equipment}
    if visible(None):
        out["peers"] = [plain(r) for r in benchmark.peers(ctx.model, ctx.inputs, metered, p)]
    return out


def trend_report(ctx: Context, metered: Metered, periods: list[str],
                 visible: Visible = everyone) -> dict[str, Any]:  # fmt: skip
    ps = [parse_period(x) for x in periods]
    series = benchmark.trend(ctx.model, ctx.inputs, metered, ps)
    return {k: v for k, v in series.items() if visible(k.split("/", 1)[0])}


def budget_report(ctx: Context, metered: Metered, as_of: date,
                  visible: Visible = everyone) -> list[dict[str, Any]]:  # fmt: skip
    out = []
    for st in budget.all_status(ctx.model, ctx.inputs, metered, as_of):
        ent = ctx.model.enterprise_of(st.scope)
        if visible(ent):
            out.append({"enterprise": ent, **st.as_dict()})
    return out


def assets_report(ctx: Context, metered: Metered, enterprise: str, period: str, as_of: date,
                  prices: Prices | None = None, visible: Visible = everyone) -> dict[str, Any]:
    if not visible(enterprise):
        raise PermissionError(enterprise)
    c = assets.compliance(ctx.model, ctx.inputs, metered, enterprise, period, as_of, prices)
    ledger = [e.model_dump(mode="json") for e in ctx.inputs.ledger
              if e.enterprise == enterprise and e.compliance_period == period]
    return {**c.as_dict(), "ledger": ledger}


def footprint_report(ctx: Context, metered: Metered, enterprise: str, product: str, period: str,
                     visible: Visible = everyone) -> dict[str, Any]:  # fmt: skip
    if not visible(enterprise):
        raise PermissionError(enterprise)
    f = footprint.footprint(ctx.model, ctx.inputs, metered, enterprise, product,
                            parse_period(period), ctx.submissions)
    return f.as_dict()


def analysis_report(ctx: Context, metered: Metered, periods: list[str],
                    pollutants: views.Pollutants | None = None,
                    visible: Visible = everyone) -> dict[str, Any]:  # fmt: skip
    if not periods:
        raise ConfigError("give at least one period")
    ps = [parse_period(x) for x in periods]
    last = ps[-1]
    ents = [e.id for e in ctx.park.enterprises if visible(e.id)]
    out: dict[str, Any] = {
        "periods": [p.label for p in ps],
        "energy_structure": {e: views.energy_structure(ctx.model, metered, e, ps) for e in ents},
    }
    dec = (views.decoupling(ctx.model, ctx.inputs, metered, ps[-2], last, pollutants)
           if len(ps) > 1 else [])
    out["decoupling"] = [d.as_dict() for d in dec
                         if (d.kind == "enterprise" and visible(d.scope))
                         or (d.kind == "industry" and visible(None))]
    fit = None
    if visible(None):
        try:
            st = views.stirpat_drivers(ctx.model, ctx.inputs, metered, ps)
            fit = st["fit"]
            out["stirpat"] = st
        except ConfigError as exc:
            out["stirpat"] = {"error": str(exc)}
    recs = views.recommendations(
        intensities=benchmark.product_intensities(ctx.model, ctx.inputs, metered, last),
        peers=benchmark.peers(ctx.model, ctx.inputs, metered, last),
        electricity=views.electricity_share(ctx.model, metered, last),
        decoupling_rows=dec, stirpat_fit=fit, period=last.label)
    out["recommendations"] = [r for r in recs if _rec_visible(r["scope"], visible)]
    return out


def _rec_visible(scope: str, visible: Visible) -> bool:
    if scope.startswith("enterprise:"):
        return visible(scope.split(":", 1)[1])
    if scope == "park" or scope.startswith("industry:"):
        return visible(None)
    return visible(scope)


def plain(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)
