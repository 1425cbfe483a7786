"""Learning how the persona writes from their own text. Pure functions, deterministic."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from familiar_hub.persona.api import StyleProfile
from familiar_hub.persona.chunking import split_sentences


@dataclass(frozen=True)
class OwnText:
    """One piece of the persona's own writing, with the greeting and sign-off cut from it."""

    body: str
    greeting: str | None = None
    sign_off: str | None = None


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "not",
        "no",
        "yes",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "just",
        "also",
        "very",
        "too",
        "up",
        "down",
        "out",
        "about",
        "into",
        "over",
        "than",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "some",
        "let",
        "us",
        "get",
        "got",
        "go",
        "going",
        "im",
        "i'm",
        "it's",
        "don't",
        "dont",
        "can't",
        "cant",
        "won't",
        "wont",
        "i'll",
        "i've",
        "i'd",
        "you're",
        "we're",
        "that's",
        "there's",
        "what's",
        "re",
        "fw",
        "fwd",
    ]
)

# Common romanised Tamil words (Tanglish). Short ambiguous ones ("la", "da", "po") only count
# together with at least one longer, unambiguous word in the same text.
ROMANISED_TAMIL = frozenset(
    [
        "enna",
        "yenna",
        "illa",
        "illai",
        "illaya",
        "seri",
        "sari",
        "romba",
        "nalla",
        "nallaa",
        "vanakkam",
        "nandri",
        "amma",
        "appa",
        "paati",
        "thatha",
        "paravala",
        "paravaillai",
        "sapadu",
        "saapadu",
        "saaptiya",
        "saapten",
        "poda",
        "podi",
        "machan",
        "machi",
        "aiyo",
        "ayyo",
        "kanna",
        "kannu",
        "thambi",
        "akka",
        "anna",
        "enakku",
        "unakku",
        "namakku",
        "theriyum",
        "theriyala",
        "therila",
        "sollu",
        "sollunga",
        "vaa",
        "vaanga",
        "ponga",
        "irukku",
        "irukken",
        "irukkiya",
        "aama",
        "aamam",
        "konjam",
        "mudiyala",
        "mudiyum",
        "paakalaam",
        "pannunga",
        "pannu",
        "pannalaam",
        "ennachu",
        "semma",
        "inniki",
        "innaiku",
        "naalaiku",
        "naalaikku",
        "neththu",
        "kaalaila",
        "saayangaalam",
        "ippo",
        "appuram",
        "apram",
        "epdi",
        "eppadi",
        "evlo",
        "evalavu",
        "yaaru",
        "enga",
        "inga",
        "anga",
        "sollren",
        "varen",
        "varuven",
        "poitu",
        "vandhu",
        "vandhen",
        "kelunga",
        "paaru",
        "paarunga",
        "pochu",
        "aachu",
        "kalyanam",
        "veedu",
        "veetla",
        "ooru",
        "oorla",
        "kadavul",
        "pazhaya",
        "pudhu",
        "chellam",
        "kutty",
        "kutti",
    ]
)
_AMBIGUOUS_TAMIL = frozenset(["da", "di", "la", "pa", "ma", "na", "po", "vaa", "ok"])

_SCRIPTS = [
    ("ta", re.compile(r"[\u0B80-\u0BFF]")),
    ("hi", re.compile(r"[\u0900-\u097F]")),
    ("te", re.compile(r"[\u0C00-\u0C7F]")),
    ("ml", re.compile(r"[\u0D00-\u0D7F]")),
    ("kn", re.compile(r"[\u0C80-\u0CFF]")),
    ("ar", re.compile(r"[\u0600-\u06FF]")),
    ("zh", re.compile(r"[\u4E00-\u9FFF]")),
    ("ru", re.compile(r"[\u0400-\u04FF]")),
]
_LATIN = re.compile(r"[A-Za-z]")

_CASUAL = re.compile(
    r"\b(lol|haha+|hehe|btw|gonna|wanna|gotta|yeah|yep|nope|cool|awesome|ok|okay|kinda|"
    r"sorta|omg|tbh|idk|thx|pls|plz|cya|ttyl)\b|!|:\)|:-\)|;\)|:D",
    re.I,
)
_FORMAL = re.compile(
    r"\b(dear|sincerely|regards|kindly|please find|further to|furthermore|moreover|hereby|"
    r"accordingly|pursuant|i would like to|would you be able|i am writing|please do not "
    r"hesitate|at your earliest convenience|yours faithfully)\b",
    re.I,
)
_CONTRACTION = re.compile(r"\b\w+'(s|t|re|ve|ll|d|m)\b", re.I)


