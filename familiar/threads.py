"""Model work on worker threads: nothing heavy ever runs on the event loop.

A model's lazy generator is consumed *inside* its worker thread and handed to the loop
through a bounded queue, so the model is never used from two places at once and a slow
consumer slows the producer down instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Stopped(Exception):
    """Raised inside the worker when the consumer went away."""


async def iterate_in_thread(
    executor: Executor, make: Callable[[], Iterator[T]], maxsize: int = 4
) -> AsyncGenerator[T, None]:
    """Run ``make()`` and iterate it on ``executor``; yield its items on the loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()  # bounded by ``slots``
    slots = threading.Semaphore(maxsize)
    stop = threading.Event()

    def put(item: object) -> None:
        while not slots.acquire(timeout=0.25):
            if stop.is_set():
                raise _Stopped
        if stop.is_set():
            raise _Stopped
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        try:
            for item in make():
                put(item)
        except _Stopped:
            raise
        except BaseException as err:  # handed to the consumer, raised there
            put(err)
            return
        put(_DONE)

    def work() -> None:
        # The consumer may leave at any point, the last put included: then just stop.
        with contextlib.suppress(_Stopped):
            produce()

    job = loop.run_in_executor(executor, work)
    try:
        while True:
            item = await queue.get()
            slots.release()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.shield(job)
