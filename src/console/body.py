"""Request bodies read with a size limit: the body is streamed and the read stops (413) as
soon as it passes ``max_body_bytes``, so an oversized upload never sits whole in memory."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from console.errors import TooLarge
from console.settings import ConsoleSettings


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The whole body, at most ``limit`` bytes (default: the console's ``max_body_bytes``)."""
    settings: ConsoleSettings = request.app.state.console_settings
    cap = settings.max_body_bytes if limit is None else limit
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise TooLarge(_message(cap))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge(_message(cap))
        chunks.append(chunk)
    return b"".join(chunks)


def _message(cap: int) -> str:
    return f"request body above {cap} bytes (NENGTAN_CONSOLE_MAX_BODY_BYTES)"


async def _raw_body(request: Request) -> bytes:
    return await read_body(request)


RawBody = Annotated[bytes, Depends(_raw_body)]
"""The request body as bytes, read with the console's size limit (a dependency, so that a
synchronous route gets it without blocking the event loop on its own work)."""
