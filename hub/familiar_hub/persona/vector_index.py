"""The vector half of search held in memory: one float32 matrix beside the SQLite store.

sqlite-vec's vec0 scans its pages for every query (~100 ms at 100k chunks on 2 cores); a
contiguous matrix multiplied by the query is exact cosine search at memory speed. The
SQLite table stays the persistent truth: the index is loaded from it when the store opens
and changed only after a transaction commits, on the store's own thread, so a search never
sees a half-written file. Filters (own writing, kind, author, year) are column arrays beside
the matrix, so filtered searches cost the same as unfiltered ones.

Deleted rows become tombstones (skipped by every search) and the matrix is compacted once a
quarter of it is dead, so forgetting a file is cheap and re-ingesting one does not copy the
whole matrix each time.

A search multiplies with one BLAS thread: the products are small (a few MB), and OpenBLAS's
threads wait for each other at every product, so on a busy CPU (the hub's models, other
processes) a two-thread product took 10-20 ms where one thread takes under 1 ms
(bench/persona_bench.py measures both in one run). Adding rows does the same (the moment
update and the principal directions: a 384-square eigenproblem took 2 s with two threads on a
busy CPU).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

_BLOCK = 16_384
"""Rows multiplied at once: bounds the temporary scores array and keeps a block in cache."""

COARSE_ROWS = 20_000
"""From this many rows on, a search first scans a low-dimensional projection of the matrix
(a sixth of the memory) and re-ranks its best candidates exactly."""
COARSE_DIM = 64
COARSE_CANDIDATES = 1024
"""Candidates re-ranked exactly (at least 32 per result asked for)."""

SINGLE_BLAS_THREAD = True
"""Searches multiply with one BLAS thread (see the module's docstring); a switch for the
bench's before/after pair."""


_controller: tuple[int, Any] | None = None


def _blas() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, looked again after any import (a
    library loaded later, e.g. torch's, would otherwise keep its threads)."""
    global _controller  # noqa: PLW0603 - one controller per set of loaded modules
    loaded = len(sys.modules)
    if _controller is None or _controller[0] != loaded:
        from threadpoolctl import ThreadpoolController

        _controller = (loaded, ThreadpoolController())
    return _controller[1]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while the block runs (process-wide, restored after)."""
    if not SINGLE_BLAS_THREAD:
        yield
        return
    with _blas().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class IndexRow:
    """One chunk's vector and the metadata a search may filter on."""

    chunk_id: int
    vector: npt.NDArray[np.float32]
    author: str
    kind: str
    year: int
    by_persona: bool


@dataclass(frozen=True)
class Filter:
    """Restrictions of one search; None means any."""

    by_persona: bool | None = None
    kind: str | None = None
    author: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    @property
    def empty(self) -> bool:
        return (
            self.by_persona is None
            and self.kind is None
            and self.author is None
            and self.year_from is None
            and self.year_to is None
        )


@dataclass(frozen=True)
class Hits:
    """The best rows of one search and how the query scored against every row it could see."""

    best: list[tuple[int, float]]
    """``(chunk_id, cosine)``, best first (ties by chunk id)."""
    mean: float = 0.0
    """Mean cosine of the query to every row passing the filter: the store's background."""
    std: float = 0.0
    count: int = 0
    """Rows passing the filter."""

    def z(self, similarity: float) -> float | None:
        """How many standard deviations ``similarity`` stands above the background (None
        when too few rows were seen to say)."""
        if self.count < 8 or self.std <= 1e-6:
            return None
        return (similarity - self.mean) / self.std


class _Codes:
    """Strings as small integer codes (columns compare integers, not strings)."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def code(self, value: str) -> int:
        return self._codes.setdefault(value, len(self._codes))

    def find(self, value: str) -> int | None:
        return self._codes.get(value)


class VectorIndex:
    """Cosine top-k over L2-normalised rows, with metadata filters: exact up to
    ``COARSE_ROWS`` rows, then a projected first pass and an exact re-ranking (recall@5
    against the exact search is measured in bench/persona_bench.py). Not thread-safe: the
    store calls it from its one database thread."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._by_persona = np.zeros(0, dtype=bool)
        self._year = np.zeros(0, dtype=np.int32)
        self._kind = np.zeros(0, dtype=np.int32)
        self._author = np.zeros(0, dtype=np.int32)
        self._size = 0
        self._dead = 0
        self._rows: dict[int, int] = {}
        self._kinds = _Codes()
        self._authors = _Codes()
        # the coarse stage: principal directions of the rows, and every row projected on them
        self._basis: npt.NDArray[np.float32] | None = None
        self._coarse = np.zeros((0, COARSE_DIM), dtype=np.float32)
        self._fitted_rows = 0
        # sum and second moment of the live rows: the exact background of unfiltered searches
        self._sum = np.zeros(dim, dtype=np.float64)
        self._moment = np.zeros((dim, dim), dtype=np.float64)

    def __len__(self) -> int:
        return self._size - self._dead

    def __contains__(self, chunk_id: int) -> bool:
        return chunk_id in self._rows

    @property
    def nbytes(self) -> int:
        return int(self._vectors[: self._size].nbytes)

    def _grow(self, need: int) -> None:
        capacity = self._vectors.shape[0]
        if need <= capacity:
            return
        new = max(need, capacity * 2, 1024)

        def grown(array: Any) -> Any:
            shape = (new, *array.shape[1:])
            out = np.zeros(shape, dtype=array.dtype)
            out[: self._size] = array[: self._size]
            return out

        self._vectors = grown(self._vectors)
        self._coarse = grown(self._coarse)
        self._ids = grown(self._ids)
        self._alive = grown(self._alive)
        self._by_persona = grown(self._by_persona)
        self._year = grown(self._year)
        self._kind = grown(self._kind)
        self._author = grown(self._author)

    def add(self, rows: Sequence[IndexRow]) -> None:
        """Add (or replace) rows. Vectors must be L2-normalised and ``dim`` long."""
        with _one_blas_thread():
            self._add(rows)

    def _add(self, rows: Sequence[IndexRow]) -> None:
        replaced = [r.chunk_id for r in rows if r.chunk_id in self._rows]
        if replaced:
            self.remove(replaced)
        self._grow(self._size + len(rows))
        first = self._size
        for row in rows:
            vector = np.asarray(row.vector, dtype=np.float32).reshape(-1)
            if vector.shape[0] != self.dim:
                raise ValueError(f"vector has {vector.shape[0]} dimensions, not {self.dim}")
            at = self._size
            self._vectors[at] = vector
            self._ids[at] = row.chunk_id
            self._alive[at] = True
            self._by_persona[at] = row.by_persona
            self._year[at] = row.year
            self._kind[at] = self._kinds.code(row.kind)
            self._author[at] = self._authors.code(row.author)
            self._rows[row.chunk_id] = at
            self._size += 1
        added = self._vectors[first : self._size].astype(np.float64)
        self._sum += added.sum(axis=0)
        self._moment += added.T @ added
        if self._basis is not None:
            self._coarse[first : self._size] = self._vectors[first : self._size] @ self._basis
        if len(self) >= COARSE_ROWS and len(self) >= 2 * self._fitted_rows:
            self._fit()

    def _fit(self) -> None:
        """Principal directions of the live rows; every row projected on them.

        They are the leading eigenvectors of the rows' second moment, which the index keeps
        anyway: a ``dim``-square eigenproblem (milliseconds) instead of an SVD of the rows
        (seconds at 20k rows; opening a 100k store paid three of them)."""
        values, vectors = np.linalg.eigh(self._moment)
        leading = np.argsort(values)[::-1][:COARSE_DIM]
        self._basis = np.ascontiguousarray(vectors[:, leading], dtype=np.float32)
        for start in range(0, self._size, _BLOCK):
            stop = min(start + _BLOCK, self._size)
            self._coarse[start:stop] = self._vectors[start:stop] @ self._basis
        self._fitted_rows = len(self)

    def remove(self, chunk_ids: Iterable[int]) -> None:
        gone = []
        for chunk_id in chunk_ids:
            at = self._rows.pop(chunk_id, None)
            if at is not None:
                self._alive[at] = False
                self._dead += 1
                gone.append(at)
        if gone:
            removed = self._vectors[gone].astype(np.float64)
            self._sum -= removed.sum(axis=0)
            self._moment -= removed.T @ removed
        if self._dead > 1024 and self._dead * 4 > self._size:
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._size])
        self._vectors = np.ascontiguousarray(self._vectors[keep])
        self._coarse = np.ascontiguousarray(self._coarse[keep])
        self._ids = self._ids[keep]
        self._alive = self._alive[keep]
        self._by_persona = self._by_persona[keep]
        self._year = self._year[keep]
        self._kind = self._kind[keep]
        self._author = self._author[keep]
        self._size = len(keep)
        self._dead = 0
        self._rows = {int(chunk_id): at for at, chunk_id in enumerate(self._ids.tolist())}

    def _mask(self, start: int, stop: int, where: Filter) -> npt.NDArray[np.bool_] | None:
        """Rows of ``[start, stop)`` a search may return; None when every row may be."""
        mask: npt.NDArray[np.bool_] | None = None if self._dead == 0 else self._alive[start:stop]

        def both(extra: npt.NDArray[np.bool_]) -> None:
            nonlocal mask
            mask = extra if mask is None else mask & extra

        if where.by_persona is not None:
            column = self._by_persona[start:stop]
            both(column if where.by_persona else ~column)
        if where.kind is not None:
            both(self._kind[start:stop] == self._kinds.find(where.kind))
        if where.author is not None:
            both(self._author[start:stop] == self._authors.find(where.author))
        if where.year_from is not None:
            both(self._year[start:stop] >= where.year_from)
        if where.year_to is not None:
            both(self._year[start:stop] <= where.year_to)
        return mask

    def search(self, query: npt.NDArray[np.float32], k: int, where: Filter | None = None) -> Hits:
        """The ``k`` most similar live rows passing ``where``, and the background."""
        with _one_blas_thread():
            return self._search(query, k, where)

    def _search(self, query: npt.NDArray[np.float32], k: int, where: Filter | None) -> Hits:
        if k <= 0 or len(self) == 0:
            return Hits([])
        where = where or Filter()
        if where.kind is not None and self._kinds.find(where.kind) is None:
            return Hits([])
        if where.author is not None and self._authors.find(where.author) is None:
            return Hits([])
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query has {q.shape[0]} dimensions, not {self.dim}")
        if not np.any(q):
            return Hits([])  # a zero vector has no direction
        if self._basis is not None and len(self) >= COARSE_ROWS:
            return self._search_coarse(q, k, where)
        best_ids: list[npt.NDArray[np.int64]] = []
        best_scores: list[npt.NDArray[np.float32]] = []
        total = 0.0
        squares = 0.0
        count = 0
        for start in range(0, self._size, _BLOCK):
            stop = min(start + _BLOCK, self._size)
            scores = self._vectors[start:stop] @ q
            mask = self._mask(start, stop, where)
            if mask is not None:
                picked = np.flatnonzero(mask)
                if picked.size == 0:
                    continue
                scores = scores[picked]
                ids = self._ids[start:stop][picked]
            else:
                ids = self._ids[start:stop]
            total += float(scores.sum(dtype=np.float64))
            squares += float(np.dot(scores, scores))
            count += scores.shape[0]
            if scores.shape[0] > k:
                top = np.argpartition(scores, -k)[-k:]
                scores, ids = scores[top], ids[top]
            best_ids.append(ids)
            best_scores.append(scores)
        if not best_ids:
            return Hits([])
        all_ids = np.concatenate(best_ids)
        all_scores = np.concatenate(best_scores)
        order = np.lexsort((all_ids, -all_scores))[:k]
        mean = total / count
        std = max(squares / count - mean * mean, 0.0) ** 0.5
        best = [(int(all_ids[i]), float(all_scores[i])) for i in order]
        return Hits(best, mean, std, count)

    def _search_coarse(self, q: npt.NDArray[np.float32], k: int, where: Filter) -> Hits:
        """Scan the projection, re-rank the best candidates exactly."""
        assert self._basis is not None
        n = self._size
        rough = self._coarse[:n] @ (q @ self._basis)
        mask = self._mask(0, n, where)
        # only the rows a search may return are ranked: selecting among a mostly masked-out
        # array (-inf ties) cost 5 ms at 100k rows, more than the product
        rows = None if mask is None else np.flatnonzero(mask)
        scores = rough if rows is None else rough[rows]
        count = scores.size
        if count == 0:
            return Hits([])
        wanted = min(count, max(COARSE_CANDIDATES, 32 * k))
        top = np.argpartition(scores, -wanted)[-wanted:] if wanted < count else np.arange(count)
        picked = top if rows is None else rows[top]
        exact = self._vectors[picked] @ q
        ids = self._ids[picked]
        order = np.lexsort((ids, -exact))[:k]
        best = [(int(ids[i]), float(exact[i])) for i in order]
        if where.empty:  # exact, from the running moments of every live row
            alive = len(self)
            mean = float(self._sum @ q) / alive
            second = float(q @ self._moment @ q) / alive
        else:  # the filtered rows' projected scores: close, not exact
            mean = float(scores.mean())
            second = float(np.dot(scores, scores)) / count
        return Hits(best, mean, max(second - mean * mean, 0.0) ** 0.5, count)
