"""all-MiniLM-L6-v2 (or another sentence-transformers model) loaded by path, offline."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from familiar.errors import BackendError
from familiar.threads import ThreadedModel
from familiar_hub import models
from familiar_hub.persona.backend import Vectors
from familiar_hub.persona.config import EmbedderConfig

_LOGGER = logging.getLogger(__name__)


class SentenceTransformerEmbedder(ThreadedModel):
    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__("embed")
        self.config = config
        self._model: Any = None
        self._dim = 0

    @property
    def name(self) -> str:
        return f"st:{self.config.model}"

    @property
    def dim(self) -> int:
        return self._dim

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        path = models.resolve(self.config.model)
        _LOGGER.info("loading embedder %s", path)
        try:
            model = SentenceTransformer(str(path), device=self.config.device, local_files_only=True)
        except (OSError, ValueError) as err:
            raise BackendError(f"cannot load embedder {path}: {err}") from err
        model.max_seq_length = self.config.max_tokens
        # sentence-transformers >= 6 renamed get_sentence_embedding_dimension
        getter = getattr(model, "get_embedding_dimension", None)
        dim = getter() if getter is not None else model.get_sentence_embedding_dimension()
        if dim is None:
            raise BackendError(f"{path}: the model does not say its embedding size")
        self._dim = int(dim)
        self._model = model

    def _unload(self) -> None:
        self._model = None

    def _embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.config.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self.worker.run(self._embed, list(texts))

    def _embed_query(self, text: str) -> Vectors:
        """One short text on one torch thread: splitting a dozen tokens over two threads
        gains nothing, and on a busy CPU the second thread's wait cost 350 ms where one
        thread takes 50 (bench/persona_bench.py); batches keep torch's threads."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return np.asarray(self._embed([text])[0], dtype=np.float32)
        finally:
            torch.set_num_threads(threads)

    async def embed_query(self, text: str) -> Vectors:
        return np.asarray(await self.worker.run(self._embed_query, text), dtype=np.float32)
