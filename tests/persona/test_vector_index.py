"""The in-memory vector index: exact top-k, filters, removals, and its background statistics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from familiar_hub.persona.vector_index import Filter, IndexRow, VectorIndex


def unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def rows(vectors: np.ndarray, start: int = 1) -> list[IndexRow]:
    return [
        IndexRow(
            chunk_id=start + i,
            vector=v,
            author="Priya" if i % 3 == 0 else "Arun",
            kind="email" if i % 2 else "pdf",
            year=2015 + i % 10,
            by_persona=i % 3 == 0,
        )
        for i, v in enumerate(vectors)
    ]


def brute_force(
    index_rows: list[IndexRow], query: np.ndarray, k: int, keep: Callable[[IndexRow], bool]
) -> list[int]:
    scored = [(float(r.vector @ query), r.chunk_id) for r in index_rows if keep(r)]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [chunk_id for _, chunk_id in scored[:k]]


def test_top_k_is_exact_and_filters_are_applied() -> None:
    rng = np.random.default_rng(3)
    data = rows(unit(rng, 3000))
    index = VectorIndex(16)
    index.add(data)
    for query in unit(rng, 20):
        hits = index.search(query, 7)
        assert [c for c, _ in hits.best] == brute_force(data, query, 7, lambda r: True)
        where = Filter(by_persona=True, kind="email", year_from=2018, year_to=2022)
        filtered = index.search(query, 5, where)
        expected = brute_force(
            data,
            query,
            5,
            lambda r: r.by_persona and r.kind == "email" and 2018 <= r.year <= 2022,
        )
        assert [c for c, _ in filtered.best] == expected
        by_author = index.search(query, 3, Filter(author="Arun", by_persona=False))
        assert [c for c, _ in by_author.best] == brute_force(
            data, query, 3, lambda r: r.author == "Arun"
        )


def test_unknown_filter_values_and_zero_query_find_nothing() -> None:
    index = VectorIndex(16)
    index.add(rows(unit(np.random.default_rng(1), 50)))
    query = unit(np.random.default_rng(2), 1)[0]
    assert index.search(query, 5, Filter(kind="docx")).best == []
    assert index.search(query, 5, Filter(author="Nobody")).best == []
    assert index.search(np.zeros(16, dtype=np.float32), 5).best == []
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.ones(8, dtype=np.float32), 5)


def test_removed_rows_are_never_returned_and_compaction_keeps_the_rest() -> None:
    rng = np.random.default_rng(5)
    data = rows(unit(rng, 5000))
    index = VectorIndex(16)
    index.add(data)
    gone = {r.chunk_id for r in data[::2]}  # half: forces a compaction
    index.remove(gone)
    assert len(index) == 2500
    left = [r for r in data if r.chunk_id not in gone]
    for query in unit(rng, 10):
        got = [c for c, _ in index.search(query, 10).best]
        assert not set(got) & gone
        assert got == brute_force(left, query, 10, lambda r: True)
    # adding a row again replaces the old one instead of duplicating it
    moved = IndexRow(left[0].chunk_id, -left[0].vector, "Arun", "pdf", 2020, False)
    index.add([moved])
    assert len(index) == 2500
    best = index.search(-left[0].vector, 1).best
    assert best[0][0] == left[0].chunk_id and best[0][1] == pytest.approx(1.0, abs=1e-5)


def test_background_says_how_far_a_match_stands_out() -> None:
    rng = np.random.default_rng(9)
    data = unit(rng, 400)
    index = VectorIndex(16)
    index.add(rows(data))
    hits = index.search(data[17], 3)
    scores = data @ data[17]
    assert hits.count == 400
    assert hits.mean == pytest.approx(float(scores.mean()), abs=1e-5)
    assert hits.std == pytest.approx(float(scores.std()), abs=1e-5)
    z = hits.z(hits.best[0][1])
    assert hits.best[0][0] == 18 and z is not None and z > 3
    small = VectorIndex(16)
    small.add(rows(data[:5]))
    assert small.search(data[0], 1).z(1.0) is None  # too few rows to say


def structured(rng: np.random.Generator, n: int, dim: int = 96) -> np.ndarray:
    """Sentence-embedding-like rows: topic clusters plus noise with a decaying spectrum."""
    centres = rng.standard_normal((64, dim)).astype(np.float32)
    scale = (1.0 / np.sqrt(np.arange(1, dim + 1))).astype(np.float32)
    noise = rng.standard_normal((n, dim)).astype(np.float32) * scale
    vectors = centres[rng.integers(0, 64, n)] * 0.5 + noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_large_indexes_search_a_projection_first_and_keep_recall() -> None:
    from familiar_hub.persona import vector_index

    rng = np.random.default_rng(21)
    data = rows(structured(rng, vector_index.COARSE_ROWS + 5000))
    index = VectorIndex(96)
    index.add(data[:10_000])
    assert index._basis is None  # small: exact scans only
    index.add(data[10_000:])
    assert index._basis is not None
    queries = structured(rng, 60)
    found = found_filtered = 0
    for query in queries:
        hits = index.search(query, 5)
        exact = brute_force(data, query, 5, lambda r: True)
        found += len({c for c, _ in hits.best} & set(exact))
        scores = np.stack([r.vector for r in data]) @ query
        assert hits.mean == pytest.approx(float(scores.mean()), abs=1e-4)
        assert hits.std == pytest.approx(float(scores.std()), abs=1e-4)
        mine = index.search(query, 5, Filter(by_persona=True, year_from=2020))
        assert all(data[c - 1].by_persona and data[c - 1].year >= 2020 for c, _ in mine.best)
        wanted = brute_force(data, query, 5, lambda r: r.by_persona and r.year >= 2020)
        found_filtered += len({c for c, _ in mine.best} & set(wanted))
        assert mine.count == sum(1 for r in data if r.by_persona and r.year >= 2020)
    assert found / (5 * len(queries)) >= 0.98
    assert found_filtered / (5 * len(queries)) >= 0.98
    # removed rows leave the results and the background
    gone = [c for c, _ in index.search(queries[0], 3).best]
    index.remove(gone)
    assert not set(gone) & {c for c, _ in index.search(queries[0], 10).best}
    left = [r for r in data if r.chunk_id not in gone]
    scores = np.stack([r.vector for r in left]) @ queries[0]
    assert index.search(queries[0], 1).mean == pytest.approx(float(scores.mean()), abs=1e-4)


def test_principal_directions_are_those_of_the_rows() -> None:
    """The projection is fitted from the kept second moment: it spans the same leading
    directions as an SVD of every live row."""
    from familiar_hub.persona import vector_index

    rng = np.random.default_rng(5)
    data = structured(rng, vector_index.COARSE_ROWS + 100)
    index = VectorIndex(96)
    index.add(rows(data))
    assert index._basis is not None
    _, _, vt = np.linalg.svd(data.astype(np.float64), full_matrices=False)
    top = vt[:8].T  # the clearest directions: their subspace must be the same
    mine = index._basis[:, :8].astype(np.float64)
    overlap = np.linalg.svd(top.T @ mine, compute_uv=False)
    assert overlap.min() > 0.999


def test_searches_use_one_blas_thread_and_restore_it() -> None:
    from threadpoolctl import threadpool_info

    from familiar_hub.persona import vector_index

    def blas_threads() -> list[int]:
        return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    assert before  # numpy's BLAS is there to limit
    with vector_index._one_blas_thread():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
