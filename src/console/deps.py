"""FastAPI dependencies as ``Annotated`` aliases: a database connection per request and the
caller's scope (401 without a valid token, 403 without the permission)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from console.auth import Permission, Scope, resolve_token
from console.settings import ConsoleSettings

_bearer = HTTPBearer(auto_error=False, description="an API token (`nengtan console token create`)")


def get_conn(request: Request) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """One pooled connection per request, autocommit (writes are single statements or use
    their own transaction block)."""
    with request.app.state.pool.connection() as conn:
        yield conn


ConnDep = Annotated[psycopg.Connection[tuple[Any, ...]], Depends(get_conn)]


def get_scope(
    conn: ConnDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Scope:
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "a valid API token is required (Authorization: Bearer ...)",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if creds is None or creds.scheme.lower() != "bearer":
        raise unauthorized
    scope = resolve_token(conn, creds.credentials)
    if scope is None:
        raise unauthorized
    return scope


def _require(permission: Permission) -> Any:
    def check(scope: Annotated[Scope, Depends(get_scope)]) -> Scope:
        if not scope.can(permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {scope.role!r} may not {permission}"
            )
        return scope

    return check


Reader = Annotated[Scope, Depends(_require("read"))]
Writer = Annotated[Scope, Depends(_require("write"))]
Publisher = Annotated[Scope, Depends(_require("publish"))]


def get_settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.console_settings
    return settings


SettingsDep = Annotated[ConsoleSettings, Depends(get_settings)]
