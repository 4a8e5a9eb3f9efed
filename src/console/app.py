"""The FastAPI application: a thin main that mounts one router per resource, the dashboard's
static files and the error mapping. Nothing is created at import time; ``create_app`` builds
the pool and the Kafka producer when the app starts."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from console.audit import install as install_audit
from console.errors import ConsoleError, short_errors
from console.routers import (
    alerts,
    audit,
    cems,
    emissions,
    energy,
    flow,
    lineage,
    management_analysis,
    management_assets,
    management_benchmark,
    management_budgets,
    management_footprints,
    management_inputs,
    management_supply,
    publish,
    registry,
    subscriptions,
)
from console.settings import ConsoleSettings
from ingest.contract import DLQ_MAX_MESSAGE_BYTES
from nengtan.settings import Settings

MANAGEMENT_ROUTERS = (
    management_benchmark,
    management_budgets,
    management_assets,
    management_footprints,
    management_supply,
    management_analysis,
    management_inputs,
)
ROUTERS = (
    registry,
    energy,
    flow,
    emissions,
    cems,
    alerts,
    subscriptions,
    publish,
    lineage,
    audit,
    *MANAGEMENT_ROUTERS,
)
STATIC_DIR = Path(str(resources.files("console") / "static"))


def _producer_factory(bootstrap: str) -> Callable[[], Any]:
    lock = threading.Lock()
    holder: list[Any] = []

    def get() -> Any:
        with lock:
            if not holder:
                from kafka import KafkaProducer  # type: ignore[import-untyped]

                holder.append(
                    KafkaProducer(
                        bootstrap_servers=bootstrap,
                        acks="all",
                        client_id="nengtan-console",
                        # a DLQ record carries a rejected body whole (``ingest.dlq``)
                        max_request_size=DLQ_MAX_MESSAGE_BYTES,
                    )
                )
            return holder[0]

    get.holder = holder  # type: ignore[attr-defined]
    return get


def create_app(settings: Settings, console_settings: ConsoleSettings) -> FastAPI:
    """The console app over the services ``settings`` names."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from psycopg_pool import ConnectionPool

        app.state.pool = ConnectionPool(
            settings.dsn,
            min_size=1,
            max_size=8,
            kwargs={"autocommit": True},
            open=True,
            name="nengtan-console",
        )
        app.state.producer = _producer_factory(settings.bootstrap)
        try:
            yield
        finally:
            app.state.pool.close()
            for p in app.state.producer.holder:
                p.close(timeout=5)

    app = FastAPI(
        title="Nengtan console API",
        version="1",
        description=(
            "Energy-carbon management: registry, energy consumption and intensity, energy flow, "
            "emissions, CEMS hourly values, alerts and subscriptions. Every answer is limited "
            "to the caller's scope (API token role and enterprise)."
        ),
        lifespan=lifespan,
        # every body is counted as it streams in: 413 past the limit, before a route sees it
        max_body_size=console_settings.max_body_bytes,
    )
    app.state.console_settings = console_settings
    app.state.settings = settings

    @app.exception_handler(ConsoleError)
    async def _console_error(request: Request, exc: ConsoleError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(psycopg.DataError)
    async def _data_error(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # input PostgreSQL cannot hold (a NUL byte in a text, a number out of range)
        return JSONResponse({"detail": f"invalid input: {exc}"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes each bad input whole (a 100 MB field comes back)
        return JSONResponse({"detail": short_errors(exc.errors())}, status_code=422)

    @app.exception_handler(UnicodeError)
    async def _unicode(request: Request, exc: UnicodeError) -> JSONResponse:
        # a lone surrogate (JSON "\ud800") is valid JSON but no UTF-8 text PostgreSQL can hold
        return JSONResponse(
            {"detail": "text holds a character that is not valid UTF-8 (a lone surrogate?)"},
            status_code=422,
        )

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # a date or number past what Python or PostgreSQL can represent
        return JSONResponse({"detail": f"value out of range: {str(exc)[:200]}"}, status_code=422)

    for module in ROUTERS:
        app.include_router(module.router)
    install_audit(app)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        """The dashboard page (static; it asks for a token and calls the API)."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    return app
