"""Model backends of the persona store; the only modules importing heavy libraries."""

from __future__ import annotations

from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.config import EmbedderConfig


def make_embedder(config: EmbedderConfig) -> Embedder:
    """``hashing`` is the torch-free keyword-vector fallback; anything else is MiniLM-style."""
    if config.model == "hashing":
        from familiar_hub.persona.backends.hashing import HashingEmbedder

        return HashingEmbedder()
    from familiar_hub.persona.backends.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(config)
