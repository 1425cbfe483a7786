"""The one sentence splitter: streaming text cut into speakable pieces as it arrives, and whole
documents cut into sentences for the persona's chunking.

Pure and clock-free: fed text, `SentenceSplitter` returns the sentences that are complete. The
first piece of an answer may be cut early at a clause boundary, so the first audio starts sooner.
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


def clean_for_speech(text: str) -> str:
    """Drop Markdown decoration an LLM may emit and squeeze whitespace."""
    return _SPACES.sub(" ", _MARKUP.sub(" ", text)).strip()


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

    def __init__(self, first_clause_chars: int = 0) -> None:
        self._buffer = ""
        self._first_clause_chars = first_clause_chars
        self._emitted = 0

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        return self._take(final=False)

    def flush(self) -> list[str]:
        return self._take(final=True)

    def _emit(self, out: list[str], piece: str) -> None:
        piece = clean_for_speech(piece)
        if piece and any(ch.isalnum() for ch in piece):
            out.append(piece)
            self._emitted += 1

    def _take(self, *, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                break
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
            self._emit(out, piece)
        if final:
            piece, self._buffer = self._buffer, ""
            self._emit(out, piece)
        return out

    def _next_cut(self) -> int | None:
        sentence_end = _sentence_end(self._buffer)
        if self._emitted == 0 and self._first_clause_chars:
            candidate = self._buffer if sentence_end is None else self._buffer[:sentence_end]
            if len(candidate) > self._first_clause_chars:
                for clause in _CLAUSE.finditer(candidate):
                    if clause.end() >= _MIN_CLAUSE_CHARS:
                        return clause.end()
        return sentence_end


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
