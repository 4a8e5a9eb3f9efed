"""Versioned schema migrations: ``migrations/NNNN_name[.timescale|.plain].sql`` applied in order.

A file without a mode suffix applies in both modes; ``.timescale`` files apply when the
TimescaleDB extension is in use and ``.plain`` files otherwise, so both modes reach the same
version with the same table and view names. Each version is applied in its own transaction and
recorded in ``schema_migrations`` with the mode and a checksum; a file changed after it was
applied is refused rather than silently diverging.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg

from nengtan.errors import ConfigError, ServiceError

Mode = Literal["timescale", "plain"]
_NAME = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<mode>timescale|plain))?\.sql$"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    mode: Mode | None
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def bundled_migrations() -> list[Migration]:
    """Every migration file shipped in ``store/migrations``, sorted by version then mode."""
    out: list[Migration] = []
    for entry in resources.files("store.migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        m = _NAME.match(entry.name)
        if m is None:
            raise ConfigError(f"store/migrations/{entry.name}: name must be NNNN_name[.mode].sql")
        mode = m["mode"]
        out.append(
            Migration(int(m["version"]), m["name"], mode, entry.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        )
    out.sort(key=lambda x: (x.version, x.mode or ""))
    return out


def plan(migrations: list[Migration], mode: Mode) -> list[Migration]:
    """The migrations of one mode, one per version."""
    chosen: dict[int, list[Migration]] = {}
    for m in migrations:
        if m.mode in (None, mode):
            chosen.setdefault(m.version, []).append(m)
    versions = sorted({m.version for m in migrations})
    missing = [v for v in versions if v not in chosen]
    if missing:
        raise ConfigError(f"store/migrations: version(s) {missing} have no file for mode {mode!r}")
    for v, ms in chosen.items():
        if len(ms) > 1:
            raise ConfigError(
                f"store/migrations: version {v:04d} has more than one file for {mode!r}"
            )
    return [chosen[v][0] for v in versions]


def detect_mode(conn: psycopg.Connection[tuple[object, ...]], want: str = "auto") -> Mode:
    """``timescale`` when the extension is installed or can be created, else ``plain``.

    ``want`` forces a mode: ``timescale`` fails when the extension is missing; ``plain`` never
    touches it.
    """
    if want == "plain":
        return "plain"
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row is not None:
        return "timescale"
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    if available is not None:
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            return "timescale"
        except psycopg.Error as exc:
            if want == "timescale":
                raise ServiceError(
                    f"TimescaleDB is installed but cannot be enabled: {exc}"
                ) from exc
    if want == "timescale":
        raise ServiceError("TimescaleDB was asked for but the server has no timescaledb extension")
    return "plain"


def current_mode(conn: psycopg.Connection[tuple[object, ...]]) -> Mode | None:
    """The mode the database was migrated in, or None before the first migration."""
    _ensure_table(conn)
    row = conn.execute("SELECT mode FROM schema_migrations ORDER BY version LIMIT 1").fetchone()
    return None if row is None else row[0]  # type: ignore[return-value]


def migrate(dsn: str, want: str = "auto") -> tuple[Mode, list[str]]:
    """Apply pending migrations; returns the mode and the names of the applied versions."""
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ServiceError(f"cannot connect to PostgreSQL: {exc}") from exc
    with conn:
        recorded = current_mode(conn)
        mode = recorded or detect_mode(conn, want)
        if recorded is not None and want not in ("auto", recorded):
            raise ConfigError(f"the database was migrated in {recorded!r} mode, not {want!r}")
        done = {
            int(v): (n, c)
            for v, n, c in conn.execute("SELECT version, name, checksum FROM schema_migrations")
        }
        applied: list[str] = []
        for m in plan(bundled_migrations(), mode):
            if m.version in done:
                if done[m.version][1] != m.checksum:
                    raise ConfigError(
                        f"store/migrations: {m.version:04d}_{m.name} changed after it was applied"
                        " (add a new version instead of editing an applied one)"
                    )
                continue
            with conn.transaction():
                conn.execute(m.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, mode, checksum)"
                    " VALUES (%s, %s, %s, %s)",
                    (m.version, m.name, mode, m.checksum),
                )
            applied.append(f"{m.version:04d}_{m.name}")
    return mode, applied


def _ensure_table(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL, mode text NOT NULL,"
        " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
