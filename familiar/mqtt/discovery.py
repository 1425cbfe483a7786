"""Home Assistant MQTT device discovery payloads (one retained ``config`` per device)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from familiar import __version__
from familiar.mqtt.config import MqttConfig
from familiar.mqtt.topics import VOICE_STATES, Topics
from familiar.mqtt.updates import Outgoing

ORIGIN_NAME = "familiar"
MANUFACTURER = "Familiar"
#: Home Assistant keeps at most 255 characters in an entity state.
HA_MAX_STATE_CHARS = 255


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


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entity_topic(topics: Topics, platform: str, key: str) -> str:
    """Where one entity's own discovery message goes (``discovery_mode: entity``)."""
    return f"{topics.discovery_prefix}/{platform}/{topics.object_id}/{key}/config"


def discovery_messages(topics: Topics, payload: dict[str, Any], mode: str) -> list[Outgoing]:
    """The retained discovery message(s) of a device payload.

    ``device``: the payload as it is, on the device topic. ``entity``: one message per
    component, each carrying the device block, origin and availability itself (what Home
    Assistant before 2024.11 reads)."""
    if mode != "entity":
        return [Outgoing(topics.discovery, _json(payload), retain=True)]
    shared = {key: value for key, value in payload.items() if key != "cmps"}
    out = []
    for key, component in payload.get("cmps", {}).items():
        body = {k: v for k, v in component.items() if k != "p"}
        out.append(
            Outgoing(
                entity_topic(topics, str(component["p"]), key),
                _json({**shared, **body}),
                retain=True,
            )
        )
    return out


def forget_messages(topics: Topics, payload: dict[str, Any] | None = None) -> list[Outgoing]:
    """Empty retained payloads that remove the device from Home Assistant and the broker
    (with its discovery ``payload``, the per-entity messages too, whichever mode sent them)."""
    extra = [
        entity_topic(topics, str(component["p"]), key)
        for key, component in (payload or {}).get("cmps", {}).items()
    ]
    return [Outgoing(topic, b"", retain=True) for topic in [*topics.retained(), *extra]]
