"""The hub's one Wyoming endpoint: describe, and each role's events routed to its handler."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wyoming.event import Event, Eventable
from wyoming.info import AsrProgram, Describe, HandleProgram, Info, TtsProgram
from wyoming.ping import Ping, Pong

from familiar.errors import FamiliarError
from familiar.server import Connection

_LOGGER = logging.getLogger(__name__)

LOAD_WAIT = 300.0
"""Seconds a request for a role whose model is still loading waits for it."""


class RoleNotReady(FamiliarError):
    """A role's model did not finish loading in time for a request."""

    code = "not-ready"


class RoleHandler(Protocol):
    async def handle_event(self, event: Event) -> bool: ...

    async def disconnected(self) -> None: ...


@dataclass
class Role:
    """One service offered on the endpoint."""

    name: str
    event_types: tuple[type[Eventable], ...]
    make_handler: Callable[[Connection], RoleHandler]
    describe: Callable[[], AsrProgram | TtsProgram | HandleProgram]
    ready: asyncio.Event | None = None
    """Set once the role's model is loaded; None: ready from the start. Until then the port is
    open and ``describe`` answers, and the role's requests wait (at most ``LOAD_WAIT``)."""

    async def wait_ready(self) -> None:
        if self.ready is None or self.ready.is_set():
            return
        _LOGGER.info("a %s request waits for its model to load", self.name)
        try:
            async with asyncio.timeout(LOAD_WAIT):
                await self.ready.wait()
        except TimeoutError as err:
            raise RoleNotReady(f"{self.name} is still loading; try again shortly") from err


@dataclass
class Endpoint:
    """The roles this process serves; a factory of per-connection handlers."""

    roles: list[Role] = field(default_factory=list)
    name: str | None = None
    """The hub's name: every program is described under it, so Home Assistant titles the
    discovered entry and its STT, TTS and conversation entities with it (HA names an entry after
    its first ASR program). The programs' models keep their own names."""

    def info(self) -> Info:
        info = Info()
        for role in self.roles:
            program = role.describe()
            if self.name:
                program = dataclasses.replace(program, name=self.name)
            if isinstance(program, AsrProgram):
                info.asr.append(program)
            elif isinstance(program, TtsProgram):
                info.tts.append(program)
            else:
                info.handle.append(program)
        return info

    def __call__(self, conn: Connection) -> EndpointHandler:
        return EndpointHandler(self, conn)


class EndpointHandler:
    """Per connection; role handlers are made on first use."""

    def __init__(self, endpoint: Endpoint, conn: Connection) -> None:
        self._endpoint = endpoint
        self._conn = conn
        self._handlers: dict[str, RoleHandler] = {}

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self._conn.send(self._endpoint.info().event())
            return True
        if Ping.is_type(event.type):
            await self._conn.send(Pong(text=Ping.from_event(event).text).event())
            return True
        for role in self._endpoint.roles:
            if any(kind.is_type(event.type) for kind in role.event_types):
                handler = self._handlers.get(role.name)
                if handler is None:
                    await role.wait_ready()
                    handler = self._handlers[role.name] = role.make_handler(self._conn)
                return await handler.handle_event(event)
        _LOGGER.debug("%s: ignoring %s", self._conn.peer, event.type)
        return True

    async def disconnected(self) -> None:
        for handler in self._handlers.values():
            await handler.disconnected()
