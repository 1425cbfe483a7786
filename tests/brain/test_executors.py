"""Home command execution over real sockets: a stand-in Home Assistant REST server (aiohttp)
and a real MQTT broker (mosquitto) on 127.0.0.1, reached through the hub's one connection."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp import web

from familiar.errors import ConfigError, HomeControlFailed
from familiar_hub.brain.backends.home_assistant import HomeAssistantRest, entities_from_states
from familiar_hub.brain.backends.mqtt import MqttCommands, command_topic
from familiar_hub.brain.brain import open_brain
from familiar_hub.brain.home import ServiceCall
from familiar_hub.config import BrainConfig, HomeAssistantApiConfig, MqttCommandConfig
from familiar_hub.mqtt import HubMqtt
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
            "persona_config": None,
            "home": {
                "home_assistant": {"url": url, "token": TOKEN},
                "ha_caller_intents": False,
                "policy": {"cover": "allow"},  # no "are you sure?" for this test
            },
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


async def test_mqtt_command_goes_out_on_the_hubs_one_connection(
    make_broker: Callable[[str], Mosquitto], tmp_path: Path
) -> None:
    """Credentials from password_file, one connection for the hub's device and its commands."""
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed")
    passwd = tmp_path / "passwd"
    await asyncio.to_thread(
        subprocess.run,
        ["mosquitto_passwd", "-c", "-b", str(passwd), "familiar", "s3cret"],
        check=True,
        capture_output=True,
    )
    passwd.chmod(0o600)
    broker = make_broker(f"allow_anonymous false\npassword_file {passwd}\nlog_type all")
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret\n")
    mqtt = broker.config(username="familiar", password_file=str(secret))
    config = BrainConfig.model_validate(
        {
            "persona_config": None,
            "home": {
                "mqtt": {"topic_prefix": "familiar"},
                "entities": [{"entity_id": "light.kitchen", "name": "Kitchen Light"}],
                "ha_caller_intents": False,
            },
        }
    )
    call = ServiceCall("light", "turn_on", "light.kitchen", {"brightness_pct": 40})
    topic = command_topic("familiar", call)
    assert topic == "familiar/command/light/kitchen/turn_on"
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, username="familiar", password="s3cret"
    ) as listener:
        await listener.subscribe("familiar/command/#", qos=1)
        before = _connections(broker)
        async with HubMqtt(mqtt, "Familiar", lambda: None) as hub:
            async with open_brain(config, llm=ScriptedLlm([]), mqtt=hub.link) as brain:
                assert brain.executor is not None and brain.executor.name == "mqtt"
                await brain.executor.call(call)
                result = await brain.respond("turn off the kitchen light").text()
            assert result.error_code is None, result
            assert _connections(broker) - before == 1  # the hub's link, nothing else
        async with asyncio.timeout(10):
            messages = [await anext(aiter(listener.messages)) for _ in range(2)]
    assert [str(m.topic) for m in messages] == [topic, "familiar/command/light/kitchen/turn_off"]
    assert isinstance(messages[0].payload, bytes)
    assert json.loads(messages[0].payload) == {
        "entity_id": "light.kitchen",
        "service": "turn_on",
        "data": {"brightness_pct": 40},
    }
    assert not messages[0].retain


def _connections(broker: Mosquitto) -> int:
    """Clients the broker accepted so far (its log says "New client connected")."""
    return broker.log.read_text().count("New client connected")


async def test_mqtt_command_fails_cleanly_when_the_broker_is_unreachable(tmp_path: Path) -> None:
    unreachable = Mosquitto(tmp_path).config(timeout=1)  # never started
    async with HubMqtt(unreachable, "Familiar", lambda: None) as hub:
        commands = MqttCommands(MqttCommandConfig(timeout=0.5), hub.link)
        with pytest.raises(HomeControlFailed, match=r"did not take it within 0\.5 s"):
            await commands.call(ServiceCall("light", "turn_on", "light.kitchen"))


async def test_mqtt_commands_without_a_connection_are_a_config_error() -> None:
    config = BrainConfig.model_validate({"persona_config": None, "home": {"mqtt": {}}})
    with pytest.raises(ConfigError, match="top-level mqtt"):
        async with open_brain(config, llm=ScriptedLlm([])):
            pytest.fail("opened a brain whose commands could go nowhere")
