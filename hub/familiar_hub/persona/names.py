"""Names from the persona's world (people, places, shops) for the speech recogniser.

Whisper hears a name it has never seen as ordinary words ("Selvam" as "Self-em"). The mail
is full of exactly the names people will ask about, so each file's capitalised words that are
used as names — not at the start of a sentence, never written in lower case in the same text,
not a common word — are counted when the file is ingested, and the most frequent ones bias the
recogniser (faster-whisper ``hotwords``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from familiar_hub.persona.style import STOPWORDS

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_START = re.compile(r"(^|[.!?:;\n\"“(]\s*|^\s*[-*]\s*)$")

COMMON = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    mr mrs ms miss dr sir madam dear hi hello hey thanks thank regards cheers best love yours
    sincerely kind warm re fw fwd subject from to cc sent date am pm ok okay yes no please
    the this that these those there here what when where who why how which i im ive id
    """.split()
)
"""Capitalised for other reasons than being a name."""


def name_counts(text: str) -> Counter[str]:
    """Capitalised words of ``text`` used as names, with how often. A word capitalised only
    where a sentence starts counts when it is capitalised inside a sentence too."""
    lower_seen = {m.group(0) for m in _WORD.finditer(text) if m.group(0).islower()}
    inside: Counter[str] = Counter()
    at_start: Counter[str] = Counter()
    for match in _WORD.finditer(text):
        word = re.sub(r"['’]s$", "", match.group(0)).strip("'’-")
        if len(word) < 3 or not word[0].isupper() or (word.isupper() and len(word) > 4):
            continue
        key = word.lower()
        if (
            key in COMMON
            or key.removesuffix("s") in COMMON
            or key in STOPWORDS
            or key in lower_seen
        ):
            continue
        if _SENTENCE_START.search(text[max(0, match.start() - 3) : match.start()]):
            at_start[word] += 1  # "Soak for 6 hours": capitalised because a sentence starts
        else:
            inside[word] += 1
    for word, count in at_start.items():
        if word in inside:
            inside[word] += count
    return inside


def author_names(authors: Iterable[str]) -> Counter[str]:
    """The words of ``From:`` display names ("Selvam", "Rani Tailors")."""
    counts: Counter[str] = Counter()
    for author in authors:
        if "@" in author:
            continue
        for word in _WORD.findall(author):
            if len(word) >= 3 and word[0].isupper() and word.lower() not in COMMON:
                counts[word] += 1
    return counts


def hotword_text(names: Iterable[str], max_chars: int) -> str:
    """Names as one short, comma-separated prompt (Whisper's prompt is short), ended as a
    sentence: Whisper reads the prompt as the text before the speech, and an unfinished list
    ("Dune, Lisbon, Patel") makes it go on with it ("and Pern on the kitchen light.")."""
    out: list[str] = []
    length = 1  # the full stop
    for name in names:
        if length + len(name) + 2 > max_chars:
            break
        out.append(name)
        length += len(name) + 2
    return ", ".join(out) + "." if out else ""
