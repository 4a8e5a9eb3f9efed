"""The four ways an alert leaves the console. Each sender raises ``SendError`` on failure;
retries and the ledger are the worker's business."""

from __future__ import annotations

import json
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx

from console.delivery.match import Subscription
from console.delivery.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from console.settings import ConsoleSettings
from ingest.contract import dumps


class SendError(Exception):
    """A send failed; ``retry`` says whether trying again may help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


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
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.mqtt_host_port = mqtt_host_port
        self.park_id = park_id
        self._http = httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)
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
            self._mqtt_publish(enterprise or self.park_id, str(alert["severity"]), body)
        elif sub.channel == "email":
            self._email(sub, body)
        elif sub.channel == "kafka":
            self._kafka(sub, enterprise or self.park_id, body)
        else:
            raise SendError(f"unknown channel {sub.channel!r}", retry=False)

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
            resp = self._http.post(sub.target, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 300:
            # 4xx other than 408/429 will not get better by retrying
            retry = resp.status_code >= 500 or resp.status_code in (408, 429)
            raise SendError(f"webhook: HTTP {resp.status_code}", retry=retry)

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
                raise SendError(f"mqtt: cannot connect to {host}:{port}: {exc}") from exc
            client.loop_start()
            self._mqtt = client
        info = self._mqtt.publish(mqtt_topic(enterprise, severity), dumps(body), qos=1)
        try:
            info.wait_for_publish(timeout=10)
        except (RuntimeError, ValueError) as exc:
            raise SendError(f"mqtt: {exc}") from exc
        if not info.is_published():
            raise SendError("mqtt: not acknowledged within 10 s")

    def _email(self, sub: Subscription, body: dict[str, Any]) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.smtp_from
        msg["To"] = sub.target
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
        if self._producer is None:
            from kafka import KafkaProducer  # type: ignore[import-untyped]

            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", client_id="nengtan-console-delivery"
            )
        try:
            self._producer.send(sub.target, key=key.encode(), value=dumps(body)).get(timeout=15)
        except Exception as exc:  # kafka-python raises its own error tree
            raise SendError(f"kafka: {type(exc).__name__}: {exc}") from exc
