"""The hub's MQTT device on a real Home Assistant with a real Mosquitto: per-entity discovery
where HA is older than 2024.11 (device discovery shows nothing there), device discovery after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from familiar_hub.mqtt import HubHealth, HubMqtt
from familiar_testkit.broker import Mosquitto, require_mosquitto
from tests.real_ha.conftest import RealHa

pytestmark = pytest.mark.real_ha


@pytest.fixture(scope="module")
def broker(real_ha: RealHa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    require_mosquitto()
    mosquitto = Mosquitto(Path(tmp_path_factory.mktemp("mqtt")))
    mosquitto.start()
    try:
        flows = "/api/config/config_entries/flow"
        status, flow = real_ha.rest("POST", flows, {"handler": "mqtt"})
        assert status == 200, (status, flow)
        given = {"broker": "127.0.0.1", "port": mosquitto.port}
        for _ in range(4):  # 2026.11 asks more (protocol, other settings): defaults are fine
            if not isinstance(flow, dict) or flow.get("type") != "form":
                break
            answers = _fill(flow.get("data_schema") or [], given)
            status, flow = real_ha.rest("POST", f"{flows}/{flow['flow_id']}", answers)
        assert isinstance(flow, dict) and flow.get("type") == "create_entry", (status, flow)
        yield mosquitto
    finally:
        mosquitto.stop()


def _fill(schema: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """A form's answers: ours where we have them, the form's defaults elsewhere."""
    out: dict[str, Any] = {}
    for field in schema:
        name = field.get("name")
        if name in given:
            out[name] = given[name]
        elif field.get("type") == "expandable":
            out[name] = _fill(field.get("schema") or [], given)
        elif "default" in field:
            out[name] = field["default"]
        elif field.get("required"):
            out[name] = _first_choice(field)
    return out


def _first_choice(field: dict[str, Any]) -> Any:
    """A required field without a default: off / the first option."""
    selector = field.get("selector") or {}
    if field.get("type") == "boolean" or "boolean" in selector:
        return False
    options = (selector.get("select") or {}).get("options") or field.get("options") or []
    if options:
        first = options[0]
        return first.get("value") if isinstance(first, dict) else first
    return None


def health() -> HubHealth:
    return HubHealth(asr="ok", tts="ok", brain="ok", persona_chunks=42, satellites=0)


async def test_hub_device_appears_in_home_assistant(real_ha: RealHa, broker: Mosquitto) -> None:
    mode = "entity" if real_ha.major_minor < (2024, 11) else "device"
    config = broker.config(discovery_mode=mode)
    async with HubMqtt(config, "Test Hub", health) as mqtt:
        await mqtt.link.wait_connected(10)
        mqtt.refresh()
        async with asyncio.timeout(60):
            while True:  # HA's entities appear when it has read the discovery
                entries = await real_ha.ws("config/entity_registry/list")
                ours = {
                    e["entity_id"]: e
                    for e in entries
                    if e.get("platform") == "mqtt" and "familiar_hub" in str(e.get("unique_id"))
                }
                store = [i for i, e in ours.items() if e["unique_id"].endswith("persona_chunks")]
                if store and real_ha.state(store[0]) == "42":
                    break
                await asyncio.sleep(0.5)
    assert len(ours) >= 5, sorted(ours)
    devices = await real_ha.ws("config/device_registry/list")
    device_ids = {e["device_id"] for e in ours.values()}
    assert len(device_ids) == 1  # one device, whichever way it was discovered
    [device] = [d for d in devices if d["id"] in device_ids]
    assert device["name"] == "Test Hub"
