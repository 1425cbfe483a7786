"""The bounded queue of outgoing messages (latest state wins; oldest state dropped first)."""

from __future__ import annotations

import asyncio
from collections import deque

from familiar.mqtt.updates import Outgoing


class Outbox:
    """Bounded queue of outgoing messages.

    A retained (state) message replaces a pending one on the same topic: only the latest state
    is worth sending. When full, the oldest state is dropped first (it is re-sent from the
    snapshot on the next connect anyway), else the oldest event.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self.dropped = 0
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[Outgoing]:
        return list(self._items)

    def put(self, message: Outgoing) -> None:
        if message.retain:
            for index, old in enumerate(self._items):
                if old.retain and old.topic == message.topic:
                    del self._items[index]
                    break
        if len(self._items) >= self.maxsize:
            self._drop_one()
        self._items.append(message)
        self._ready.set()

    def _drop_one(self) -> None:
        self.dropped += 1
        for index, old in enumerate(self._items):
            if old.retain:
                del self._items[index]
                return
        self._items.popleft()

    def drop_retained(self) -> None:
        """Forget pending state (a full snapshot is about to be sent)."""
        self._items = deque(m for m in self._items if not m.retain)
        if not self._items:
            self._ready.clear()

    def get_nowait(self) -> Outgoing | None:
        if not self._items:
            self._ready.clear()
            return None
        message = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return message

    async def get(self) -> Outgoing:
        while True:
            message = self.get_nowait()
            if message is not None:
                return message
            await self._ready.wait()

    def push_front(self, message: Outgoing) -> None:
        """Put back a message whose publish failed (bounded like :meth:`put`)."""
        if len(self._items) >= self.maxsize:
            if message.retain:
                return  # the snapshot re-sends state
            self._drop_one()
        self._items.appendleft(message)
        self._ready.set()
