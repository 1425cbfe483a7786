"""A Wyoming client connection: an async context manager with bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from wyoming.event import Event, Eventable
from wyoming.info import Describe, Info

from familiar.config import parse_tcp_uri, parse_unix_uri
from familiar.errors import RemoteUnavailable
from familiar.tasks import bounded
from familiar.wire import DEFAULT_LIMITS, Limits, read_event, write_event

_LOGGER = logging.getLogger(__name__)


class WyomingClient:
    """Talks to one Wyoming server (ours or anyone's) over TCP."""

    def __init__(
        self,
        uri: str,
        *,
        connect_timeout: float = 5.0,
        write_timeout: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.uri = uri
        self.path = parse_unix_uri(uri)
        self.host, self.port = ("", 0) if self.path else parse_tcp_uri(uri)
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._limits = limits
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        try:
            limit = self._limits.max_header_bytes
            connect = (
                asyncio.open_unix_connection(self.path, limit=limit)
                if self.path
                else asyncio.open_connection(self.host, self.port, limit=limit)
            )
            self._reader, self._writer = await bounded(connect, self._connect_timeout)
        except (OSError, TimeoutError) as err:
            raise RemoteUnavailable(f"cannot connect to {self.uri}: {err!r}") from err
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await bounded(self._writer.wait_closed(), 2.0)
            self._writer = None

    async def send(self, event: Event) -> None:
        if self._writer is None:
            raise RemoteUnavailable(f"not connected to {self.uri}")
        try:
            async with self._write_lock:  # frames from concurrent tasks never interleave
                await write_event(self._writer, event, self._write_timeout)
        except (OSError, TimeoutError) as err:
            raise RemoteUnavailable(f"{self.uri}: write failed: {err!r}") from err

    async def read(self, timeout: float | None = None) -> Event | None:
        """Next event, None on EOF; raises TimeoutError past ``timeout`` seconds."""
        if self._reader is None:
            raise RemoteUnavailable(f"not connected to {self.uri}")
        try:
            return await bounded(read_event(self._reader, self._limits), timeout)
        except TimeoutError:
            raise  # an OSError subclass, but the caller's timeout, not a broken connection
        except OSError as err:
            raise RemoteUnavailable(f"{self.uri}: read failed: {err!r}") from err

    async def expect(self, kind: type[Eventable], timeout: float) -> Event:
        """Read until an event of ``kind`` (a wyoming event class); other events are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = await self.read(max(0.0, deadline - loop.time()))
            if event is None:
                raise RemoteUnavailable(f"{self.uri} closed before sending {kind.__name__}")
            if kind.is_type(event.type):
                return event


async def describe(uri: str, timeout: float = 5.0) -> Info | None:
    """A Wyoming server's ``info``; None (logged) when it cannot be reached yet."""
    try:
        async with WyomingClient(uri, connect_timeout=timeout) as client:
            await client.send(Describe().event())
            return Info.from_event(await client.expect(Info, timeout))
    except (RemoteUnavailable, TimeoutError) as err:
        _LOGGER.warning("%s not reachable yet (%s); will retry per request", uri, err)
        return None
