"""Errors the data layer raises and the app maps to HTTP statuses (403, 404, 422)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nengtan.errors import NengtanError

ECHO_CHARS = 120
"""How much of a bad input a 422 shows back (the rest is cut: never echo a large body)."""
MAX_ERRORS = 20


class ConsoleError(NengtanError):
    """Base of the console's request errors; ``status`` is the HTTP status."""

    status = 400


class Forbidden(ConsoleError):
    """The caller's scope does not include what was asked for."""

    status = 403


class NotFound(ConsoleError):
    status = 404


class BadRequest(ConsoleError):
    status = 422


class TooLarge(ConsoleError):
    """A request body above the console's ``max_body_bytes`` (or a file above its row limit
    where the route says so)."""

    status = 413


def clip(value: Any) -> Any:
    """``value`` as a short, JSON-safe echo: scalars as they are (non-finite floats as text),
    anything else as text cut to ``ECHO_CHARS``, unencodable characters escaped."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else repr(value)
    if len(text) > ECHO_CHARS:
        text = f"{text[:ECHO_CHARS]}... ({len(text)} characters)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def short_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's validation errors with their inputs and context clipped (``clip``)."""
    out: list[dict[str, Any]] = []
    for e in errors[:MAX_ERRORS]:
        item = {
            "type": e.get("type"),
            "loc": [clip(p) for p in e.get("loc", ())],
            "msg": clip(e.get("msg", "")),
            "input": clip(e.get("input")),
        }
        if e.get("ctx"):
            item["ctx"] = {str(k): clip(v) for k, v in e["ctx"].items()}
        out.append(item)
    if len(errors) > MAX_ERRORS:
        out.append({"type": "more", "msg": f"and {len(errors) - MAX_ERRORS} more errors"})
    return out
