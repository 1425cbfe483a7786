"""Does a retrieved passage hold the answer? Evidence that holds across questions, languages
and embedders, instead of one cosine threshold.

Fused ranks always produce a "best" passage, and a raw cosine means different things for
different models (multilingual E5 puts unrelated text at 0.7; MiniLM puts a right passage
with few shared words at 0.3). So a passage counts as relevant on evidence of two kinds:

- **distinctiveness**: how many standard deviations its similarity stands above the
  question's similarity to everything else in the store. A passage that really answers the
  question stands out from the rest of the persona's files; one that is merely the least
  unrelated does not. This is the same for every model and every language of the question.
- **keywords and agreement**: the share of the question's keyword weight (idf in this
  store) that the passage contains, when the vector half found it too (both retrievers
  agree). Names, numbers and rare words are what people ask about; the code-mixed question
  "spare key enga vechirukka?" shares "spare key" with the mail even when its embedding is
  far off.

- **standing out from the other candidates**: a passage whose distinctiveness is well above
  every other passage retrieved for the question is the one the question is about.

- **the keyword half's first pick holding (nearly) every keyword**: relevant whatever the
  vectors think, as a passage only the keyword half found is.
- **the kind of thing asked for**: "how much…?" wants a number, "when…?" a time, "what
  colour…?" a colour; a passage both retrievers found that holds one needs less standing out,
  and one that does not ("Car: Volvo V70, MOT each May" for "what colour is your car?") gets no
  such help.
- **beside a lone relevant passage**: the best other that both retrievers found with half the
  keyword weight, standing out from the store, is on the same matter and kept too.

- **no keywords at all**: a passage that shares no keyword with a question asked in the
  language of the files needs to stand out much further. On the persona sets every right
  passage shared at least one word with its question, and the vector half's confident wrong
  picks shared none ("what is the wifi password?" -> the spare-key mail, "when is your eye
  exam?" -> the dental cleaning).
- **questions in another language** than the files: an English embedder cannot place them
  (its similarities are noise), so the keyword half's first pick counts when it holds enough
  of the question's keyword weight (names, places and loanwords survive translation: "¿qué
  día es el yoga?"; in another script, half of the weight of the words whose meaning is
  seen), and its second pick beside it when both hold every keyword.

A store too small to measure distinctiveness (a handful of chunks) falls back to the cosine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from familiar_hub.persona.api import Passage
from familiar_hub.persona.language import (
    FOREIGN_STOPWORDS,
    alike,
    in_other_script,
    listed_english,
    script_stopword,
    tokens,
)
from familiar_hub.persona.style import STOPWORDS
from familiar_hub.tts.sentences import split_sentences


def query_words(text: str) -> list[str]:
    """The words of a question worth looking up: lower case, no stop words (a question of only
    stop words keeps them), each once, at most 32. The function and question words of the
    other languages a persona is asked in are stop words too ("¿dónde está...?")."""
    words = [w for w in tokens(text) if len(w) > 1 or not w.isascii()]
    content = [
        w
        for w in words
        if w not in STOPWORDS
        and w not in FOREIGN_STOPWORDS
        and (not script_stopword(w) or listed_english(w))  # "கண்" (eye) is short
    ]
    words = content or words
    return list(dict.fromkeys(words))[:32]


def focus(text: str, question: str, max_chars: int) -> str:
    """A passage longer than ``max_chars`` cut to the part that answers ``question``: its
    sentences (and lines) sharing a word with the question, each with the sentence after it
    (the answer often follows the topic: "Boiler: Caledonia Heating. Engineer: Mr Okafor."),
    in their order, gaps marked "…"; one sharing no word keeps its start. Cut at its start
    instead, a long note (a chunk holds ~500 tokens, the prompt ~450 characters of it) loses
    the line asked about when it comes late.

    A passage that fits is given whole: cut to its matching sentences, it gained nothing on
    the fidelity bench, and 4 of the 0.5B's answers went wrong that had been right (within the
    bench's noise for that model; one was the plumber's name, lost with the sentence before
    the match)."""
    if len(text) <= max_chars:
        return text
    words = query_words(question)
    sentences = [s for line in text.splitlines() for s in split_sentences(line)]
    hits = [
        i
        for i, sentence in enumerate(sentences)
        if any(alike(w, q) for w in tokens(sentence) for q in words)
    ]
    if not hits:
        return _cut(" ".join(sentences), max_chars)
    # first every hit, then each one's next sentence, while room is left
    chosen = hits + [i + 1 for i in hits if i + 1 < len(sentences) and i + 1 not in hits]
    kept: set[int] = set()
    size = 0
    for index in chosen:
        cost = len(sentences[index]) + 2
        if size + cost > max_chars and kept:
            continue
        kept.add(index)
        size += cost
    parts: list[str] = []
    for index in sorted(kept):
        if parts and index - 1 not in kept:
            parts.append("…")
        parts.append(sentences[index])
    if min(kept) > 0:
        parts.insert(0, "…")
    if max(kept) < len(sentences) - 1:
        parts.append("…")
    return _cut(" ".join(parts), max_chars)


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0] + " …"


@dataclass(frozen=True)
class RelevancePolicy:
    """Thresholds of the decision; the defaults were chosen on bench/recall_bench.py's set
    (30 mails, 59 questions) and hold for MiniLM and multilingual E5 alike."""

    strong_distinctiveness: float = 3.0
    """A passage standing this many standard deviations above the store is relevant alone."""

    min_distinctiveness: float = 2.4
    """With support (keywords found by both retrievers, or a clear lead over the other
    candidates), this much standing out is enough. (2.2 was tried: the recall set's decisions
    stayed the same and the fidelity sets' German gift mail, 2.25 out, was kept; the 0.5B
    model's facts moved within the bench's run-to-run noise, but with the extra passages it
    answered "What colour is your car?" from the household list: "a red car".)"""

    min_keyword_coverage: float = 0.2
    """Share of the question's keyword weight the passage must contain to count as support."""

    min_lead: float = 1.0
    """Lead in distinctiveness over every other candidate that counts as support."""

    full_keyword_coverage: float = 0.75
    """A passage holding this much of the question's keyword weight, found by both retrievers,
    needs only ``min_distinctiveness_with_keywords``."""

    min_distinctiveness_with_keywords: float = 1.5

    fallback_similarity: float = 0.4
    """Cosine needed when the store is too small to measure distinctiveness."""

    keyword_only_coverage: float = 0.5
    """Share of the question's keyword weight a passage found by keywords alone (not among
    the vector half's candidates) must contain."""

    unsupported_distinctiveness: float = 3.3
    """A passage sharing no keyword with a question in the files' language needs this much."""

    sure_distinctiveness: float = 2.0
    sure_coverage: float = 0.3
    """A relevant passage this distinct holding this share of the keyword weight: the answer
    is surely there (``sure``)."""

    cross_language_coverage: float = 0.4
    """For a question in another language: the keyword half's first pick holding this share
    of the question's keyword weight is relevant. Its words that are in none of the files
    count against it ("¿dónde está la llave de repuesto?": "repuesto")."""

    other_script_coverage: float = 0.5
    """The same for a question in another script: only its words whose meaning is seen count
    (those in the files, sounding like theirs, or in ``lexicon``), so half of their weight
    is asked for: "मेरी कार का बीमा कब है?" (my car insurance) holds "car" and "insurance",
    and a car trip's mail, with "car" alone, is not enough."""

    typed_coverage: float = 0.4
    """A passage both retrievers found (the keyword half among its first two) holding this
    share of the question's keyword weight and the kind of thing the question asks for (a
    number, a time, a colour: ``holds_asked``) needs only ``min_distinctiveness_with_keywords``."""

    companion_coverage: float = 0.5
    companion_distinctiveness: float = 2.0
    """When one passage alone is relevant, the best other that both retrievers found with this
    share of the keyword weight and this much standing out is kept beside it: the same matter
    in another mail (the library's overdue notice beside "Book overdue. Returned today."). Not
    beside two or more: the answer is likely among them already, and each passage costs
    prompt time and the small model's attention."""


