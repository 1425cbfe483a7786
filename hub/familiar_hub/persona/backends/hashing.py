"""A torch-free embedder: hashed word and character-trigram counts, L2-normalised.

It finds passages sharing words with the query, not paraphrases. It is the shipped test
double for store logic and a fallback on machines without the sentence model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from familiar.threads import ThreadedModel
from familiar_hub.persona.backend import Vectors

_WORD = re.compile(r"\w+", re.UNICODE)


def _bucket(feature: str, dim: int) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=4).digest(), "little") % dim


class HashingEmbedder(ThreadedModel):
    def __init__(self, dim: int = 384) -> None:
        super().__init__("embed")
        self._dim = dim

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, _bucket(word, self._dim)] += 1.0
                padded = f"#{word}#"
                for start in range(len(padded) - 2):
                    out[row, _bucket(padded[start : start + 3], self._dim)] += 0.25
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self.worker.run(self._embed, list(texts))

    async def embed_query(self, text: str) -> Vectors:
        return np.asarray((await self.embed([text]))[0], dtype=np.float32)
