"""A Wyoming TCP server: one handler per connection, every task owned, every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import logging
import os
import socket
import struct
import sys
import termios
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

from wyoming.error import Error
from wyoming.event import Event

from familiar.config import PRIVATE_NETWORKS, ListenConfig
from familiar.edge import DEFAULT_EVENT_LIMITS, EventLimits, EventRejected, check_event
from familiar.errors import FamiliarError, ProtocolError
from familiar.logs import LogLimiter
from familiar.tasks import bounded
from familiar.wire import DEFAULT_LIMITS, Limits, read_event, write_event

_LOGGER = logging.getLogger(__name__)

_SIOCOUTQ: int | None = getattr(termios, "TIOCOUTQ", None) if sys.platform == "linux" else None
"""ioctl for the bytes in a TCP socket's send queue (``SIOCOUTQ``), Linux only."""
_TAKEN_POLL = 0.02
_WRITE_HIGH_WATER = 64 * 1024
"""Bytes our side buffers for a peer before ``drain`` waits (asyncio's default, made explicit)."""


@dataclass(frozen=True)
class ConnectionPolicy:
    """How many peers, for how long, and with how much buffered for each."""

    idle_timeout: float = 120.0
    """Seconds without a frame from the peer before its connection is closed."""
    max_connections: int = 256
    max_per_address: int = 64
    send_buffer_bytes: int = 128 * 1024
    """Kernel send buffer (``SO_SNDBUF``): small, so a peer that stops reading blocks us soon."""
    events: EventLimits = field(default_factory=lambda: DEFAULT_EVENT_LIMITS)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_allowed(host: str, networks: list[Network]) -> bool:
    """Whether a peer address is inside one of ``networks`` (IPv4-mapped IPv6 counts as IPv4)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


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
        events: EventLimits = DEFAULT_EVENT_LIMITS,
    ) -> None:
        self.reader = reader
        self.events = events
        """What one event may carry (handlers apply the same caps to what they accumulate)."""
        self.writer = writer
        self.limits = limits
        self.write_timeout = write_timeout
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.address = str(peer[0]) if isinstance(peer, tuple) else self.peer
        """The peer's IP address (connection limits count per address)."""
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = asyncio.Event()
        self.last_frame = asyncio.get_running_loop().time()
        """Loop time of the peer's last frame (or of the connection)."""
        self.handling = False
        """A handler is working on one of this peer's events."""

    @property
    def busy(self) -> bool:
        """Working for the peer: never evicted to make room for another connection."""
        return self.handling or bool(self._tasks)

    async def send(self, event: Event) -> None:
        """Send one event; frames from concurrent tasks never interleave."""
        async with self._write_lock:
            await write_event(self.writer, event, self.write_timeout)

    def unsent_bytes(self) -> int:
        """Bytes written to this peer that it has not taken yet: our buffer, plus the kernel's
        send queue (not yet acknowledged; on Linux). A peer that stops reading makes it grow."""
        transport = self.writer.transport
        pending = (
            transport.get_write_buffer_size()
            if isinstance(transport, asyncio.WriteTransport)
            else 0
        )
        sock = self.writer.get_extra_info("socket")
        if sock is not None and _SIOCOUTQ is not None:
            with contextlib.suppress(OSError, ValueError):
                raw = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0")
                pending += struct.unpack("i", raw)[0]
        return pending

    async def wait_taken(self, max_unsent: int = 64 * 1024) -> None:
        """Until the peer has taken all but ``max_unsent`` bytes of what we sent: call before
        making more for it (the next sentence of speech), so nothing is made for a peer that
        stopped reading. Raises TimeoutError after ``write_timeout``, like a blocked write."""
        if self.unsent_bytes() <= max_unsent:
            return
        async with asyncio.timeout(self.write_timeout):
            # The kernel tells no one when a peer reads: look again shortly.
            while self.unsent_bytes() > max_unsent:  # noqa: ASYNC110
                await asyncio.sleep(_TAKEN_POLL)

    async def send_error(self, err: FamiliarError) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            await self.send(Error(text=str(err), code=err.code).event())

    async def read(self) -> Event | None:
        event = await read_event(self.reader, self.limits)
        self.last_frame = asyncio.get_running_loop().time()
        return event

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
        if isinstance(err, ConnectionError | TimeoutError):
            # A peer that stopped reading (write timeout) or went away: not our bug.
            _LOGGER.info("%s: task %s ended: %r", self.peer, task.get_name(), err)
            self.writer.close()
        elif err is not None:
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
        policy: ConnectionPolicy | None = None,
        name: str = "wyoming",
        path: str | None = None,
    ) -> None:
        """``allow``: client networks; None means loopback and private networks only.
        ``path``: listen on this unix socket instead of ``host``/``port``."""
        self._factory = factory
        self._host = host
        self._port = port
        self._path = path
        self._limits = limits
        self._write_timeout = write_timeout
        networks = PRIVATE_NETWORKS if allow is None else allow
        self._allow: list[Network] = [ipaddress.ip_network(n, strict=False) for n in networks]
        self._policy = policy or ConnectionPolicy()
        self._name = name
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._live: dict[asyncio.Task[None], Connection] = {}
        self._refused_log = LogLimiter(_LOGGER)
        self._bad_log = LogLimiter(_LOGGER)
        self.refused = 0
        """Connections refused (address not allowed, or no room) since the start."""
        self.evicted = 0
        """Idle connections closed to make room for a new one."""
        self.rejected_events = 0
        """Events answered with ``event-invalid``."""

    @classmethod
    def listening(cls, factory: HandlerFactory, listen: ListenConfig, name: str) -> WyomingServer:
        """A server as a ``listen:`` config section describes it."""
        return cls(
            factory,
            listen.host,
            listen.port,
            path=listen.socket_path,
            limits=Limits(
                max_data_bytes=listen.max_data_bytes, max_payload_bytes=listen.max_payload_bytes
            ),
            write_timeout=listen.write_timeout,
            allow=listen.allow,
            policy=ConnectionPolicy(
                idle_timeout=listen.idle_timeout,
                max_connections=listen.max_connections,
                max_per_address=listen.max_connections_per_address,
                send_buffer_bytes=listen.send_buffer_bytes,
                events=EventLimits(max_text_chars=listen.max_text_chars),
            ),
            name=name,
        )

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0); 0 on a unix socket."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server is not running")
        if self._path is not None:
            return 0
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def uri(self) -> str:
        """Where a client on this machine reaches the server."""
        if self._path is not None:
            return f"unix://{self._path}"
        host = "127.0.0.1" if self._host in ("0.0.0.0", "::", "") else self._host
        return f"tcp://{host}:{self.port}"

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def event_limits(self) -> EventLimits:
        return self._policy.events

    async def __aenter__(self) -> Self:
        limit = self._limits.max_header_bytes
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)  # a socket left by a process that died
            self._server = await asyncio.start_unix_server(self._accept, self._path, limit=limit)
        else:
            self._server = await asyncio.start_server(
                self._accept, self._host, self._port, limit=limit
            )
        _LOGGER.info("%s listening on %s", self._name, self.uri)
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
            if self._path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path)

    async def serve_forever(self) -> None:
        await asyncio.Event().wait()

    def _allowed(self, writer: asyncio.StreamWriter) -> bool:
        peer = writer.get_extra_info("peername")
        if not isinstance(peer, tuple):
            return True  # a unix socket: the file's permissions decide
        return address_allowed(str(peer[0]), self._allow)

    def _make_room(self, address: str) -> bool:
        """Room for one more connection from ``address``: the longest-idle connection that is
        not working for its peer is closed when a limit is reached; False when all are busy."""
        policy = self._policy
        same = [c for c in self._live.values() if c.address == address]
        if len(same) >= policy.max_per_address and not self._evict_idlest(same):
            return False
        return len(self._live) < policy.max_connections or self._evict_idlest(
            list(self._live.values())
        )

    def _evict_idlest(self, candidates: list[Connection]) -> bool:
        idle = [c for c in candidates if not c.busy]
        if not idle:
            return False
        victim = min(idle, key=lambda c: c.last_frame)
        for task, conn in list(self._live.items()):
            if conn is victim:
                del self._live[task]
                task.cancel()
        victim.writer.close()
        self.evicted += 1
        self._refused_log.log(
            logging.INFO, "%s: closed idle %s to make room", self._name, victim.peer
        )
        return True

    def _refuse(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.refused += 1
        self._refused_log.log(
            logging.WARNING,
            "%s: refused %s (%s)",
            self._name,
            writer.get_extra_info("peername"),
            why,
        )
        transport = writer.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()  # no lingering: the descriptor is free at once
        else:
            writer.close()

    def _tune(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._policy.send_buffer_bytes)
        transport = writer.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if not self._allowed(writer):
                self._refuse(writer, "not in the allow list")
                return
            conn = Connection(
                reader,
                writer,
                limits=self._limits,
                write_timeout=self._write_timeout,
                events=self._policy.events,
            )
            if not self._make_room(conn.address):
                self._refuse(writer, "too many connections")
                return
            self._tune(writer)
            self._live[task] = conn
            await self._serve(conn)
        except asyncio.CancelledError:
            # The server is closing, or this idle connection made room for another (it was
            # cleaned up in _serve). Returning, not re-raising: asyncio's stream callback
            # would log a cancelled handler as an error.
            return
        finally:
            self._connections.discard(task)
            self._live.pop(task, None)

    async def _next_event(self, conn: Connection) -> Event | None:
        try:
            async with asyncio.timeout(self._policy.idle_timeout):
                return await conn.read()
        except TimeoutError:
            self._refused_log.log(
                logging.INFO,
                "%s: %s sent nothing for %.0f s; closing",
                self._name,
                conn.peer,
                self._policy.idle_timeout,
            )
            return None

    async def _serve(self, conn: Connection) -> None:
        _LOGGER.debug("%s: %s connected", self._name, conn.peer)
        handler: Handler | None = None
        limits = self._policy.events
        try:
            handler = self._factory(conn)
            while True:
                event = await self._next_event(conn)
                if event is None:
                    break
                conn.handling = True
                try:
                    check_event(event, limits)
                    keep = await handler.handle_event(event)
                except EventRejected as err:  # the edge's check, or a handler's budget
                    self.rejected_events += 1
                    self._bad_log.log(logging.WARNING, "%s: %s: %s", self._name, conn.peer, err)
                    await conn.send_error(err)
                    keep = True
                finally:
                    conn.handling = False
                if not keep:
                    break
        except ProtocolError as err:
            self._bad_log.log(
                logging.WARNING,
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
            self._bad_log.log(
                logging.ERROR,
                "%s: handler failed for %s; closing that connection",
                self._name,
                conn.peer,
                exc_info=True,
            )
            await conn.send_error(FamiliarError("internal error; see the server's log"))
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
