"""The local Mosquitto with ``mqtt_auth`` on, probed by foreign clients (``mosquitto_pub`` /
``mosquitto_sub``): anonymous and wrong passwords refused, a gateway account publishes to its
own enterprise's topics only, the adapter account reads them, nothing else gets through."""

from __future__ import annotations

import shutil
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import make_state_dir

from ingest.park import load_park
from nengtan.mqttauth import ADAPTER, OPS, login_for
from nengtan.mqttauth.client import cli_env
from nengtan.mqttauth.store import read_secrets, secrets_file
from nengtan.pki import init_pki, pki_paths
from nengtan.settings import Settings, load_settings
from nengtan.stack.mosquitto import MosquittoService, connack_code
from nengtan.stack.procs import free_port

pytestmark = pytest.mark.integration
PARK = Path(__file__).resolve().parents[3] / "examples" / "park-small.yaml"


@pytest.fixture(scope="module")
def secured() -> Iterator[Settings]:
    state = make_state_dir("nengtan-mqttauth-")
    settings = load_settings(
        state_dir=state, mqtt_port=free_port(), mqtt_tls_port=free_port(), mqtt_auth=True
    )
    broker = MosquittoService(settings)
    broker.start()
    try:
        broker.provision(load_park(PARK))
        yield settings
    finally:
        broker.stop()
        shutil.rmtree(state, ignore_errors=True)


def _cli(settings: Settings, tool: str, *args: str, account: str | None = None) -> list[str]:
    host, port = settings.mqtt_host_port
    cmd = [tool, "-h", host, "-p", str(port), "-q", "1", *args]
    if account is not None:
        login = login_for(settings, account)
        assert login is not None
        cmd += ["-u", login.username, "-P", login.password]
    return cmd


def _pub(
    settings: Settings, topic: str, msg: str, account: str | None
) -> subprocess.CompletedProcess[str]:
    """``mosquitto_pub`` logging in through ``cli_env`` (its config file, not its argv)."""
    host, port = settings.mqtt_host_port
    login = login_for(settings, account) if account else None
    cmd = ["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-m", msg]
    with cli_env(login) as env:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20, env=env)


def test_anonymous_and_wrong_password_refused(secured: Settings) -> None:
    host, port = secured.mqtt_host_port
    assert connack_code(host, port) == 5  # not authorised
    assert connack_code(host, port, ("gw-acme", "not-the-password")) in (4, 5)
    assert connack_code(host, port, ("nobody", "x")) in (4, 5)
    anon = _pub(secured, "nt/v1/acme/cems/acme-stk1", "x", account=None)
    assert anon.returncode != 0
    assert "not authorised" in (anon.stderr + anon.stdout).lower()


def _watch(settings: Settings, topic_filter: str, account: str) -> subprocess.Popen[str]:
    sub = subprocess.Popen(
        _cli(settings, "mosquitto_sub", "-t", topic_filter, "-C", "1", "-W", "15", "-v",
             account=account),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return sub


def _wait_subscribed() -> None:
    """mosquitto_sub subscribes within its first round trips; a short pause covers them."""
    time.sleep(0.7)


def test_gateway_publishes_own_topics_only(secured: Settings) -> None:
    """hengli's gateway account publishes to acme's stack topic (dropped by the ACL), then to
    its own (delivered): the adapter's subscriber sees only the second."""
    sub = _watch(secured, "nt/v1/+/cems/+", ADAPTER)
    _wait_subscribed()
    foreign = _pub(secured, "nt/v1/acme/cems/acme-stk1", "forged", account="gw-hengli")
    own = _pub(secured, "nt/v1/hengli/cems/hengli-stk1", "genuine", account="gw-hengli")
    assert own.returncode == 0, own.stderr
    assert foreign.returncode == 0  # MQTT 3.1.1 has no way to say no: the broker drops it
    out, err = sub.communicate(timeout=30)
    assert out.strip() == "nt/v1/hengli/cems/hengli-stk1 genuine", err


def test_gateway_cannot_publish_unregistered_device_or_read(secured: Settings) -> None:
    marker = uuid.uuid4().hex
    sub = _watch(secured, "nt/v1/#", OPS)
    _wait_subscribed()
    _pub(secured, "nt/v1/sunrise/not-a-device/readings", "forged", account="gw-sunrise")
    _pub(secured, "nt/v1/alerts/sunrise/high", "forged", account="gw-sunrise")
    _pub(secured, "nt/v1/sunrise/sunrise-gw/readings", marker, account="gw-sunrise")
    out, err = sub.communicate(timeout=30)
    assert out.strip() == f"nt/v1/sunrise/sunrise-gw/readings {marker}", err
    # a gateway reads nothing: its subscriber times out empty
    eavesdrop = subprocess.run(
        _cli(secured, "mosquitto_sub", "-t", "nt/v1/#", "-C", "1", "-W", "3", account="gw-acme"),
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    _pub(secured, "nt/v1/acme/cems/acme-stk1", "x", account="gw-acme")
    assert eavesdrop.stdout == ""


def test_secrets_private_and_broker_has_hashes_only(secured: Settings) -> None:
    path = secrets_file(secured)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = read_secrets(path)
    assert {"gw-acme", "gw-hengli", "gw-sunrise", ADAPTER, OPS} <= set(passwords)
    passwd = (secured.state_dir / "mosquitto" / "passwd").read_text()
    assert all(pw not in passwd for pw in passwords.values())
    assert "gw-acme:$7$101$" in passwd


def test_tls_listener(secured: Settings) -> None:
    """The TLS port speaks only TLS (with the `nengtan pki` server certificate, checked
    against its CA) and asks for the same logins."""
    assert secured.mqtt_tls_port is not None
    tls_port = str(secured.mqtt_tls_port)
    assert connack_code("127.0.0.1", secured.mqtt_tls_port) is None  # plain MQTT: no answer
    ca = str(pki_paths(secured.state_dir).ca_cert)
    login = login_for(secured, "gw-acme")
    assert login is not None
    base = ["mosquitto_pub", "-h", "127.0.0.1", "-p", tls_port, "--cafile", ca, "-q", "1",
            "-t", "nt/v1/acme/cems/acme-stk1", "-m", "x"]  # fmt: skip
    with cli_env(login) as env:
        ok = subprocess.run(base, capture_output=True, text=True, timeout=20, env=env)
    assert ok.returncode == 0, ok.stderr
    anon = subprocess.run(base, capture_output=True, text=True, timeout=20)
    assert anon.returncode != 0 and "not authorised" in (anon.stderr + anon.stdout).lower()
    foreign_ca = pki_paths(secured.state_dir / "other").ca_cert
    init_pki(secured.state_dir / "other")
    bad = [*base[:5], "--cafile", str(foreign_ca), *base[7:]]
    with cli_env(login) as env:
        untrusted = subprocess.run(bad, capture_output=True, text=True, timeout=20, env=env)
    assert untrusted.returncode != 0  # the server's certificate is not from that CA
