"""A Wyoming TCP server: one handler per connection, every task owned, every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, Self

from wyoming.error import Error
from wyoming.event import Event

from familiar.config import ListenConfig
from familiar.errors import FamiliarError, ProtocolError
from familiar.tasks import bounded
from familiar.wire import DEFAULT_LIMITS, Limits, read_event, write_event

_LOGGER = logging.getLogger(__name__)


class Handler(Protocol):
    """Serves one connection. ``handle_event`` returns whether to keep the connection."""

    async def handle_event(self, event: Event) -> bool: ...

    async def disconnected(self) -> None: ...


class Connection:
    """One peer: a bounded writer, a name for logs, and the tasks its handler started."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        limits: Limits = DEFAULT_LIMITS,
        write_timeout: float = 10.0,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.limits = limits
        self.write_timeout = write_timeout
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = asyncio.Event()

    async def send(self, event: Event) -> None:
        """Send one event; frames from concurrent tasks never interleave."""
        async with self._write_lock:
            await write_event(self.writer, event, self.write_timeout)

    async def send_error(self, err: FamiliarError) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            await self.send(Error(text=str(err), code=err.code).event())

    async def read(self) -> Event | None:
        return await read_event(self.reader, self.limits)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a task owned by this connection: cancelled and awaited when it closes."""
        task = asyncio.create_task(coro, name=f"{name}[{self.peer}]")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            _LOGGER.error("%s: task %s failed", self.peer, task.get_name(), exc_info=err)
            self.writer.close()  # the read loop sees EOF and tears the connection down

    async def aclose(self) -> None:
        """Close the socket first (nothing may leak, even if this is cancelled), then let
        the connection's tasks finish their cancellation."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        self.writer.close()
        try:
            if tasks:
                await asyncio.wait(tasks, timeout=5.0)
            with contextlib.suppress(OSError, TimeoutError):
                await bounded(self.writer.wait_closed(), 2.0)
        finally:
            self.closed.set()


HandlerFactory = Callable[[Connection], Handler]


class WyomingServer:
    """Async context manager serving one handler per connection.

    A malformed or oversize frame, or a failing handler, closes that connection only.
    """

    def __init__(
        self,
        factory: HandlerFactory,
        host: str,
        port: int,
        *,
        limits: Limits = DEFAULT_LIMITS,
        write_timeout: float = 10.0,
        allow: list[str] | None = None,
        name: str = "wyoming",
    ) -> None:
        self._factory = factory
        self._host = host
        self._port = port
        self._limits = limits
        self._write_timeout = write_timeout
        self._allow = [ipaddress.ip_network(n, strict=False) for n in (allow or [])]
        self._name = name
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @classmethod
    def listening(cls, factory: HandlerFactory, listen: ListenConfig, name: str) -> WyomingServer:
        """A server as a ``listen:`` config section describes it."""
        return cls(
            factory,
            listen.host,
            listen.port,
            limits=Limits(
                max_data_bytes=listen.max_data_bytes, max_payload_bytes=listen.max_payload_bytes
            ),
            write_timeout=listen.write_timeout,
            allow=listen.allow,
            name=name,
        )

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server is not running")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, limit=self._limits.max_header_bytes
        )
        _LOGGER.info("%s listening on tcp://%s:%s", self._name, self._host, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10.0)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await bounded(self._server.wait_closed(), 5.0)
            self._server = None

    async def serve_forever(self) -> None:
        await asyncio.Event().wait()

    def _allowed(self, writer: asyncio.StreamWriter) -> bool:
        if not self._allow:
            return True
        peer = writer.get_extra_info("peername")
        try:
            address = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self._allow)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if not self._allowed(writer):
                _LOGGER.warning(
                    "%s: refused %s (not in allow list)",
                    self._name,
                    writer.get_extra_info("peername"),
                )
                writer.close()
                return
            await self._serve(
                Connection(reader, writer, limits=self._limits, write_timeout=self._write_timeout)
            )
        except asyncio.CancelledError:
            # The server is closing and cancelled this connection (it was cleaned up in
            # _serve). Returning, not re-raising: asyncio's stream callback would log a
            # cancelled handler as an error.
            return
        finally:
            self._connections.discard(task)

    async def _serve(self, conn: Connection) -> None:
        _LOGGER.debug("%s: %s connected", self._name, conn.peer)
        handler: Handler | None = None
        try:
            handler = self._factory(conn)
            while True:
                event = await conn.read()
                if event is None:
                    break
                if not await handler.handle_event(event):
                    break
        except ProtocolError as err:
            _LOGGER.warning(
                "%s: %s sent a bad frame (%s): %s; closing that connection",
                self._name,
                conn.peer,
                err.code,
                err,
            )
            await conn.send_error(err)
        except FamiliarError as err:
            _LOGGER.error("%s: %s: %s (%s)", self._name, conn.peer, err, err.code)
            await conn.send_error(err)
        except (ConnectionError, TimeoutError) as err:
            _LOGGER.info("%s: %s went away: %r", self._name, conn.peer, err)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception(
                "%s: handler failed for %s; closing that connection", self._name, conn.peer
            )
        finally:
            try:
                if handler is not None:
                    try:
                        await handler.disconnected()
                    except Exception:
                        _LOGGER.exception("%s: cleanup failed for %s", self._name, conn.peer)
            finally:
                await conn.aclose()
            _LOGGER.debug("%s: %s disconnected", self._name, conn.peer)
