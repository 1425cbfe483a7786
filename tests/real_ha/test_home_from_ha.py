"""The hub against a real Home Assistant: the home from its registries (areas, aliases, Assist
exposure), followed by subscription, and speech-to-text through HA's own /api/stt."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from familiar.audio import PcmFormat, wav_bytes
from familiar.errors import HomeControlFailed
from familiar_hub.brain.brain import Brain, open_brain
from familiar_hub.brain.home import ServiceCall
from familiar_hub.config import BrainConfig
from familiar_testkit.processes import hub_process
from familiar_testkit.speech import speak, words
from tests.brain.fakes import ScriptedLlm
from tests.real_ha.conftest import RealHa

pytestmark = pytest.mark.real_ha

WAIT = 30.0


@pytest.fixture(scope="module")
def home(real_ha: RealHa) -> RealHa:
    """Areas (one with an alias), entity areas and an entity alias, made through HA's API."""

    async def area(name: str, aliases: list[str]) -> dict[str, Any]:
        # onboarding makes Living Room, Kitchen and Bedroom already
        existing = await real_ha.ws("config/area_registry/list")
        found = next((a for a in existing if a["name"] == name), None)
        if found is None:
            return dict(await real_ha.ws("config/area_registry/create", name=name,
                                         aliases=aliases))  # fmt: skip
        return dict(await real_ha.ws("config/area_registry/update", area_id=found["area_id"],
                                     aliases=aliases))  # fmt: skip

    async def arrange() -> None:
        kitchen = await area("Kitchen", ["cookhouse"])
        hall = await area("Hall", [])
        for entity_id, room in (
            ("light.kitchen_ceiling", kitchen),
            ("light.kitchen_counter", kitchen),
            ("light.hall_light", hall),
        ):
            await real_ha.ws(
                "config/entity_registry/update", entity_id=entity_id, area_id=room["area_id"]
            )
        await real_ha.ws("config/entity_registry/update", entity_id="light.kitchen_counter",
                         aliases=["worktop lights"])  # fmt: skip

    asyncio.run(arrange())
    return real_ha


