"""YAML configuration validated by pydantic models, every error reported with its path."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from familiar.errors import ConfigError

T = TypeVar("T", bound=BaseModel)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen; the docstring
    under each field is its documentation (``docs/configuration.md`` is generated from it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def parse_tcp_uri(uri: str) -> tuple[str, int]:
    """``tcp://host:port`` -> ``(host, port)``; raises ValueError with a readable reason."""
    parts = urlsplit(uri)
    if parts.scheme != "tcp":
        raise ValueError(f"expected tcp://host:port, got {uri!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {uri!r}")
    try:
        port = parts.port
    except ValueError as err:
        raise ValueError(f"bad port in {uri!r}") from err
    if port is None:
        raise ValueError(f"no port in {uri!r}")
    return parts.hostname, port


def parse_unix_uri(uri: str) -> str | None:
    """``unix://PATH`` -> ``PATH``; None for any other scheme."""
    if not uri.startswith("unix://"):
        return None
    path = uri.removeprefix("unix://")
    if not path:
        raise ValueError(f"no socket path in {uri!r}")
    if "\0" in path:
        raise ValueError(f"NUL in the socket path of {uri!r}")
    return path


def check_uri(value: str) -> str:
    """A Wyoming address: ``tcp://host:port`` or ``unix://PATH`` (a local socket file)."""
    if parse_unix_uri(value) is None:
        try:
            parse_tcp_uri(value)
        except ValueError as err:
            raise ValueError(f"{err} (or unix://PATH)") from None
    return value


_check_uri = check_uri


TcpUri = Annotated[str, Field(description="tcp://host:port")]


PRIVATE_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
)
"""Loopback, private and link-local networks: who may connect unless configured otherwise."""

EVERYONE = ("0.0.0.0/0", "::/0")


def check_networks(value: list[str]) -> list[str]:
    """Every entry a network (CIDR) or a single address; all bad entries reported at once."""
    if not value:
        raise ValueError(
            "empty: nobody could connect; leave it out for loopback and private networks, "
            'or allow everyone with ["0.0.0.0/0", "::/0"]'
        )
    bad = []
    for index, net in enumerate(value):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError as err:
            bad.append(f"[{index}] {net!r}: {err}")
        except TypeError:
            bad.append(f"[{index}] {net!r}: not a network")
    if bad:
        raise ValueError("not a network (CIDR): " + "; ".join(bad))
    return value


class ListenConfig(Section):
    """Where a Wyoming server listens and who may talk to it."""

    uri: str = "tcp://0.0.0.0:10300"
    """Listen address: ``tcp://host:port`` (port 0 picks a free port) or ``unix://PATH`` for
    peers on this machine (the socket file's permissions decide who may connect; no
    zeroconf)."""

    allow: list[str] = Field(default_factory=lambda: list(PRIVATE_NETWORKS))
    """Client networks allowed to connect (CIDR). The default is loopback and the private and
    link-local networks; ``["0.0.0.0/0", "::/0"]`` allows everyone (see docs/security.md)."""

    max_data_bytes: int = Field(default=1 << 20, ge=1024)
    """Largest JSON data block a peer may send."""

    max_payload_bytes: int = Field(default=8 << 20, ge=4096)
    """Largest binary payload (audio) a peer may send in one frame."""

    max_text_chars: int = Field(default=4000, ge=100)
    """Longest text in one event (text to speak, a transcript)."""

    write_timeout: float = Field(default=10.0, gt=0)
    """Seconds a peer may take to accept what we send before it is dropped."""

    idle_timeout: float = Field(default=120.0, gt=0)
    """Seconds a connection may stay silent (no frame at all) before it is closed. Home
    Assistant pings the satellites it drives every 2 s and opens a connection per request to
    the hub, so it never comes near this."""

    max_connections: int = Field(default=256, ge=1)
    """Connections served at once; when full, the longest-idle connection makes room for a new
    one (or, when every connection is busy, the new one is refused)."""

    max_connections_per_address: int = Field(default=64, ge=1)
    """Connections one client address may hold at once (same policy when full)."""

    send_buffer_bytes: int = Field(default=128 * 1024, ge=16 * 1024)
    """Kernel send buffer per connection. Small on purpose: a client that stops reading
    blocks our writes after a few seconds of audio instead of after megabytes, so no more
    speech is made for it (back-pressure) and the write timeout can fire."""

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return _check_uri(value)

    @field_validator("allow")
    @classmethod
    def _allow(cls, value: list[str]) -> list[str]:
        return check_networks(value)

    @property
    def socket_path(self) -> str | None:
        """The socket file of a ``unix://`` address (None for TCP)."""
        return parse_unix_uri(self.uri)

    @property
    def host(self) -> str:
        """TCP host ("" for a unix socket)."""
        return "" if self.socket_path else parse_tcp_uri(self.uri)[0]

    @property
    def port(self) -> int:
        """TCP port (0 for a unix socket)."""
        return 0 if self.socket_path else parse_tcp_uri(self.uri)[1]


class ZeroconfConfig(Section):
    """mDNS advertisement of the Wyoming server (Home Assistant and hubs discover it)."""

    enabled: bool = True
    """Advertise as ``<name>._wyoming._tcp.local.``."""

    name: str | None = None
    """Service name; defaults to the hub/satellite name."""

    host: str | None = None
    """Address to advertise; defaults to this machine's LAN address."""


class LoggingConfig(Section):
    """What the process logs (transcripts and answers only at DEBUG)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level written to the log."""


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def validation_problems(
    err: ValidationError, lines: dict[tuple[int | str, ...], int] | None = None
) -> list[str]:
    """``path: message`` per error, ``line N: path: message`` where the YAML line is known."""
    problems = []
    for item in err.errors():
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        line = _line_of(loc, lines or {})
        where = f"line {line}: " if line else ""
        problems.append(f"{where}{_location(loc)}: {message}")
    return problems


def _line_of(loc: tuple[int | str, ...], lines: dict[tuple[int | str, ...], int]) -> int | None:
    """The line of the deepest part of ``loc`` that the file has (a missing key: its parent)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def yaml_lines(text: str) -> dict[tuple[int | str, ...], int]:
    """Key path -> 1-based line, for every key and list item of a YAML document."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[int | str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[int | str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    child = (*path, str(key.value))
                    lines[child] = key.start_mark.line + 1
                    walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if root is not None:
        walk(root, ())
    return lines


def default_config_path(kind: str) -> Path | None:
    """``config/<kind>.yaml`` in the working directory, where a checkout keeps its examples."""
    path = Path("config") / f"{kind}.yaml"
    return path if path.exists() else None


def read_text(path: Path) -> str:
    """A configuration file's text; one clear line when it cannot be read or is not UTF-8."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(source, [f"cannot read: {err.strerror or err}"]) from err
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            source, [f"line {line}: not UTF-8 text (byte 0x{raw[err.start]:02x}); save it as UTF-8"]
        ) from err


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; an empty file is an empty mapping."""
    source = str(path)
    text = read_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}: "
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(source, [f"{where}invalid YAML: {problem}"]) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(source, [f"(top level): expected a mapping, got {type(data).__name__}"])
    return data


def load_config(model: type[T], path: Path | None, overrides: dict[str, Any] | None = None) -> T:
    """Load and validate ``path`` (or the defaults when None) into ``model``."""
    data: dict[str, Any] = read_yaml(path) if path is not None else {}
    if overrides:
        data = _merge(data, overrides)
    source = str(path) if path is not None else "defaults"
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = yaml_lines(read_text(path)) if path is not None else None
        raise ConfigError(source, validation_problems(err, lines)) from err


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
