"""``nengtan demo``: a fresh stack, the example park simulated through the whole pipeline, a
live view, and on exit the reconciliation verdict against the simulator's truth.

The demo runs its own stack under ``STATE_DIR/demo/`` on free loopback ports, recreated at
every start: topics, consumer groups and stream state from an earlier run would otherwise meet
the same point ids and timestamps again (a replayed simulation looks like a meter reset to the
stream). Everything it starts it stops at the end; the state directory stays for inspection
(logs in ``STATE_DIR/demo/run/logs/``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from nengtan.demo.pipeline import Pipeline
from nengtan.demo.reconcile import Verdict
from nengtan.demo.view import render, sample
from nengtan.errors import ServiceError
from nengtan.settings import Settings, load_settings
from nengtan.stack.procs import free_port, port_in_use
from nengtan.stack.stack import Stack

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "park-small.yaml"
PORT_KEYS = ("kafka_port", "kafka_controller_port", "pg_port", "mqtt_port")


def example_park() -> Path:
    """``examples/park-small.yaml`` of the checkout this package runs from."""
    if not EXAMPLE.exists():
        raise ServiceError(f"{EXAMPLE}: the example park is missing (run from a source checkout)")
    return EXAMPLE


def _traversable(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)


def demo_stack(base: Settings, root: Path) -> Stack:
    """Stop a previous demo's stack, wipe its state and make a new one on free ports."""
    saved = root / "stack.json"
    if saved.exists():
        try:
            old = json.loads(saved.read_text(encoding="utf-8"))
            Stack(load_settings(state_dir=root / "stack", **old)).down()
        except Exception:  # a broken leftover must not stop a new demo
            pass
    shutil.rmtree(root, ignore_errors=True)
    _traversable(root)
    ports = {key: free_port() for key in PORT_KEYS}
    saved.write_text(json.dumps(ports), encoding="utf-8")
    # the field links secured (docs/security-field.md) unless the environment says otherwise
    secured = {
        key: True
        for key in ("mqtt_auth", "opcua_security")
        if f"NENGTAN_{key.upper()}" not in os.environ
    }
    settings = load_settings(
        state_dir=root / "stack", cache_dir=base.cache_dir, kafka_partitions=base.kafka_partitions,
        **secured, **ports,
    )  # fmt: skip
    _traversable(settings.state_dir)
    return Stack(settings)


def console_token(dsn: str) -> str:
    """An admin token for the dashboard link (stored hashed, shown in the URL fragment)."""
    import psycopg

    from console.auth import create_token

    with psycopg.connect(dsn, autocommit=True) as conn:
        return create_token(conn, "admin", None, "demo")[1]


def run_demo(
    *, duration_s: float | None, speed: float, park_file: Path, console_port: int, quiet_s: float
) -> bool:
    """The whole demo; returns the verdict (True: OK)."""
    out = Console()
    base = load_settings()
    root = base.state_dir / "demo"
    out.print(f"[bold]Nengtan demo[/]: park {park_file.name}, speed {speed:g}×, "
              f"{'until Ctrl-C' if duration_s is None else f'{duration_s:g} s'}")  # fmt: skip
    stack = demo_stack(base, root)
    out.print(f"starting Kafka, PostgreSQL and Mosquitto (state in {stack.settings.state_dir}) …")
    stack.up()
    if port_in_use(console_port):
        console_port = free_port()
    pipe = Pipeline(stack.settings, stack.settings.dsn, park_file, root / "run", speed=speed,
                    console_port=console_port)  # fmt: skip
    verdict: Verdict | None = None
    try:
        out.print("starting stream worker, sink, console, simulators and adapters …")
        pipe.start(duration_s)
        token = console_token(pipe.dsn)
        url = f"http://127.0.0.1:{console_port}/#token={token}"
        live_view(out, pipe, url, duration_s)
        out.print("stopping the simulators; draining adapters, Kafka, stream worker and sink …")
        pipe.finish(quiet_s=quiet_s)
        verdict = pipe.reconcile()
    finally:
        pipe.stop()
        stack.down()
    assert verdict is not None
    print_verdict(out, verdict, root / "run")
    return verdict.ok


def live_view(out: Console, pipe: Pipeline, url: str, duration_s: float | None) -> None:
    """Refresh the view once a second until the simulators end, ``duration_s`` passes or
    Ctrl-C."""
    from ingest.park import load_park
    from streams.points import build_point_table

    table = build_point_table(load_park(pipe.park_file))
    started = time.monotonic()
    before = None
    info: dict[str, Any] = {"logs": str(pipe.children.log_dir)}
    try:
        with Live(console=out, refresh_per_second=2, transient=False) as live:
            while pipe.simulating:
                elapsed = time.monotonic() - started
                if duration_s is not None and elapsed >= duration_s + 5:
                    break
                snap = sample(pipe.dsn, table, pipe.adapter_status())
                info["elapsed"] = f"{elapsed:.0f} s"
                if pipe.dead():
                    info["NOT RUNNING"] = ", ".join(pipe.dead())
                live.update(render(snap, before, title="Nengtan 能碳 — live (Ctrl-C to stop)",
                                   console_url=url, info=info))  # fmt: skip
                before = snap
                time.sleep(1.0)
    except KeyboardInterrupt:
        out.print("Ctrl-C: stopping")


def print_verdict(out: Console, verdict: Verdict, run_dir: Path) -> None:
    """Per-enterprise figures, what was checked, and OK or FAILED with every reason."""
    table = Table(title="Reconciliation: database against the simulator's truth")
    table.add_column("enterprise")
    table.add_column("CO₂e stored (t)", justify="right")
    table.add_column("CO₂e from truth (t)", justify="right")
    table.add_column("energy from truth (kgce)", justify="right")
    for ent, fig in sorted(verdict.enterprises.items()):
        table.add_row(ent, f"{fig['co2e_t']:.6f}", f"{fig['co2e_t_expected']:.6f}",
                      f"{fig['kgce_expected']:,.3f}")  # fmt: skip
    out.print(table)
    checked = [p for p in verdict.points if p.checked]
    worst = max((abs(p.stored - p.expected) / max(abs(p.expected), 1e-9) for p in checked), default=0.0)
    out.print(
        f"points checked exactly: {len(checked)} (worst relative error {worst:.1e}); "
        f"reported only: {len(verdict.points) - len(checked)}; CEMS hours checked: "
        f"{verdict.cems_hours_checked}; alerts stored: {verdict.alerts}, "
        f"duplicated: {verdict.duplicate_alerts}"
    )
    for p in verdict.points:
        if not p.checked:
            out.print(f"  [dim]{p.point}: stored {p.stored:.6g}, truth {p.expected:.6g} ({p.note})[/]")
    report = {
        "ok": verdict.ok,
        "failures": verdict.failures(),
        "enterprises": verdict.enterprises,
        "points": [p.__dict__ for p in verdict.points],
        "cems_hours_checked": verdict.cems_hours_checked,
        "alerts": verdict.alerts,
    }
    (run_dir / "verdict.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    if verdict.ok:
        out.print("[bold green]verdict: OK[/] — database totals equal the simulator's truth")
    else:
        for line in verdict.failures():
            out.print(f"  [red]{line}[/]")
        out.print("[bold red]verdict: FAILED[/]")
    out.print(f"details: {run_dir / 'verdict.json'}")
