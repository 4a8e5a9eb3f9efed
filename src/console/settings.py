"""Console settings (env ``NENGTAN_CONSOLE_*``): where to listen, the park file, SMTP and the
delivery retry policy. Secrets are ``SecretStr`` so they never appear in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nengtan.errors import ConfigError


class ConsoleSettings(BaseSettings):
    """What the console process needs beyond ``nengtan.settings.Settings``."""

    model_config = SettingsConfigDict(env_prefix="NENGTAN_CONSOLE_", extra="forbid")

    host: str = Field("127.0.0.1", description="listen address (loopback only by default)")
    port: int = Field(8480, ge=0, le=65535)
    park_file: Path | None = Field(None, description="park model to load into the registry")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "nengtan@localhost"

    kafka_alerts_topic: str = Field(
        "nt.alerts.out.v1", description="default topic of Kafka subscriptions (downstream systems)"
    )
    delivery_group: str = Field("nengtan-console-delivery", description="Kafka consumer group")
    webhook_timeout_s: float = Field(5.0, gt=0)
    webhook_attempts: int = Field(5, ge=1, description="tries before a delivery is failed")
    backoff_initial_s: float = Field(0.5, ge=0, description="first retry delay, doubled each time")
    backoff_max_s: float = Field(30.0, ge=0)

    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="largest request body taken (413 above): reading batches, CSV uploads",
    )
    max_submission_rows: int = Field(
        10_000, ge=1, description="most rows of one supplier submission, JSON or CSV (413 above)"
    )

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                f"{value!r}: the console binds to loopback only (put a proxy in front)"
            )
        return value


def load_console_settings(**overrides: object) -> ConsoleSettings:
    """Settings with validation errors turned into one ``ConfigError``."""
    try:
        return ConsoleSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"NENGTAN_CONSOLE_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"bad console settings: {problems}") from exc
