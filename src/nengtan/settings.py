"""Typed settings, read from the environment (``NENGTAN_*``) and an optional YAML file.

Precedence, highest first: explicit arguments, environment variables, the YAML file named by
``NENGTAN_CONFIG`` (or ``./nengtan.yaml`` when present), the defaults below. A service given by
URL (``kafka_bootstrap``, ``pg_dsn``, ``mqtt_url``) is used as it is and never started locally.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from nengtan.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("nengtan.yaml")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nengtan"


class Settings(BaseSettings):
    """Everything a Nengtan process needs to find its services and state."""

    model_config = SettingsConfigDict(env_prefix="NENGTAN_", extra="forbid")

    state_dir: Path = Field(
        Path(".nengtan"), description="data dirs, logs and pids of the local stack"
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="downloads kept outside the repository (the Kafka broker's jars)",
    )

    kafka_bootstrap: str | None = Field(None, description="external Kafka; start none locally")
    kafka_port: int = Field(9092, ge=1, le=65535)
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    kafka_version: str = Field("3.9.1", description="Apache Kafka broker version (Maven Central)")
    kafka_partitions: int = Field(4, ge=1, description="partitions of the topics Nengtan creates")
    kafka_heap_mb: int = Field(512, ge=128)

    pg_dsn: SecretStr | None = Field(None, description="external PostgreSQL; start none locally")
    pg_port: int = Field(5433, ge=1, le=65535)
    pg_bin_dir: Path | None = Field(None, description="directory holding initdb/pg_ctl/postgres")
    pg_database: str = "nengtan"

    mqtt_url: str | None = Field(None, description="external MQTT broker, mqtt://host:port")
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_auth: bool = Field(
        False,
        description="local Mosquitto refuses anonymous clients; accounts and ACLs from "
        "the park registry (docs/security-field.md)",
    )
    mqtt_username: str | None = Field(None, description="one fixed MQTT login for every client")
    mqtt_password: SecretStr | None = None
    mqtt_tls_port: int | None = Field(
        None, ge=1, le=65535, description="local Mosquitto's TLS listener (`nengtan pki` certs)"
    )
    opcua_security: bool = Field(
        False,
        description="OPC UA Basic256Sha256 SignAndEncrypt with the `nengtan pki` certificates",
    )
    mqtt_secrets_file: Path | None = Field(
        None, description="MQTT account passwords (JSON); default {state_dir}/secrets/mqtt.json"
    )

    @field_validator("state_dir", "cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))

    # -- derived -------------------------------------------------------------------------------
    @property
    def kafka_external(self) -> bool:
        return self.kafka_bootstrap is not None

    @property
    def bootstrap(self) -> str:
        """The Kafka bootstrap servers clients should use."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def pg_external(self) -> bool:
        return self.pg_dsn is not None

    @property
    def dsn(self) -> str:
        """The PostgreSQL connection string clients should use (contains secrets: never log)."""
        if self.pg_dsn is not None:
            return self.pg_dsn.get_secret_value()
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{self.pg_database}"

    @property
    def mqtt_external(self) -> bool:
        return self.mqtt_url is not None

    @property
    def mqtt_host_port(self) -> tuple[str, int]:
        """Host and port of the MQTT broker clients should use."""
        if self.mqtt_url is None:
            return "127.0.0.1", self.mqtt_port
        return parse_mqtt_url(self.mqtt_url)


def parse_mqtt_url(url: str) -> tuple[str, int]:
    """``mqtt://host:port`` (or ``host:port``) to a (host, port) pair."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.rsplit("@", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host:
        return rest, 1883
    try:
        return host, int(port)
    except ValueError as exc:
        raise ConfigError(f"NENGTAN_MQTT_URL {url!r}: port {port!r} is not a number") from exc


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML settings file; a missing default file is fine, a missing named one is not."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        named = os.environ.get("NENGTAN_CONFIG")
        self.path = Path(named) if named else DEFAULT_CONFIG_FILE
        self.required = named is not None

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path.exists():
            if self.required:
                raise ConfigError(f"NENGTAN_CONFIG names {self.path}, which does not exist")
            return {}
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path}: expected a mapping of setting names to values")
        return data


def load_settings(**overrides: Any) -> Settings:
    """Settings from all sources, with validation errors turned into one clear ``ConfigError``."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"bad settings: {problems}") from exc
