"""Stopping owned tasks so that they really stop.

On Python 3.11, ``asyncio.wait_for`` swallows a cancellation that arrives in the same loop
iteration as the awaited result (python/cpython gh-86296, fixed in 3.12). aiomqtt's
``publish`` and our own bounded reads use it, so a single ``task.cancel()`` may be lost and
an owner awaiting the task would hang on shutdown. :func:`cancel_and_wait` cancels again
until the tasks end, within a bound.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds between two cancellations of a task that is still running.
RETRY_SECONDS = 0.2


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], timeout: float = 10.0
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until they end, cancelling again while they run.

    Their results and exceptions are consumed (the owner is stopping them). Returns the tasks
    still running after ``timeout`` seconds, which are logged.
    """
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(RETRY_SECONDS, remaining))
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: never "exception was never retrieved"
    for task in pending:
        _LOGGER.error("task %s did not stop within %.0f s", task.get_name(), timeout)
    return pending


async def bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    """``asyncio.wait_for`` without its Python 3.11 flaw: an outside cancellation that arrives
    as ``awaitable`` completes is never lost (``asyncio.timeout`` runs it in this task)."""
    async with asyncio.timeout(timeout):
        return await awaitable


async def wait_for_stop() -> None:
    """Until SIGTERM or SIGINT (a service's main task waits here, then shuts down in order)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
