"""MQTT for the hub and the satellites: Home Assistant device discovery, state, events, commands.

Each hub and satellite is one Home Assistant device, announced by MQTT *device discovery*
(``<discovery_prefix>/device/<object_id>/config``, one retained payload with ``dev``, ``o`` and
``cmps``). Topics live under ``<base_topic>/<device_id>/`` and are documented in ``docs/mqtt.md``;
they are a public surface (Node-RED flows depend on them), so they never change meaning.

Layers, each testable alone:
- pure: config, topic layout, command parsing (:func:`parse_command`), rendering of device updates
  (:func:`render_update`), discovery payloads, :class:`Backoff`, :class:`Outbox`;
- :class:`MqttLink`: one connection kept alive (capped jittered exponential backoff), last will,
  discovery and retained state re-sent on every connect and when Home Assistant announces itself
  (``online`` on ``<discovery_prefix>/status``), a bounded outbox, incoming messages handed to a
  callback;
- :func:`read_retained` and :func:`forget_device`: short-lived connections for one-off jobs.

The hub and satellite adapters (``hub/mqtt.py``, ``satellite/mqtt.py``) build on these.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import re
import secrets
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import aiomqtt
from pydantic import Field, field_validator, model_validator

from familiar import __version__
from familiar.backoff import Backoff
from familiar.config import Section
from familiar.errors import FamiliarError
from familiar.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

ORIGIN_NAME = "familiar"
MANUFACTURER = "Familiar"

#: What a satellite can be doing; the ``state`` sensor's options.
VOICE_STATES = ("idle", "listening", "thinking", "speaking", "muted", "error")

#: Command names accepted on ``<base>/<device>/<name>/set``.
SATELLITE_COMMANDS = ("announce", "ask", "muted", "volume", "listen")

#: Longest text accepted by ``announce`` and ``ask``.
MAX_TEXT_CHARS = 1000
#: Anything bigger is refused before decoding.
MAX_COMMAND_BYTES = 4 * MAX_TEXT_CHARS + 64
#: Home Assistant keeps at most 255 characters in an entity state.
HA_MAX_STATE_CHARS = 255

_TOPIC_ID = re.compile(r"[^a-zA-Z0-9_-]+")


class MqttError(FamiliarError):
    """The broker could not be reached, refused us, or dropped the connection."""

    code = "mqtt-unavailable"


class CommandRejected(FamiliarError):
    """An incoming command was malformed; it is logged and ignored."""

    code = "mqtt-command-rejected"


# --------------------------------------------------------------------------- configuration


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

    reconnect_max: float = Field(default=30.0, gt=0, le=3600)
    """...up to this many seconds."""

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
            lines = self.password_file.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise MqttError(
                f"cannot read mqtt.password_file {self.password_file}: {err.strerror or err}",
                code="mqtt-config",
            ) from err
        return lines[0] if lines else ""

    def tls_params(self) -> aiomqtt.TLSParameters | None:
        if self.tls is None:
            return None
        return aiomqtt.TLSParameters(
            ca_certs=str(self.tls.ca) if self.tls.ca else None,
            certfile=str(self.tls.cert) if self.tls.cert else None,
            keyfile=str(self.tls.key) if self.tls.key else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )


# --------------------------------------------------------------------------- topics


def device_slug(name: str) -> str:
    """A topic-safe id from a display name: ``Kitchen Pi`` -> ``kitchen_pi``."""
    slug = _TOPIC_ID.sub("_", name.strip().lower()).strip("_")
    if not slug:
        raise FamiliarError(f"cannot make an MQTT id from {name!r}", code="mqtt-config")
    return slug


HUB_DEVICE_ID = "hub"


def satellite_device_id(name: str) -> str:
    """The device id of a satellite: its name as a slug (``hub`` is the hub's)."""
    slug = device_slug(name)
    if slug == HUB_DEVICE_ID:
        raise FamiliarError("a satellite may not be called 'hub' on MQTT", code="mqtt-config")
    return slug


@dataclass(frozen=True)
class Topics:
    """Every topic of one device. The layout is documented in docs/mqtt.md."""

    base: str
    device: str
    discovery_prefix: str = "homeassistant"

    @classmethod
    def of(cls, config: MqttConfig, device_id: str) -> Topics:
        return cls(config.base_topic, device_id, config.discovery_prefix)

    def _t(self, leaf: str) -> str:
        return f"{self.base}/{self.device}/{leaf}"

    @property
    def root(self) -> str:
        return f"{self.base}/{self.device}"

    @property
    def availability(self) -> str:
        return self._t("availability")

    @property
    def state(self) -> str:
        return self._t("state")

    @property
    def transcript(self) -> str:
        return self._t("transcript")

    @property
    def answer(self) -> str:
        return self._t("answer")

    @property
    def wake(self) -> str:
        return self._t("wake")

    @property
    def muted(self) -> str:
        return self._t("muted")

    @property
    def volume(self) -> str:
        return self._t("volume")

    @property
    def health(self) -> str:
        return self._t("health")

    @property
    def satellites(self) -> str:
        return self._t("satellites")

    def command(self, name: str) -> str:
        return self._t(f"{name}/set")

    @property
    def commands(self) -> str:
        """Filter matching every command topic of this device."""
        return self._t("+/set")

    @property
    def announce_all(self) -> str:
        """Hub-level announce: every satellite speaks it."""
        return f"{self.base}/announce"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    @property
    def object_id(self) -> str:
        """The device's discovery id: ``<base>_<device>``, topic-safe."""
        return _TOPIC_ID.sub("_", f"{self.base}_{self.device}")

    @property
    def discovery(self) -> str:
        return f"{self.discovery_prefix}/device/{self.object_id}/config"

    def unique_id(self, component: str) -> str:
        return f"{self.object_id}_{component}"

    def retained(self) -> list[str]:
        """Every retained topic this device may own (what ``forget`` clears)."""
        return [
            self.discovery,
            self.availability,
            self.state,
            self.muted,
            self.volume,
            self.health,
            self.satellites,
        ]


# --------------------------------------------------------------------------- commands


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


# --------------------------------------------------------------------------- device updates


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


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class DeviceInfo:
    """How a device shows in Home Assistant."""

    id: str
    """Topic-safe id (``hub`` or the satellite's slug)."""

    name: str
    """Display name."""

    model: str
    """``Familiar hub`` or ``Familiar satellite``."""

    sw_version: str = __version__


def _device_block(topics: Topics, device: DeviceInfo) -> dict[str, Any]:
    return {
        "ids": [topics.object_id],
        "name": device.name,
        "mf": MANUFACTURER,
        "mdl": device.model,
        "sw": device.sw_version,
    }


def _envelope(
    topics: Topics, device: DeviceInfo, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        "dev": _device_block(topics, device),
        "o": {"name": ORIGIN_NAME, "sw": __version__},
        "avty_t": topics.availability,
        "qos": 1,
        "cmps": components,
    }


def _text_sensor(topics: Topics, key: str, name: str, topic: str, icon: str) -> dict[str, Any]:
    return {
        "p": "sensor",
        "name": name,
        "uniq_id": topics.unique_id(key),
        "stat_t": topic,
        # Home Assistant keeps 255 characters of state; the full text stays on the topic.
        "val_tpl": "{{ value[:" + str(HA_MAX_STATE_CHARS) + "] }}",
        "ic": icon,
    }


def satellite_discovery(config: MqttConfig, device: DeviceInfo) -> dict[str, Any]:
    """The device discovery payload of one satellite."""
    topics = Topics.of(config, device.id)
    components: dict[str, dict[str, Any]] = {
        "state": {
            "p": "sensor",
            "name": "State",
            "uniq_id": topics.unique_id("state"),
            "stat_t": topics.state,
            "dev_cla": "enum",
            "ops": list(VOICE_STATES),
            "ic": "mdi:account-voice",
        },
    }
    if config.publish_transcript:
        components["transcript"] = _text_sensor(
            topics, "transcript", "Last transcript", topics.transcript, "mdi:text-short"
        )
    if config.publish_answer:
        components["answer"] = _text_sensor(
            topics, "answer", "Last answer", topics.answer, "mdi:comment-quote"
        )
    components.update(
        {
            "wake": {
                "p": "event",
                "name": "Wake word",
                "uniq_id": topics.unique_id("wake"),
                "stat_t": topics.wake,
                "evt_typ": ["detected"],
                "ic": "mdi:ear-hearing",
            },
            "muted": {
                "p": "switch",
                "name": "Mute",
                "uniq_id": topics.unique_id("muted"),
                "stat_t": topics.muted,
                "cmd_t": topics.command("muted"),
                "pl_on": "ON",
                "pl_off": "OFF",
                "ic": "mdi:microphone-off",
            },
            "volume": {
                "p": "number",
                "name": "Volume",
                "uniq_id": topics.unique_id("volume"),
                "stat_t": topics.volume,
                "cmd_t": topics.command("volume"),
                "min": 0,
                "max": 100,
                "step": 1,
                "unit_of_meas": "%",
                "mode": "slider",
                "ic": "mdi:volume-high",
            },
            "listen": {
                "p": "button",
                "name": "Start listening",
                "uniq_id": topics.unique_id("listen"),
                "cmd_t": topics.command("listen"),
                "pl_prs": "PRESS",
                "ic": "mdi:microphone",
            },
            "announce": {
                "p": "text",
                "name": "Announce",
                "uniq_id": topics.unique_id("announce"),
                "cmd_t": topics.command("announce"),
                "max": HA_MAX_STATE_CHARS,
                "ic": "mdi:bullhorn",
            },
            "ask": {
                "p": "text",
                "name": "Ask",
                "uniq_id": topics.unique_id("ask"),
                "cmd_t": topics.command("ask"),
                "max": HA_MAX_STATE_CHARS,
                "ic": "mdi:chat-question",
            },
        }
    )
    return _envelope(topics, device, components)


#: Hub health sensors: key in the ``health`` JSON -> (name, icon, numeric).
HUB_HEALTH_SENSORS: dict[str, tuple[str, str, bool]] = {
    "asr": ("Speech to text", "mdi:text-recognition", False),
    "tts": ("Text to speech", "mdi:account-voice", False),
    "brain": ("Brain", "mdi:brain", False),
    "persona_chunks": ("Persona store size", "mdi:database", True),
    "satellites": ("Satellites connected", "mdi:speaker-wireless", True),
}


def hub_discovery(config: MqttConfig, device: DeviceInfo) -> dict[str, Any]:
    """The device discovery payload of the hub."""
    topics = Topics.of(config, device.id)
    components: dict[str, dict[str, Any]] = {}
    for key, (name, icon, numeric) in HUB_HEALTH_SENSORS.items():
        component: dict[str, Any] = {
            "p": "sensor",
            "name": name,
            "uniq_id": topics.unique_id(key),
            "stat_t": topics.health,
            "val_tpl": "{{ value_json." + key + " }}",
            "ent_cat": "diagnostic",
            "ic": icon,
        }
        if numeric:
            component["stat_cla"] = "measurement"
        components[key] = component
    components["announce"] = {
        "p": "text",
        "name": "Announce everywhere",
        "uniq_id": topics.unique_id("announce"),
        "cmd_t": topics.announce_all,
        "max": HA_MAX_STATE_CHARS,
        "ic": "mdi:bullhorn",
    }
    return _envelope(topics, device, components)


def forget_messages(topics: Topics) -> list[Outgoing]:
    """Empty retained payloads that remove the device from Home Assistant and the broker."""
    return [Outgoing(topic, b"", retain=True) for topic in topics.retained()]


# --------------------------------------------------------------------------- backoff, outbox


class Outbox:
    """Bounded queue of outgoing messages.

    A retained (state) message replaces a pending one on the same topic: only the latest state
    is worth sending. When full, the oldest state is dropped first (it is re-sent from the
    snapshot on the next connect anyway), else the oldest event.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self.dropped = 0
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[Outgoing]:
        return list(self._items)

    def put(self, message: Outgoing) -> None:
        if message.retain:
            for index, old in enumerate(self._items):
                if old.retain and old.topic == message.topic:
                    del self._items[index]
                    break
        if len(self._items) >= self.maxsize:
            self._drop_one()
        self._items.append(message)
        self._ready.set()

    def _drop_one(self) -> None:
        self.dropped += 1
        for index, old in enumerate(self._items):
            if old.retain:
                del self._items[index]
                return
        self._items.popleft()

    def drop_retained(self) -> None:
        """Forget pending state (a full snapshot is about to be sent)."""
        self._items = deque(m for m in self._items if not m.retain)
        if not self._items:
            self._ready.clear()

    def get_nowait(self) -> Outgoing | None:
        if not self._items:
            self._ready.clear()
            return None
        message = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return message

    async def get(self) -> Outgoing:
        while True:
            message = self.get_nowait()
            if message is not None:
                return message
            await self._ready.wait()

    def push_front(self, message: Outgoing) -> None:
        """Put back a message whose publish failed (bounded like :meth:`put`)."""
        if len(self._items) >= self.maxsize:
            if message.retain:
                return  # the snapshot re-sends state
            self._drop_one()
        self._items.appendleft(message)
        self._ready.set()


# --------------------------------------------------------------------------- the link

#: Called on the receive loop for every message on a subscribed topic: (topic, payload, retain).
#: It must not block: parse, then hand the work to a queue.
MessageHandler = Callable[[str, bytes, bool], None]


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode("utf-8")


def _make_client(
    config: MqttConfig, client_id: str, will: aiomqtt.Will | None = None
) -> aiomqtt.Client:
    tls = config.tls_params()
    return aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.read_password(),
        identifier=client_id,
        will=will,
        keepalive=config.keepalive,
        timeout=config.timeout,
        tls_params=tls,
        tls_insecure=config.tls.insecure if config.tls is not None and tls is not None else None,
        logger=logging.getLogger("familiar.mqtt.paho"),
        max_queued_incoming_messages=1000,
    )


class MqttLink:
    """One device's connection to the broker, kept alive while the context is open.

    Entering does not wait for the broker (a hub starts while the broker is down);
    :attr:`connected` is set while a session is up. On every connect: subscribe, publish
    ``online``, the discovery payload and every retained state (the snapshot), then drain the
    outbox. The last will publishes ``offline`` (retained) if the process dies; a clean exit
    publishes it too.
    """

    def __init__(
        self,
        config: MqttConfig,
        topics: Topics,
        discovery: dict[str, Any] | None,
        *,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.topics = topics
        self._discovery = discovery
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._rng = rng or random.Random()
        self._client_id = config.client_id or _TOPIC_ID.sub("-", f"{topics.base}-{topics.device}")
        self.outbox = Outbox(config.queue_size)
        self._snapshot: dict[str, Outgoing] = {}
        self.connected = asyncio.Event()
        self.connects = 0
        """How many sessions have started (tests and health use it)."""
        self.announcements = 0
        """How many times discovery was sent."""
        self._client: aiomqtt.Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._reannounce: asyncio.Task[None] | None = None
        self._closing = False

    async def __aenter__(self) -> Self:
        self._closing = False
        self._runner = asyncio.create_task(self._run(), name=f"mqtt[{self.topics.device}]")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        client = self._client
        # Whenever the broker accepted us, even mid-announce (``online`` may be out already):
        # a clean disconnect drops the last will, so ``offline`` must be said here.
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(min(2.0, self.config.timeout)):
                    await client.publish(self.topics.availability, b"offline", qos=1, retain=True)
        if self._runner is not None:
            await cancel_and_wait([self._runner])
            self._runner = None

    # -- what adapters call

    def publish(self, message: Outgoing) -> None:
        """Queue a message; retained ones also become part of the snapshot sent on connect."""
        if message.retain:
            if message.payload:
                self._snapshot[message.topic] = message
            else:  # an empty retained payload deletes: nothing to re-send
                self._snapshot.pop(message.topic, None)
        self.outbox.put(message)

    def set_discovery(self, discovery: dict[str, Any] | None) -> None:
        """Replace the discovery payload and re-announce when connected."""
        self._discovery = discovery
        if self._discovery is not None:
            self.publish(Outgoing(self.topics.discovery, _json(self._discovery), retain=True))

    async def wait_connected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    # -- the connection loop

    async def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_min, self.config.reconnect_max, self._rng)
        while True:
            was_up = False
            try:
                client = _make_client(
                    self.config,
                    self._client_id,
                    aiomqtt.Will(self.topics.availability, b"offline", qos=1, retain=True),
                )
                async with client:
                    was_up = True
                    backoff.reset()
                    self._client = client
                    await self._session(client)
            except aiomqtt.MqttError as err:
                level = logging.WARNING if was_up or backoff.failures == 0 else logging.DEBUG
                _LOGGER.log(
                    level,
                    "%s: MQTT broker %s:%s %s: %s",
                    self.topics.device,
                    self.config.host,
                    self.config.port,
                    "connection lost" if was_up else "unreachable",
                    err,
                )
            except MqttError as err:  # our own config problem (password file): retry too
                _LOGGER.error("%s: %s", self.topics.device, err)
            except Exception:
                # A bug must not silently end MQTT for the life of the process.
                _LOGGER.exception("%s: MQTT session failed", self.topics.device)
            finally:
                self._client = None
                self.connected.clear()
                await self._cancel_reannounce()
            if self._closing:
                # A disconnect error raised while being cancelled may have replaced the
                # CancelledError: never loop on after the owner asked us to stop.
                return
            delay = backoff.next_delay()
            _LOGGER.debug("%s: reconnecting in %.2f s", self.topics.device, delay)
            await asyncio.sleep(delay)

    async def _session(self, client: aiomqtt.Client) -> None:
        filters = [*self._subscriptions, self.topics.ha_status]
        await client.subscribe([(topic, 1) for topic in filters])
        self.outbox.drop_retained()
        await self._announce(client)
        self.connects += 1
        self.connected.set()
        _LOGGER.info(
            "%s: connected to MQTT broker %s:%s",
            self.topics.device,
            self.config.host,
            self.config.port,
        )
        sender = asyncio.create_task(self._send_loop(client), name="mqtt-send")
        receiver = asyncio.create_task(self._receive_loop(client), name="mqtt-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait([sender, receiver])
        for task in done:
            err = task.exception()
            if err is not None:
                raise err
        raise aiomqtt.MqttError("session ended")

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Online, discovery, then the state snapshot: everything Home Assistant needs."""
        await client.publish(self.topics.availability, b"online", qos=1, retain=True)
        if self._discovery is not None:
            await client.publish(self.topics.discovery, _json(self._discovery), qos=1, retain=True)
            self.announcements += 1
        for topic in list(self._snapshot):
            # Read each value just before publishing it: aiomqtt hands the message to paho
            # before its first await, so a newer value sent meanwhile is never overtaken.
            message = self._snapshot.get(topic)
            if message is not None:
                await client.publish(topic, message.payload, qos=message.qos, retain=True)

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        while True:
            message = await self.outbox.get()
            try:
                await client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain
                )
            except aiomqtt.MqttError:
                self.outbox.push_front(message)
                raise

    async def _receive_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = message.topic.value
            payload = _payload_bytes(message.payload)
            if topic == self.topics.ha_status:
                if payload.strip() == b"online":
                    self._schedule_reannounce(client)
                continue
            if self._on_message is None:
                continue
            try:
                self._on_message(topic, payload, bool(message.retain))
            except Exception:
                _LOGGER.exception("%s: handler failed on %s", self.topics.device, topic)

    def _schedule_reannounce(self, client: aiomqtt.Client) -> None:
        if self._reannounce is not None:
            self._reannounce.cancel()  # the newest birth message wins
        delay = self._rng.uniform(0, self.config.birth_delay_max)
        _LOGGER.info(
            "%s: Home Assistant is online; re-announcing in %.1f s", self.topics.device, delay
        )
        self._reannounce = asyncio.create_task(
            self._reannounce_after(client, delay), name="mqtt-reannounce"
        )

    async def _reannounce_after(self, client: aiomqtt.Client, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self._announce(client)
        except aiomqtt.MqttError as err:
            _LOGGER.debug("%s: re-announce failed: %s", self.topics.device, err)

    async def _cancel_reannounce(self) -> None:
        task, self._reannounce = self._reannounce, None
        if task is not None:
            await cancel_and_wait([task])


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- one-off jobs


@contextlib.asynccontextmanager
async def _short_client(config: MqttConfig, purpose: str) -> AsyncIterator[aiomqtt.Client]:
    client_id = _TOPIC_ID.sub("-", f"{config.base_topic}-{purpose}-{secrets.token_hex(4)}")
    client = _make_client(config, client_id)
    try:
        async with client:
            yield client
    except aiomqtt.MqttError as err:
        raise MqttError(f"MQTT broker {config.host}:{config.port}: {err}") from err


async def read_retained(
    config: MqttConfig, topics: Iterable[str], timeout: float = 5.0
) -> dict[str, bytes]:
    """The retained payloads of ``topics`` (absent when none), read on a short connection.

    Retained messages come right after the subscription is acknowledged; a marker we publish
    to ourselves afterwards tells when they are all in, so no fixed wait is needed.
    """
    wanted = list(topics)
    marker = f"{config.base_topic}/_sync/{secrets.token_hex(8)}"
    found: dict[str, bytes] = {}
    async with _short_client(config, "read") as client:
        async with asyncio.timeout(timeout):
            await client.subscribe([(topic, 1) for topic in wanted])
            await client.subscribe(marker, qos=1)
            await client.publish(marker, b"1", qos=1)
            async for message in client.messages:
                topic = message.topic.value
                if topic == marker:
                    break
                payload = _payload_bytes(message.payload)
                if message.retain and payload:
                    found[topic] = payload
    return found


async def publish_once(config: MqttConfig, messages: Iterable[Outgoing]) -> None:
    """Publish ``messages`` on a short connection (QoS 1, so they reached the broker)."""
    async with _short_client(config, "pub") as client, asyncio.timeout(config.timeout * 2):
        for message in messages:
            await client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain
            )


async def forget_device(config: MqttConfig, device_id: str) -> list[str]:
    """Remove a device from Home Assistant: empty retained discovery and state. Returns the
    topics cleared."""
    topics = Topics.of(config, device_id)
    messages = forget_messages(topics)
    await publish_once(config, messages)
    _LOGGER.info("forgot MQTT device %s (%s)", device_id, topics.discovery)
    return [m.topic for m in messages]