def _supported(passage: Passage, lead: float, policy: RelevancePolicy) -> bool:
    keywords = _agreed(passage) and passage.keyword_coverage >= policy.min_keyword_coverage
    return keywords or lead >= policy.min_lead


_ASKED = (
    ("number", re.compile(r"\bhow (?:much|many|far|old|long)\b|\bwhat (?:price|number)\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\bwhat (?:time|day|date)\b|\bwhich day\b", re.I)),
    ("colour", re.compile(r"\bwhat colou?r\b", re.I)),
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|hundred|thousand|half|dozen|pair"
)
_TIME_WORDS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mondays|tuesdays|wednesdays|"
    "thursdays|fridays|saturdays|sundays|today|tomorrow|tonight|yesterday|morning|afternoon|"
    "evening|noon|midnight|weekend|week|weekly|month|monthly|year|yearly|annual|daily|every"
)
_HOLDS = {
    "number": re.compile(rf"\d|[£$€₹¥]|\b(?:{_NUMBER_WORDS})\b", re.I),
    "time": re.compile(rf"\d|\b(?:{_TIME_WORDS})\b", re.I),
    "colour": re.compile(
        r"\b(?:red|blue|green|yellow|black|white|grey|gray|silver|gold|brown|orange|pink|"
        r"purple|maroon|beige|navy|cream|violet)\b",
        re.I,
    ),
}


def asked(question: str) -> str | None:
    """The kind of thing an English question asks for, when it is one a passage can be seen to
    hold or not: ``number`` ("how much…?"), ``time`` ("when…?"), ``colour``; else None."""
    for kind, pattern in _ASKED:
        if pattern.search(question):
            return kind
    return None


def holds_asked(text: str, kind: str) -> bool:
    """``text`` holds a thing of that kind: a digit, a currency sign or a number word; a date,
    a day or a time; a colour."""
    return bool(_HOLDS[kind].search(text))


