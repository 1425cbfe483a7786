"""What the brain needs from the persona store (the contract between the two)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk with where it came from."""

    text: str
    source: str
    """File path (and message id for mail), shown to the LLM as the citation."""
    kind: str
    """``email``, ``pdf``, ``docx``, ``text`` ..."""
    author: str | None
    date: str | None
    """ISO 8601 date, when known."""
    subject: str | None
    score: float
    """Fused relevance (higher is better)."""
    by_persona: bool
    """Written by the persona (style evidence) rather than to them."""
    recipient: str | None = None
    """Who a mail went to, when known."""
    similarity: float | None = None
    """Cosine similarity of the passage to the query when the vector half found it (0..1 for
    related text); None for a keyword-only hit. Lets the brain say "I don't know"."""
    keyword_hit: bool = False
    """The keyword half (FTS5) found it too."""
    vector_rank: int | None = None
    """Its rank (1 = best) in the vector half's candidates; None when not among them."""
    keyword_rank: int | None = None
    """Its rank (1 = best) in the keyword half's candidates; None when not among them."""
    distinctiveness: float | None = None
    """How far its similarity stands above the query's similarity to the rest of the store, in
    standard deviations (model- and language-independent, unlike the raw cosine); None when the
    store is too small to say."""
    keyword_coverage: float = 0.0
    """Share (0..1) of the question's keyword weight (idf) found in the passage."""


@dataclass(frozen=True)
class StyleProfile:
    """How the persona writes, learned from their own text."""

    greetings: list[str] = field(default_factory=list)
    """Whole greeting lines as written, most used first (``Kanna,``, ``Ravi anna, vanakkam!``)."""
    sign_offs: list[str] = field(default_factory=list)
    """Closing blocks as written, lines joined by a space (``Seri, bye. Amma``, ``H.``)."""
    mean_sentence_words: float = 0.0
    formality: str = "neutral"
    """``casual``, ``neutral`` or ``formal``."""
    phrases: list[str] = field(default_factory=list)
    """Favourite phrases, most characteristic first."""
    languages: list[str] = field(default_factory=list)
    """Languages they mix, most used first (e.g. ``["en", "ta"]``)."""
    examples: list[str] = field(default_factory=list)
    """A handful of their real sentences."""
    mixed_words: list[str] = field(default_factory=list)
    """Words of their other language they drop into English (e.g. romanised Tamil ``seri``)."""
    evidence_texts: int = 0
    """How many of their own texts the profile was learned from."""
    address_terms: list[str] = field(default_factory=list)
    """Terms of endearment or kinship they greet people with, usable for whoever is speaking
    (``Kanna``, ``cariño``); never a person's name."""
    greeting_words: list[str] = field(default_factory=list)
    """Spoken greeting words of theirs (``vanakkam``, ``hola``); written-only ones such as
    ``Dear`` are left out."""
    farewells: list[str] = field(default_factory=list)
    """Closing phrases without the name under them (``Seri, bye.``, ``Anbudan,``)."""
    signatures: list[str] = field(default_factory=list)
    """Names or initials they sign with (``Amma``, ``H.``)."""
    closers: list[str] = field(default_factory=list)
    """Short last lines they end many texts with (``Simple. Done.``, ``Nothing further.``)."""
    openers: list[str] = field(default_factory=list)
    """Words they often start a sentence with, comma after (``Seri``, ``Bueno``)."""
    tone_evidence: list[str] = field(default_factory=list)
    """What the ``formality`` verdict rests on, in words."""


class Retriever(Protocol):
    """Hybrid search over the persona store."""

    async def search(self, query: str, k: int = 5) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first (keyword and vector ranks fused)."""
        ...

    async def style(self) -> StyleProfile | None: ...
