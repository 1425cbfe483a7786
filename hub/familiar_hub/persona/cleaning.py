"""Cleaning text before it is stored: the part that decides the quality of the persona.

Pure functions. Mail bodies lose quoted replies (``On ... wrote:``, ``>`` lines, forwarded and
Outlook header blocks), signatures, legal disclaimers and footers, and their greeting and
sign-off lines -- which are returned separately, as style evidence. Every text is normalised:
typographic quotes and dashes, odd spaces, zero-width characters, line endings, blank runs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u3000": " ",
        "\u200b": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
        "\r": None,
        "\t": " ",
    }
)
# ZWJ/ZWNJ (U+200C/U+200D) are kept: Indic scripts such as Tamil need them.


def normalise(text: str) -> str:
    """Unicode NFC, straight quotes, plain spaces, ``\\n`` line ends, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).translate(_TRANSLATE)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class CleanMail:
    """A mail body after cleaning, and what was taken out of it."""

    body: str
    greeting: str | None = None
    """The writer's whole greeting line, as written (``Hi Arun,``, ``Kanna,``,
    ``Ravi anna, vanakkam!``, ``Dear Mr Okafor,``)."""
    sign_off: str | None = None
    """The closing block as written, its lines joined by ``\n`` (``Cheers,\nPriya``,
    ``Seri, bye.\nAmma``, ``H.``): the closing phrase and the name or initials under it,
    without job titles and contact lines."""
    removed: list[str] = field(default_factory=list)
    """What was stripped: ``quote``, ``forward``, ``signature``, ``disclaimer`` ..."""


# A line that starts the quoted previous message; everything from it on is someone else's.
_REPLY_HEADERS = [
    re.compile(r"^On\b.{0,300}\bwrote:?$", re.I),  # Gmail / Apple Mail (joined when wrapped)
    re.compile(r"^Le\b.{0,300}\ba écrit\s?:$", re.I),
    re.compile(r"^Am\b.{0,300}\bschrieb.{0,80}:$", re.I),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.I),
    re.compile(r"^-{2,}\s*Reply message\s*-{2,}$", re.I),
    re.compile(r"^_{10,}$"),  # Outlook's rule above the quoted header block
    re.compile(r"^From:\s.+\s(Sent|Date):\s", re.I),  # Outlook header block on one line
]
_FORWARD_HEADERS = [
    re.compile(r"^-{2,}\s*Forwarded message\s*-{2,}$", re.I),
    re.compile(r"^Begin forwarded message:?$", re.I),
    re.compile(r"^-{2,}\s*Forwarded by\b.*$", re.I),
]
_OUTLOOK_BLOCK = re.compile(r"^(From|Sent|Date|To|Cc|Subject):\s", re.I)

_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE_SIG = re.compile(
    r"^(Sent from my \w[\w ]{0,30}|Sent from (Outlook|Mail|Yahoo Mail)\b.*|"
    r"Get Outlook for (iOS|Android).*|Sent via .{1,40})$",
    re.I,
)

_DISCLAIMER = re.compile(
    r"(\b(this|the) (e-?mail|message|communication)\b.{0,80}\b(confidential|privileged)|"
    r"\bintended (solely |only )?for the (use of the )?(individual|addressee|named recipient|"
    r"person|recipient)|"
    r"\bif you (have )?received this (e-?mail|message|communication) in error|"
    r"\bunauthori[sz]ed (use|review|disclosure|copying|distribution)|"
    r"^\s*(legal )?disclaimer\b|"
    r"\bplease consider the environment before printing|"
    r"\bto unsubscribe\b|\bunsubscribe from (this|these|our)\b|"
    r"\bview (this|it) in your browser\b|"
    r"\bemails? (are|is) not (guaranteed to be )?(secure|error[- ]free)|"
    r"\bregistered (office|in england)\b)",
    re.I,
)

GREETING_WORDS = (
    "hi there",
    "hello there",
    "hi all",
    "hi everyone",
    "hello all",
    "hey all",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "dearest",
    "dear",
    "hiya",
    "hello",
    "hey",
    "hi",
    "yo",
    "vanakkam",
    "namaste",
    "namaskar",
    "hai",
    "hola",
    "buenos días",
    "buenas",
    "querido",
    "querida",
    "hallo",
    "lieber",
    "liebe",
    "moin",
    "bonjour",
    "salut",
    "cher",
    "chère",
    "ciao",
    "caro",
    "cara",
    "olá",
    "oi",
)
_GREETING_ANYWHERE = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(w) for w in GREETING_WORDS) + r")(?!\w)", re.I
)
# Lines of at most this many words ending in a comma are greetings when they name someone
# (``Kanna,`` ``Divya ma,`` ``Margaret,``); these openers are sentences, not greetings.
_NOT_ADDRESS = frozenset(
    "also however yes no ok okay so well anyway thanks thank sorry btw ps right now then "
    "first second finally update note fyi hmm oh ah".split()
)
_MAX_GREETING_WORDS = 5
_GREETING = re.compile(
    r"^(?P<word>" + "|".join(re.escape(w) for w in GREETING_WORDS) + r")\b(?P<rest>.{0,40})$",
    re.I,
)

