"""Which language a text is in, from its script and its function words (pure, no model).

Used for the persona's writing (``style``: which languages she mixes) and for questions
(``question_language``): a question in another language than her files cannot be matched by
an English-only embedder, shares few keywords with them, and should be answered in its own
language. Whole words only, few of them: a question is short, so one question word ("dónde",
"wann", "enga") is already good evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SCRIPTS = [
    ("ta", re.compile(r"[\u0B80-\u0BFF]")),
    ("hi", re.compile(r"[\u0900-\u097F]")),
    ("te", re.compile(r"[\u0C00-\u0C7F]")),
    ("ml", re.compile(r"[\u0D00-\u0D7F]")),
    ("kn", re.compile(r"[\u0C80-\u0CFF]")),
    ("ar", re.compile(r"[\u0600-\u06FF]")),
    ("zh", re.compile(r"[\u4E00-\u9FFF]")),
    ("ru", re.compile(r"[\u0400-\u04FF]")),
]
"""Scripts that name their language (Devanagari is taken as Hindi)."""

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset("el la los las que de del y es por para con una uno está pero".split()),
    "de": frozenset("ich du und der die das nicht mit ist nach bin bitte für ein im am".split()),
    "fr": frozenset("je tu et le la les que est pas avec pour une dans sur".split()),
}
"""Function words that mark a whole sentence as written in that language."""

QUESTION_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        "qué dónde donde cuándo cuando quién quiénes cuánto cuánta cuántos cuántas cómo cuál "
        "cuáles está están hay tienes vas vuelas".split()
    ),
    "de": frozenset(
        "wann wo wer wie welche welcher welches warum wieviel wohin woher ist sind hast "
        "du dein deine".split()
    ),
    "fr": frozenset("où quand qui quoi comment combien quel quelle quels pourquoi est-ce".split()),
    # Romanised (Latin-script) Tamil and Hindi, as people type them in code-mixed questions.
    "ta": frozenset(
        "enga engey eppo eppadi yaaru yaar enna evvalavu ethana ethanai edhu ethu yen irukka "
        "irukku varuvaar varuvanga varum sollu sonna".split()
    ),
    "hi": frozenset("kahan kahaan kab kaun kya kitna kitne kitni kaise kyun kyon hai".split()),
}
"""Words that mark a *question* as asked in that language."""

FOREIGN_STOPWORDS = frozenset(
    """el la los las un una unos unas de del y o que qué en es está están por para con
    su sus mi mis tu tus se lo le me te nos dónde donde cuándo cuando quién cuánto cuánta
    cuántos cómo cuál hay ya muy más pero vas tienes
    der die das dem des ein eine einen einem und oder ist sind wo wann wer was wie welche
    welcher warum du ich er sie es wir ihr mit nach von zu im am um für auf bei aus hast
    haben wird dein deine mein meine
    le les une des du et où quand qui quoi comment combien quel quelle je il elle nous vous
    avec dans sur pas ne
    enga engey eppo eppadi yaaru yaar enna evvalavu ethana ethanai edhu ethu yen irukka
    irukku
    kahan kahaan kab kaun kya kitna kitne kitni kaise kyun kyon hai hain ka ki ke ko mein se
    """.split()
)
"""Function and question words of the other languages a persona may be asked in: never
keywords to search for (they are in no mail, so they would carry the most weight)."""

NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "ta": "Tamil",
    "hi": "Hindi",
    "te": "Telugu",
    "ml": "Malayalam",
    "kn": "Kannada",
    "ar": "Arabic",
    "zh": "Chinese",
    "ru": "Russian",
}

_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)?", re.UNICODE)


def question_language(text: str, languages: Sequence[str] = ()) -> str:
    """The language ``text`` is asked in: a script's language, else the language whose
    question or function words it uses, else English. With ``languages`` (the persona's),
    a Latin-script guess outside them falls back to English: "Was ist..." is German only for
    someone who speaks it, and English "was" is a common word."""
    for code, pattern in SCRIPTS:
        if pattern.search(text):
            return code
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "en"
    scores: dict[str, float] = {}
    for code, vocabulary in QUESTION_WORDS.items():
        scores[code] = sum(1.0 for w in words if w in vocabulary)
    for code, vocabulary in FUNCTION_WORDS.items():
        scores[code] = scores.get(code, 0.0) + 0.5 * sum(1 for w in words if w in vocabulary)
    if text.lstrip().startswith("¿"):
        scores["es"] = scores.get("es", 0.0) + 2.0
    allowed = [c for c in scores if not languages or c in languages]
    if not allowed:
        return "en"
    best = max(allowed, key=lambda c: scores[c])
    return best if scores[best] >= 1.0 else "en"
