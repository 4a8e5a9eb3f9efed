"""The four ways an alert leaves the console. Each sender raises ``SendError`` on failure with a
short ``category`` ("connection refused", "timeout", "HTTP 500", ...), the only part of an
error a tenant sees; the full text goes to the server log. Targets are checked again here, at
the moment of sending (``targets``): a webhook is resolved, checked and connected to by the
checked address. Retries and the ledger are the worker's business."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from typing import Any

import httpx

from console.delivery.match import Subscription
from console.delivery.policy import Policy
from console.delivery.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from console.delivery.targets import (
    Resolver,
    TargetRefused,
    check_email,
    check_webhook,
    system_resolver,
)
from console.settings import ConsoleSettings
from ingest.contract import dumps


class SendError(Exception):
    """A send failed; ``retry`` says whether trying again may help, ``category`` is what a
    tenant may be shown (the message, with the target's own error text, is for the log)."""

    def __init__(self, message: str, retry: bool = True, category: str | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self._category = category

    @property
    def category(self) -> str:
        # the cause is attached by ``raise ... from`` after __init__, so it is read here
        return self._category or category_of(self.__cause__) or "delivery error"


def category_of(exc: BaseException | None) -> str | None:
    """A short, tenant-safe name for an exception raised while sending (the first specific
    one along its chain of causes: httpx wraps httpcore, which wraps the socket error)."""
    if exc is None:
        return None
    if isinstance(exc, SendError):
        return exc.category
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        found = _specific(seen)
        if found is not None:
            return found
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.HTTPError | OSError):
        return "connection failed"
    return "internal error"


def _specific(exc: BaseException) -> str | None:
    if isinstance(exc, TargetRefused):
        return "target refused"
    if isinstance(exc, httpx.TimeoutException | TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ssl.SSLError):
        return "TLS error"
    if isinstance(exc, socket.gaierror):
        return "name not resolved"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient refused"
    if isinstance(exc, smtplib.SMTPException):
        return "SMTP error"
    return None


def mqtt_topic(enterprise: str, severity: str) -> str:
    """``nt/v1/alerts/{enterprise}/{severity}`` (park-wide alerts use the park id)."""
    return f"nt/v1/alerts/{enterprise}/{severity}"


def payload(alert: dict[str, Any], enterprise: str | None, sub: Subscription) -> dict[str, Any]:
    """What every channel sends: the contract record plus its enterprise and subscription."""
    return {**alert, "enterprise": enterprise, "subscription_id": sub.id}


class Senders:
    """Holds the long-lived clients (HTTP, MQTT, Kafka producer) of one worker."""

    def __init__(
        self,
        settings: ConsoleSettings,
        bootstrap: str,
        mqtt_host_port: tuple[str, int],
        park_id: str,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.mqtt_host_port = mqtt_host_port
        self.park_id = park_id
        self.resolve = resolve
        self.policy = Policy(park_topic=settings.kafka_alerts_topic)
        # no proxies from the environment: the checked address must be the one connected to
        self._http = httpx.Client(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        )
        self._mqtt: Any = None
        self._producer: Any = None

    def close(self) -> None:
        self._http.close()
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
        if self._producer is not None:
            self._producer.close(timeout=5)

    def send(
        self, sub: Subscription, alert: dict[str, Any], enterprise: str | None, delivery_key: str
    ) -> None:
        body = payload(alert, enterprise, sub)
        if sub.channel == "webhook":
            self._webhook(sub, body, delivery_key)
        elif sub.channel == "mqtt":
            if sub.enterprise is not None and enterprise != sub.enterprise:
                # never reached through ``matches``; kept so no path publishes across tenants
                raise SendError(
                    "mqtt: alert of another enterprise", retry=False, category="invalid"
                )
            self._mqtt_publish(enterprise or self.park_id, str(alert["severity"]), body)
        elif sub.channel == "email":
            self._email(sub, body)
        elif sub.channel == "kafka":
            self._kafka(sub, enterprise or self.park_id, body)
        else:
            raise SendError(f"unknown channel {sub.channel!r}", retry=False, category="invalid")

    def _webhook(self, sub: Subscription, body: dict[str, Any], delivery_key: str) -> None:
        raw = dumps(body)
        ts_ms = time.time_ns() // 1_000_000
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts_ms),
            SIGNATURE_HEADER: sign(sub.secret or "", ts_ms, raw),
            DELIVERY_HEADER: delivery_key,
        }
        try:
            target = check_webhook(sub.target, self.policy.allows, self.resolve)
        except TargetRefused as exc:
            raise SendError(f"webhook: {exc}", retry=False, category="target refused") from exc
        headers["Host"] = target.host_header
        extensions = {} if target.sni is None else {"sni_hostname": target.sni}
        try:
            resp = self._http.post(
                target.connect_url, content=raw, headers=headers, extensions=extensions
            )
        except httpx.HTTPError as exc:
            raise SendError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 300:
            # 4xx other than 408/429 will not get better by retrying
            retry = resp.status_code >= 500 or resp.status_code in (408, 429)
            raise SendError(
                f"webhook: HTTP {resp.status_code}",
                retry=retry,
                category=f"HTTP {resp.status_code}",
            )

    def _mqtt_publish(self, enterprise: str, severity: str, body: dict[str, Any]) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        if self._mqtt is None:
            from nengtan.mqttauth import ALERTS, apply_login, login_for
            from nengtan.settings import load_settings

            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="nengtan-console")
            apply_login(client, login_for(load_settings(), ALERTS))
            host, port = self.mqtt_host_port
            try:
                client.connect(host, port)
            except OSError as exc:
                raise SendError(
                    f"mqtt: cannot connect to {host}:{port}: {exc}", category="MQTT unavailable"
                ) from exc
            client.loop_start()
            self._mqtt = client
        info = self._mqtt.publish(mqtt_topic(enterprise, severity), dumps(body), qos=1)
        try:
            info.wait_for_publish(timeout=10)
        except (RuntimeError, ValueError) as exc:
            raise SendError(f"mqtt: {exc}", category="MQTT error") from exc
        if not info.is_published():
            raise SendError("mqtt: not acknowledged within 10 s", category="timeout")

    def _email(self, sub: Subscription, body: dict[str, Any]) -> None:
        s = self.settings
        try:
            to = check_email(sub.target)
        except TargetRefused as exc:
            raise SendError(f"email: {exc}", retry=False, category="target refused") from exc
        msg = EmailMessage()
        msg["From"] = s.smtp_from
        msg["To"] = to
        msg["Subject"] = (
            f"[nengtan] {body['severity']} {body['state']}: {body['rule_id']} {body['scope']}"
        )
        msg.set_content(json.dumps(body, indent=2, ensure_ascii=False))
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.webhook_timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user and s.smtp_password is not None:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"email: {type(exc).__name__}: {exc}") from exc

    def _kafka(self, sub: Subscription, key: str, body: dict[str, Any]) -> None:
        try:
            topic = self.policy.kafka_topic(sub.target, sub.enterprise)
        except TargetRefused as exc:
            raise SendError(f"kafka: {exc}", retry=False, category="target refused") from exc
        if self._producer is None:
            from kafka import KafkaProducer  # type: ignore[import-untyped]

            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", client_id="nengtan-console-delivery"
            )
        try:
            self._producer.send(topic, key=key.encode(), value=dumps(body)).get(timeout=15)
        except Exception as exc:  # kafka-python raises its own error tree
            raise SendError(f"kafka: {type(exc).__name__}: {exc}", category="Kafka error") from exc
