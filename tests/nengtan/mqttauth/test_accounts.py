"""Accounts and ACL rules from the park registry, and the password-file format (pure)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from ingest.park import load_park
from nengtan.errors import ConfigError
from nengtan.mqttauth import ADAPTER, login_for, park_accounts
from nengtan.mqttauth.accounts import acl_text
from nengtan.mqttauth.store import hash_password, write_account_files
from nengtan.settings import load_settings

PARK = Path(__file__).resolve().parents[3] / "examples" / "park-small.yaml"


def test_gateway_accounts_cover_exactly_own_devices_and_stacks() -> None:
    rules = {a.name: a.rules for a in park_accounts(load_park(PARK))}
    assert rules == {
        "gw-acme": (("write", "nt/v1/acme/cems/acme-stk1"),),
        "gw-hengli": (
            ("write", "nt/v1/hengli/cems/hengli-stk1"),
            ("write", "nt/v1/hengli/hengli-gw/readings"),
        ),
        "gw-sunrise": (("write", "nt/v1/sunrise/sunrise-gw/readings"),),
    }
    text = acl_text(park_accounts(load_park(PARK)))
    assert "user gw-acme\ntopic write nt/v1/acme/cems/acme-stk1\n" in text
    assert "pattern" not in text and "#" not in text.split("\n", 1)[1]


def test_hash_is_mosquitto_passwd_format(tmp_path: Path) -> None:
    """Our hash of a password, given mosquitto_passwd's salt, is mosquitto_passwd's hash."""
    pw_file = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw_file), "u", "s3cret"], check=True)
    theirs = pw_file.read_text().strip().split(":", 1)[1]
    salt = base64.b64decode(theirs.split("$")[3])
    assert hash_password("s3cret", salt) == theirs
    assert hash_password("s3cret", salt) != hash_password("s3cret!", salt)


def test_login_for(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, mqtt_auth=True)
    with pytest.raises(ConfigError, match="nengtan-adapter"):
        login_for(settings, ADAPTER)
    write_account_files(settings, park_accounts(load_park(PARK)))
    login = login_for(settings, "gw-acme")
    assert login is not None and login.username == "gw-acme" and len(login.password) >= 24
    assert login.password not in repr(login)
    again = write_account_files(settings)  # passwords are kept, accounts accumulate
    assert "gw-acme" in again and login_for(settings, "gw-acme") == login
    fixed = load_settings(state_dir=tmp_path, mqtt_username="site", mqtt_password="pw")
    assert login_for(fixed, ADAPTER) == login_for(fixed, "gw-acme")
    anonymous = load_settings(state_dir=tmp_path / "none")
    assert login_for(anonymous, ADAPTER) is None


def test_broker_config_refuses_anonymous_only_with_auth(tmp_path: Path) -> None:
    from nengtan.stack.mosquitto import MosquittoService

    def config(**over: object) -> str:
        settings = load_settings(state_dir=tmp_path, mqtt_port=18830, **over)
        return MosquittoService(settings).write_config().read_text()

    assert "allow_anonymous true" in config()
    secured = config(mqtt_auth=True, mqtt_tls_port=18831)
    assert "allow_anonymous true" not in secured
    assert "allow_anonymous false" in secured
    assert f"password_file {tmp_path}/mosquitto/passwd" in secured
    assert f"acl_file {tmp_path}/mosquitto/acl" in secured
    assert "listener 18831 127.0.0.1" in secured and f"cafile {tmp_path}/pki/ca.pem" in secured
