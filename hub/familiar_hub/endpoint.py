"""The hub's one Wyoming endpoint: describe, and each role's events routed to its handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wyoming.event import Event
from wyoming.info import AsrProgram, HandleProgram, Info, TtsProgram

from familiar.server import Connection

_LOGGER = logging.getLogger(__name__)


class RoleHandler(Protocol):
    async def handle_event(self, event: Event) -> bool: ...

    async def disconnected(self) -> None: ...


@dataclass
class Role:
    """One service offered on the endpoint."""

    name: str
    event_types: frozenset[str]
    make_handler: Callable[[Connection], RoleHandler]
    describe: Callable[[], AsrProgram | TtsProgram | HandleProgram]


@dataclass
class Endpoint:
    """The roles this process serves; a factory of per-connection handlers."""

    roles: list[Role] = field(default_factory=list)

    def info(self) -> Info:
        info = Info()
        for role in self.roles:
            program = role.describe()
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
        if event.type == "describe":
            await self._conn.send(self._endpoint.info().event())
            return True
        if event.type == "ping":
            await self._conn.send(Event(type="pong", data={"text": event.data.get("text")}))
            return True
        for role in self._endpoint.roles:
            if event.type in role.event_types:
                handler = self._handlers.get(role.name)
                if handler is None:
                    handler = self._handlers[role.name] = role.make_handler(self._conn)
                return await handler.handle_event(event)
        _LOGGER.debug("%s: ignoring %s", self._conn.peer, event.type)
        return True

    async def disconnected(self) -> None:
        for handler in self._handlers.values():
            await handler.disconnected()
