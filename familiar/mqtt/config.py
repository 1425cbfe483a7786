"""The ``mqtt:`` section: broker, credentials (``password_file``), TLS, topics, reconnects."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

import aiomqtt
from pydantic import Field, field_validator, model_validator

from familiar.config import Section
from familiar.errors import FamiliarError
from familiar.secrets import check_file, check_secret_file, read_secret


class MqttError(FamiliarError):
    """The broker could not be reached, refused us, or dropped the connection."""

    code = "mqtt-unavailable"


class MqttConfigInvalid(MqttError):
    """The ``mqtt:`` settings cannot work (an unreadable password file, a device name that
    makes no MQTT id)."""

    code = "mqtt-config"


def _check_topic_prefix(value: str) -> str:
    if not value or value.startswith("/") or value.endswith("/"):
        raise ValueError("must be non-empty and not start or end with '/'")
    if any(char in value for char in "+#\0"):
        raise ValueError("must not contain '+', '#' or NUL")
    return value


class MqttTlsConfig(Section):
    """TLS to the broker. An empty ``tls: {}`` uses the system's certificate authorities."""

    ca: Path | None = None
    """CA certificate (PEM) that signed the broker's certificate; null uses the system CAs."""

    cert: Path | None = None
    """Client certificate (PEM) when the broker wants one."""

    key: Path | None = None
    """Private key (PEM) of the client certificate."""

    insecure: bool = False
    """Skip the broker host name check (never the signature check). For testing only."""

    @field_validator("ca", "cert")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        return None if value is None else check_file(value, "certificate file")

    @field_validator("key")
    @classmethod
    def _key(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "private key file")

    @model_validator(mode="after")
    def _pair(self) -> MqttTlsConfig:
        if (self.cert is None) != (self.key is None):
            raise ValueError("cert and key go together")
        return self


class MqttConfig(Section):
    """The ``mqtt:`` section of the hub's and each satellite's YAML."""

    host: str = "localhost"
    """Broker host name or address."""

    port: int = Field(default=1883, ge=1, le=65535)
    """Broker port (usually 1883, or 8883 with TLS)."""

    username: str | None = None
    """User name, when the broker wants credentials."""

    password: str | None = None
    """Password; prefer ``password_file`` so the YAML holds no secret."""

    password_file: Path | None = None
    """File whose first line is the password (readable by the service user only)."""

    tls: MqttTlsConfig | None = None
    """TLS settings; null connects in clear text."""

    client_id: str | None = None
    """MQTT client id; defaults to ``<base_topic>-<device id>``."""

    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix (its MQTT integration setting)."""

    discovery_mode: Literal["device", "entity"] = "device"
    """``device``: one retained message per device (``<prefix>/device/<id>/config``; Home
    Assistant 2024.11 and later). ``entity``: one message per entity
    (``<prefix>/<platform>/<id>/<entity>/config``), which every Home Assistant with MQTT
    discovery reads: use it for Home Assistant before 2024.11."""

    base_topic: str = "familiar"
    """Every state and command topic lives under ``<base_topic>/<device id>/``."""

    publish_transcript: bool = True
    """Publish what was heard (``<device>/transcript``); turn off for privacy."""

    publish_answer: bool = True
    """Publish what was answered (``<device>/answer``); turn off for privacy."""

    keepalive: int = Field(default=30, ge=5, le=3600)
    """Seconds between keep-alive pings; the broker sends our last will after 1.5x this."""

    timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds any one broker operation (connect, publish, subscribe) may take."""

    reconnect_min: float = Field(default=0.5, gt=0, le=60)
    """First delay before reconnecting; doubles per failure (with jitter)..."""

    reconnect_max: float = Field(default=4.0, gt=0, le=3600)
    """...up to this many seconds: small, so that a broker that restarts is back in use
    within about 5 s of its return (a refused connection costs the broker nothing)."""

    birth_delay_max: float = Field(default=2.0, ge=0, le=60)
    """When Home Assistant comes online, discovery is re-sent after a random delay up to this."""

    queue_size: int = Field(default=64, ge=4, le=10_000)
    """Outgoing messages kept while the broker is slow or away (oldest state dropped first)."""

    health_interval: float = Field(default=15.0, gt=0, le=3600)
    """Hub only: seconds between two looks at the service health sensors."""

    @field_validator("base_topic", "discovery_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return _check_topic_prefix(value)

    @field_validator("password_file")
    @classmethod
    def _password_file(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "password_file")

    @model_validator(mode="after")
    def _credentials(self) -> MqttConfig:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and not self.username:
            raise ValueError("a password needs a username")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        return self

    def read_password(self) -> str | None:
        if self.password_file is None:
            return self.password
        try:
            return read_secret(None, self.password_file, "mqtt.password_file")
        except ValueError as err:
            raise MqttConfigInvalid(str(err)) from err

    def tls_params(self) -> aiomqtt.TLSParameters | None:
        if self.tls is None:
            return None
        return aiomqtt.TLSParameters(
            ca_certs=str(self.tls.ca) if self.tls.ca else None,
            certfile=str(self.tls.cert) if self.tls.cert else None,
            keyfile=str(self.tls.key) if self.tls.key else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
