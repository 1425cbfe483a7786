"""Timers the brain starts for standalone satellites (Home Assistant runs its own)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

_LOGGER = logging.getLogger(__name__)

TimerListener = Callable[["Timer"], Awaitable[None]]
MAX_TIMERS = 32


@dataclass(frozen=True)
class Timer:
    id: int
    seconds: float
    name: str | None
    conversation_id: str | None


class Timers:
    """Owns one task per running timer; listeners hear when one finishes."""

    def __init__(self) -> None:
        self._tasks: dict[int, tuple[Timer, asyncio.Task[None]]] = {}
        self._ids = itertools.count(1)
        self._listeners: list[TimerListener] = []

    def add_listener(self, listener: TimerListener) -> None:
        self._listeners.append(listener)

    @property
    def running(self) -> list[Timer]:
        return [timer for timer, _ in self._tasks.values()]

    def start(self, seconds: float, name: str | None, conversation_id: str | None) -> Timer:
        if len(self._tasks) >= MAX_TIMERS:
            raise ValueError("too many timers")
        timer = Timer(next(self._ids), seconds, name, conversation_id)
        task = asyncio.create_task(self._run(timer), name=f"timer-{timer.id}")
        self._tasks[timer.id] = (timer, task)
        return timer

    def cancel(self, name: str | None = None) -> int:
        """Cancel the named timers, or all of them; returns how many."""
        chosen = [
            key
            for key, (timer, _) in self._tasks.items()
            if name is None or (timer.name or "").lower() == name.lower()
        ]
        for key in chosen:
            self._tasks.pop(key)[1].cancel()
        return len(chosen)

    async def _run(self, timer: Timer) -> None:
        try:
            await asyncio.sleep(timer.seconds)
            _LOGGER.info("timer %d (%s) finished", timer.id, timer.name or "unnamed")
            for listener in self._listeners:
                try:
                    await listener(timer)  # ringing stays owned by this task (and cancellable)
                except Exception:
                    _LOGGER.exception("timer listener failed")
        finally:
            self._tasks.pop(timer.id, None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = [task for _, task in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
