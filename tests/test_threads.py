"""iterate_in_thread: items in order, errors raised at the consumer, early exits stop the worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from familiar.threads import iterate_in_thread


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
