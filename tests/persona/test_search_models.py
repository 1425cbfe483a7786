"""Hybrid search with the real all-MiniLM-L6-v2: a rare keyword and a paraphrase."""

from __future__ import annotations

from pathlib import Path

import pytest

from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.ingest import Ingestor
from familiar_hub.persona.retriever import PersonaRetriever
from familiar_hub.persona.store import PersonaStore

pytestmark = pytest.mark.models


async def test_keyword_and_paraphrase(
    minilm: Embedder, config: PersonaConfig, corpus: dict[str, Path]
) -> None:
    async with PersonaStore(config.store_path, minilm.dim, minilm.name) as store:
        async with Ingestor(config, store, minilm) as ingestor:
            await ingestor.ingest([corpus["root"]])
        retriever = PersonaRetriever(store, minilm)

        rare = await retriever.search("glimmerwick", k=3)
        assert "glimmerwick" in rare[0].text and rare[0].keyword_hit
        assert rare[0].source.endswith("reply.eml#reply-1@example.org/itinerary.pdf")

        # no shared content words with "photovoltaic array ... eleven kilowatts at peak"
        paraphrase = await retriever.search("How much electricity do the sun collectors give?", k=3)
        assert paraphrase[0].source.endswith("solar.pdf")
        assert paraphrase[0].similarity is not None and paraphrase[0].similarity > 0.3

        cycling = await retriever.search("who mended my bike and what did it cost?", k=3)
        assert cycling[0].source.endswith("archive.mbox#bike-1@example.com")
        assert cycling[0].author == "Arun Kumar" and not cycling[0].by_persona

        unrelated = await retriever.search("quantum chromodynamics lattice gauge theory", k=3)
        assert all(p.similarity is None or p.similarity < 0.3 for p in unrelated)


async def test_a_query_is_embedded_as_in_a_batch_and_torch_keeps_its_threads(
    minilm: Embedder,
) -> None:
    import numpy as np
    import torch

    from familiar_hub.persona.backends.sentence_transformers import SentenceTransformerEmbedder

    assert isinstance(minilm, SentenceTransformerEmbedder)
    threads = await minilm.worker.run(torch.get_num_threads)
    query = await minilm.embed_query("who mended my bike?")
    batch = await minilm.embed(["who mended my bike?", "solar panels on the roof"])
    np.testing.assert_allclose(query, batch[0], atol=1e-5)
    assert await minilm.worker.run(torch.get_num_threads) == threads  # batches keep them