SIGN_OFF_WORDS = (
    "best regards",
    "kind regards",
    "warm regards",
    "warmest regards",
    "many thanks",
    "thanks a lot",
    "thanks again",
    "thanks so much",
    "thank you so much",
    "thank you",
    "thanks",
    "thx",
    "cheers",
    "regards",
    "best wishes",
    "all the best",
    "best",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
    "yours truly",
    "yours",
    "love",
    "lots of love",
    "take care",
    "talk soon",
    "speak soon",
    "see you",
    "ttyl",
    "nandri",
    "rgds",
    "br",
)
_SIGN_OFF = re.compile(
    r"^(?P<phrase>" + "|".join(re.escape(w) for w in SIGN_OFF_WORDS) + r")\b[\s,.!-]*"
    r"(?P<rest>.{0,30})$",
    re.I,
)
_SIG_LINE = re.compile(
    r"(^[\w .,'&|()/-]{1,60}$|@|https?://|www\.|\+?\d[\d ()./-]{6,}|\b(tel|phone|mobile|cell|fax|"
    r"office|direct)\b)",
    re.I,
)
_MAX_SIG_LINES = 7
_SIG_CONTACT = re.compile(r"[|@/]|\d|https?://|www\.")


def _join_wrapped_reply_header(lines: list[str], index: int) -> str:
    """Gmail wraps a long ``On <date>, <name> <addr>`` line: look at up to 3 lines."""
    return " ".join(line.strip() for line in lines[index : index + 3])


def _reply_start(lines: list[str]) -> tuple[int, str] | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if any(p.match(stripped) for p in _FORWARD_HEADERS):
            return index, "forward"
        if any(p.match(stripped) for p in _REPLY_HEADERS):
            return index, "quote"
        if stripped.lower().startswith("on ") and re.search(
            r"\bwrote:?$", _join_wrapped_reply_header(lines, index), re.I
        ):
            joined = _join_wrapped_reply_header(lines, index)
            if len(joined) <= 320:
                return index, "quote"
        # An Outlook header block: From:, then Sent:/Date: and To:/Subject: right below.
        if _OUTLOOK_BLOCK.match(stripped) and stripped.lower().startswith("from:"):
            following = [x.strip() for x in lines[index + 1 : index + 5] if x.strip()]
            if sum(1 for x in following if _OUTLOOK_BLOCK.match(x)) >= 2:
                return index, "quote"
    return None


def _strip_disclaimers(paragraphs: list[str], removed: list[str]) -> list[str]:
    kept = []
    for paragraph in paragraphs:
        if _DISCLAIMER.search(paragraph):
            removed.append("disclaimer")
            continue
        kept.append(paragraph)
    return kept


def clean_mail(body: str) -> CleanMail:
    """Strip quotes, forwards, signatures, disclaimers, greeting and sign-off from a mail body."""
    removed: list[str] = []
    lines = normalise(body).split("\n")

    start = _reply_start(lines)
    if start is not None:
        lines = lines[: start[0]]
        removed.append(start[1])

    without_quotes = [line for line in lines if not line.lstrip().startswith(">")]
    if len(without_quotes) != len(lines):
        removed.append("quote")
    lines = without_quotes

    for index, line in enumerate(lines):
        if _SIG_DELIMITER.match(line):
            lines = lines[:index]
            removed.append("signature")
            break
    kept = [line for line in lines if not _MOBILE_SIG.match(line.strip())]
    if len(kept) != len(lines):
        removed.append("signature")
    lines = kept

    paragraphs = _strip_disclaimers(_paragraphs(lines), removed)
    lines = "\n\n".join(paragraphs).split("\n") if paragraphs else []

    greeting = None
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and is_greeting_line(lines[0]):
        greeting = lines.pop(0).strip()
        removed.append("greeting")

    sign_off, lines = _strip_closing_block(lines)
    if sign_off is None:
        sign_off, lines = _strip_sign_off(lines)
    if sign_off:
        removed.append("sign-off")
    return CleanMail(normalise("\n".join(lines)), greeting, sign_off, removed)


def is_greeting_line(line: str) -> bool:
    """A whole line that opens a letter: a greeting word with a name (``Hi Arun,``), a
    native-language greeting (``Ravi anna, vanakkam!``, ``¡Hola, cariño!``), or a bare name or
    term of address followed by a comma (``Kanna,``, ``Margaret,``)."""
    line = line.strip()
    match = _GREETING.match(line.lstrip("¡¿"))
    if match and _looks_like_greeting(match.group("rest")):
        return True
    words = line.rstrip(",!:").split()
    if not words or len(words) > _MAX_GREETING_WORDS or len(line) > 50:
        return False
    if line.endswith(("!", ",")) and _GREETING_ANYWHERE.search(line):
        return True  # "Ravi anna, vanakkam!", "Amma, hola,"
    if not line.endswith(",") or len(words) > 3:
        return False
    first = words[0].strip("¡¿,.!:;").lower()
    return (
        first not in _NOT_ADDRESS
        and words[0][:1].isupper()
        and not any(ch.isdigit() for ch in line)
    )


