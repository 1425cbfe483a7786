"""Test doubles for unit tests of the brain's logic (never for the real-model tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from familiar_hub.brain.backend import ChatMessage, LlmStats
from familiar_hub.brain.home import Entity, ServiceCall
from familiar_hub.persona.api import Passage, StyleProfile


class ScriptedLlm:
    """Streams the given pieces; can pause after ``pause_after`` pieces until ``resume``."""

    def __init__(self, pieces: Sequence[str], pause_after: int | None = None) -> None:
        self.pieces = list(pieces)
        self.pause_after = pause_after
        self.resume = asyncio.Event()
        self.finished = False
        self.calls: list[list[ChatMessage]] = []
        self.prefilled: list[list[ChatMessage]] = []
        self.schemas: list[dict[str, Any] | None] = []

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def last_stats(self) -> LlmStats:
        return LlmStats()

    async def prefill(self, messages: Sequence[ChatMessage]) -> None:
        self.prefilled.append(list(messages))

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        self.calls.append(list(messages))
        self.schemas.append(json_schema)
        return self._stream()

    async def _stream(self) -> AsyncIterator[str]:
        for index, piece in enumerate(self.pieces):
            if self.pause_after is not None and index == self.pause_after:
                await self.resume.wait()
            yield piece
        self.finished = True


class StalledLlm(ScriptedLlm):
    """Sends ``pieces`` then hangs forever (a wedged server)."""

    async def _stream(self) -> AsyncIterator[str]:
        for piece in self.pieces:
            yield piece
        await asyncio.Event().wait()
        yield ""


class FailingLlm(ScriptedLlm):
    async def _stream(self) -> AsyncIterator[str]:
        for piece in self.pieces:
            yield piece
        raise RuntimeError("CUDA error: out of memory")


class ListRetriever:
    def __init__(self, passages: Sequence[Passage] = (), style: StyleProfile | None = None):
        self.passages = list(passages)
        self._style = style
        self.queries: list[str] = []

    async def search(self, query: str, k: int = 5) -> list[Passage]:
        self.queries.append(query)
        return self.passages[:k]

    async def style(self) -> StyleProfile | None:
        return self._style


class RecordingExecutor:
    def __init__(self) -> None:
        self.calls: list[ServiceCall] = []

    @property
    def name(self) -> str:
        return "recording"

    async def entities(self) -> list[Entity]:
        return []

    async def call(self, call: ServiceCall) -> None:
        self.calls.append(call)


def passage(text: str, source: str = "mail/1.eml", **extra: Any) -> Passage:
    fields: dict[str, Any] = {
        "kind": "email",
        "author": "someone@example.com",
        "date": "2025-06-01",
        "subject": "Note",
        "score": 1.0,
        "by_persona": False,
    }
    fields.update(extra)
    return Passage(text=text, source=source, **fields)


ENTITIES = [
    Entity("light.kitchen", "Kitchen Light", "Kitchen"),
    Entity("light.kitchen_spots", "Kitchen Spots", "Kitchen"),
    Entity("light.bedroom_lamp", "Bedroom Lamp", "Bedroom", ("reading lamp",)),
    Entity("cover.garage_door", "Garage Door", "Garage"),
    Entity("cover.living_room_blinds", "Living Room Blinds", "Living Room"),
    Entity("climate.thermostat", "Thermostat", "Living Room"),
    Entity("switch.coffee_machine", "Coffee Machine", "Kitchen"),
    Entity("lock.front_door", "Front Door", "Hall"),
    Entity("fan.bedroom_fan", "Bedroom Fan", "Bedroom"),
    Entity("media_player.tv", "TV", "Living Room"),
    Entity("alarm_control_panel.house_alarm", "House Alarm", "Hall", ("alarm",)),
]


def entity_config() -> list[dict[str, Any]]:
    return [
        {"entity_id": e.entity_id, "name": e.name, "area": e.area, "aliases": list(e.aliases)}
        for e in ENTITIES
    ]
