"""The one way a Nengtan MQTT client gets its login: ``login_for(settings, account)``.

Precedence: ``NENGTAN_MQTT_USERNAME``/``NENGTAN_MQTT_PASSWORD`` (one fixed account, e.g. for
an external broker), then the account's password in the secrets file (``mqtt_secrets_file``,
default ``{state_dir}/secrets/mqtt.json``). With ``mqtt_auth`` off and no password known the
client connects anonymously (``None``). Error messages name the account and the file, never
a password.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nengtan.errors import ConfigError
from nengtan.settings import Settings


@dataclass(frozen=True)
class Login:
    username: str
    password: str = field(repr=False)


def login_for(settings: Settings, account: str) -> Login | None:
    """The login of ``account`` (see the module docstring); ``None`` means anonymous."""
    from nengtan.mqttauth.store import read_secrets, secrets_file

    if settings.mqtt_username:
        pw = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
        return Login(settings.mqtt_username, pw)
    path = secrets_file(settings)
    password = read_secrets(path).get(account)
    if password is not None:
        return Login(account, password)
    if settings.mqtt_auth:
        raise ConfigError(
            f"MQTT account {account!r} has no password in {path}: provision it "
            "(nengtan stack mqtt-accounts --park FILE) or set NENGTAN_MQTT_USERNAME/_PASSWORD"
        )
    return None


def apply_login(client: Any, login: Login | None) -> None:
    """Give a paho client its login before ``connect`` (nothing for anonymous)."""
    if login is not None:
        client.username_pw_set(login.username, login.password)


def logins_for(settings: Settings, accounts: list[str]) -> dict[str, Login | None]:
    """Several accounts at once (a simulator publishing for every enterprise of a park)."""
    return {name: login_for(settings, name) for name in accounts}


@contextmanager
def cli_env(login: Login | None) -> Iterator[dict[str, str]]:
    """An environment in which ``mosquitto_pub``/``mosquitto_sub`` log in as ``login``: their
    per-user config files (``$XDG_CONFIG_HOME/mosquitto_pub``) in a private temporary
    directory, so the password is never on a command line (``ps`` shows those to everyone)."""
    env = dict(os.environ)
    if login is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="nengtan-mqtt-") as tmp:
        for tool in ("mosquitto_pub", "mosquitto_sub"):
            path = Path(tmp) / tool
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"-u {login.username}\n-P {login.password}\n")
        env["XDG_CONFIG_HOME"] = tmp
        yield env