def _looks_like_greeting(rest: str) -> bool:
    """``Hi Priya,`` is a greeting; ``Hi-fi systems are ...`` is not."""
    rest = rest.strip()
    if not rest:
        return True
    if rest[-1] in ",!:" or rest.endswith("..."):
        return len(rest.split()) <= 5
    return len(rest.split()) <= 3 and not rest.endswith(".")


_INITIALS = re.compile(r"^([A-Z]\.){1,3}$|^[A-Z]\.\s?[A-Z]\.?$")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'.-]*\.?$")


def _name_like(line: str) -> bool:
    """``Amma``, ``Meena``, ``H. Voss``, ``H.V.``, ``Mamá``: a signature name or initials."""
    line = line.strip()
    if _INITIALS.match(line.replace(" ", "")) and len(line) <= 6:
        return True
    words = line.split()
    return (
        0 < len(words) <= 3
        and len(line) <= 30
        and words[0][:1].isupper()
        and all(_NAME_WORD.match(w) for w in words)
    )


def _closing_line(line: str) -> bool:
    """The line above the name: ``Anbudan,``, ``Regards,``, ``Seri, bye.``, ``Besos,``."""
    line = line.strip()
    words = line.split()
    if not words or len(words) > 4 or len(line) > 30:
        return False
    return bool(_SIGN_OFF.match(line)) or line[-1] in ",.!"


def _strip_closing_block(lines: list[str]) -> tuple[str | None, list[str]]:
    """The last paragraph, when it is only a short closing line and a name (or just a name
    or initials): ``Seri, bye.`` / ``Amma``; ``Anbudan,`` / ``Meena``; ``H.``."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return None, lines
    start = content[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = [line.strip() for line in lines[start:] if line.strip()]
    if start == 0 or not block or len(block) > 3:
        return None, lines
    if len(block) == 1:
        if _name_like(block[0]) and len(block[0].split()) <= 2:
            return block[0], lines[:start]
        closing = _closing_and_name(block[0])
        if closing is None:
            return None, lines
        return "\n".join(closing), lines[:start]
    else:
        # closing line, name, and at most one title line under it ("Treasurer")
        if not _closing_line(block[0]) or not _name_like(block[1]):
            return None, lines
        if len(block) == 3 and not _name_like(block[2]):
            return None, lines
        block = block[:2]
    return "\n".join(block), lines[:start]


def _closing_and_name(line: str) -> tuple[str, str] | None:
    """``Anbudan, Meena`` and ``Seri, bye. Amma`` on one line, as a last paragraph: a closing
    of one or two words and a name of one or two. A longer start is a sentence ("It is fine,
    Kanna"), which stays in the body."""
    for match in re.finditer(r"[,.!] ", line):
        closing, name = line[: match.start() + 1], line[match.end() :]
        words = closing.split()
        if len(words) > 2 or not words[0].lstrip("¡¿")[:1].isupper():
            return None
        if _closing_line(closing) and _name_like(name) and len(name.split()) <= 2:
            return closing, name
    return None


def _strip_sign_off(lines: list[str]) -> tuple[str | None, list[str]]:
    """Find a sign-off near the end with only name/contact lines under it; cut from there."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    for index in reversed(content[-(_MAX_SIG_LINES + 1) :]):
        line = lines[index].strip()
        match = _SIGN_OFF.match(line)
        if match is None:
            continue
        rest = match.group("rest").strip()
        below = [x.strip() for x in lines[index + 1 :] if x.strip()]
        if len(below) > _MAX_SIG_LINES or not all(_SIG_LINE.search(x) for x in below):
            continue
        if rest and not _is_name(rest):  # "Thanks for the update" is a sentence
            continue
        closing = [line]
        if rest:  # "Best, Priya": the closing and the name, as on two lines
            closing = [line[: match.start("rest")].rstrip(), rest]
        elif below and _name_like(below[0]) and not _SIG_CONTACT.search(below[0]):
            closing.append(below[0])
        return "\n".join(closing), lines[:index]
    return None, lines


def _is_name(text: str) -> bool:
    words = text.rstrip(".!").split()
    return 0 < len(words) <= 3 and all(w[:1].isupper() for w in words)


def _paragraphs(lines: list[str]) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def clean_document(text: str) -> str:
    """Documents keep everything but boilerplate footers, after normalising."""
    paragraphs = _paragraphs(normalise(text).split("\n"))
    kept = [p for p in paragraphs if not _DISCLAIMER.search(p) or len(p) > 600]
    return "\n\n".join(kept)
