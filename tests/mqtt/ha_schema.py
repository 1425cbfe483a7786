"""Home Assistant's rules for an MQTT *device discovery* payload, restated for tests.

Read from home-assistant/core ``components/mqtt``: ``schemas.py`` (DEVICE_DISCOVERY_SCHEMA:
required ``device`` with at least one identifier, ``components`` each with a supported
``platform`` and a ``unique_id``, ``origin`` with a ``name``; the root accepts only the shared
availability/topic/qos/encoding options), ``abbreviations.py`` (the short keys) and
``discovery.py`` (topic ``<prefix>/device/<object_id>/config``, object id ``[a-zA-Z0-9_-]+``).
Per-platform requirements come from each platform's schema (sensor/event need a state topic,
switch/number/button/text a command topic, event its event types, text ``max`` <= 255).
"""

from __future__ import annotations

import re
from typing import Any

# The subset of ABBREVIATIONS / DEVICE_ABBREVIATIONS / ORIGIN_ABBREVIATIONS we may use.
ABBREVIATIONS = {
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "avty_tpl": "availability_template",
    "cmd_t": "command_topic",
    "cmd_tpl": "command_template",
    "cmps": "components",
    "dev": "device",
    "dev_cla": "device_class",
    "e": "encoding",
    "en": "enabled_by_default",
    "ent_cat": "entity_category",
    "evt_typ": "event_types",
    "ic": "icon",
    "json_attr_t": "json_attributes_topic",
    "o": "origin",
    "ops": "options",
    "p": "platform",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off",
    "pl_on": "payload_on",
    "pl_prs": "payload_press",
    "stat_cla": "state_class",
    "stat_t": "state_topic",
    "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS = {
    "cns": "connections",
    "cu": "configuration_url",
    "hw": "hw_version",
    "ids": "identifiers",
    "mdl": "model",
    "mf": "manufacturer",
    "name": "name",
    "sa": "suggested_area",
    "sn": "serial_number",
    "sw": "sw_version",
}
ORIGIN_ABBREVIATIONS = {"name": "name", "sw": "sw_version", "url": "support_url"}

ROOT_KEYS = {
    "device",
    "components",
    "origin",
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "state_topic",
    "command_topic",
    "message_expiry_interval",
    "qos",
    "encoding",
}
DEVICE_KEYS = set(DEVICE_ABBREVIATIONS.values()) | {"model_id", "via_device"}
ORIGIN_KEYS = set(ORIGIN_ABBREVIATIONS.values())
# Options each platform we use accepts (beyond the common entity options).
COMMON_KEYS = {
    "platform",
    "name",
    "unique_id",
    "icon",
    "entity_category",
    "enabled_by_default",
    "availability_topic",
    "json_attributes_topic",
    "qos",
}
PLATFORM_KEYS = {
    "sensor": {
        "state_topic",
        "value_template",
        "device_class",
        "state_class",
        "options",
        "unit_of_measurement",
    },
    "event": {"state_topic", "value_template", "device_class", "event_types"},
    "switch": {"state_topic", "command_topic", "payload_on", "payload_off", "value_template"},
    "number": {
        "state_topic",
        "command_topic",
        "min",
        "max",
        "step",
        "mode",
        "unit_of_measurement",
        "value_template",
    },
    "button": {"command_topic", "payload_press"},
    "text": {"command_topic", "state_topic", "min", "max", "mode", "pattern"},
}
REQUIRED = {
    "sensor": {"state_topic"},
    "event": {"state_topic", "event_types"},
    "switch": {"command_topic"},
    "number": {"command_topic"},
    "button": {"command_topic"},
    "text": {"command_topic"},
}
SUPPORTED_COMPONENTS = {
    "alarm_control_panel",
    "binary_sensor",
    "button",
    "camera",
    "climate",
    "cover",
    "device_automation",
    "device_tracker",
    "event",
    "fan",
    "humidifier",
    "image",
    "lawn_mower",
    "light",
    "lock",
    "notify",
    "number",
    "scene",
    "select",
    "sensor",
    "siren",
    "switch",
    "tag",
    "text",
    "update",
    "vacuum",
    "valve",
    "water_heater",
}
TOPIC = re.compile(r"^(?P<prefix>.+)/device/(?P<object_id>[a-zA-Z0-9_-]+)/config$")
WILDCARD = re.compile(r"[+#]")


