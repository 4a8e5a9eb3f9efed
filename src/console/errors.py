"""Errors the data layer raises and the app maps to HTTP statuses (403, 404, 422)."""

from __future__ import annotations

from nengtan.errors import NengtanError


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
