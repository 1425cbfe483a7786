"""The one sentence splitter: streaming text cut into speakable pieces as it arrives, and whole
documents cut into sentences for the persona's chunking.

Pure and clock-free: fed text, `SentenceSplitter` returns the sentences that are complete. The
first piece of an answer may be cut early at a clause boundary (or, without one, before a phrase
such as "to twenty one degrees"), so the first audio starts sooner.
`split_sentences` cuts a whole text at the same boundaries (same abbreviations, initials,
quotes), keeping its markup.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "prof",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "no",
        "approx",
        "dept",
        "est",
        "inc",
        "ltd",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
)
# A sentence ends at . ! ? … or the Devanagari danda (plus closing quotes/brackets) followed by
# whitespace, at a CJK full stop, or at a blank line.
_END = re.compile(r"""([.!?…\u0964]+["'”’)\]]*)(\s+)|([。！？]+)|(\n\s*\n)""")
_CLAUSE = re.compile(r"[,;:—–](?=\s)")
_MARKUP = re.compile(r"[*_`#]+|^\s*[-•]\s+", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_MIN_CLAUSE_CHARS = 4
"""A first piece may be as short as "Okay,": it is spoken while the rest is synthesized."""
_PHRASE = re.compile(
    r"\s+(?=(?:to|in|on|at|for|with|from|by|about|after|before|until|into|during|through|"
    r"but|so|because|while|when|if|where)\s+\S)",
    re.IGNORECASE,
)
"""Where a first sentence without a comma may be cut: before a preposition or a conjunction
that starts a phrase ("I have set the thermostat | to twenty one degrees."), a place where a
speaker may pause. The head is spoken with a comma, so it keeps a continuing (not a final)
intonation."""
_MIN_PHRASE_WORDS = 3
"""Words a head cut at a phrase needs ("The lights | in the hall" is not cut)."""


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DAYS = 31


def spoken_date(match: re.Match[str]) -> str:
    """An :data:`ISO_DATE` match as people say it ("12 March 2025"); itself when it is no
    date."""
    month, day = int(match.group(2)), int(match.group(3))
    if not (1 <= month <= len(MONTHS) and 1 <= day <= _DAYS):
        return match.group(0)
    return f"{day} {MONTHS[month - 1]} {match.group(1)}"


def clean_for_speech(text: str) -> str:
    """Drop Markdown decoration an LLM may emit, say ISO dates as people do ("2025-03-12" ->
    "12 March 2025": the small models copy the passages' dates, which a voice reads digit by
    digit), and squeeze whitespace."""
    text = ISO_DATE.sub(spoken_date, _MARKUP.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def _is_abbreviation(text: str, end: int) -> bool:
    """Whether the '.' ending at ``end`` belongs to an abbreviation or an initial."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].rstrip(".").lower().lstrip("(\"'“‘")
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha()


class SentenceSplitter:
    """Accumulates text and hands out complete, cleaned sentences."""

    def __init__(self, first_clause_chars: int = 0, *, phrases: bool = False) -> None:
        """``first_clause_chars``: a first sentence longer than this is cut at its first clause
        (0: never); ``phrases``: or, earlier, before a phrase (the TTS server does this; the
        brain keeps its sentences whole for what it checks and shows)."""
        self._buffer = ""
        self._first_clause_chars = first_clause_chars
        self._phrases = phrases
        self._emitted = 0

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        return self._take(final=False)

    def flush(self) -> list[str]:
        return self._take(final=True)

    def _emit(self, out: list[str], piece: str, suffix: str = "") -> None:
        piece = clean_for_speech(piece)
        if piece and any(ch.isalnum() for ch in piece):
            out.append(piece + suffix)
            self._emitted += 1

    def _take(self, *, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            found = self._next_cut()
            if found is None:
                break
            cut, at_phrase = found
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
            self._emit(out, piece, "," if at_phrase else "")
        if final:
            piece, self._buffer = self._buffer, ""
            self._emit(out, piece)
        return out

    def _next_cut(self) -> tuple[int, bool] | None:
        """Where the next piece ends, and whether it was cut before a phrase (its head is
        then spoken with a comma after it)."""
        sentence_end = _sentence_end(self._buffer)
        if self._emitted == 0 and self._first_clause_chars:
            candidate = self._buffer if sentence_end is None else self._buffer[:sentence_end]
            if len(candidate) > self._first_clause_chars:
                clauses = [
                    c.end() for c in _CLAUSE.finditer(candidate) if c.end() >= _MIN_CLAUSE_CHARS
                ]
                phrases = [
                    p.start()
                    for p in _PHRASE.finditer(candidate)
                    if self._phrases and len(candidate[: p.start()].split()) >= _MIN_PHRASE_WORDS
                ]
                if clauses or phrases:
                    cut = min(clauses + phrases)
                    return cut, cut not in clauses
        return None if sentence_end is None else (sentence_end, False)


def _sentence_end(text: str) -> int | None:
    """Where the first complete sentence of ``text`` ends, or None while there is none yet.

    A '.' after an abbreviation or an initial ("Dr. Rao", "J. Smith") ends nothing, unless a blank
    line follows it.
    """
    for match in _END.finditer(text):
        if (
            match.group(1) == "."
            and match.group(2).count("\n") < 2
            and _is_abbreviation(text, match.start(1) + 1)
        ):
            continue
        return match.end(1) if match.group(1) else match.end()
    return None


def split_sentences(text: str) -> list[str]:
    """The sentences (and paragraph-ending fragments) of a whole text, whitespace collapsed.

    The same boundaries as `SentenceSplitter`, without its first-clause cut or its cleaning for
    speech: markup stays, and no piece of the text is dropped.
    """
    pieces: list[str] = []
    rest = text
    while (cut := _sentence_end(rest)) is not None:
        piece, rest = rest[:cut], rest[cut:]
        if piece.strip():
            pieces.append(" ".join(piece.split()))
    if rest.strip():
        pieces.append(" ".join(rest.split()))
    return pieces
