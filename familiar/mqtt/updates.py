"""Device updates (state, transcript, answer, wake, mute, volume) and the messages they become."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from familiar.mqtt.config import MqttConfig
from familiar.mqtt.topics import VOICE_STATES, Topics

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class StateChanged:
    """The satellite's activity changed (one of :data:`VOICE_STATES`)."""

    state: str


@dataclass(frozen=True)
class TranscriptHeard:
    """What the user said (after speech-to-text)."""

    text: str


@dataclass(frozen=True)
class AnswerSpoken:
    """What the persona answered."""

    text: str


@dataclass(frozen=True)
class WakeDetected:
    """The wake word was heard."""

    wake_word: str


@dataclass(frozen=True)
class MutedChanged:
    muted: bool


@dataclass(frozen=True)
class VolumeChanged:
    """Speaker volume, 0.0 to 1.0."""

    volume: float


DeviceUpdate = (
    StateChanged | TranscriptHeard | AnswerSpoken | WakeDetected | MutedChanged | VolumeChanged
)


class VoiceDevice(Protocol):
    """What the satellite adapter needs from a satellite.

    ``updates()`` yields the current state first (state, muted, volume), then every change,
    until the caller stops iterating. The command methods start the action; they may return
    before the audio has finished, and they raise on failure (the adapter logs it).
    """

    def updates(self) -> AsyncIterator[DeviceUpdate]: ...

    async def announce(self, text: str) -> None: ...

    async def ask(self, text: str) -> None: ...

    async def set_muted(self, muted: bool) -> None: ...

    async def set_volume(self, volume: float) -> None: ...

    async def start_listening(self) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """One message to publish. Retained messages are state; the others are events."""

    topic: str
    payload: bytes
    retain: bool
    qos: int = 1


class Publisher(Protocol):
    """Publishes one message now and waits until the broker has it (QoS 1).

    The hub's :class:`~familiar.mqtt.link.MqttLink` is one (its one connection, with TLS and
    credentials); :class:`~familiar.mqtt.jobs.OneShotPublisher` is one for command-line tools.
    """

    async def send(self, message: Outgoing, timeout: float) -> None:
        """Raises :class:`~familiar.mqtt.config.MqttError` when the broker does not take it
        within ``timeout`` seconds."""
        ...


def render_update(topics: Topics, config: MqttConfig, update: DeviceUpdate) -> Outgoing | None:
    """The message for one device update, or None when config keeps it private/it is invalid."""
    match update:
        case StateChanged(state=state):
            if state not in VOICE_STATES:
                _LOGGER.warning("%s: not a known state %r, not published", topics.device, state)
                return None
            return Outgoing(topics.state, state.encode(), retain=True)
        case TranscriptHeard(text=text):
            if not config.publish_transcript:
                return None
            return Outgoing(topics.transcript, text.encode("utf-8"), retain=False)
        case AnswerSpoken(text=text):
            if not config.publish_answer:
                return None
            return Outgoing(topics.answer, text.encode("utf-8"), retain=False)
        case WakeDetected(wake_word=wake_word):
            body = {"event_type": "detected", "wake_word": wake_word}
            return Outgoing(topics.wake, json.dumps(body).encode(), retain=False)
        case MutedChanged(muted=muted):
            return Outgoing(topics.muted, b"ON" if muted else b"OFF", retain=True)
        case VolumeChanged(volume=volume):
            percent = round(min(1.0, max(0.0, volume)) * 100)
            return Outgoing(topics.volume, str(percent).encode(), retain=True)
    return None  # pragma: no cover - exhaustive match
