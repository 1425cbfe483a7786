"""Shared fixtures: the corpus, a config, and the real embedder loaded once per session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.config import PersonaConfig
from tests.persona.corpus import PERSONA, write_broken, write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    paths = write_corpus(tmp_path / "corpus")
    paths.update(write_broken(tmp_path / "corpus" / "broken"))
    paths["root"] = tmp_path / "corpus"
    return paths


def make_config(tmp_path: Path, **extra: object) -> PersonaConfig:
    return PersonaConfig.model_validate(
        {
            "name": "Priya",
            "addresses": [PERSONA],
            "names": ["Priya Raman", "Priya"],
            "languages": ["en", "ta"],
            "store": str(tmp_path / "data" / "persona.db"),
            "voice_dir": str(tmp_path / "data" / "voice"),
            **extra,
        }
    )


@pytest.fixture
def config(tmp_path: Path) -> PersonaConfig:
    return make_config(tmp_path, embedder={"model": "hashing"})


@pytest.fixture(scope="session")
def minilm() -> Iterator[Embedder]:
    """all-MiniLM-L6-v2, loaded once (its worker thread serves every test's loop)."""
    from familiar_hub.persona.backends.sentence_transformers import SentenceTransformerEmbedder
    from familiar_hub.persona.config import EmbedderConfig

    embedder = SentenceTransformerEmbedder(EmbedderConfig())
    asyncio.run(embedder.__aenter__())
    yield embedder
    asyncio.run(embedder.__aexit__(None, None, None))
