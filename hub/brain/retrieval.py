"""Where the brain's passages come from: the persona store when configured, else nothing."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from hub.persona.api import Passage, Retriever, StyleProfile

_LOGGER = logging.getLogger(__name__)


class EmptyRetriever:
    """No persona store: nothing is found, so questions about the persona are declined."""

    async def search(self, query: str, k: int = 5) -> list[Passage]:
        return []

    async def style(self) -> StyleProfile | None:
        return None


def _existing(value: str) -> Path | None:
    path = Path(value).expanduser()
    return path if path.exists() else None


@contextlib.asynccontextmanager
async def open_retriever(persona_config: str | None) -> AsyncIterator[Retriever]:
    """The persona store's retriever for ``persona.yaml``; an empty one when there is none.

    The persona store (``hub.persona``) provides ``open_retriever(path)``, an async context
    manager yielding a ``Retriever``; the hub must still start without it.
    """
    if persona_config is None:
        _LOGGER.info("no persona store configured: answers will say they don't know")
        yield EmptyRetriever()
        return
    path = await asyncio.to_thread(_existing, persona_config)
    if path is None:
        _LOGGER.warning("persona config %s does not exist: no documents", persona_config)
        yield EmptyRetriever()
        return
    persona = importlib.import_module("hub.persona")
    opener = getattr(persona, "open_retriever", None)
    if opener is None:
        _LOGGER.warning(
            "this build has no persona store (hub.persona.open_retriever): no documents"
        )
        yield EmptyRetriever()
        return
    async with opener(path) as retriever:
        yield retriever
