"""The handle program exactly as Home Assistant drives it: a new TCP connection per turn,
``transcript{text, context{conversation_id}}``, read until ``intent``/``handled``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.info import Describe, Info

from familiar.client import WyomingClient
from familiar_hub.app import RunningHub, running_hub
from familiar_hub.brain.speaking import DECLINES
from familiar_hub.config import HubConfig
from tests.brain.fakes import entity_config


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    config = HubConfig.model_validate(
        {
            "endpoint": {"uri": "tcp://127.0.0.1:0"},
            "zeroconf": {"enabled": False},
            "brain": {
                "n_ctx": 1024,
                "n_threads": 2,
                # No persona: the hub still starts, and declines questions.
                "persona_config": None,
                "home": {"entities": entity_config()},
            },
        }
    )
    async with running_hub(config, ["brain"]) as running:
        yield running


async def ha_turn(uri: str, text: str, conversation_id: str) -> list[Event]:
    """One turn as homeassistant/components/wyoming/conversation.py performs it."""
    events = []
    async with WyomingClient(uri) as client:
        await client.send(
            Transcript(text, context={"conversation_id": conversation_id}, language="en").event()
        )
        while True:
            event = await client.read(timeout=60)
            assert event is not None, "connection closed before handled"
            events.append(event)
            if event.type in ("handled", "not-handled"):
                return events


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def intent_slots(event: Event) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in event.data.get("entities", [])}


async def test_describe_advertises_the_handle_program(hub: RunningHub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(Describe().event())
        info = Info.from_event(await client.expect(Info, timeout=10))
    assert len(info.handle) == 1
    program = info.handle[0]
    assert program.installed and program.models[0].languages == ["en"]
    assert program.supports_handled_streaming is True
    assert program.supports_home_control is True  # intents go back to Home Assistant


async def test_home_command_then_follow_up(hub: RunningHub) -> None:
    first = await ha_turn(hub.uri, "turn on the kitchen light", "conv-1")
    assert types(first) == [
        "handled-start",
        "handled-chunk",
        "handled-stop",
        "intent",
        "handled",
    ]
    intent = first[3]
    assert intent.data["name"] == "HassTurnOn"
    assert intent_slots(intent) == {"name": "Kitchen Light"}
    assert intent.data["text"] == "Okay, the Kitchen Light is on now."
    assert first[-1].data["context"]["conversation_id"] == "conv-1"

    # A new connection, the same conversation: "it" is the kitchen light.
    second = await ha_turn(hub.uri, "turn it off", "conv-1")
    intent = next(e for e in second if e.type == "intent")
    assert intent.data["name"] == "HassTurnOff"
    assert intent_slots(intent) == {"name": "Kitchen Light"}

    # In another conversation "it" means nothing.
    other = await ha_turn(hub.uri, "turn it off", "conv-2")
    assert "intent" not in types(other)


async def test_question_without_a_persona_store_is_declined(hub: RunningHub) -> None:
    events = await ha_turn(hub.uri, "When is Tom's birthday dinner?", "conv-3")
    assert types(events)[0] == "handled-start" and types(events)[-1] == "handled"
    assert any(core in events[-1].data["text"] for core in DECLINES)


async def test_unknown_device_is_refused(hub: RunningHub) -> None:
    events = await ha_turn(hub.uri, "turn on the dishwasher", "conv-4")
    assert "intent" not in types(events)
    assert "dishwasher" in events[-1].data["text"]
