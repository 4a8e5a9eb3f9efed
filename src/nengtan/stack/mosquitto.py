"""Mosquitto (Debian's package) with a config generated under the state directory.

Persistence is on so QoS 1 persistent sessions and retained messages survive ``down``/``up``,
and the in-memory state is saved every second (``autosave_interval 1``): a broker that is
killed (no shutdown save) comes back knowing the adapter's session and its subscriptions. With
the old 30 s interval a broker killed within 30 s of the adapter subscribing came back without
the session, and what publishers sent before the adapter re-subscribed went to no one.
The broker keeps running as the invoking user (``user`` option) so it can write its state.

With ``mqtt_auth`` on, anonymous clients are refused and the broker reads a password file and
an ACL file generated from the accounts (``nengtan.mqttauth``): the system accounts at start,
each park's gateway accounts when it is provisioned (``provision``), which reloads the broker
(SIGHUP) without dropping its clients.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from nengtan.errors import ServiceError
from nengtan.settings import Settings
from nengtan.stack import procs
from nengtan.stack.base import ManagedProcess, Paths, ServiceStatus

if TYPE_CHECKING:
    from ingest.park.models import Park


def find_mosquitto() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ServiceError(
        "mosquitto was not found: install it (Debian: apt-get install mosquitto mosquitto-clients) "
        "or set NENGTAN_MQTT_URL to an existing MQTT broker"
    )


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def connack_code(
    host: str, port: int, login: tuple[str, str] | None = None, timeout_s: float = 3.0
) -> int | None:
    """The CONNACK return code an MQTT 3.1.1 CONNECT gets (0 accepted, 4 bad login, 5 not
    authorised), ``None`` when nothing answers."""
    flags = 0x02
    payload = _field(b"ntck")
    if login is not None:
        flags |= 0xC0
        payload += _field(login[0].encode()) + _field(login[1].encode())
    body = _field(b"MQTT") + bytes([4, flags, 0, 60]) + payload
    connect = bytes([0x10, len(body)]) + body
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(connect)
            reply = sock.recv(4)
    except OSError:
        return None
    if len(reply) < 4 or reply[0] != 0x20:
        return None
    return reply[3]


def mqtt_answers(host: str, port: int, timeout_s: float = 3.0) -> bool:
    """True when an MQTT CONNECT gets a CONNACK (a listening port alone is not enough); a
    refusal (anonymous clients not allowed) is an answer too."""
    return connack_code(host, port, timeout_s=timeout_s) is not None


class MosquittoService(ManagedProcess):
    """The local Mosquitto broker, or an external one named by ``NENGTAN_MQTT_URL``."""

    stop_timeout_s = 10.0
    name = "mosquitto"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = Paths.of(settings, self.name)

    def start(self) -> None:
        s = self.settings
        host, port = s.mqtt_host_port
        if s.mqtt_external:
            if not mqtt_answers(host, port, timeout_s=10):
                raise ServiceError(
                    f"NENGTAN_MQTT_URL={s.mqtt_url}: no MQTT broker answered within 10 s; "
                    "check the address or unset it to use the local stack"
                )
            return
        if self.pid() is not None:
            return
        binary = find_mosquitto()
        procs.ensure_port_free(port, "Mosquitto", "NENGTAN_MQTT_PORT")
        if s.mqtt_tls_port is not None:
            procs.ensure_port_free(s.mqtt_tls_port, "Mosquitto TLS", "NENGTAN_MQTT_TLS_PORT")
        if s.mqtt_auth:
            from nengtan.mqttauth.store import write_account_files

            write_account_files(s)
        config = self.write_config()
        procs.spawn([binary, "-c", str(config)], log_file=self.paths.log, pid_file=self.paths.pid)
        procs.wait_until(
            lambda: self._alive() and mqtt_answers(host, port, timeout_s=1),
            timeout_s=20,
            what="Mosquitto",
            log_file=self.paths.log,
        )

    def _alive(self) -> bool:
        if self.pid() is None:
            tail = self.paths.log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ServiceError(
                f"Mosquitto exited during start ({' | '.join(tail)}); see {self.paths.log}"
            )
        return True

    def status(self) -> ServiceStatus:
        s = self.settings
        host, port = s.mqtt_host_port
        endpoint = f"mqtt://{host}:{port}"
        if s.mqtt_external:
            if mqtt_answers(host, port):
                return ServiceStatus(self.name, "external", endpoint)
            return ServiceStatus(self.name, "unreachable", endpoint)
        pid = self.pid()
        if pid is None:
            return ServiceStatus(self.name, "stopped", endpoint)
        ok = mqtt_answers(host, port)
        return ServiceStatus(
            self.name, "running" if ok else "unreachable", endpoint, "Mosquitto", pid
        )

    def provision(self, park: Park) -> list[str]:
        """Add ``park``'s gateway accounts (passwords generated into the secrets file) and make
        the running local broker use them; returns every account name now known. An external
        broker is not touched (its operator installs the generated files)."""
        from nengtan.mqttauth.accounts import park_accounts
        from nengtan.mqttauth.client import login_for
        from nengtan.mqttauth.store import write_account_files

        accounts = park_accounts(park)
        names = write_account_files(self.settings, accounts)
        pid = self.pid()
        if self.settings.mqtt_external or pid is None or not self.settings.mqtt_auth:
            return names
        os.kill(pid, signal.SIGHUP)
        # the reload is asynchronous: wait until the broker takes a login it did not know
        host, port = self.settings.mqtt_host_port
        probe = login_for(self.settings, accounts[-1].name if accounts else names[0])
        assert probe is not None
        deadline = time.monotonic() + 10
        while connack_code(host, port, (probe.username, probe.password), 1) != 0:
            if time.monotonic() > deadline:
                raise ServiceError(f"Mosquitto did not take the new accounts; see {self.paths.log}")
            time.sleep(0.05)
        return names

    def write_config(self) -> Path:
        root = self.paths.root
        (root / "data").mkdir(parents=True, exist_ok=True)
        config = root / "mosquitto.conf"
        if self.settings.mqtt_auth:
            auth = [
                "allow_anonymous false",
                f"password_file {root / 'passwd'}",
                f"acl_file {root / 'acl'}",
            ]
        else:
            auth = ["allow_anonymous true"]
        if self.settings.mqtt_tls_port is not None:
            # a second listener, TLS with the `nengtan pki` server certificate; the logins and
            # ACLs above hold for both (per_listener_settings is off)
            from nengtan.pki import init_pki

            pki = init_pki(self.settings.state_dir)
            auth += [
                f"listener {self.settings.mqtt_tls_port} 127.0.0.1",
                f"cafile {pki.ca_cert}",
                f"certfile {pki.cert('server')}",
                f"keyfile {pki.key('server')}",
                "tls_version tlsv1.2",
            ]
        config.write_text(
            "\n".join(
                [
                    "# generated by `nengtan stack up`; edits are overwritten",
                    f"user {getpass.getuser()}",
                    f"listener {self.settings.mqtt_port} 127.0.0.1",
                    *auth,
                    "persistence true",
                    f"persistence_location {root / 'data'}/",
                    "autosave_interval 1",
                    "max_queued_messages 100000",
                    "max_inflight_messages 100",
                    "message_size_limit 0",
                    "log_dest stdout",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_timestamp true",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        return config
