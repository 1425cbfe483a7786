"""iterate_in_thread: items in order, errors raised at the consumer, early exits stop the worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from familiar.threads import ThreadedModel, Worker, WorkerClosed, iterate_in_thread


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


async def test_items_arrive_in_order_from_the_worker_thread(executor: ThreadPoolExecutor) -> None:
    threads: set[str] = set()

    def make() -> Iterator[int]:
        for n in range(20):
            threads.add(threading.current_thread().name)
            yield n

    assert [n async for n in iterate_in_thread(executor, make, maxsize=2)] == list(range(20))
    assert threading.current_thread().name not in threads


async def test_errors_reach_the_consumer(executor: ThreadPoolExecutor) -> None:
    def make() -> Iterator[int]:
        yield 1
        raise ValueError("model broke")

    got = []
    with pytest.raises(ValueError, match="model broke"):
        async for n in iterate_in_thread(executor, make):
            got.append(n)
    assert got == [1]


@pytest.mark.parametrize("items", [1, 2, 3, 50])
async def test_leaving_early_stops_the_producer(executor: ThreadPoolExecutor, items: int) -> None:
    produced: list[int] = []

    def make() -> Iterator[int]:
        for n in range(items):
            produced.append(n)
            yield n

    stream = iterate_in_thread(executor, make, maxsize=1)
    assert await anext(stream) == 0
    await stream.aclose()  # also when the worker is about to hand over its last item or the end
    await asyncio.sleep(0)
    assert len(produced) <= 3


async def test_worker_runs_calls_on_its_own_thread_and_raises_their_errors() -> None:
    worker = Worker("model-x")
    try:
        name = await worker.run(lambda: threading.current_thread().name)
        assert name.startswith("model-x") and name != threading.current_thread().name

        def broken() -> None:
            raise ValueError("bad input")

        with pytest.raises(ValueError, match="bad input"):
            await worker.run(broken)
    finally:
        await worker.close()


async def test_close_cancels_queued_calls_waits_for_the_running_one_then_unloads() -> None:
    worker = Worker("model-y")
    release = threading.Event()
    started = threading.Event()
    order: list[str] = []

    def running() -> str:
        started.set()
        release.wait(5)
        order.append("running")
        return "done"

    first = asyncio.ensure_future(worker.run(running))
    queued = asyncio.ensure_future(worker.run(order.append, "queued"))
    await asyncio.to_thread(started.wait, 5)

    def unload() -> None:
        order.append(f"unload on {threading.current_thread().name[:7]}")

    closing = asyncio.ensure_future(worker.close(unload))
    await asyncio.sleep(0)  # let close() cancel the queued call; the loop is not blocked
    assert not closing.done()
    release.set()
    await closing
    assert await first == "done"
    assert queued.cancelled()
    assert order == ["running", "unload on model-y"]
    with pytest.raises(WorkerClosed):
        await worker.run(order.append, "late")
    await worker.close()  # idempotent


async def test_a_cancelled_close_still_unloads_and_reraises() -> None:
    worker = Worker("model-z")
    release = threading.Event()
    started = threading.Event()
    unloaded = threading.Event()
    busy = asyncio.ensure_future(worker.run(lambda: (started.set(), release.wait(5))))
    await asyncio.to_thread(started.wait, 5)
    closing = asyncio.ensure_future(worker.close(unloaded.set))
    await asyncio.sleep(0)
    closing.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert unloaded.is_set()
    await busy


class _Model(ThreadedModel):
    def __init__(self, fail: bool = False) -> None:
        super().__init__("toy-model")
        self.fail = fail
        self.events: list[tuple[str, str]] = []

    def _load(self) -> None:
        self.events.append(("load", threading.current_thread().name))
        if self.fail:
            raise OSError("no weights")

    def _unload(self) -> None:
        self.events.append(("unload", threading.current_thread().name))

    async def square(self, n: int) -> int:
        return await self.worker.run(lambda: n * n)


async def test_threaded_model_loads_and_unloads_on_its_worker() -> None:
    async with _Model() as model:
        assert await model.square(7) == 49
        assert [name.startswith("toy-model") for _, name in model.events] == [True]
    assert [what for what, _ in model.events] == ["load", "unload"]
    assert model.worker.closed


async def test_a_failed_load_ends_the_worker() -> None:
    model = _Model(fail=True)
    with pytest.raises(OSError, match="no weights"):
        async with model:
            pytest.fail("entered a model that did not load")
    assert model.worker.closed
    assert [what for what, _ in model.events] == ["load"]
