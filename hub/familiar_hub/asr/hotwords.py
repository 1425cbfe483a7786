"""Keeps the recogniser's hotwords equal to the names of the persona's world.

Reads the names from the persona store when the hub starts and again every ``interval``
seconds (a cheap query on the store's name table), and hands them to the ASR backend only
when they changed, so names from newly ingested mail reach speech recognition without a
restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from familiar_hub.asr.backend import HotwordAsr

_LOGGER = logging.getLogger(__name__)

NAMES_READ = 60
"""Names read from the store; the backend keeps as many as fit its prompt."""


class HotwordFeeder:
    """An async context manager owning the refresh task."""

    def __init__(
        self,
        asr: HotwordAsr,
        names: Callable[[int], Awaitable[list[str]]],
        interval: float = 30.0,
    ) -> None:
        self.asr = asr
        self.names = names
        self.interval = interval
        self.current: list[str] | None = None
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        """Read the names now; True when the backend got new ones."""
        names = await self.names(NAMES_READ)
        if names == self.current:
            return False
        self.current = names
        self.asr.set_hotwords(names)
        _LOGGER.info("speech recognition expects %d names from the persona store", len(names))
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("could not read names from the persona store")

    async def __aenter__(self) -> Self:
        try:
            await self.refresh()
        except Exception:
            _LOGGER.exception("could not read names from the persona store")
        self._task = asyncio.create_task(self._run(), name="asr-hotwords")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
