"""Pure pieces: signatures, subscription matching, backoff, scope SQL, settings, tokens."""

from __future__ import annotations

import pytest

from console.auth import Scope, digest, filter_sql, new_token
from console.delivery.match import Subscription, matches
from console.delivery.signing import sign, verify
from console.delivery.worker import backoff_s
from console.settings import ConsoleSettings, load_console_settings
from nengtan.errors import ConfigError

ALERT = {"alert_id": "r:s:1", "rule_id": "stack-pollutant-15m", "state": "raised",
         "severity": "major", "scope": "stack:acme-stk1", "metric": "so2_avg_mg_m3"}  # fmt: skip


def sub(**kw: object) -> Subscription:
    base: dict[str, object] = dict(id=1, enterprise=None, stack=None, severities=None,
                                   rule_id=None, metric=None, channel="mqtt", target="",
                                   secret=None)  # fmt: skip
    base.update(kw)
    return Subscription(**base)  # type: ignore[arg-type]


def test_signature_round_trip_and_tamper() -> None:
    body = b'{"alert_id":"x"}'
    s = sign("k" * 32, 1_700_000_000_000, body)
    # HMAC-SHA256 over "1700000000000." + body, hex: recomputed with the standard library
    import hashlib
    import hmac

    want = hmac.new(b"k" * 32, b"1700000000000." + body, hashlib.sha256).hexdigest()
    assert s == "sha256=" + want
    assert verify("k" * 32, 1_700_000_000_000, body, s)
    assert not verify("k" * 32, 1_700_000_000_001, body, s)  # another timestamp
    assert not verify("k" * 32, 1_700_000_000_000, body + b" ", s)
    assert not verify("x" * 32, 1_700_000_000_000, body, s)


def test_matching() -> None:
    assert matches(sub(), ALERT, "acme")
    assert matches(sub(enterprise="acme"), ALERT, "acme")
    assert not matches(sub(enterprise="hengli"), ALERT, "acme")
    assert not matches(sub(enterprise="acme"), ALERT, None)  # park-wide: not an enterprise's
    assert matches(sub(stack="acme-stk1"), ALERT, "acme")
    assert not matches(sub(stack="other"), ALERT, "acme")
    assert matches(sub(severities=("major", "critical")), ALERT, "acme")
    assert not matches(sub(severities=("warning",)), ALERT, "acme")
    assert not matches(sub(rule_id="x"), ALERT, "acme")
    assert not matches(sub(metric="nox_avg_mg_m3"), ALERT, "acme")


def test_backoff_doubles_and_caps() -> None:
    s = ConsoleSettings(backoff_initial_s=0.5, backoff_max_s=3.0)
    assert [backoff_s(s, n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_scope_params() -> None:
    assert Scope("admin").params() == {"scope_all": True, "scope_ent": None}
    assert Scope("auditor").params()["scope_all"] is True
    assert Scope("enterprise", "acme").params() == {"scope_all": False, "scope_ent": "acme"}
    # a vendor reads nothing, even of its own enterprise
    assert Scope("vendor", "acme").params() == {"scope_all": False, "scope_ent": None}
    assert filter_sql("e.enterprise") == "(e.enterprise = %(scope_ent)s OR %(scope_all)s)"
    assert not Scope("auditor").can("write") and Scope("vendor").can("publish")


def test_tokens_are_random_and_stored_as_digests() -> None:
    a, b = new_token(), new_token()
    assert a != b and a.startswith("nt_") and len(a) > 40
    assert digest(a) != a and len(digest(a)) == 64


def test_settings_refuse_non_loopback_and_mask_password() -> None:
    with pytest.raises(ConfigError, match="NENGTAN_CONSOLE_HOST"):
        load_console_settings(host="0.0.0.0")
    s = load_console_settings(smtp_password="hunter2-secret")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
