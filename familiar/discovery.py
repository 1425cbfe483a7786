"""Zeroconf: advertise ``<name>._wyoming._tcp.local.`` and browse for peers."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from types import TracebackType
from typing import Self

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from familiar.tasks import bounded

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."


def lan_address() -> str:
    """This machine's address on the LAN (the one a route to multicast uses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.connect(("224.0.0.251", 5353))
            address = str(sock.getsockname()[0])
        except OSError:
            address = "127.0.0.1"
    if address == "0.0.0.0":
        address = "127.0.0.1"
    return address


def advertised_address(bind_host: str, override: str | None) -> str:
    """What to put in the mDNS record: never a wildcard address."""
    if override:
        return override
    with contextlib.suppress(ValueError):
        if not ipaddress.ip_address(bind_host).is_unspecified:
            return bind_host
    return lan_address()


def service_name(name: str) -> str:
    safe = name.replace(".", "-")
    return f"{safe}.{SERVICE_TYPE}"


def _zeroconf(interfaces: list[str] | None) -> AsyncZeroconf:
    """All interfaces by default; tests pass ``["127.0.0.1"]`` to stay on loopback."""
    if interfaces is None:
        return AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
    return AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)


class Advertisement:
    """Registers one Wyoming service while the context is open; withdrawn on exit."""

    def __init__(
        self,
        name: str,
        port: int,
        address: str,
        *,
        properties: dict[str, str] | None = None,
        interfaces: list[str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.address = address
        self._properties = properties or {}
        self._interfaces = interfaces
        self._zc: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None

    async def __aenter__(self) -> Self:
        self._zc = _zeroconf(self._interfaces)
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            service_name(self.name),
            addresses=[socket.inet_aton(self.address)],
            port=self.port,
            properties=self._properties,
            server=f"{socket.gethostname()}.local.",
        )
        try:
            await self._zc.async_register_service(self._info, allow_name_change=True)
        except BaseException:
            await self._zc.async_close()
            raise
        _LOGGER.info("advertised %s at %s:%s", self._info.name, self.address, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._zc is None:
            return
        try:
            if self._info is not None:
                await bounded(self._zc.async_unregister_service(self._info), 5.0)
                _LOGGER.info("withdrew %s", self._info.name)
        except (TimeoutError, OSError) as err:
            _LOGGER.warning("could not withdraw zeroconf record: %r", err)
        finally:
            await self._zc.async_close()
            self._zc = None


class Browser:
    """Keeps a live map of ``name -> tcp://address:port`` for Wyoming services."""

    def __init__(self, *, interfaces: list[str] | None = None) -> None:
        self._interfaces = interfaces
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self.services: dict[str, str] = {}
        self.properties: dict[str, dict[str, str]] = {}
        self.changed = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._zc = _zeroconf(self._interfaces)
        self._browser = AsyncServiceBrowser(
            self._zc.zeroconf, [SERVICE_TYPE], handlers=[self._on_change]
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in list(self._pending):
            task.cancel()
        if self._pending:
            await asyncio.wait(self._pending, timeout=2.0)
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._zc is not None:
            await self._zc.async_close()

    def _on_change(
        self,
        zeroconf: object,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            self.properties.pop(name, None)
            if self.services.pop(name, None) is not None:
                self.changed.set()
            return
        task = asyncio.get_running_loop().create_task(self._resolve(service_type, name))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _resolve(self, service_type: str, name: str) -> None:
        assert self._zc is not None
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self._zc.zeroconf, 3000):
            return
        addresses = info.parsed_addresses(IPVersion.V4Only)
        if not addresses or info.port is None:
            return
        self.properties[name] = {
            key.decode(errors="replace"): (value or b"").decode(errors="replace")
            for key, value in info.properties.items()
        }
        self.services[name] = f"tcp://{addresses[0]}:{info.port}"
        self.changed.set()

    async def wait_for(self, name_prefix: str, timeout: float) -> str:
        """URI of the first service whose instance name starts with ``name_prefix``."""
        async with asyncio.timeout(timeout):
            while True:
                for name, uri in self.services.items():
                    if name.startswith(name_prefix):
                        return uri
                self.changed.clear()
                await self.changed.wait()
