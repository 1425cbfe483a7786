"""What the brain uses: the persona store opened with its embedder, as a ``Retriever``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from familiar_hub.persona.api import Passage, Retriever, StyleProfile
from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.backends import make_embedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.store import PersonaStore


class PersonaRetriever:
    """Hybrid search (keywords + vectors, RRF) and the style profile of one persona."""

    def __init__(self, store: PersonaStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    async def search(
        self,
        query: str,
        k: int = 5,
        *,
        by_persona: bool | None = None,
        kind: str | None = None,
        author: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
    ) -> list[Passage]:
        vector = await self.embedder.embed_query(query) if query.strip() else None
        return await self.store.search(
            vector,
            query,
            k,
            by_persona=by_persona,
            kind=kind,
            author=author,
            year_from=year_from,
            year_to=year_to,
        )

    async def style(self) -> StyleProfile | None:
        return await self.store.style()

    async def names(self, limit: int = 100) -> list[str]:
        """Names of the persona's world, most used first (hotwords for speech recognition)."""
        return await self.store.names(limit)


@asynccontextmanager
async def open_retriever(config: PersonaConfig) -> AsyncIterator[PersonaRetriever]:
    """Load the embedder and open the store (both released on exit)."""
    async with (
        make_embedder(config.embedder) as embedder,
        PersonaStore(
            config.store_path, embedder.dim, embedder.name, languages=config.languages
        ) as store,
    ):
        yield PersonaRetriever(store, embedder)


def _check(retriever: PersonaRetriever) -> Retriever:
    return retriever  # mypy: PersonaRetriever satisfies the brain's contract
