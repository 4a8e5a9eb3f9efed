"""``nengtan report emissions`` and ``nengtan report verification-pack``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Ent = Annotated[str, typer.Option(help="enterprise id")]
Year = Annotated[int, typer.Option(help="calendar year (UTC)")]
ParkOpt = Annotated[Path | None, typer.Option("--park", help="park YAML (names, units, output)")]
By = Annotated[str, typer.Option(help="who issues the report")]
Draft = Annotated[bool, typer.Option(help="do not freeze a revision")]
Revise = Annotated[bool, typer.Option(help="issue a new revision when figures changed")]
Reason = Annotated[str | None, typer.Option(help="why a new revision")]


def _body(conn: Any, enterprise: str, year: int, park_file: Path | None, by: str,
          draft: bool, revise: bool, reason: str | None) -> dict[str, Any]:  # fmt: skip
    from ingest.park.loader import load_park
    from reports.model import build_report
    from reports.snapshots import issue

    park = load_park(park_file) if park_file else None
    body = build_report(conn, enterprise, year, park=park)
    if not body["sources"] and not body["activity_data"]:
        from nengtan.errors import ConfigError

        raise ConfigError(f"no stored consumption or emissions for enterprise {enterprise!r} in {year}")
    if draft:
        return body
    frozen, new = issue(conn, body, by, reason, revise)
    typer.echo(f"revision {frozen['revision']} ({'issued now' if new else 'already issued, unchanged'})")
    return frozen


def register(app: typer.Typer) -> None:
    """Mount the ``report`` group."""
    rep = typer.Typer(help="Emission reports and verification packs.", no_args_is_help=True)
    app.add_typer(rep, name="report")

    @rep.command()
    def emissions(
        enterprise: Ent, year: Year, park: ParkOpt = None,
        out: Annotated[Path, typer.Option(help="output directory")] = Path("."),
        fmt: Annotated[str, typer.Option("--format", help="comma-separated: pdf,xlsx,json")] = "pdf,xlsx,json",
        by: By = "nengtan", draft: Draft = False, revise: Revise = False, reason: Reason = None,
    ) -> None:  # fmt: skip
        """The annual GHG report (GB/T 32150/32151 structure) as PDF, Excel and JSON."""
        from evidence.cli import connect_db
        from nengtan.errors import ConfigError
        from reports.pack import FORMATS, write_report

        formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
        bad = [f for f in formats if f not in FORMATS]
        if bad:
            raise ConfigError(f"--format: unknown {bad}; one of {', '.join(FORMATS)}")
        with connect_db() as conn:
            body = _body(conn, enterprise, year, park, by, draft, revise, reason)
        for p in write_report(body, out, formats):
            typer.echo(str(p))
        typer.echo(f"total CO2e (calculated): {body['emissions']['total_co2e_t']:.6f} t")

    @rep.command("verification-pack")
    def verification_pack(
        enterprise: Ent, year: Year, park: ParkOpt = None,
        out: Annotated[Path | None, typer.Option(help="zip file (default verification-pack-E-Y.zip)")] = None,
        by: By = "nengtan", draft: Draft = False, revise: Revise = False, reason: Reason = None,
    ) -> None:  # fmt: skip
        """Export the verification pack (zip) with a standalone check of its own files."""
        from evidence.cli import connect_db
        from reports.pack import build_pack

        target = out or Path(f"verification-pack-{enterprise}-{year}.zip")
        with connect_db() as conn:
            body = _body(conn, enterprise, year, park, by, draft, revise, reason)
            result = build_pack(conn, body, target)
        typer.echo(f"{target}: evidence {'OK' if result['ok'] else 'FAILED'}; pack check "
                   f"{'OK' if result['pack_script_ok'] else 'FAILED'}")  # fmt: skip
        if not result["ok"]:
            typer.echo(f"first broken link: {result['first_broken_link']}", err=True)
            raise typer.Exit(1)
