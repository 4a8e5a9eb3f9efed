"""The account files: secrets (state dir, mode 0600), Mosquitto's password and ACL files.

Passwords are generated here (``secrets.token_urlsafe``), never committed and never logged;
the secrets file maps account name to password and is what every Nengtan process reads to log
in (or ``NENGTAN_MQTT_USERNAME``/``_PASSWORD`` for one fixed account). Mosquitto gets only
their hashes, in its own ``$7$`` format (PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt: what
``mosquitto_passwd`` 2.x writes), so no ``mosquitto_passwd`` binary is needed.

Accounts accumulate: provisioning a second park adds its gateway accounts to those already
there (one broker may serve several parks, as the test session's does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path

from nengtan.errors import ConfigError
from nengtan.mqttauth.accounts import Account, acl_text, system_accounts
from nengtan.settings import Settings

PBKDF2_ITERATIONS = 101


def secrets_file(settings: Settings) -> Path:
    return settings.mqtt_secrets_file or settings.state_dir / "secrets" / "mqtt.json"


def broker_dir(settings: Settings) -> Path:
    return settings.state_dir / "mosquitto"


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password-file hash (``$7$101$salt$digest``, base64)."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def read_secrets(path: Path) -> dict[str, str]:
    """Account → password from ``path``; empty when it does not exist yet."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path}: not a JSON object of MQTT account passwords") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{path}: not a JSON object of MQTT account passwords")
    return data


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by this user only (created 0600, never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)


def _registry(settings: Settings) -> dict[str, Account]:
    path = broker_dir(settings) / "accounts.json"
    accounts = {a.name: a for a in system_accounts()}
    if path.exists():
        for name, rules in json.loads(path.read_text(encoding="utf-8")).items():
            known = Account(name, tuple((r[0], r[1]) for r in rules))
            accounts[name] = accounts[name].merged(known) if name in accounts else known
    return accounts


def write_account_files(settings: Settings, extra: list[Account] | None = None) -> list[str]:
    """Add ``extra`` to the known accounts, give each a password if it has none, and write the
    secrets, password and ACL files. Returns the account names now known."""
    accounts = _registry(settings)
    for account in extra or []:
        old = accounts.get(account.name)
        accounts[account.name] = old.merged(account) if old else account
    path = secrets_file(settings)
    known = read_secrets(path)
    for name in accounts:
        known.setdefault(name, secrets.token_urlsafe(24))
    _write_private(path, json.dumps(known, indent=2, sort_keys=True))
    bdir = broker_dir(settings)
    registry = {a.name: [list(r) for r in a.rules] for a in accounts.values()}
    _write_private(bdir / "accounts.json", json.dumps(registry, indent=2, sort_keys=True))
    _write_private(
        bdir / "passwd",
        "".join(f"{name}:{hash_password(known[name])}\n" for name in sorted(accounts)),
    )
    _write_private(bdir / "acl", acl_text(list(accounts.values())))
    return sorted(accounts)
