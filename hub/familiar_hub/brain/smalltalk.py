"""Recognising turns that need no documents (pure): small talk, identity, and questions about
the conversation itself ("what did I just ask?").

They are answered from the style profile and the conversation memory, never by retrieval:
a greeting has nothing to find in anyone's mail, and searching for it only invites a match
with some unrelated letter.
"""

from __future__ import annotations

import re
from enum import StrEnum


class SmallTalk(StrEnum):
    GREETING = "greeting"
    IDENTITY = "identity"
    WELLBEING = "wellbeing"
    THANKS = "thanks"
    FAREWELL = "farewell"
    RECALL_QUESTION = "recall-question"
    """What did I (just) ask / say?"""
    RECALL_ANSWER = "recall-answer"
    """What did you (just) say? Say that again."""


_GREETING_WORDS = (
    r"hello|hi|hey|hiya|howdy|good (?:morning|afternoon|evening|day)|morning|evening|"
    r"vanakkam|namaste|namaskaram|hola|buenos d[ií]as|buenas(?: tardes| noches)?|hallo|"
    r"guten (?:morgen|tag|abend)|moin|servus|bonjour|salut|ciao|ol[aá]"
)
_GREETING = re.compile(rf"^(?:{_GREETING_WORDS})(?: there| again| you)?$")
_LEADING_GREETING = re.compile(
    rf"^(?:{_GREETING_WORDS})(?: there| again)?\s*[,!.]?\s+", re.IGNORECASE
)
_PATTERNS: list[tuple[SmallTalk, re.Pattern[str]]] = [
    (
        SmallTalk.RECALL_QUESTION,
        re.compile(
            r"^(?:what|which) (?:did|was) (?:i|my) (?:just |last |first )?"
            r"(?:ask|say|question|asking|saying)(?: you| me)?(?: just| before| again)?$|"
            r"^what was my (?:last |first |previous )?question$|"
            r"^what did i ask (?:you )?(?:just now|before|earlier|first)$"
        ),
    ),
    (
        SmallTalk.RECALL_ANSWER,
        re.compile(
            r"^(?:what did you (?:just )?say|say (?:that|it) again|repeat (?:that|it|please)|"
            r"could you repeat (?:that|it)|can you repeat (?:that|it)|come again|pardon|"
            r"sorry what|what was (?:that|your answer))(?: please)?$"
        ),
    ),
    (
        SmallTalk.IDENTITY,
        re.compile(
            r"^(?:who are you|who is (?:this|that|it|speaking)|who am i (?:talking|speaking) "
            r"(?:to|with)|what(?:'s| is) your name|what are you|tell me about yourself|"
            r"introduce yourself|are you (?:a )?(?:robot|bot|machine|computer|real|human)|"
            r"yaaru neenga|nee yaaru|qui[eé]n eres|wer bist du|wer sind sie)$"
        ),
    ),
    (
        SmallTalk.WELLBEING,
        re.compile(
            r"^(?:how are you(?: doing| today| keeping)?|how(?:'s| is) it going|how do you do|"
            r"how have you been|are you (?:ok|okay|well|fine|alright)|what'?s up|"
            r"epdi irukeenga|eppadi irukkinga|epdi irukka|c[oó]mo est[aá]s|wie geht'?s(?: dir)?|"
            r"wie geht es (?:dir|ihnen))$"
        ),
    ),
    (
        SmallTalk.THANKS,
        re.compile(
            r"^(?:thank you|thanks|thank you (?:so much|very much)|thanks a lot|many thanks|"
            r"cheers|nandri|gracias|danke(?: sch[oö]n)?|merci|dhanyavaad|great thanks|"
            r"ok(?:ay)? thanks|ok(?:ay)? thank you)$"
        ),
    ),
    (
        SmallTalk.FAREWELL,
        re.compile(
            r"^(?:bye|goodbye|bye bye|good night|goodnight|see you|see you later|see ya|"
            r"talk to you later|adi[oó]s|tsch[uü]ss|auf wiedersehen|poitu varen|seri bye)$"
        ),
    ),
]


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[¡¿?!.,;:\"]+", " ", text)
    return " ".join(text.split())


def strip_greeting(text: str) -> str:
    """``"Hi, when is the plumber coming?"`` -> ``"when is the plumber coming?"``."""
    stripped = _LEADING_GREETING.sub("", text.strip().lstrip("¡"), count=1)
    return stripped if stripped != text.strip() and stripped else text


def classify(text: str) -> SmallTalk | None:
    """The kind of small talk ``text`` is, or None for anything else (a real question)."""
    plain = _normalise(text)
    if not plain:
        return None
    if _GREETING.match(plain):
        return SmallTalk.GREETING
    rest = _normalise(strip_greeting(text))
    for kind, pattern in _PATTERNS:
        if pattern.match(rest):
            return kind
    return None
