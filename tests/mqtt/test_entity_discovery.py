"""Per-entity discovery (``discovery_mode: entity``) for Home Assistant before 2024.11 (pure)."""

from __future__ import annotations

import json

from familiar.mqtt import DeviceInfo, MqttConfig, Topics, hub_discovery, satellite_discovery
from familiar.mqtt.discovery import discovery_messages, forget_messages


def test_one_message_per_entity_each_with_the_device() -> None:
    config = MqttConfig(discovery_mode="entity")
    info = DeviceInfo(id="kitchen", name="Kitchen", model="Familiar satellite")
    topics = Topics.of(config, "kitchen")
    payload = satellite_discovery(config, info)
    messages = discovery_messages(topics, payload, "entity")
    assert len(messages) == len(payload["cmps"]) > 5
    assert all(m.retain for m in messages)
    by_topic = {m.topic: json.loads(m.payload) for m in messages}
    for key, component in payload["cmps"].items():
        topic = f"homeassistant/{component['p']}/{topics.object_id}/{key}/config"
        body = by_topic[topic]
        assert "p" not in body and "cmps" not in body
        assert body["uniq_id"] == component["uniq_id"]
        assert body["dev"] == payload["dev"]  # the same device for every entity
        assert body["avty_t"] == topics.availability
    assert topics.discovery not in by_topic


def test_device_mode_is_one_message_and_forget_clears_both() -> None:
    config = MqttConfig()
    info = DeviceInfo(id="hub", name="Hub", model="Familiar hub")
    topics = Topics.of(config, "hub")
    payload = hub_discovery(config, info)
    [message] = discovery_messages(topics, payload, "device")
    assert message.topic == topics.discovery
    assert json.loads(message.payload) == payload
    cleared = {m.topic for m in forget_messages(topics, payload)}
    assert topics.discovery in cleared
    assert {m.topic for m in discovery_messages(topics, payload, "entity")} <= cleared
