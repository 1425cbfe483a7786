"""A real Mosquitto per test (started on a free port, killed after) and MQTT test helpers."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from familiar.mqtt import (
    DeviceUpdate,
    MqttConfig,
    MutedChanged,
    StateChanged,
    VolumeChanged,
)

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
WAIT = 10.0  # upper bound of every wait in these tests (never a timing assertion)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """A broker subprocess with a temp config; ``stop``/``start`` keep the same port."""

    def __init__(self, workdir: Path, port: int, extra: str = "") -> None:
        self.workdir = workdir
        self.port = port
        self.extra = extra
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert MOSQUITTO is not None
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{self.extra or 'allow_anonymous true'}\n"
            # Run as ourselves: as root, mosquitto would switch to its own user and lose
            # access to the test's temp files.
            f"user {getpass.getuser()}\n"
            "persistence false\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"mosquitto exited: {err}{log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("mosquitto did not accept connections")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=WAIT)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    async def restart(self) -> None:
        await asyncio.to_thread(self.stop)
        await asyncio.to_thread(self.start)

    def config(self, **overrides: Any) -> MqttConfig:
        fast = {"reconnect_min": 0.05, "reconnect_max": 0.5, "birth_delay_max": 0.2}
        return MqttConfig.model_validate(
            {"host": "127.0.0.1", "port": self.port, **fast, **overrides}
        )


def _require_mosquitto() -> None:
    if MOSQUITTO is None:
        if os.environ.get("FAMILIAR_REQUIRE_MOSQUITTO"):
            pytest.fail("FAMILIAR_REQUIRE_MOSQUITTO is set but mosquitto is not installed")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    _require_mosquitto()
    server = Mosquitto(tmp_path, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[[str], Mosquitto]]:
    """A broker with extra config lines (credentials...)."""
    _require_mosquitto()
    started: list[Mosquitto] = []

    def make(extra: str) -> Mosquitto:
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        server = Mosquitto(workdir, free_port(), extra.format(dir=workdir))
        started.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


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
