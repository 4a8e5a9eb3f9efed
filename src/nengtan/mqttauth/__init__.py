"""MQTT accounts: who may connect to the broker and which topics each may use.

Mosquitto refuses anonymous clients when ``mqtt_auth`` is on; every Nengtan client logs in
through :func:`nengtan.mqttauth.client.login_for` (one place, so a new client cannot forget).
See ``docs/security-field.md``.
"""

from nengtan.mqttauth.accounts import (
    ADAPTER,
    ALERTS,
    LOADGEN,
    OPS,
    Account,
    gateway_account,
    park_accounts,
    system_accounts,
)
from nengtan.mqttauth.client import Login, apply_login, login_for

__all__ = [
    "ADAPTER",
    "ALERTS",
    "LOADGEN",
    "OPS",
    "Account",
    "Login",
    "apply_login",
    "gateway_account",
    "login_for",
    "park_accounts",
    "system_accounts",
]
