"""Model work on worker threads: nothing heavy ever runs on the event loop.

Every in-process model (Whisper, Piper, XTTS, llama.cpp, sentence-transformers, resemblyzer,
the wake word engines...) has the same shape, written once here:

- :class:`Worker` is the model's own thread (or threads): calls run there (``run``), lazy
  generators are consumed there (``iterate``), and ``close`` cancels queued calls, waits for the
  running one without blocking the loop, unloads the model on its thread and ends the thread.
- :class:`ThreadedModel` is the base of a backend holding such a model: ``async with`` loads it on
  its worker (``_load``) and unloads it there on exit (``_unload``); a failed load ends the worker.

A model's lazy generator is consumed *inside* its worker thread and handed to the loop through a
bounded queue, so the model is never used from two places at once and a slow consumer slows the
producer down instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

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


class WorkerClosed(RuntimeError):
    """A call was made to a worker that is closed (its model is unloaded)."""


class Worker(Executor):
    """The private thread(s) one model lives on.

    An :class:`~concurrent.futures.Executor`, so ``loop.run_in_executor(worker, ...)`` works too;
    every submitted call is tracked so that :meth:`close` can cancel what has not started and
    wait for what has.
    """

    def __init__(self, name: str, threads: int = 1) -> None:
        self.name = name
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix=name)
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._closed:
                raise WorkerClosed(f"{self.name}: the model is closed")
            future = self._pool.submit(fn, *args, **kwargs)
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the worker; the loop waits without blocking."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def iterate(self, make: Callable[[], Iterator[T]], maxsize: int = 4) -> AsyncGenerator[T, None]:
        """Consume the generator ``make()`` returns on the worker; yield its items on the loop."""
        return iterate_in_thread(self, make, maxsize)

    async def close(self, unload: Callable[[], object] | None = None) -> None:
        """Cancel queued calls, wait for running ones, run ``unload`` there, end the threads.

        Idempotent. The loop is never blocked: waiting happens through futures, and a
        cancellation while waiting lets the clean-up finish on its own and is re-raised.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending)
        for future in pending:
            future.cancel()  # only those not yet started
        cancelled = False

        async def settle(future: Future[Any]) -> BaseException | None:
            nonlocal cancelled
            waiting = asyncio.wrap_future(future)
            while not waiting.done():
                try:
                    await asyncio.wait([waiting])
                except asyncio.CancelledError:  # the model's thread cannot be interrupted
                    cancelled = True
            # retrieved: the caller of a running call sees its error itself
            return None if waiting.cancelled() else waiting.exception()

        for future in pending:
            if not future.cancelled():
                await settle(future)
        if unload is not None:
            error = await settle(self._pool.submit(unload))
            if error is not None:
                _LOGGER.error("%s: unloading the model failed: %s", self.name, error)
        self._pool.shutdown(wait=False)
        if cancelled:
            raise asyncio.CancelledError

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Executor interface (synchronous): prefer :meth:`close` on the loop."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class ThreadedModel:
    """Base of a backend whose model lives on its own :class:`Worker`.

    Subclasses implement ``_load`` (run on the worker by ``__aenter__``) and may implement
    ``_unload`` (run on the worker by ``__aexit__``, after the calls in flight are done); they
    call the model with ``self.worker.run(...)`` and ``self.worker.iterate(...)``.
    """

    def __init__(self, name: str, threads: int = 1) -> None:
        self.worker = Worker(name, threads)

    def _load(self) -> None:
        """Load the model (on the worker thread)."""

    def _unload(self) -> None:
        """Release the model (on the worker thread)."""

    async def __aenter__(self) -> Self:
        try:
            await self.worker.run(self._load)
        except BaseException:
            await self.worker.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.worker.close(self._unload)
