"""Home command execution over real sockets: a stand-in Home Assistant REST server (aiohttp)
and a real MQTT broker (mosquitto) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest
from aiohttp import web

from familiar.errors import HomeControlFailed
from familiar_hub.brain.backends.home_assistant import HomeAssistantRest, entities_from_states
from familiar_hub.brain.backends.mqtt import MqttCommands, command_topic
from familiar_hub.brain.brain import open_brain
from familiar_hub.brain.home import ServiceCall
from familiar_hub.config import BrainConfig, HomeAssistantApiConfig, MqttCommandConfig
from familiar_testkit.broker import Mosquitto
from tests.brain.fakes import ScriptedLlm

TOKEN = "long-lived-token"
STATES = [
    {
        "entity_id": "light.kitchen",
        "state": "off",
        "attributes": {"friendly_name": "Kitchen Light"},
    },
    {
        "entity_id": "cover.garage_door",
        "state": "closed",
        "attributes": {"friendly_name": "Garage"},
    },
    {"entity_id": "sensor.outside", "state": "12", "attributes": {"friendly_name": "Outside"}},
]


@pytest.fixture
async def fake_ha() -> AsyncIterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def authorised(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def states(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.Response(status=401)
        return web.json_response(STATES)

    async def service(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.Response(status=401)
        path = f"{request.match_info['domain']}.{request.match_info['service']}"
        calls.append((path, await request.json()))
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/api/states", states)
    app.router.add_post("/api/services/{domain}/{service}", service)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        await runner.cleanup()


def test_entities_from_states_keeps_controllable_ones() -> None:
    assert [e.entity_id for e in entities_from_states(STATES)] == [
        "light.kitchen",
        "cover.garage_door",
    ]


async def test_home_assistant_rest_end_to_end(
    fake_ha: tuple[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    url, calls = fake_ha
    config = BrainConfig.model_validate(
        {
            "home": {
                "home_assistant": {"url": url, "token": TOKEN},
                "ha_caller_intents": False,
                "policy": {"cover": "allow"},  # no "are you sure?" for this test
            }
        }
    )
    async with open_brain(config, llm=ScriptedLlm([])) as brain:
        assert {e.entity_id for e in brain.entities} == {"light.kitchen", "cover.garage_door"}
        result = await brain.respond("open the garage").text()
    assert result.error_code is None, result
    assert calls == [("cover.open_cover", {"entity_id": "cover.garage_door"})]


async def test_home_assistant_errors_are_reported(
    fake_ha: tuple[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    url, _ = fake_ha
    async with HomeAssistantRest(HomeAssistantApiConfig(url=url, token="wrong")) as api:
        with pytest.raises(HomeControlFailed):
            await api.call(ServiceCall("light", "turn_on", "light.kitchen"))


async def test_mqtt_command_is_published(broker: Mosquitto) -> None:
    call = ServiceCall("light", "turn_on", "light.kitchen", {"brightness_pct": 40})
    topic = command_topic("familiar", call)
    assert topic == "familiar/command/light/kitchen/turn_on"
    async with aiomqtt.Client("127.0.0.1", broker.port) as listener:
        await listener.subscribe("familiar/command/#", qos=1)
        async with MqttCommands(MqttCommandConfig(host="127.0.0.1", port=broker.port)) as mqtt:
            await mqtt.call(call)
        async with asyncio.timeout(10):
            message = await anext(aiter(listener.messages))
    assert str(message.topic) == topic
    assert isinstance(message.payload, bytes)
    assert json.loads(message.payload) == {
        "entity_id": "light.kitchen",
        "service": "turn_on",
        "data": {"brightness_pct": 40},
    }


async def test_mqtt_unreachable_broker_fails_cleanly() -> None:
    config = MqttCommandConfig(host="127.0.0.1", port=1, timeout=2)
    async with MqttCommands(config) as mqtt:
        with pytest.raises(HomeControlFailed):
            await mqtt.call(ServiceCall("light", "turn_on", "light.kitchen"))
