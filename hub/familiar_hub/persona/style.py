"""Learning how the persona writes from their own text. Pure functions, deterministic."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from familiar_hub.persona.api import StyleProfile
from familiar_hub.persona.language import FUNCTION_WORDS, SCRIPTS
from familiar_hub.tts.sentences import split_sentences


@dataclass(frozen=True)
class OwnText:
    """One piece of the persona's own writing, with the greeting and sign-off cut from it."""

    body: str
    greeting: str | None = None
    """The whole greeting line (``Kanna,``)."""
    sign_off: str | None = None
    """The closing block, lines joined by ``\n`` (``Seri, bye.\nAmma``)."""


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


# Frequent words of other languages people drop into English, by language. Only for spotting
# code-mixing and the languages used; a word with letters outside ASCII also counts.
MIXED_WORDS: dict[str, frozenset[str]] = {
    "ta": ROMANISED_TAMIL,
    "hi": frozenset(
        "acha accha haan nahi nahin theek thik yaar beta beti bhai didi arre arey chalo "
        "bas kya kyun matlab bilkul zaroor shukriya dhanyavaad namaste ji accha".split()
    ),
    "es": frozenset(
        "bueno pues claro vale oye mira ay hola gracias mija mijo cariño querida querido "
        "abuela abuelo tía tío nunca siempre ya por favor besos abrazo qué sí nada pobrecita "
        "pobrecito ojalá vamos venga".split()
    ),
    "de": frozenset(
        "ja nein doch genau bitte danke schön gruß grüße lieber liebe natürlich "
        "na tschüss servus moin".split()
    ),
}
# Greeting words that are only written, never said to someone's face.
_WRITTEN_ONLY = frozenset(
    "dear dearest greetings lieber liebe querido querida cher chère caro cara".split()
)
# Terms of endearment and kinship used to address a family member; a greeting line whose
# address is one of these tells how the persona speaks to people at home.
ENDEARMENTS = frozenset(
    "kanna kannu chellam chellamma kutty kutti da di ma pa dear darling love honey "
    "sweetheart sweetie sweetpea pet hun babe cariño mijo mija mi amor corazón cielo "
    "beta beti bachcha jaan liebling schatz mein schatz chéri chérie tesoro amore "
    "habibi habibti".split()
)
_ADDRESS_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_MAX_CLOSER_WORDS = 5


def _address(line: str) -> tuple[list[str], str]:
    """Greeting words and the address of a greeting line: ``Ravi anna, vanakkam!`` ->
    ``(["vanakkam"], "ravi anna")``."""
    from familiar_hub.persona.cleaning import GREETING_WORDS

    lowered = " " + " ".join(_ADDRESS_WORD.findall(line.lower())) + " "
    found = []
    for word in sorted(GREETING_WORDS, key=len, reverse=True):
        if f" {word} " in lowered:
            found.append(word)
            lowered = lowered.replace(f" {word} ", " ")
    return found, " ".join(lowered.split())


def _greeting_habits(lines: list[str]) -> tuple[list[str], list[str]]:
    """Spoken greeting words and terms of address, most used first."""
    words: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for line in lines:
        found, address = _address(line)
        words.update(w for w in found if w not in _WRITTEN_ONLY)
        if address in ENDEARMENTS:
            written = re.search(re.escape(address), line, re.IGNORECASE)
            terms[written.group(0) if written else address] += 1  # as she writes it
    return [w for w, _ in words.most_common()], [t for t, _ in terms.most_common()]


def _closing_habits(blocks: list[str]) -> tuple[list[str], list[str]]:
    """Closing phrases (``Seri, bye.``) and the names signed under them (``Amma``)."""
    phrases: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) >= 2:
            phrases[lines[0]] += 1
            names[lines[1]] += 1
        elif lines:
            names[lines[0]] += 1
    return [p for p, _ in phrases.most_common(5)], [n for n, _ in names.most_common(5)]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    return lines[-1] if lines else ""


def _closing_tails(text: str) -> set[str]:
    """What may close ``text``: its last line when short, or its last one or two sentences
    when short ("Simple. Done." at the end of "... ferment overnight. Simple. Done.")."""
    last = _last_line(text)
    sentences = split_sentences(last)
    candidates = {last} | {" ".join(sentences[-k:]) for k in (1, 2) if len(sentences) > k}
    return {c for c in candidates if c and len(c.split()) <= _MAX_CLOSER_WORDS and c[-1:] in ".!?"}


def _closers(texts: list[str]) -> list[str]:
    """Short last lines or sentences that end several texts (``Simple. Done.``); of a closer
    and its own last part ("Done."), the longer one when it is as frequent."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_closing_tails(text))
    minimum = 2 if len(texts) < 20 else max(2, len(texts) // 20)
    common = [c for c, n in counts.most_common() if n >= minimum]
    kept = [
        c
        for c in common
        if not any(d != c and d.endswith(f" {c}") and counts[d] >= counts[c] for d in common)
    ]
    return kept[:5]


def _openers(texts: list[str]) -> list[str]:
    """Words that start several sentences followed by a comma (``Seri,`` ``Bueno,``)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for sentence in split_sentences(text):
            match = re.match(r"^[¡¿]?([^\W\d_]+),\s", sentence)
            if match:
                counts[match.group(1).lower()] += 1
    ignore = STOPWORDS | {"well", "ok", "okay", "thanks", "sorry", "please", "dear"}
    mixed = set().union(*MIXED_WORDS.values())
    return [w for w, n in counts.most_common(6) if (n >= 2 or w in mixed) and w not in ignore]


