"""PostgreSQL for the local stack: the machine's server if there is one, else a pip-installed one.

Order of search for server binaries: ``NENGTAN_PG_BIN_DIR``; Debian's ``/usr/lib/postgresql/<v>/bin``
(newest first); ``postgres`` on PATH; the ``pgserver`` wheel (``pip install 'nengtan[pgserver]'``).
The ``timescaledb`` extension is enabled when the server has it; ``status`` says which mode runs.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user (or a
``nengtan`` system user created for it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from nengtan.errors import ServiceError
from nengtan.settings import Settings
from nengtan.stack import procs
from nengtan.stack.base import ManagedProcess, Paths, ServiceStatus

TIMESCALE = "timescaledb"
log = logging.getLogger(__name__)


def find_bin_dir(settings: Settings) -> tuple[Path, str]:
    """(directory with initdb/pg_ctl/postgres, where it came from) or a ServiceError."""
    if settings.pg_bin_dir is not None:
        if not (settings.pg_bin_dir / "postgres").exists():
            raise ServiceError(
                f"NENGTAN_PG_BIN_DIR={settings.pg_bin_dir} holds no `postgres` binary"
            )
        return settings.pg_bin_dir, "NENGTAN_PG_BIN_DIR"
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    if debian:
        return debian[0].parent, "system"
    on_path = shutil.which("postgres")
    if on_path is not None and shutil.which("initdb") is not None:
        return Path(on_path).resolve().parent, "system"
    try:
        import pgserver  # type: ignore[import-not-found]
    except ImportError:
        raise ServiceError(
            "no PostgreSQL server found: install Debian's postgresql (apt-get install postgresql), "
            "or the pip-installed one (pip install 'nengtan[pgserver]'), "
            "or set NENGTAN_PG_DSN to an existing database"
        ) from None
    return Path(pgserver.__file__).parent / "pginstall" / "bin", "pip (pgserver)"


def run_user() -> str | None:
    """The user the server runs as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nengtan"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "nengtan"], check=True)
    return "nengtan"


def timescale_available(bin_dir: Path) -> bool:
    """True when the server's extension directory has the TimescaleDB control file."""
    pg_config = bin_dir / "pg_config"
    if not pg_config.exists():
        return False
    out = subprocess.run(
        [str(pg_config), "--sharedir"], capture_output=True, text=True, check=False
    )
    share = Path(out.stdout.strip())
    return (share / "extension" / f"{TIMESCALE}.control").exists()


