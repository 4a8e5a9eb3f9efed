"""``nengtan evidence``: seal, verify, lineage, factor versions and recalculations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer


def parse_when(text: str | None, option: str) -> int | None:
    """Epoch ms from ``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time with a zone."""
    from nengtan.errors import ConfigError

    if text is None:
        return None
    s = text.strip()
    try:
        if len(s) == 10:
            return int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp() * 1000)
        when = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected YYYY-MM-DD or an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise ConfigError(f"{option} {text!r}: add a time zone (Z for UTC)")
    return int(when.timestamp() * 1000)


def connect_db() -> Any:
    """A connection to the configured database, migrated first (evidence tables are needed)."""
    import psycopg

    from nengtan.errors import ServiceError
    from nengtan.settings import load_settings
    from store.migrate import migrate

    dsn = load_settings().dsn
    migrate(dsn)
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ServiceError(f"cannot connect to PostgreSQL: {exc}") from exc


def register(app: typer.Typer) -> None:
    """Mount the ``evidence`` group."""
    ev = typer.Typer(help="Tamper-evident evidence ledger, verification and lineage.",
                     no_args_is_help=True)  # fmt: skip
    app.add_typer(ev, name="evidence")
    fac = typer.Typer(help="Factor versions in force (with validity periods).", no_args_is_help=True)
    ev.add_typer(fac, name="factors")

    @ev.command()
    def seal(
        block: Annotated[int, typer.Option(min=1, help="batches per sealed block")] = 1000,
        flush_idle: Annotated[float, typer.Option(help="seal incomplete blocks after this many idle seconds")] = 60.0,
        records_grace: Annotated[float, typer.Option(help="seal stored records' hours older than this many seconds")] = 3600.0,
        records_through: Annotated[str | None, typer.Option(help="seal stored records' hours ending by this time instead")] = None,
        once: Annotated[bool, typer.Option(help="catch up, seal everything, publish and exit")] = False,
        idle_exit: Annotated[float | None, typer.Option(help="exit after this many idle seconds")] = None,
    ) -> None:
        """Hash, chain and seal raw batches from nt.readings.v1 and the stored records; publish
        the roots on nt.evidence.roots.v1 (its own consumer, resumable, one at a time)."""
        import logging

        from evidence.consumer import SealOptions, run_sealer
        from nengtan.settings import load_settings
        from store.migrate import migrate

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        settings = load_settings()
        migrate(settings.dsn)
        opts = SealOptions(block=block, flush_idle_s=flush_idle,
                           records_grace_ms=int(records_grace * 1000),
                           records_through_ms=parse_when(records_through, "--records-through"),
                           once=once, idle_exit_s=idle_exit)  # fmt: skip
        stats = run_sealer(settings.bootstrap, settings.dsn, opts)
        typer.echo(f"batches hashed: {stats.batches}; seals: {stats.seals}; roots published: {stats.published}")
        if stats.lost_to_retention:
            typer.echo(f"evidence gap: {stats.lost_to_retention} records were deleted by retention before they were sealed", err=True)

    @ev.command()
    def verify(
        from_: Annotated[str | None, typer.Option("--from", help="start (YYYY-MM-DD or ISO date-time)")] = None,
        to: Annotated[str | None, typer.Option(help="end, exclusive")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
        show: Annotated[int, typer.Option(help="problems to list")] = 20,
        roots: Annotated[bool, typer.Option(help="also compare with the roots published on nt.evidence.roots.v1")] = False,
    ) -> None:
        """Recompute every hash; exit 1 naming the first broken link if anything was altered."""
        import json

        from evidence.verify import verify as run
        from nengtan.settings import load_settings

        published = None
        if roots:
            from evidence.consumer import published_roots

            published = published_roots(load_settings().bootstrap)
        with connect_db() as conn:
            result = run(conn, parse_when(from_, "--from"), parse_when(to, "--to"), published)
        if as_json:
            typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        else:
            checked = ", ".join(f"{k} {v}" for k, v in result.counts.items())
            typer.echo(f"checked: {checked or 'nothing'}; rows not yet in the ledger: {result.pending}")
            if result.ok:
                typer.echo("OK: every hash, chain and root verifies")
            else:
                typer.echo(f"FAILED: {len(result.problems)} problem(s); first broken link:")
                typer.echo(f"  {result.problems[0]}")
                for p in result.problems[1:show]:
                    typer.echo(f"  {p}")
        if not result.ok:
            raise typer.Exit(1)

    @ev.command()
    def lineage(
        enterprise: Annotated[str | None, typer.Option(help="enterprise id (with --month)")] = None,
        month: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
        stack: Annotated[str | None, typer.Option(help="stack id (with --hour)")] = None,
        hour: Annotated[str | None, typer.Option(help="hour start, ISO date-time")] = None,
        method: Annotated[str, typer.Option(help="calculated | measured | all (enterprise figures)")] = "calculated",
        csv_dir: Annotated[Path | None, typer.Option(help="write the detail lists as CSV files here")] = None,
    ) -> None:
        """Trace a reported figure to emission records, factors, consumption and raw readings."""
        import json

        from evidence import lineage as lin
        from nengtan.errors import ConfigError

        with connect_db() as conn:
            if enterprise and month:
                try:
                    y, m = (int(x) for x in month.split("-"))
                except ValueError:
                    raise ConfigError(f"--month {month!r}: expected YYYY-MM") from None
                result = lin.enterprise_month(conn, enterprise, y, m,
                                              None if method == "all" else method,
                                              detail=csv_dir is not None)  # fmt: skip
            elif stack and hour:
                h = parse_when(hour, "--hour")
                assert h is not None
                result = lin.stack_hour(conn, stack, h, detail=csv_dir is not None)
            else:
                raise ConfigError("give --enterprise and --month, or --stack and --hour")
        if csv_dir is not None:
            from reports.tables import write_csv

            csv_dir.mkdir(parents=True, exist_ok=True)
            for name, rows in result["detail"].items():
                write_csv(csv_dir / f"lineage_{name}.csv", rows)
        typer.echo(json.dumps(lin.without_detail(result), indent=2, ensure_ascii=False, default=str))

    @ev.command()
    def recalc(
        enterprise: Annotated[str, typer.Option(help="enterprise id")],
        factor: Annotated[str, typer.Option(help="factor id the records name")],
        version: Annotated[int, typer.Option(help="the corrected factor version")],
        from_: Annotated[str, typer.Option("--from", help="period start")],
        to: Annotated[str, typer.Option(help="period end, exclusive")],
        by: Annotated[str, typer.Option(help="who recalculates")],
        reason: Annotated[str, typer.Option(help="why")],
    ) -> None:
        """Recalculate a past period with a corrected factor version (recorded; stored records
        and issued reports stay as they are)."""
        from evidence.recalc import recalculate

        start, end = parse_when(from_, "--from"), parse_when(to, "--to")
        assert start is not None and end is not None
        with connect_db() as conn:
            r = recalculate(conn, enterprise, start, end, factor, version, by, reason)
        typer.echo(f"recalculation #{r.recalc_id}: {r.n_records} records of {enterprise} using "
                   f"{factor} v{r.from_version} -> v{r.to_version}: {r.original_co2e_t:.6f} t -> "
                   f"{r.corrected_co2e_t:.6f} t CO2e (event #{r.event_id})")  # fmt: skip

    @ev.command()
    def bench(
        batches: Annotated[int, typer.Option(min=1, help="synthetic batches")] = 20000,
        block: Annotated[int, typer.Option(min=1, help="batches per sealed block")] = 1000,
        db: Annotated[bool, typer.Option(help="also through the ledger in a scratch database")] = True,
    ) -> None:
        """Print how fast batches are hashed, chained and sealed."""
        from evidence.bench import in_memory, synthetic, through_db
        from nengtan.settings import load_settings

        records = synthetic(batches)
        mem = in_memory(records, block)
        typer.echo(f"in memory: {mem['batches']} batches in {mem['seconds']:.3f} s "
                   f"({mem['batches_per_s']:,.0f} batches/s)")  # fmt: skip
        if db:
            r = through_db(load_settings().dsn, records, block)
            typer.echo(f"ledger (PostgreSQL): append {r['append_s']:.2f} s "
                       f"({r['append_batches_per_s']:,.0f} batches/s), seal {r['seal_s']:.3f} s "
                       f"({r['seals']} seals)")  # fmt: skip

    @fac.command("sync")
    def factors_sync(by: Annotated[str, typer.Option(help="who loads them")] = "nengtan") -> None:
        """Store the factor library's records as versions (new or changed ones only)."""
        from evidence.factors import sync

        with connect_db() as conn:
            typer.echo(f"factor versions added: {sync(conn, by)}")

    @fac.command("correct")
    def factors_correct(
        factor_id: Annotated[str, typer.Argument(help="factor id")],
        set_: Annotated[list[str], typer.Option("--set", help="name=value, e.g. ef=0.5703")],
        valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
        by: Annotated[str, typer.Option(help="who corrects it")],
        reason: Annotated[str, typer.Option(help="why, with the source document")],
        valid_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (open when absent)")] = None,
        source: Annotated[str | None, typer.Option(help="source document of the corrected figure")] = None,
    ) -> None:
        """Add a corrected version of a factor, valid from a date (an evidence event)."""
        from evidence.factors import correct
        from nengtan.errors import ConfigError

        values: dict[str, float] = {}
        for item in set_:
            name, _, val = item.partition("=")
            try:
                values[name.strip()] = float(val)
            except ValueError:
                raise ConfigError(f"--set {item!r}: expected name=number") from None
        try:
            vf = date.fromisoformat(valid_from)
            vt = date.fromisoformat(valid_to) if valid_to else None
        except ValueError as exc:
            raise ConfigError(f"--valid-from/--valid-to: {exc}") from None
        with connect_db() as conn:
            v = correct(conn, factor_id, values, vf, vt, by, reason,
                        {"source": source} if source else None)  # fmt: skip
        typer.echo(f"{v.factor_id} version {v.version}: {v.values} valid {v.valid_from}..{v.valid_to or ''}")

    @fac.command("list")
    def factors_list(factor_id: Annotated[str | None, typer.Argument()] = None) -> None:
        """Stored factor versions (id, version, validity, values)."""
        from evidence.factors import versions

        with connect_db() as conn:
            for v in versions(conn, factor_id):
                typer.echo(f"{v.factor_id}\tv{v.version}\t{v.valid_from or ''}..{v.valid_to or ''}\t{v.values}")
