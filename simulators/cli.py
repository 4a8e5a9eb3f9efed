"""``nengtan simulate PARK.yaml``: run every simulator a park needs until the duration is over."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ingest.park.models import Park
    from nengtan.mqttauth import Login
    from nengtan.settings import Settings


def gateway_logins(park: Park, settings: Settings) -> dict[str, Login | None] | None:
    """Each enterprise's gateway login (``nengtan.mqttauth``), or ``None`` when every one would
    be anonymous (the broker takes anonymous clients)."""
    from nengtan.mqttauth import gateway_account, login_for

    ix = park.index
    enterprises = {ix.device_enterprise[d.id] for d in ix.devices.values() if d.protocol == "mqtt"}
    enterprises |= {ix.stack_enterprise[s] for s in ix.stacks}
    logins = {e: login_for(settings, gateway_account(e)) for e in sorted(enterprises)}
    return logins if any(v is not None for v in logins.values()) else None


def register(app: typer.Typer) -> None:
    """Mount ``simulate``."""

    @app.command("simulate")
    def simulate(
        park_file: Path = typer.Argument(..., help="the park YAML file"),
        duration: float | None = typer.Option(
            None, "--duration", help="wall seconds to run; default: until Ctrl-C"
        ),
        speed: float | None = typer.Option(
            None, "--speed", help="simulated seconds per wall second; default: the park's (1)"
        ),
        seed: int | None = typer.Option(None, "--seed", help="default: the park's (0)"),
        truth: Path | None = typer.Option(None, "--truth", help="write the ground truth here"),
        log_file: Path | None = typer.Option(
            None, "--log", help="write every emitted value here (JSON lines)"
        ),
        clock_file: Path | None = typer.Option(
            None, "--clock", help="write the simulated clock (start_ms, speed, wall_start_ms) here"
        ),
        start: str | None = typer.Option(
            None, "--start", help="simulated start, ISO 8601 UTC; default: the park's, or now"
        ),
        mqtt: str | None = typer.Option(
            None, "--mqtt", help="broker host:port; default: the settings' (NENGTAN_MQTT_URL)"
        ),
    ) -> None:
        """Run the park's Modbus meters, OPC UA DCS, CEMS stacks and MQTT gateways."""
        import asyncio
        import logging
        import signal
        import time

        from ingest.park.loader import load_park
        from nengtan.errors import ConfigError
        from nengtan.settings import load_settings, parse_mqtt_url
        from simulators.runner import RunOptions, Simulation

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("pymodbus").setLevel(logging.WARNING)
        logging.getLogger("asyncua").setLevel(logging.WARNING)
        park = load_park(park_file)
        sim_cfg = park.simulation
        if start is not None:
            try:
                start_dt = datetime.fromisoformat(start.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ConfigError(f"--start {start!r}: not an ISO 8601 date-time") from exc
            start_ms = int(start_dt.timestamp() * 1000)
        elif sim_cfg.start is not None:
            start_ms = int(sim_cfg.start.timestamp() * 1000)
        else:
            start_ms = int(time.time()) // 60 * 60_000
        if speed is not None and speed <= 0:
            raise ConfigError(f"--speed {speed}: must be positive")
        options = RunOptions(
            start_ms=start_ms,
            speed=speed if speed is not None else sim_cfg.speed,
            seed=seed if seed is not None else sim_cfg.seed,
            duration_s=duration,
            truth_path=truth,
            log_path=log_file,
            clock_path=clock_file,
            mqtt=parse_mqtt_url(mqtt) if mqtt else load_settings().mqtt_host_port,
        )
        settings = load_settings()
        options.mqtt_logins = gateway_logins(park, settings)
        if settings.opcua_security:
            from nengtan.pki import init_pki

            options.opcua_pki = init_pki(settings.state_dir)
        sim = Simulation(park, options)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, sim.stop)
            await sim.setup()
            result = await sim.run()
            typer.echo(
                f"simulated {park.id}: {len(result['points'])} metered points, "
                f"{len(result['stacks'])} stacks, {len(result['faults']['fired'])} fault events"
                + (f"; truth in {truth}" if truth else ""),
                err=True,
            )

        asyncio.run(main())