@pytest.fixture
async def brain(home: RealHa) -> AsyncIterator[Brain]:
    config = BrainConfig.model_validate(
        {
            "home": {
                "home_assistant": {"url": home.url, "token": home.token, "settle_seconds": 0.1},
                "ha_caller_intents": False,
                "llm_fallback": False,
            }
        }
    )
    async with open_brain(config, llm=ScriptedLlm([])) as opened:
        yield opened


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait for the hub to follow a change made in HA (an event crosses a real socket)."""
    async with asyncio.timeout(WAIT):
        while not check():  # noqa: ASYNC110 (the state is in another process)
            await asyncio.sleep(0.05)
    assert check(), what


async def say(brain: Brain, text: str) -> str:
    result = await brain.respond(text).text()
    return result.text


def lights(home: RealHa) -> dict[str, str]:
    return {e: home.state(e) for e in ("light.kitchen_ceiling", "light.kitchen_counter",
                                         "light.hall_light")}  # fmt: skip


async def test_areas_and_aliases_come_from_the_registries(home: RealHa, brain: Brain) -> None:
    by_id = {e.entity_id: e for e in brain.entities}
    assert set(by_id) == {"light.kitchen_ceiling", "light.kitchen_counter", "light.hall_light"}
    assert by_id["light.kitchen_ceiling"].area == "Kitchen"
    assert by_id["light.kitchen_counter"].aliases == ("worktop lights",)
    assert by_id["light.hall_light"].area == "Hall"
    assert brain.area_aliases["Kitchen"] == ("cookhouse",)
    # input_booleans are not exposed to Assist by default: not ours to control
    assert not any(e.domain == "input_boolean" for e in brain.entities)

    await say(brain, "turn on the lights in the kitchen")
    await until(lambda: lights(home)["light.kitchen_counter"] == "on", "kitchen lights on")
    assert lights(home) == {"light.kitchen_ceiling": "on", "light.kitchen_counter": "on",
                            "light.hall_light": "off"}  # fmt: skip
    await say(brain, "turn off the cookhouse lights")  # the area's alias
    await until(lambda: lights(home)["light.kitchen_ceiling"] == "off", "kitchen lights off")
    assert lights(home)["light.kitchen_counter"] == "off"


async def test_a_new_alias_is_followed_without_a_restart(home: RealHa, brain: Brain) -> None:
    await home.ws("config/entity_registry/update", entity_id="light.hall_light",
                  aliases=["reading lamp"])  # fmt: skip
    await until(lambda: any("reading lamp" in e.aliases for e in brain.entities), "alias followed")
    await say(brain, "turn on the reading lamp")
    await until(lambda: home.state("light.hall_light") == "on", "hall on")
    await say(brain, "turn off the reading lamp")
    await until(lambda: home.state("light.hall_light") == "off", "hall off")


async def test_only_exposed_entities_are_controllable(home: RealHa, brain: Brain) -> None:
    await home.ws("homeassistant/expose_entity", assistants=["conversation"],
                  entity_ids=["light.kitchen_counter"], should_expose=False)  # fmt: skip
    try:
        await until(
            lambda: all(e.entity_id != "light.kitchen_counter" for e in brain.entities),
            "exposure followed",
        )
        answer = await say(brain, "turn on the worktop lights")
        assert "don't know" in answer.lower(), answer
        await say(brain, "turn on the lights in the kitchen")
        await until(lambda: home.state("light.kitchen_ceiling") == "on", "ceiling on")
        assert home.state("light.kitchen_counter") == "off"
        with pytest.raises(HomeControlFailed, match="not exposed"):
            assert brain.executor is not None
            await brain.executor.call(ServiceCall("light", "turn_on", "light.kitchen_counter"))
        await say(brain, "turn off the lights in the kitchen")
        await until(lambda: home.state("light.kitchen_ceiling") == "off", "ceiling off")
    finally:
        await home.ws("homeassistant/expose_entity", assistants=["conversation"],
                      entity_ids=["light.kitchen_counter"], should_expose=True)  # fmt: skip


# --- speech to text through HA (the odd chunks and WAV header) -------------------------


@pytest.fixture(scope="module")
def stt_entity(real_ha: RealHa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("hub")
    with hub_process(tmp, {"name": "Test Hub"}, roles=["asr"]) as (uri, _proc):
        host, port = uri.removeprefix("tcp://").split(":")
        flows = "/api/config/config_entries/flow"
        status, flow = real_ha.rest("POST", flows, {"handler": "wyoming"})
        assert status == 200, (status, flow)
        if flow.get("type") == "form":
            step = f"{flows}/{flow['flow_id']}"
            status, flow = real_ha.rest("POST", step, {"host": host, "port": int(port)})
        assert flow.get("type") == "create_entry", flow
        assert flow["title"] == "Test Hub"  # named after the hub, not "familiar-faster-whisper"
        status, states = real_ha.rest("GET", "/api/states")
        stt = [s["entity_id"] for s in states if s["entity_id"].startswith("stt.")]
        assert len(stt) == 1, stt
        yield stt[0]


def post_stt(home: RealHa, entity_id: str, body: bytes, step: int) -> dict[str, Any]:
    """As a client uploads to HA: chunked, so HA forwards the bytes as they come."""
    headers = {
        "Authorization": f"Bearer {home.token}",
        "X-Speech-Content": "format=wav; codec=pcm; sample_rate=16000; bit_rate=16; "
        "channel=1; language=en",
        "Transfer-Encoding": "chunked",
    }
    pieces = (body[i : i + step] for i in range(0, len(body), step))
    request = urllib.request.Request(
        f"{home.url}/api/stt/{entity_id}", data=pieces, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        import json

        result: dict[str, Any] = json.loads(response.read())
        return result


@pytest.mark.models
@pytest.mark.parametrize("step", [1001, 4095])
def test_stt_through_home_assistant(real_ha: RealHa, stt_entity: str, step: int) -> None:
    text = "Turn on the kitchen light."
    upload = wav_bytes(speak(text), PcmFormat(16000))
    result = post_stt(real_ha, stt_entity, upload, step)
    assert result["result"] == "success", result
    assert words(result["text"]) == words(text)
