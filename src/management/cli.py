"""``nengtan mgmt ...``: benchmarking, budgets, carbon assets, footprints, analysis, alerts,
supply-chain imports. Metered energy comes from the database (``NENGTAN_PG_DSN``) unless a
``--metered`` CSV (``point,date,quantity``) is given; reports print as JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

PARK = typer.Argument(..., exists=True, dir_okay=False, help="park model (YAML)")
INPUTS = typer.Option(..., "--inputs", exists=True, dir_okay=False,
                      help="management inputs (YAML, schema nengtan.management/1)")
METERED = typer.Option(None, "--metered", exists=True, dir_okay=False,
                       help="daily metered quantities CSV (point,date,quantity); default: the DB")


def _echo(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _context(park: Path, inputs: Path) -> Any:
    from ingest.park.loader import load_park
    from management.inputs import load_inputs
    from management.service import Context

    return Context(load_park(park), load_inputs(inputs))


def _metered(csv: Path | None, first: date, last: date) -> Any:
    from management.metered import Metered

    if csv is not None:
        return Metered.from_csv(csv)
    from management import db
    from nengtan.settings import load_settings
    from store.queries import connect

    with connect(load_settings().dsn) as conn:
        return db.load_metered(conn, first, last)


def _day(text: str) -> date:
    from nengtan.errors import ConfigError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of {text!r}: expected YYYY-MM-DD") from None


def register(app: typer.Typer) -> None:
    """Mount the ``mgmt`` group."""
    mgmt = typer.Typer(help="Management: benchmarking, budgets, carbon assets, footprints, "
                       "supply chain, analysis.", no_args_is_help=True)
    app.add_typer(mgmt, name="mgmt")

    @mgmt.command()
    def levels() -> None:
        """The 标杆/基准 efficiency levels with their provenance and status."""
        from management.reference import efficiency_levels

        _echo([lv.as_dict() for lv in efficiency_levels().values()])

    @mgmt.command()
    def benchmark(park: Path = PARK, inputs: Path = INPUTS, period: str = typer.Option(...),
                  metered: Path | None = METERED) -> None:
        """Unit-product energy against the levels, park peers and equipment classes."""
        from management.periods import parse_period
        from management.service import benchmark_report

        ctx, p = _context(park, inputs), parse_period(period)
        _echo(benchmark_report(ctx, _metered(metered, p.first, p.last), period))

    @mgmt.command()
    def budget(park: Path = PARK, inputs: Path = INPUTS,
               as_of: str = typer.Option(..., help="data through the end of this UTC day"),
               metered: Path | None = METERED) -> None:
        """Every started budget: actual, forecast, effective budget, overrun."""
        from management.service import budget_report

        day = _day(as_of)
        ctx = _context(park, inputs)
        _echo(budget_report(ctx, _metered(metered, date(day.year - 2, 1, 1), day), day))

    @mgmt.command()
    def assets(park: Path = PARK, inputs: Path = INPUTS, enterprise: str = typer.Option(...),
               period: str = typer.Option(..., help="compliance period (YYYY)"),
               as_of: str = typer.Option(...), metered: Path | None = METERED,
               allowance_price: float | None = typer.Option(None, help="CNY/t (default: inputs)"),
               ccer_price: float | None = typer.Option(None, help="CNY/t (default: inputs)"),
               ) -> None:
        """Holdings, compliance-gap forecast and valuation of one enterprise."""
        from management.inputs import Prices
        from management.periods import parse_period
        from management.service import assets_report, history_start

        ctx, day = _context(park, inputs), _day(as_of)
        prices = ctx.inputs.prices
        if allowance_price is not None or ccer_price is not None:
            base = prices or Prices(allowance_cny_per_t=0, ccer_cny_per_t=0)
            prices = base.model_copy(update={
                k: v for k, v in (("allowance_cny_per_t", allowance_price),
                                  ("ccer_cny_per_t", ccer_price)) if v is not None})
        m = _metered(metered, history_start(parse_period(period)), day)
        _echo(assets_report(ctx, m, enterprise, period, day, prices))

    @mgmt.command()
    def footprint(park: Path = PARK, inputs: Path = INPUTS, enterprise: str = typer.Option(...),
                  product: str = typer.Option(...), period: str = typer.Option(...),
                  metered: Path | None = METERED,
                  fmt: str = typer.Option("json", "--format", help="json | md (the report)"),
                  ) -> None:
        """Cradle-to-gate product carbon footprint (GB/T 24067) with its basis."""
        from management.periods import parse_period
        from management.service import footprint_report

        ctx, p = _context(park, inputs), parse_period(period)
        if metered is None:
            from management import db
            from nengtan.settings import load_settings
            from store.queries import connect

            with connect(load_settings().dsn) as conn:
                ctx.submissions = db.submissions(conn, enterprise)
        m = _metered(metered, p.first, p.last)
        if fmt == "md":
            from management.footprint import footprint as compute
            from management.fpreport import render_markdown

            typer.echo(render_markdown(compute(ctx.model, ctx.inputs, m, enterprise, product, p,
                                               ctx.submissions)), nl=False)
            return
        if fmt != "json":
            from nengtan.errors import ConfigError

            raise ConfigError(f"--format {fmt!r}: expected json or md")
        _echo(footprint_report(ctx, m, enterprise, product, period))

    @mgmt.command()
    def analyze(park: Path = PARK, inputs: Path = INPUTS,
                periods: str = typer.Option(..., help="comma-separated, oldest first"),
                metered: Path | None = METERED) -> None:
        """Energy structure, decoupling, STIRPAT drivers and recommendations."""
        from management.periods import parse_period
        from management.service import analysis_report

        ctx = _context(park, inputs)
        labels = [x.strip() for x in periods.split(",") if x.strip()]
        ps = [parse_period(x) for x in labels]
        m = _metered(metered, min(p.first for p in ps), max(p.last for p in ps))
        _echo(analysis_report(ctx, m, labels))

    @mgmt.command()
    def alerts(park: Path = PARK, inputs: Path = INPUTS,
               as_of: str | None = typer.Option(None, help="default: today (UTC)"),
               every: float | None = typer.Option(
                   None, min=1, help="repeat every this many seconds (as of today)")) -> None:
        """Evaluate the budget and compliance-gap forecasts; publish changes on nt.alerts.v1."""
        import time
        from datetime import UTC, datetime

        from management import db
        from management.evaluate import evaluate
        from nengtan.settings import load_settings
        from store.queries import connect

        ctx = _context(park, inputs)
        settings = load_settings()
        while True:
            day = _day(as_of) if as_of else datetime.now(UTC).date()
            with connect(settings.dsn) as conn:
                m = db.load_metered(conn, date(day.year - 2, 1, 1), day)
                sent = evaluate(conn, settings.bootstrap, ctx.model, ctx.inputs, m, day)
            _echo([a.model_dump() for a in sent])
            if every is None:
                return
            time.sleep(every)

    @mgmt.command("inputs-load")
    def inputs_load(park: Path = PARK, inputs: Path = INPUTS) -> None:
        """Store (replace) the park's management inputs in the database, with history."""
        import yaml

        from management import db
        from nengtan.settings import load_settings
        from store.queries import connect

        ctx = _context(park, inputs)
        park_doc = yaml.safe_load(park.read_text(encoding="utf-8"))
        with connect(load_settings().dsn) as conn:
            db.save_inputs(conn, ctx.inputs, "cli", f"load {inputs.name}", park_doc)
        typer.echo(f"stored management inputs of park {ctx.inputs.park}")

    @mgmt.command("supplier-import")
    def supplier_import(csv: Path = typer.Argument(..., exists=True, dir_okay=False),
                        park: Path = typer.Option(..., exists=True, dir_okay=False),
                        submitter: str = typer.Option(..., help="who sent the file")) -> None:
        """Validate a supplier CSV; keep the file and one evidence record per row."""
        import time

        from ingest.park.loader import load_park
        from management import db
        from management.supply import parse_csv
        from nengtan.settings import load_settings
        from store.queries import connect

        payload = csv.read_bytes()
        ents = {e.id for e in load_park(park).enterprises}
        out = parse_csv(payload, submitter=submitter, received_ms=int(time.time() * 1000),
                        enterprises=ents)
        with connect(load_settings().dsn) as conn:
            db.store_submission(conn, out, payload)
        for _, ev in out.rejected:
            typer.echo(f"{csv}: row {ev.row}: rejected: {ev.reason}", err=True)
        typer.echo(f"{csv}: {len(out.accepted)} accepted, {len(out.rejected)} rejected")