def _expand(payload: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in payload.items():
        full = table.get(key, key)
        assert full not in out, f"{key!r} given twice (abbreviated and in full)"
        out[full] = value
    return out


def check_device_discovery(topic: str, payload: dict[str, Any]) -> list[str]:
    """Every rule the payload breaks (empty when Home Assistant would accept it)."""
    problems: list[str] = []
    if not TOPIC.match(topic):
        problems.append(f"bad discovery topic {topic!r}")
    root = _expand(payload, ABBREVIATIONS)
    for key in sorted(set(root) - ROOT_KEYS):
        problems.append(f"root: unknown key {key!r} (HA rejects the whole payload)")
    device = _expand(root.get("device") or {}, DEVICE_ABBREVIATIONS)
    if not device:
        problems.append("device is required")
    if not (device.get("identifiers") or device.get("connections")):
        problems.append("device needs identifiers or connections")
    for key in sorted(set(device) - DEVICE_KEYS):
        problems.append(f"device: unknown key {key!r}")
    origin = _expand(root.get("origin") or {}, ORIGIN_ABBREVIATIONS)
    if not isinstance(origin.get("name"), str) or not origin["name"]:
        problems.append("origin.name is required")
    for key in sorted(set(origin) - ORIGIN_KEYS):
        problems.append(f"origin: unknown key {key!r}")
    for key in ("availability_topic", "state_topic", "command_topic"):
        if key in root and (not isinstance(root[key], str) or WILDCARD.search(root[key])):
            problems.append(f"root.{key} must be a topic without wildcards")
    if "qos" in root and root["qos"] not in (0, 1, 2):
        problems.append("qos must be 0, 1 or 2")
    components = root.get("components")
    if not isinstance(components, dict) or not components:
        problems.append("components must be a non-empty mapping")
        return problems
    unique_ids: set[str] = set()
    for cid, raw in components.items():
        problems += _check_component(f"components.{cid}", raw, root, unique_ids)
    return problems


def _check_component(
    where: str, raw: dict[str, Any], root: dict[str, Any], unique_ids: set[str]
) -> list[str]:
    problems: list[str] = []
    comp = _expand(raw, ABBREVIATIONS)
    platform = comp.get("platform")
    if platform not in SUPPORTED_COMPONENTS:
        return [f"{where}: platform {platform!r} is not supported"]
    if not isinstance(comp.get("unique_id"), str) or not comp["unique_id"]:
        problems.append(f"{where}: unique_id is required in device discovery")
    elif comp["unique_id"] in unique_ids:
        problems.append(f"{where}: unique_id {comp['unique_id']!r} repeated")
    else:
        unique_ids.add(comp["unique_id"])
    allowed = COMMON_KEYS | PLATFORM_KEYS.get(platform, set())
    for key in sorted(set(comp) - allowed):
        problems.append(f"{where}: unknown key {key!r} for {platform}")
    inherited = {k for k in ("state_topic", "command_topic") if k in root}
    for key in sorted(REQUIRED.get(platform, set()) - set(comp) - inherited):
        problems.append(f"{where}: {platform} requires {key}")
    for key, value in comp.items():
        if key.endswith("_topic") and (not isinstance(value, str) or WILDCARD.search(value)):
            problems.append(f"{where}: {key} must be a topic without wildcards")
    if platform == "event":
        types = comp.get("event_types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            problems.append(f"{where}: event_types must be a list of strings")
    if platform == "sensor" and comp.get("device_class") == "enum":
        if not comp.get("options"):
            problems.append(f"{where}: an enum sensor needs options")
        if "state_class" in comp or "unit_of_measurement" in comp:
            problems.append(f"{where}: an enum sensor takes no state_class or unit")
    if platform == "text" and not 0 <= comp.get("max", 255) <= 255:
        problems.append(f"{where}: text max must be <= 255")
    if platform == "number" and comp.get("min", 1) >= comp.get("max", 100):
        problems.append(f"{where}: number min must be < max")
    if comp.get("entity_category") not in (None, "config", "diagnostic"):
        problems.append(f"{where}: bad entity_category")
    return problems
