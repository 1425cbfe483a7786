"""A test controller that behaves like Home Assistant's Wyoming satellite handling
(homeassistant/components/wyoming/assist_satellite.py): connect, describe, run-satellite,
ping 2 s after each pong with a 5 s timeout, answer the satellite's pings."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.satellite import RunSatellite

from familiar.client import WyomingClient
from familiar.errors import RemoteUnavailable

PING_SEND_DELAY = 2.0
PING_TIMEOUT = 5.0


class FakeHomeAssistant:
    def __init__(self, uri: str, *, answer_pings: bool = True, send_pings: bool = True) -> None:
        self.client = WyomingClient(uri)
        self.answer_pings = answer_pings
        self.send_pings = send_pings
        self.info: Info | None = None
        self.received: list[Event] = []
        self.closed = asyncio.Event()
        self.ping_failures = 0
        self.pongs = 0
        self._arrived = asyncio.Condition()
        self._pong = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        await self.client.send(Describe().event())
        self.info = Info.from_event(await self.client.expect(Info, 5.0))
        await self.client.send(RunSatellite().event())
        self._tasks.append(asyncio.create_task(self._read(), name="ha-read"))
        if self.send_pings:
            self._tasks.append(asyncio.create_task(self._ping(), name="ha-ping"))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            # A ping that found the connection already closed (the test is over) is no error.
            with contextlib.suppress(asyncio.CancelledError, RemoteUnavailable):
                await task
        await self.client.aclose()

    async def send(self, event: Event) -> None:
        await self.client.send(event)

    async def _read(self) -> None:
        try:
            while True:
                event = await self.client.read()
                if event is None:
                    return
                if event.type == "ping":
                    if self.answer_pings:
                        await self.client.send(Pong(text=event.data.get("text")).event())
                    continue
                if event.type == "pong":
                    self._pong.set()
                    continue
                async with self._arrived:
                    self.received.append(event)
                    self._arrived.notify_all()
        finally:
            self.closed.set()
            async with self._arrived:
                self._arrived.notify_all()

    async def _ping(self) -> None:
        while True:
            self._pong.clear()
            await self.client.send(Ping().event())
            try:
                await asyncio.wait_for(self._pong.wait(), PING_TIMEOUT)
                self.pongs += 1
            except TimeoutError:
                self.ping_failures += 1
            await asyncio.sleep(PING_SEND_DELAY)

    async def wait_for(self, event_type: str, timeout: float = 20.0, after: int = 0) -> Event:
        """The first event of ``event_type`` at index >= ``after`` (waits for it)."""
        async with asyncio.timeout(timeout), self._arrived:
            while True:
                for event in self.received[after:]:
                    if event.type == event_type:
                        return event
                if self.closed.is_set():
                    raise ConnectionError(f"closed before {event_type}")
                await self._arrived.wait()

    def types(self, after: int = 0) -> list[str]:
        return [e.type for e in self.received[after:] if e.type != "audio-chunk"]

    def index_of(self, event: Event) -> int:
        return next(i for i, e in enumerate(self.received) if e is event)