def _languages(texts: list[str]) -> tuple[list[str], list[str]]:
    """Languages by number of sentences using them, and the romanised Tamil words seen."""
    counts: Counter[str] = Counter()
    mixed: Counter[str] = Counter()
    for text in texts:
        for sentence in split_sentences(text):
            for code, pattern in SCRIPTS:
                if pattern.search(sentence):
                    counts[code] += 1
            words = [w.lower() for w in _WORD.findall(sentence)]
            if not words:
                continue
            matrix = None
            for code, function_words in FUNCTION_WORDS.items():
                if sum(1 for w in words if w in function_words) >= max(2, len(words) // 4):
                    matrix = code
            english = sum(1 for w in words if w in STOPWORDS) >= max(1, len(words) // 5)
            if matrix is not None and not english:
                counts[matrix] += 1
                continue
            foreign = set()
            for code, vocabulary in MIXED_WORDS.items():
                hits = [w for w in words if w in vocabulary]
                if hits:
                    counts[code] += 1
                    foreign.update(hits)
                    mixed.update(hits)
                    if code == "ta":
                        mixed.update(w for w in words if w in _AMBIGUOUS_TAMIL)
            accented = [w for w in words if not w.isascii() and _LATIN.search(w)]
            mixed.update(w for w in accented if w not in foreign)
            latin_words = [w for w in words if _LATIN.search(w) and w not in foreign]
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


def _formality(
    texts: list[str], greetings: list[str], sign_offs: list[str], evidence: list[str] | None = None
) -> str:
    joined = "\n".join(texts)
    words = max(1, len(_WORD.findall(joined)))
    casual = len(_CASUAL.findall(joined)) + 2 * sum(
        1 for g in greetings if _address(g)[0][:1] in (["hey"], ["hiya"], ["yo"])
    )
    formal = len(_FORMAL.findall(joined)) + 2 * sum(
        1
        for s in sign_offs
        if s.split("\n")[0].strip(" ,.").lower()
        in ("sincerely", "yours sincerely", "yours faithfully", "kind regards", "regards")
    )
    formal += sum(1 for g in greetings if "dear" in _address(g)[0])
    contractions = len(_CONTRACTION.findall(joined))
    endearing = sum(1 for g in greetings if _address(g)[1] in ENDEARMENTS)
    casual += endearing
    score = (casual + 0.5 * contractions - 1.5 * formal) / words * 100
    if evidence is not None:
        evidence += [
            f"{casual} casual markers (exclamations, slang, endearments: {endearing})",
            f"{formal} formal markers (Dear, Regards, set phrases)",
            f"{contractions} contractions in {words} words",
        ]
    if score >= 2.0:
        return "casual"
    if score <= -0.5:
        return "formal"
    return "neutral"


_NAMEISH = re.compile(r"(?<=\w )[A-Z][a-z]+")


def _examples(texts: list[str], phrases: list[str], mixed: list[str], limit: int = 6) -> list[str]:
    """Sentences that show how they write, not what happened: habits and mixed words count
    for a sentence; numbers, names and places count against it (an example must never be
    mistaken for a fact)."""
    candidates: dict[str, float] = {}
    for text in texts:
        for sentence in split_sentences(text):
            words = sentence.split()
            if not 3 <= len(words) <= 20 or sentence[-1:] not in ".!?":
                continue
            if "http" in sentence or "@" in sentence or any(ch.isdigit() for ch in sentence):
                continue
            if _NAMEISH.search(sentence):
                continue  # names and places are facts
            lower = sentence.lower()
            tokens = {w.lower() for w in _WORD.findall(sentence)}
            score = 1.0 + sum(1.0 for p in phrases if p in lower)
            score += 1.0 * len(tokens & set(mixed))
            score += 0.5 if len(words) <= 12 else 0.0
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
    greetings = Counter(" ".join(item.greeting.split()) for item in items if item.greeting)
    sign_offs = Counter(item.sign_off.strip() for item in items if item.sign_off)
    sentence_words = [len(s.split()) for text in texts for s in split_sentences(text)]
    mean_words = round(sum(sentence_words) / len(sentence_words), 1) if sentence_words else 0.0
    phrases = _phrases(texts)
    languages, mixed = _languages(texts)
    greeting_list = [g for g, _ in sorted(greetings.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    blocks = [s for s, _ in sorted(sign_offs.items(), key=lambda kv: (-kv[1], kv[0]))]
    greeting_words, address_terms = _greeting_habits(list(greetings.elements()))
    farewells, signatures = _closing_habits(list(sign_offs.elements()))
    closers = _closers(texts)
    evidence: list[str] = []
    formality = _formality(texts, list(greetings.elements()), list(sign_offs.elements()), evidence)
    examples = [
        e for e in _examples(texts, phrases, mixed, limit=6 + len(closers)) if e not in closers
    ][:6]
    return StyleProfile(
        greetings=greeting_list,
        sign_offs=[" ".join(b.split()) for b in blocks[:5]],
        mean_sentence_words=mean_words,
        formality=formality,
        phrases=phrases,
        languages=languages or ["en"],
        examples=examples,
        mixed_words=mixed,
        evidence_texts=len(items),
        address_terms=address_terms,
        greeting_words=greeting_words,
        farewells=farewells,
        signatures=signatures,
        closers=closers,
        openers=_openers(texts),
        tone_evidence=evidence,
    )
