"""Where the brain's passages come from: the persona store when configured, else nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from familiar_hub.persona.api import Passage, Retriever, StyleProfile

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
    """The persona store's retriever for ``persona.yaml``; an empty one when there is none
    (the hub still starts, and questions about the persona are declined)."""
    if persona_config is None:
        _LOGGER.info("no persona store configured: answers will say they don't know")
        yield EmptyRetriever()
        return
    path = await asyncio.to_thread(_existing, persona_config)
    if path is None:
        _LOGGER.warning("persona config %s does not exist: no documents", persona_config)
        yield EmptyRetriever()
        return
    from familiar.config import load_config
    from familiar_hub.persona.config import PersonaConfig
    from familiar_hub.persona.retriever import open_retriever as open_persona

    config = await asyncio.to_thread(load_config, PersonaConfig, path)
    async with open_persona(config) as retriever:
        yield retriever
