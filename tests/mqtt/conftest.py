"""MQTT test helpers: a watcher of every message, a fake voice device. The broker fixtures
(``broker``, ``make_broker``) are in ``tests/conftest.py``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiomqtt
import pytest

from familiar.mqtt import (
    DeviceUpdate,
    MutedChanged,
    StateChanged,
    VolumeChanged,
)
from familiar_testkit.broker import WAIT, Mosquitto


@dataclass
class Seen:
    topic: str
    payload: bytes
    retain: bool


class Watcher:
    """Subscribes to everything and remembers every message (for assertions)."""

    def __init__(self, broker: Mosquitto, topics: str = "#") -> None:
        self.broker = broker
        self.topics = topics
        self.seen: list[Seen] = []
        self.changed = asyncio.Event()
        self._client = aiomqtt.Client("127.0.0.1", broker.port, identifier=f"watch-{id(self)}")
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        await self._client.__aenter__()
        await self._client.subscribe(self.topics, qos=1)
        self._task = asyncio.create_task(self._collect(), name="watcher")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await self._task
        with contextlib.suppress(aiomqtt.MqttError):
            await self._client.__aexit__(None, None, None)

    async def _collect(self) -> None:
        async for message in self._client.messages:
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload or "").encode()
            self.seen.append(Seen(message.topic.value, data, bool(message.retain)))
            self.changed.set()

    async def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        await self._client.publish(topic, payload, qos=1, retain=retain)

    def on(self, topic: str) -> list[Seen]:
        return [m for m in self.seen if m.topic == topic]

    async def wait_for(
        self, topic: str, payload: bytes | None = None, *, after: int = 0, timeout: float = WAIT
    ) -> Seen:
        """The first message on ``topic`` (with ``payload``) among those seen from index
        ``after`` on."""
        async with asyncio.timeout(timeout):
            while True:
                for message in self.seen[after:]:
                    if message.topic == topic and (payload is None or message.payload == payload):
                        return message
                self.changed.clear()
                await self.changed.wait()

    def mark(self) -> int:
        return len(self.seen)


@pytest.fixture
async def watcher(broker: Mosquitto) -> AsyncIterator[Watcher]:
    async with Watcher(broker) as watch:
        yield watch


class FakeVoiceDevice:
    """Records every command; ``emit`` feeds the state subscription."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.changed = asyncio.Event()
        self._updates: asyncio.Queue[DeviceUpdate] = asyncio.Queue()
        self.fail_next = False

    async def updates(self) -> AsyncIterator[DeviceUpdate]:
        yield StateChanged("idle")
        yield MutedChanged(False)
        yield VolumeChanged(0.5)
        while True:
            yield await self._updates.get()

    def emit(self, update: DeviceUpdate) -> None:
        self._updates.put_nowait(update)

    def drained(self) -> bool:
        """Every emitted update has been taken by the subscriber."""
        return self._updates.empty()

    def _record(self, name: str, value: object) -> None:
        self.calls.append((name, value))
        self.changed.set()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("device failed on purpose")

    async def announce(self, text: str) -> None:
        self._record("announce", text)

    async def ask(self, text: str) -> None:
        self._record("ask", text)

    async def set_muted(self, muted: bool) -> None:
        self._record("set_muted", muted)

    async def set_volume(self, volume: float) -> None:
        self._record("set_volume", volume)

    async def start_listening(self) -> None:
        self._record("start_listening", None)

    async def wait_calls(self, count: int, timeout: float = WAIT) -> list[tuple[str, object]]:
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.calls