class PostgresService(ManagedProcess):
    """The local PostgreSQL server with database ``nengtan``, or an external one by DSN."""

    stop_timeout_s = 30.0
    stop_signal = signal.SIGINT  # fast shutdown; the postmaster stops its children
    stop_group = False
    name = "postgres"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = Paths.of(settings, self.name)
        self.data = self.paths.root / "data"

    def start(self) -> None:
        s = self.settings
        if s.pg_external:
            self._connect_check(external=True)
            self.ensure_database()
            return
        if self.pid() is not None:
            return
        bin_dir, _ = find_bin_dir(s)
        procs.ensure_port_free(s.pg_port, "PostgreSQL", "NENGTAN_PG_PORT")
        user = run_user()
        if not (self.data / "PG_VERSION").exists():
            self._initdb(bin_dir, user)
        self._write_config(bin_dir)
        self.paths.log.parent.mkdir(parents=True, exist_ok=True)
        if user is not None:
            self.paths.log.touch()
            shutil.chown(self.paths.log, user)
        argv = [str(bin_dir / "postgres"), "-D", str(self.data)]
        procs.spawn(argv, log_file=self.paths.log, pid_file=self.paths.pid, user=user)
        procs.wait_until(self._accepts, timeout_s=60, what="PostgreSQL", log_file=self.paths.log)
        self.ensure_database()

    def status(self) -> ServiceStatus:
        s = self.settings
        if s.pg_external:
            try:
                mode = self.mode()
            except ServiceError as exc:
                return ServiceStatus(self.name, "unreachable", "NENGTAN_PG_DSN", str(exc))
            return ServiceStatus(self.name, "external", "NENGTAN_PG_DSN", mode)
        endpoint = f"127.0.0.1:{s.pg_port}/{s.pg_database}"
        pid = self.pid()
        if pid is None:
            return ServiceStatus(self.name, "stopped", endpoint)
        try:
            mode = self.mode()
        except ServiceError as exc:
            return ServiceStatus(self.name, "unreachable", endpoint, str(exc), pid)
        _, origin = find_bin_dir(s)
        return ServiceStatus(self.name, "running", endpoint, f"{mode}; server from {origin}", pid)

    def mode(self) -> str:
        """'TimescaleDB <version>' when the extension is installed in the database, else plain."""
        import psycopg

        try:
            with psycopg.connect(self.settings.dsn, connect_timeout=5) as conn:
                server = conn.execute("SHOW server_version").fetchone()
                row = conn.execute(
                    "SELECT extversion FROM pg_extension WHERE extname = %s", (TIMESCALE,)
                ).fetchone()
        except psycopg.Error as exc:
            raise ServiceError(f"PostgreSQL did not answer: {exc}".strip()) from exc
        version = server[0] if server else "?"
        if row is not None:
            return f"TimescaleDB {row[0]} on PostgreSQL {version}"
        return f"plain PostgreSQL {version} (TimescaleDB extension not available)"

    # -- pieces ---------------------------------------------------------------------------
    def _initdb(self, bin_dir: Path, user: str | None) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data, 0o700)
        if user is not None:
            _check_traversable(self.data, user)
            shutil.chown(self.data, user, user)
        argv = [
            str(bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.data,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if done.returncode != 0:
            raise ServiceError(f"initdb failed: {(done.stdout + done.stderr).strip()[-800:]}")

    def _write_config(self, bin_dir: Path) -> None:
        s = self.settings
        lines = [
            "# generated by `nengtan stack up`; edits are overwritten",
            "listen_addresses = '127.0.0.1'",
            f"port = {s.pg_port}",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "synchronous_commit = on",
            "fsync = on",
            "log_min_messages = warning",
            "timezone = 'UTC'",
        ]
        if timescale_available(bin_dir):
            # TimescaleDB's launcher, one scheduler per database and every policy job each take a
            # background worker slot; PostgreSQL's default of 8 starves the project's policies.
            lines += [
                "shared_preload_libraries = 'timescaledb'",
                "timescaledb.telemetry_level = off",
                "max_worker_processes = 32",
                "timescaledb.max_background_workers = 16",
            ]
        conf = self.data / "nengtan.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        main = self.data / "postgresql.conf"
        text = main.read_text(encoding="utf-8")
        if "include_if_exists = 'nengtan.conf'" not in text:
            main.write_text(text + "\ninclude_if_exists = 'nengtan.conf'\n", encoding="utf-8")
        user = run_user()
        if user is not None:
            shutil.chown(conf, user, user)

    def _accepts(self) -> bool:
        import psycopg

        if self.pid() is None:
            raise ServiceError(f"PostgreSQL exited during start; see {self.paths.log}")
        try:
            with psycopg.connect(self._admin_dsn(), connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def _admin_dsn(self) -> str:
        if self.settings.pg_external:
            return self.settings.dsn
        return f"postgresql://postgres@127.0.0.1:{self.settings.pg_port}/postgres"

    def _connect_check(self, *, external: bool) -> None:
        import psycopg

        try:
            with psycopg.connect(self.settings.dsn, connect_timeout=10):
                return
        except psycopg.Error as exc:
            what = "NENGTAN_PG_DSN" if external else "PostgreSQL"
            raise ServiceError(
                f"{what}: cannot connect ({str(exc).strip()}); check the DSN"
            ) from exc

    def ensure_database(self) -> None:
        """Create database ``nengtan`` if missing and enable TimescaleDB where the server has it."""
        import psycopg

        s = self.settings
        if not s.pg_external:
            with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (s.pg_database,)
                ).fetchone()
                if exists is None:
                    conn.execute(f'CREATE DATABASE "{s.pg_database}"')
        with psycopg.connect(s.dsn, autocommit=True) as conn:
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = %s", (TIMESCALE,)
            ).fetchone()
            if available is not None:
                try:
                    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {TIMESCALE}")
                except psycopg.Error as exc:
                    if not s.pg_external:  # our own server: a broken install must not pass as plain
                        raise ServiceError(
                            f"the server has the {TIMESCALE} extension but enabling it failed: "
                            f"{str(exc).strip()}"
                        ) from exc
                    log.warning("TimescaleDB is available but could not be enabled: %s", exc)


def _check_traversable(path: Path, user: str) -> None:
    """The server user must be able to reach its data directory through every parent."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise ServiceError(
                f"PostgreSQL runs as user {user!r}, who cannot enter {parent} (mode {oct(mode & 0o777)}); "
                "choose a state directory under a world-traversable path with NENGTAN_STATE_DIR"
            )
