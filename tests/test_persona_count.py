"""The "Persona store size" sensor gets a number (it was always unknown)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from familiar_hub.app import Loaded, _count_persona
from familiar_hub.persona.store import PersonaStore


async def test_the_count_comes_from_the_store(tmp_path: Path) -> None:
    async with PersonaStore(tmp_path / "store.db", dim=4) as store:
        stats = await store.stats()
        loaded = Loaded()
        loaded.brain = SimpleNamespace(retriever=SimpleNamespace(store=store))  # type: ignore[assignment]
        task = asyncio.create_task(_count_persona(loaded, 3600))
        try:
            async with asyncio.timeout(10):
                while loaded.persona_chunks is None:  # noqa: ASYNC110 (the first count)
                    await asyncio.sleep(0)
        finally:
            task.cancel()
    assert loaded.persona_chunks == stats.chunks == 0


async def test_no_store_no_count() -> None:
    loaded: Any = Loaded()
    loaded.brain = SimpleNamespace(retriever=object())
    await _count_persona(loaded, 3600)  # returns at once: nothing to count
    assert loaded.persona_chunks is None
