"""What the persona store needs from its model backends (each behind a small Protocol)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
"""Rows of L2-normalised float32 embeddings."""


class Embedder(Protocol):
    """Sentence embeddings, computed on the backend's own worker thread."""

    @property
    def name(self) -> str:
        """Identifies the vector space: a store refuses vectors from another model."""
        ...

    @property
    def dim(self) -> int: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per passage (batched inside)."""
        ...

    async def embed_query(self, text: str) -> Vectors:
        """One L2-normalised vector for a search query (models such as E5 embed questions
        and passages differently)."""
        ...


@dataclass(frozen=True)
class ClipAudio:
    """Mono float32 audio in [-1, 1]."""

    samples: npt.NDArray[np.float32]
    rate: int


class SpeakerEncoder(Protocol):
    """Speaker embeddings (who is talking), on the backend's own worker thread."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def embed_speaker(self, clip: ClipAudio) -> Vectors:
        """An L2-normalised speaker vector for one clip of speech."""
        ...
