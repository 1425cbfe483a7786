"""Incoming commands (``<base>/<device>/<name>/set``): parsed and validated, never trusted."""

from __future__ import annotations

import math
from dataclasses import dataclass

from familiar.errors import FamiliarError
from familiar.mqtt.topics import Topics

#: Longest text accepted by ``announce`` and ``ask``.
MAX_TEXT_CHARS = 1000
#: Anything bigger is refused before decoding.
MAX_COMMAND_BYTES = 4 * MAX_TEXT_CHARS + 64


class CommandRejected(FamiliarError):
    """An incoming command was malformed; it is logged and ignored."""

    code = "mqtt-command-rejected"


@dataclass(frozen=True)
class Announce:
    """Speak ``text`` in the persona's voice."""

    text: str


@dataclass(frozen=True)
class Ask:
    """Speak ``text``, then listen for the answer without the wake word."""

    text: str


@dataclass(frozen=True)
class SetMuted:
    """Mute or unmute the microphone (the satellite stops listening for the wake word)."""

    muted: bool


@dataclass(frozen=True)
class SetVolume:
    """Speaker volume, 0.0 to 1.0."""

    volume: float


@dataclass(frozen=True)
class StartListening:
    """Listen now, as if the wake word had been heard."""


Command = Announce | Ask | SetMuted | SetVolume | StartListening

_ON = {"on", "true", "1", "yes"}
_OFF = {"off", "false", "0", "no"}


def _decode(payload: bytes) -> str:
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandRejected(f"payload too large ({len(payload)} bytes)")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CommandRejected("payload is not UTF-8") from err


def _text(payload: bytes) -> str:
    text = _decode(payload).strip()
    if not text:
        raise CommandRejected("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise CommandRejected(f"text too long ({len(text)} > {MAX_TEXT_CHARS} characters)")
    if "\0" in text:
        raise CommandRejected("text contains NUL")
    return text


def parse_command(topics: Topics, topic: str, payload: bytes) -> Command:
    """Validate one incoming command; raises :class:`CommandRejected` with the reason."""
    if topic == topics.announce_all:
        return Announce(_text(payload))
    prefix = f"{topics.base}/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if len(parts) != 3 or parts[2] != "set":
        raise CommandRejected(f"not a command topic: {topic!r}")
    device, name, _ = parts
    if device != topics.device:
        raise CommandRejected(f"unknown device {device!r}")
    if name == "announce":
        return Announce(_text(payload))
    if name == "ask":
        return Ask(_text(payload))
    if name == "muted":
        value = _decode(payload).strip().lower()
        if value in _ON:
            return SetMuted(True)
        if value in _OFF:
            return SetMuted(False)
        raise CommandRejected(f"muted expects ON or OFF, got {value[:20]!r}")
    if name == "volume":
        raw = _decode(payload).strip()
        try:
            percent = float(raw)
        except ValueError:
            raise CommandRejected(f"volume expects a number 0-100, got {raw[:20]!r}") from None
        if not math.isfinite(percent) or not 0 <= percent <= 100:
            raise CommandRejected(f"volume out of range 0-100: {raw[:20]!r}")
        return SetVolume(percent / 100.0)
    if name == "listen":
        _decode(payload)
        return StartListening()
    raise CommandRejected(f"unknown command {name!r}")
