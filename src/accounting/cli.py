"""``nengtan account``, ``nengtan analyze stirpat`` and ``nengtan factors list|show|bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def _echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def register(app: typer.Typer) -> None:
    """Mount the accounting commands."""

    @app.command("account")
    def account_cmd(
        inventory: Annotated[Path, typer.Argument(help="inventory YAML (see docs/accounting.md)")],
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Account an enterprise or park inventory: energy (tce), emissions (tCO2e), intensity."""
        from accounting.loader import account_file

        result = account_file(inventory)
        if as_json:
            _echo_json(result.as_dict())
            return
        typer.echo(f"{result.name or inventory.name} ({result.kind}), GWP {result.settings.gwp_set}")
        for p in result.periods:
            scopes = p.by_scope()
            typer.echo(f"\nperiod {p.period}: energy {_fmt(p.energy_tce)} tce, "
                       f"emissions {_fmt(p.co2e_t)} tCO2e "
                       f"(scope 1 {_fmt(scopes['1'])}, scope 2 {_fmt(scopes['2'])})")
            for cat, v in p.by_category().items():
                typer.echo(f"  {cat:<24} {_fmt(v['co2e_t']):>14} tCO2e {_fmt(v['energy_tce']):>14} tce")
            ov = p.intensity()["output_value"]
            typer.echo(f"  intensity per {ov['unit']}: {_fmt(ov['co2e_t_per_unit'], 4)} tCO2e, "
                       f"{_fmt(ov['energy_tce_per_unit'], 4)} tce")
            for note in p.notes:
                typer.echo(f"  note: {note}")
        for d in result.decoupling():
            typer.echo(f"\n{d['from']} -> {d['to']}: Tapio {_fmt(d['tapio_elasticity'])} "
                       f"({d['tapio_state']}), synergy: {d['synergy_state'] or '-'}")

    analyze = typer.Typer(help="Analyses over time series (STIRPAT).", no_args_is_help=True)
    app.add_typer(analyze, name="analyze")

    @analyze.command("stirpat")
    def stirpat_cmd(
        data: Annotated[Path, typer.Argument(help="CSV with a header row")],
        target: Annotated[str, typer.Option("--target", help="impact column (e.g. co2e_t)")],
        drivers: Annotated[str, typer.Option("--drivers", help="comma-separated driver columns")],
        alpha: Annotated[float, typer.Option("--alpha", min=0.0, help="ridge penalty; 0 = OLS")]
        = 0.0,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Fit ln target = ln a + Σ b ln driver by ridge regression (centred, unscaled)."""
        from accounting.stirpat import fit_csv

        names = [d.strip() for d in drivers.split(",") if d.strip()]
        if not names:
            raise typer.BadParameter("give at least one driver", param_hint="--drivers")
        result = fit_csv(data, target, names, alpha)
        if as_json:
            out = result.as_dict()
            del out["n"]
            _echo_json(out)
            return
        typer.echo(f"ln {target} = {result.intercept:.4f}"
                   + "".join(f" {b:+.4f}·ln {n}" for n, b in result.coefficients.items()))
        typer.echo(f"R² = {result.r2:.4f}, alpha = {result.alpha}, n = {result.n}")

    factors = typer.Typer(help="The emission-factor library and its provenance.",
                          no_args_is_help=True)
    app.add_typer(factors, name="factors")

    @factors.command("list")
    def list_cmd(
        carrier: Annotated[str | None, typer.Option("--carrier", help="carrier, gas, region "
                                                    "or material")] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="kgce, fuel, grid, lca, "
                                                 "coal_rate, heat, gwp, process, clinker")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """List factors (id, values, status, source)."""
        from accounting.factors import default_library

        found = default_library().all(kind, carrier)
        if as_json:
            _echo_json([f.as_dict() for f in found])
            return
        for f in found:
            values = ", ".join(f"{k}={v:g} {f.units[k]}" for k, v in f.values.items())
            typer.echo(f"{f.id:<52} {values:<46} [{f.provenance.status}] {f.provenance.source}")
        typer.echo(f"{len(found)} factors")

    @factors.command("show")
    def show_cmd(
        factor_id: Annotated[str, typer.Argument(help="a factor id from `factors list`")],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Show one factor with its full provenance."""
        from accounting.factors import default_library

        f = default_library().get(factor_id)
        d = f.as_dict()
        if as_json:
            _echo_json(d)
            return
        prov = d.pop("provenance")
        for key, value in d.items():
            typer.echo(f"{key:<11} {value}")
        for key, value in prov.items():
            typer.echo(f"{key:<11} {'-' if value is None else value}")

    @factors.command("bench")
    def bench_cmd(
        n: Annotated[int, typer.Option("--n", min=1, help="quantities per run")] = 10_000_000,
        points: Annotated[int, typer.Option("--points", min=1, help="metering points")] = 1000,
        repeats: Annotated[int, typer.Option("--repeats", min=1)] = 5,
    ) -> None:
        """Benchmark the vectorised path the streams use; prints conversions per second."""
        import os

        from accounting.bench import run

        pinned = hasattr(os, "sched_setaffinity")
        if pinned:  # one core, restored afterwards
            cores = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {min(cores)})
        try:
            r = run(n=n, points=points, repeats=repeats)
        finally:
            if pinned:
                os.sched_setaffinity(0, cores)
        typer.echo(f"vectorised accounting: {r.n:,} quantities over {r.points} points, best of "
                   f"{r.repeats}: {r.best_s * 1000:.1f} ms = {r.per_second / 1e6:.1f} million "
                   "conversions/s (one core; kgce and tCO2e each)")
