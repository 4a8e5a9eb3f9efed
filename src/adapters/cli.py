"""``nengtan adapters PARK.yaml`` (run every adapter a park needs) and
``nengtan adapters-bench`` (MQTT-JSON-batch to Kafka throughput)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``adapters`` and ``adapters-bench`` commands."""

    @app.command("adapters")
    def adapters(
        park_file: Annotated[Path, typer.Argument(help="the park YAML file")],
        duration: Annotated[
            float | None,
            typer.Option(help="stop after this many seconds (default: run until Ctrl-C)"),
        ] = None,
        only: Annotated[
            str | None, typer.Option(help="comma-separated protocols to run (modbus,opcua,mqtt)")
        ] = None,
        spool_dir: Annotated[
            Path | None,
            typer.Option(help="store-and-forward spool (default STATE_DIR/adapters/PARK_ID)"),
        ] = None,
        max_spool_mb: Annotated[int, typer.Option(help="spool size bound in MB")] = 1024,
        interval: Annotated[float, typer.Option(help="status line period in seconds")] = 1.0,
    ) -> None:
        """Run every adapter the park needs (Modbus, OPC UA, MQTT) with a live status line."""
        import logging
        import signal
        import sys
        import threading
        import time

        from adapters.runner import AdapterRunner
        from ingest.park.loader import load_park
        from nengtan.settings import load_settings

        # the status line shows Kafka / device state; the clients' own retry chatter is noise
        for noisy in ("kafka", "asyncua", "pymodbus"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        park = load_park(park_file)
        settings = load_settings()
        runner = AdapterRunner(
            park,
            settings,
            spool_dir=spool_dir,
            protocols=only.split(",") if only else None,
            max_spool_bytes=max_spool_mb << 20,
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        typer.echo(
            f"adapters for park {park.id}: {', '.join(runner.adapters) or 'none needed'}; "
            f"Kafka {settings.bootstrap}; spool {runner.publisher.spool.dir}",
            err=True,
        )
        runner.start()
        tty = sys.stderr.isatty()
        end = time.monotonic() + duration if duration is not None else None
        last_print = 0.0
        try:
            while not stop.wait(interval):
                rates = runner.sample()
                runner.write_status(rates)
                line = rates.line()
                now = time.monotonic()
                if tty:
                    sys.stderr.write("\r\x1b[2K" + line)
                    sys.stderr.flush()
                elif now - last_print >= 10 * interval:
                    sys.stderr.write(line + "\n")
                    last_print = now
                if end is not None and now >= end:
                    break
        finally:
            if tty:
                sys.stderr.write("\n")
            runner.stop()
            final = runner.sample()
            typer.echo(
                f"stopped: {final.readings:,} readings in {final.batches:,} batches, "
                f"DLQ {final.dlq:,}, spool {final.spool_records:,} records left",
                err=True,
            )

    @app.command("adapters-bench")
    def adapters_bench(
        readings: Annotated[int, typer.Option(help="readings to push through")] = 1_000_000,
        batch: Annotated[int, typer.Option(help="readings per MQTT message")] = 500,
        devices: Annotated[int, typer.Option(help="gateway devices")] = 20,
    ) -> None:
        """Measure MQTT-JSON-batch -> Kafka throughput (needs `nengtan stack up`)."""
        from adapters.bench import run_bench
        from nengtan.settings import load_settings

        result = run_bench(load_settings(), total=readings, points=batch, devices=devices)
        typer.echo(
            f"MQTT JSON batch -> validate -> spool -> Kafka (acks=all): {result.readings:,} "
            f"readings in {result.batches:,} batches, {result.seconds:.2f} s: "
            f"{result.readings_per_s:,.0f} readings/s (DLQ records: {result.dlq})"
        )
        typer.echo(
            f"validation alone (JSON parse, park checks, batch encoding): "
            f"{result.validate_readings_per_s:,.0f} readings/s"
        )
