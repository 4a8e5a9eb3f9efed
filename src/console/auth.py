"""API tokens and the caller's scope.

A token is 256 bits of randomness shown once; only its SHA-256 digest is stored (a slow hash
adds nothing against a random secret of that size). The ``Scope`` a token resolves to is what
every data-layer query filters by.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

Role = Literal["admin", "enterprise", "auditor", "vendor"]
ROLES: tuple[Role, ...] = ("admin", "enterprise", "auditor", "vendor")
Permission = Literal["read", "write", "publish"]

_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "publish"}),
    "enterprise": frozenset({"read", "write"}),
    "auditor": frozenset({"read"}),
    "vendor": frozenset({"publish"}),
}
TOKEN_PREFIX = "nt_"


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is asking: role, enterprise (enterprise users and vendors) and token name."""

    role: Role
    enterprise: str | None = None
    name: str = ""
    token_id: int | None = None

    @property
    def sees_all(self) -> bool:
        """Park administrators and auditors see every enterprise."""
        return self.role in ("admin", "auditor")

    def can(self, permission: Permission) -> bool:
        return permission in _PERMISSIONS[self.role]

    def params(self) -> dict[str, Any]:
        """The SQL parameters of ``filter_sql`` (merge into a query's named parameters)."""
        return {
            "scope_all": self.sees_all,
            "scope_ent": self.enterprise if self.can("read") else None,
        }

    def may_see(self, enterprise: str | None) -> bool:
        """Whether a row of ``enterprise`` (None: park-wide) is in scope (for non-SQL checks)."""
        return self.sees_all or (
            self.can("read") and enterprise is not None and enterprise == self.enterprise
        )


def filter_sql(column: str) -> str:
    """The WHERE fragment restricting ``column`` (an enterprise id) to the caller's scope;
    park-wide rows (NULL) are only for those who see all."""
    return f"({column} = %(scope_ent)s OR %(scope_all)s)"


def new_token() -> str:
    """A fresh token (shown to its owner once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


Conn = psycopg.Connection[tuple[Any, ...]]


def create_token(conn: Conn, role: str, enterprise: str | None, name: str) -> tuple[int, str]:
    """Store a new token's digest; returns (id, token). Enterprise users and vendors need an
    enterprise that exists in the registry; the others must not have one."""
    from nengtan.errors import ConfigError

    if role not in ROLES:
        raise ConfigError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    needs = role in ("enterprise", "vendor")
    if needs and not enterprise:
        raise ConfigError(f"--role {role}: --enterprise is required")
    if not needs and enterprise:
        raise ConfigError(f"--role {role}: sees the whole park; do not give --enterprise")
    if enterprise is not None:
        row = conn.execute("SELECT 1 FROM console_enterprises WHERE id = %s", (enterprise,))
        if row.fetchone() is None:
            raise ConfigError(
                f"--enterprise {enterprise!r}: not in the registry (start the console with --park, "
                "or run `nengtan console registry load PARK_FILE`)"
            )
    token = new_token()
    row2 = conn.execute(
        "INSERT INTO console_tokens (digest, name, role, enterprise) VALUES (%s, %s, %s, %s)"
        " RETURNING id",
        (digest(token), name, role, enterprise),
    ).fetchone()
    assert row2 is not None
    return int(row2[0]), token


def resolve_token(conn: Conn, token: str) -> Scope | None:
    """The scope of a valid, unrevoked token, or None."""
    row = conn.execute(
        "SELECT id, role, enterprise, name FROM console_tokens"
        " WHERE digest = %s AND revoked_at IS NULL",
        (digest(token),),
    ).fetchone()
    if row is None:
        return None
    return Scope(role=row[1], enterprise=row[2], name=row[3], token_id=int(row[0]))


def list_tokens(conn: Conn) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, name, role, enterprise, created_at, revoked_at FROM console_tokens ORDER BY id"
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def revoke_token(conn: Conn, token_id: int) -> bool:
    cur = conn.execute(
        "UPDATE console_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (token_id,),
    )
    return cur.rowcount == 1
