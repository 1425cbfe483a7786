"""``cancel_and_wait`` stops a task whose first cancellation was swallowed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from familiar.tasks import cancel_and_wait


async def test_a_swallowed_cancel_is_repeated() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        # What asyncio.wait_for on Python 3.11 may do when the result and the cancel meet.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        swallowed.set()
        await asyncio.sleep(3600)  # the second cancel ends it

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], timeout=5.0) == set()
    assert swallowed.is_set() and task.cancelled()


async def test_a_task_that_never_stops_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    release = False

    async def immortal() -> None:
        while not release:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(immortal(), name="immortal")
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], timeout=0.5) == {task}
    assert "immortal did not stop" in caplog.text
    release = True
    assert await cancel_and_wait([task]) == set()


async def test_exceptions_are_consumed() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == set()
