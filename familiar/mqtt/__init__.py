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

Modules: ``config``, ``topics``, ``commands``, ``updates``, ``discovery``, ``outbox``, ``link``
(the connection), ``jobs`` (short connections for command-line tools). Every public name is
re-exported here. The hub and satellite adapters (``familiar_hub.mqtt``,
``familiar_satellite.mqtt``) build on these.
"""

from __future__ import annotations

from familiar.mqtt.commands import (
    MAX_COMMAND_BYTES,
    MAX_TEXT_CHARS,
    Announce,
    Ask,
    Command,
    CommandRejected,
    SetMuted,
    SetVolume,
    StartListening,
    parse_command,
)
from familiar.mqtt.config import (
    MqttConfig,
    MqttConfigInvalid,
    MqttError,
    MqttTlsConfig,
)
from familiar.mqtt.discovery import (
    HA_MAX_STATE_CHARS,
    MANUFACTURER,
    ORIGIN_NAME,
    DeviceInfo,
    forget_messages,
    hub_discovery,
    satellite_discovery,
)
from familiar.mqtt.jobs import (
    OneShotPublisher,
    forget_device,
    publish_once,
    read_retained,
)
from familiar.mqtt.link import (
    MessageHandler,
    MqttLink,
    json_bytes,
    make_client,
    payload_bytes,
)
from familiar.mqtt.outbox import (
    Outbox,
)
from familiar.mqtt.topics import (
    HUB_DEVICE_ID,
    SATELLITE_COMMANDS,
    TOPIC_UNSAFE,
    VOICE_STATES,
    Topics,
    device_slug,
    satellite_device_id,
)
from familiar.mqtt.updates import (
    AnswerSpoken,
    DeviceUpdate,
    MutedChanged,
    Outgoing,
    Publisher,
    StateChanged,
    TranscriptHeard,
    VoiceDevice,
    VolumeChanged,
    WakeDetected,
    render_update,
)

__all__ = [
    "HA_MAX_STATE_CHARS",
    "HUB_DEVICE_ID",
    "MANUFACTURER",
    "MAX_COMMAND_BYTES",
    "MAX_TEXT_CHARS",
    "ORIGIN_NAME",
    "SATELLITE_COMMANDS",
    "TOPIC_UNSAFE",
    "VOICE_STATES",
    "Announce",
    "AnswerSpoken",
    "Ask",
    "Command",
    "CommandRejected",
    "DeviceInfo",
    "DeviceUpdate",
    "MessageHandler",
    "MqttConfig",
    "MqttConfigInvalid",
    "MqttError",
    "MqttLink",
    "MqttTlsConfig",
    "MutedChanged",
    "OneShotPublisher",
    "Outbox",
    "Outgoing",
    "Publisher",
    "SetMuted",
    "SetVolume",
    "StartListening",
    "StateChanged",
    "Topics",
    "TranscriptHeard",
    "VoiceDevice",
    "VolumeChanged",
    "WakeDetected",
    "device_slug",
    "forget_device",
    "forget_messages",
    "hub_discovery",
    "json_bytes",
    "make_client",
    "parse_command",
    "payload_bytes",
    "publish_once",
    "read_retained",
    "render_update",
    "satellite_device_id",
    "satellite_discovery",
]
