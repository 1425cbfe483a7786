"""Finds satellites (config list and zeroconf) and keeps one link task per satellite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Self

from familiar.discovery import Browser
from familiar.errors import RemoteUnavailable
from familiar_hub.brain.home import duration_words
from familiar_hub.brain.timers import Timer
from familiar_hub.conductor.link import LinkChanged, SatelliteLink
from familiar_hub.conductor.turn import Services

_LOGGER = logging.getLogger(__name__)

TIMER_ANNOUNCE_SECONDS = 60.0

CONTROLLER_PROPERTY = "controller"
"""Zeroconf TXT key a satellite uses to say who drives it (``hub`` or ``home-assistant``)."""


def timer_done_text(timer: Timer) -> str:
    whole = round(timer.seconds)
    slots = {"hours": whole // 3600, "minutes": whole % 3600 // 60, "seconds": whole % 60}
    what = f" for {timer.name}" if timer.name else ""
    return f"Your {duration_words(slots)} timer{what} is done."


class Conductor:
    """Async context manager owning every satellite link task."""

    def __init__(
        self,
        services: Services,
        *,
        own_uris: set[str] | None = None,
        zeroconf_interfaces: list[str] | None = None,
        on_link_change: LinkChanged | None = None,
    ) -> None:
        self.services = services
        self.on_link_change = on_link_change
        """Told ``(name, connected)`` when a satellite connects or disconnects."""
        self.links: dict[str, SatelliteLink] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._own_uris = own_uris or set()
        self._interfaces = zeroconf_interfaces
        self._watcher: asyncio.Task[None] | None = None
        self._secret = services.config.read_secret()

    async def __aenter__(self) -> Self:
        for entry in self.services.config.satellites:
            self.add(entry.name or entry.uri, entry.uri)
        if self.services.config.discover and self._secret is not None:
            self._watcher = asyncio.create_task(self._discover(), name="conductor-discovery")
        elif self.services.config.discover:
            _LOGGER.info(
                "conductor: satellites found by zeroconf are not driven without a pairing "
                "secret (conductor.secret_file); driving the listed satellites only"
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = list(self._tasks.values())
        if self._watcher is not None:
            tasks.append(self._watcher)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        self._tasks.clear()

    def add(self, name: str, uri: str, *, paired_only: bool = False) -> SatelliteLink:
        if name in self.links:
            return self.links[name]
        link = SatelliteLink(
            name,
            uri,
            self.services,
            self._link_changed,
            secret=self._secret,
            paired_only=paired_only,
        )
        self.links[name] = link
        self._tasks[name] = asyncio.create_task(link.run(), name=f"satellite[{name}]")
        _LOGGER.info("conductor: satellite %s at %s", name, uri)
        return link

    def _link_changed(self, name: str, connected: bool) -> None:
        if self.on_link_change is not None:
            self.on_link_change(name, connected)

    async def remove(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        self.links.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _discover(self) -> None:
        async with Browser(interfaces=self._interfaces) as browser:
            while True:
                for service, uri in list(browser.services.items()):
                    props = browser.properties.get(service, {})
                    if props.get(CONTROLLER_PROPERTY) != "hub" or uri in self._own_uris:
                        continue
                    name = service.split("._wyoming", 1)[0]
                    if name not in self.links:
                        self.add(name, uri, paired_only=True)
                    elif self.links[name].uri != uri and self.links[name].paired_only:
                        await self.remove(name)  # moved: follow it (a listed one stays put)
                        self.add(name, uri, paired_only=True)
                browser.changed.clear()
                await browser.changed.wait()

    @property
    def connected(self) -> list[str]:
        return [name for name, link in self.links.items() if link.status.connected]

    async def timer_finished(self, timer: Timer) -> None:
        """A standalone timer rang: say so on the satellite whose conversation set it."""
        link = next(
            (
                link
                for link in self.links.values()
                if timer.conversation_id in link.recent_conversations
            ),
            None,
        )
        if link is None or not link.status.connected:
            _LOGGER.info("timer %d finished; no satellite of ours set it", timer.id)
            return
        text = timer_done_text(timer)

        async def sentences() -> AsyncGenerator[str, None]:
            yield text

        try:
            async with asyncio.timeout(TIMER_ANNOUNCE_SECONDS):
                await link.speak(sentences())
        except (RemoteUnavailable, TimeoutError, ConnectionError) as err:
            _LOGGER.warning("could not ring timer %d on %s: %r", timer.id, link.name, err)
