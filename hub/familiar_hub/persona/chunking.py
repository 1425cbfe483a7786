"""Cutting clean text into overlapping passages on sentence boundaries. Pure functions.

Sentences are cut by the one splitter (`familiar_hub.tts.sentences.split_sentences`).
"""

from __future__ import annotations

import re

from familiar_hub.tts.sentences import split_sentences

__all__ = ["chunk_text", "count_tokens", "split_sentences"]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    """A cheap estimate of model tokens: words and punctuation, words past 6 letters twice."""
    return sum(2 if len(t) > 6 else 1 for t in _TOKEN.findall(text))


def _split_long(sentence: str, limit: int) -> list[str]:
    """A sentence longer than ``limit`` tokens (a table, a run-on line) is cut by words."""
    words = sentence.split()
    out: list[str] = []
    current: list[str] = []
    size = 0
    for word in words:
        cost = count_tokens(word)
        if current and size + cost > limit:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(word)
        size += cost
    if current:
        out.append(" ".join(current))
    return out


def chunk_text(text: str, target_tokens: int = 500, overlap_tokens: int = 60) -> list[str]:
    """Passages of about ``target_tokens``, cut between sentences, each starting with the last
    sentences (about ``overlap_tokens``) of the one before."""
    sentences: list[str] = []
    for sentence in split_sentences(text):
        if count_tokens(sentence) > target_tokens:
            sentences += _split_long(sentence, target_tokens)
        else:
            sentences.append(sentence)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    fresh = 0  # sentences in ``current`` not carried over from the previous chunk
    for sentence in sentences:
        cost = count_tokens(sentence)
        if current and size + cost > target_tokens and fresh:
            chunks.append(" ".join(current))
            carried: list[str] = []
            carried_size = 0
            for previous in reversed(current):
                previous_cost = count_tokens(previous)
                if carried_size + previous_cost > overlap_tokens:
                    break
                carried.insert(0, previous)
                carried_size += previous_cost
            if carried_size + cost > target_tokens:
                carried, carried_size = [], 0
            current, size, fresh = carried, carried_size, 0
        current.append(sentence)
        size += cost
        fresh += 1
    if current and fresh:
        chunks.append(" ".join(current))
    return chunks