def _languages(texts: list[str]) -> tuple[list[str], list[str]]:
    """Languages by number of sentences using them, and the romanised Tamil words seen."""
    counts: Counter[str] = Counter()
    mixed: Counter[str] = Counter()
    for text in texts:
        for sentence in split_sentences(text):
            for code, pattern in _SCRIPTS:
                if pattern.search(sentence):
                    counts[code] += 1
            words = [w.lower() for w in _WORD.findall(sentence)]
            tamil = [w for w in words if w in ROMANISED_TAMIL]
            if tamil:
                counts["ta"] += 1
                mixed.update(tamil)
                mixed.update(w for w in words if w in _AMBIGUOUS_TAMIL)
            latin_words = [w for w in words if _LATIN.search(w) and w not in ROMANISED_TAMIL]
            if len(latin_words) >= 2:
                counts["en"] += 1
    languages = [code for code, _ in counts.most_common()]
    return languages, [word for word, _ in mixed.most_common(12)]


def _phrases(texts: list[str], limit: int = 10) -> list[str]:
    """Word n-grams (2-4) the persona reuses across different texts, most characteristic first."""
    document_frequency: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        grams: set[tuple[str, ...]] = set()
        for sentence in split_sentences(text):
            words = [w.lower() for w in _WORD.findall(sentence)]
            for size in (2, 3, 4):
                for start in range(len(words) - size + 1):
                    gram = tuple(words[start : start + size])
                    content = [w for w in gram if w not in STOPWORDS]
                    if not content or gram[0] in STOPWORDS - {"i", "let", "no"}:
                        continue
                    if gram[-1] in STOPWORDS:
                        continue
                    grams.add(gram)
        document_frequency.update(grams)
    minimum = 2 if len(texts) >= 2 else 1
    scored = [
        (count * (1 + 0.5 * (len(gram) - 2)), gram)
        for gram, count in document_frequency.items()
        if count >= minimum
    ]
    scored.sort(key=lambda item: (-item[0], " ".join(item[1])))
    chosen: list[str] = []
    for _, gram in scored:
        phrase = " ".join(gram)
        if any(phrase in longer or longer in phrase for longer in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def _formality(texts: list[str], greetings: list[str], sign_offs: list[str]) -> str:
    joined = "\n".join(texts)
    words = max(1, len(_WORD.findall(joined)))
    casual = len(_CASUAL.findall(joined)) + 2 * sum(
        1 for g in greetings if g.lower() in ("hey", "hiya", "yo", "hi all", "hey all")
    )
    formal = len(_FORMAL.findall(joined)) + 2 * sum(
        1
        for s in sign_offs
        if s.lower() in ("sincerely", "yours sincerely", "yours faithfully", "kind regards")
    )
    formal += sum(1 for g in greetings if g.lower() == "dear")
    contractions = len(_CONTRACTION.findall(joined))
    score = (casual + 0.5 * contractions - 1.5 * formal) / words * 100
    if score >= 2.0:
        return "casual"
    if score <= -0.5:
        return "formal"
    return "neutral"


def _examples(texts: list[str], phrases: list[str], limit: int = 6) -> list[str]:
    candidates: dict[str, float] = {}
    for text in texts:
        for sentence in split_sentences(text):
            words = sentence.split()
            if not 5 <= len(words) <= 30 or sentence[-1:] not in ".!?":
                continue
            if "http" in sentence or "@" in sentence:
                continue
            lower = sentence.lower()
            score = 1.0 + sum(1.0 for p in phrases if p in lower)
            score += 0.5 if 8 <= len(words) <= 20 else 0.0
            candidates[sentence] = max(candidates.get(sentence, 0.0), score)
    ranked = sorted(
        candidates.items(),
        key=lambda item: (-item[1], hashlib.sha256(item[0].encode()).hexdigest()),
    )
    return [sentence for sentence, _ in ranked[:limit]]


def learn_style(own: Iterable[OwnText]) -> StyleProfile | None:
    """The style profile of the persona's own writing; None when there is none."""
    items = [item for item in own if item.body.strip() or item.greeting or item.sign_off]
    if not items:
        return None
    texts = [item.body for item in items if item.body.strip()]
    greetings = Counter(item.greeting for item in items if item.greeting)
    sign_offs = Counter(item.sign_off for item in items if item.sign_off)
    sentence_words = [len(s.split()) for text in texts for s in split_sentences(text)]
    mean_words = round(sum(sentence_words) / len(sentence_words), 1) if sentence_words else 0.0
    phrases = _phrases(texts)
    languages, mixed = _languages(texts)
    greeting_list = [g for g, _ in sorted(greetings.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    sign_off_list = [s for s, _ in sorted(sign_offs.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    return StyleProfile(
        greetings=greeting_list,
        sign_offs=sign_off_list,
        mean_sentence_words=mean_words,
        formality=_formality(texts, list(greetings.elements()), list(sign_offs.elements())),
        phrases=phrases,
        languages=languages or ["en"],
        examples=_examples(texts, phrases),
        mixed_words=mixed,
        evidence_texts=len(items),
    )