def relevant(
    passages: Sequence[Passage],
    policy: RelevancePolicy | None = None,
    *,
    cross_language: bool = False,
    question: str | None = None,
) -> list[Passage]:
    """The passages that hold the answer, in their order; empty: the files do not know.
    ``cross_language``: the question is in another language than the files; ``question``
    (optional) lets a passage that holds the kind of thing asked for count that as support."""
    policy = policy or RelevancePolicy()
    kind = asked(question) if question and not cross_language else None
    crossing = _crossing(policy, cross_language, question)
    out = [
        p
        for p in passages
        if _relevant(p, passages, policy, crossing)
        or (kind is not None and _typed(p, kind, policy))
    ]
    if len(out) == 1 and crossing is None:
        beside = [p for p in passages if p not in out and _companion(p, policy)][:1]
        out = [p for p in passages if p in out or p in beside]
    elif len(out) == 1 and crossing is not None and out[0].keyword_coverage >= 1.0:
        # The keyword half's first pick holds every keyword: its second pick holding every
        # one too is on the same matter ("கண் பரிசோதனை எப்போது?", when is the eye check:
        # "how was the eye check?" first, "Eye check at Aravind on 18 October" second). Not
        # one holding other words: "¿Qué día es el yoga?" had the yoga mail first with 0.42
        # of the weight and a mail on the ofrenda second with 0.58, which the 1.5B then read.
        beside = [p for p in passages if p.keyword_rank == 2 and p.keyword_coverage >= 1.0]
        out = [p for p in passages if p in out or p in beside]
    return out


def _crossing(policy: RelevancePolicy, cross_language: bool, question: str | None) -> float | None:
    """The keyword share a question in another language needs (None: asked in the files'
    language)."""
    if not cross_language:
        return None
    if question is not None and in_other_script(question):
        return policy.other_script_coverage
    return policy.cross_language_coverage


def _agreed(passage: Passage) -> bool:
    return passage.vector_rank is not None and passage.keyword_rank is not None


def _typed(passage: Passage, kind: str, policy: RelevancePolicy) -> bool:
    return (
        _agreed(passage)
        and (passage.keyword_rank or 0) <= 2
        and passage.keyword_coverage >= policy.typed_coverage
        and (passage.distinctiveness or 0.0) >= policy.min_distinctiveness_with_keywords
        and holds_asked(f"{passage.subject or ''} {passage.text}", kind)
    )


def _companion(passage: Passage, policy: RelevancePolicy) -> bool:
    return (
        _agreed(passage)
        and passage.keyword_coverage >= policy.companion_coverage
        and (passage.distinctiveness or 0.0) >= policy.companion_distinctiveness
    )


def _relevant(
    passage: Passage,
    passages: Sequence[Passage],
    policy: RelevancePolicy,
    crossing: float | None,
) -> bool:
    z = passage.distinctiveness
    lexical = passage.keyword_rank is not None and passage.keyword_coverage > 0
    if crossing is not None and passage.keyword_rank == 1 and passage.keyword_coverage >= crossing:
        return True
    if (
        crossing is None
        and not lexical
        and z is not None
        and z < policy.unsupported_distinctiveness
    ):
        return False
    if z is None:
        if passage.similarity is not None:
            return passage.similarity >= policy.fallback_similarity
        if passage.keyword_rank is not None:  # found by keywords only
            return passage.keyword_coverage >= policy.keyword_only_coverage
        return True  # a retriever that gives no evidence: its choice stands
    if z >= policy.strong_distinctiveness:
        return True
    if passage.keyword_rank == 1 and passage.keyword_coverage >= policy.full_keyword_coverage:
        return True  # the keywords say it, whatever the vectors think (as for keyword-only)
    others = [p.distinctiveness for p in passages if p is not passage]
    known = [o for o in others if o is not None]
    lead = z - max(known) if known else z
    return (z >= policy.min_distinctiveness and _supported(passage, lead, policy)) or (
        _agreed(passage)
        and passage.keyword_coverage >= policy.full_keyword_coverage
        and z >= policy.min_distinctiveness_with_keywords
    )


def sure(
    passages: Sequence[Passage],
    policy: RelevancePolicy | None = None,
    *,
    cross_language: bool = False,
    question: str | None = None,
) -> bool:
    """Retrieval is sure the answer is among these relevant passages: one stands out and
    holds a good share of the question's keywords (or, for a question in another language,
    is the keyword half's first pick). The brain then tells the model the answer is there
    instead of inviting "I don't know"."""
    policy = policy or RelevancePolicy()
    crossing = _crossing(policy, cross_language, question)
    for passage in passages:
        coverage = passage.keyword_coverage
        if crossing is not None and passage.keyword_rank == 1 and coverage >= crossing:
            return True
        z = passage.distinctiveness
        if z is not None and z >= policy.sure_distinctiveness and coverage >= policy.sure_coverage:
            return True
    return False
