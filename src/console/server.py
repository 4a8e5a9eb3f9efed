"""Start the console: migrations, registry, the delivery worker thread and uvicorn."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def serve(
    *, park: Path | None, host: str | None, port: int | None, delivery: bool, migrate_first: bool
) -> None:
    """Run until SIGINT/SIGTERM (uvicorn handles the signals; the worker stops with it)."""
    import uvicorn

    from console.app import create_app
    from console.delivery.worker import run_delivery
    from console.registry import load_registry
    from console.settings import load_console_settings
    from ingest.park.loader import load_park
    from nengtan.settings import load_settings
    from store.migrate import migrate
    from store.queries import connect

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is per-connection chatter
    settings = load_settings()
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if park is not None:
        overrides["park_file"] = park
    csettings = load_console_settings(**overrides)
    if migrate_first:
        migrate(settings.dsn)
    if csettings.park_file is not None:
        with connect(settings.dsn) as conn:
            counts = load_registry(conn, load_park(csettings.park_file))
        log.info("registry loaded from %s: %s", csettings.park_file, counts)
    stop = threading.Event()
    worker: threading.Thread | None = None
    if delivery:
        worker = threading.Thread(
            target=run_delivery,
            args=(settings.bootstrap, settings.dsn, settings.mqtt_host_port, csettings, stop),
            name="alert-delivery",
            daemon=True,
        )
        worker.start()
    app = create_app(settings, csettings)
    config = uvicorn.Config(
        app, host=csettings.host, port=csettings.port, log_level="info", access_log=False
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
