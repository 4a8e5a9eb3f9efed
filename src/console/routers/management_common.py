"""Shared pieces of the management routers: the error mapping of ``management.api`` to the
console's HTTP errors, and the submitter dependency (vendors publish, enterprise users write)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, status
from pydantic import ValidationError

from console.auth import Scope
from console.deps import get_scope
from console.errors import BadRequest, Forbidden, NotFound
from management.api import NoInputs, OutOfScope, validation_message
from nengtan.errors import ConfigError

PERIOD_PATTERN = r"^\d{4}(-\d{2})?$"
"""A period: ``YYYY`` (a year) or ``YYYY-MM`` (a month)."""
PERIODS_PATTERN = r"^\d{4}(-\d{2})?(,\s*\d{4}(-\d{2})?)*$"


@contextmanager
def mapped() -> Iterator[None]:
    """No inputs -> 404; outside the scope -> 403; bad input -> 422 naming the problem."""
    try:
        yield
    except NoInputs as exc:
        raise NotFound(str(exc)) from None
    except (OutOfScope, PermissionError) as exc:
        raise Forbidden(f"not in your scope: {exc}") from None
    except ValidationError as exc:
        raise BadRequest(validation_message(exc)) from None
    except (ConfigError, ValueError) as exc:
        raise BadRequest(str(exc)) from None


def _submitter(scope: Annotated[Scope, Depends(get_scope)]) -> Scope:
    if not (scope.can("publish") or scope.can("write")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {scope.role!r} may not submit")
    return scope


Submitter = Annotated[Scope, Depends(_submitter)]
