"""Is what the speaker said at a pause already the whole request? (pure)

The conductor transcribes at the speaker's first short pause. If that transcript is a complete
home command or a complete question, the turn can end there instead of after the satellite's
0.8 s of silence. A wrong "yes" cuts the speaker off ("turn on the... kitchen light"), a wrong
"no" only costs the rest of the silence, so every doubt answers "no".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from familiar_hub.brain.home import HomeIntent, words

# Words a finished sentence does not end with: the speaker is mid-phrase ("s": "Tom's").
_DANGLING = frozenset(
    """a an the this that these those my your our their his her its some any all every
    to of in on at for from with by about into onto over under after before than as
    and or but so if because while when where whether which who whose what how
    is are was were be been am do does did have has had will would can could should shall may
    might must set turn switch dim open close lock unlock start i you we me s
    um uh er erm hmm like mean""".split()
)
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred""".split()
)
"""Numbers spoken as words (Whisper writes small ones so)."""
# Whisper marks speech that trails off: "Turn on the..." or "Turn on the -".
_TRAILING_OFF = re.compile(r"(\.\.\.|…|[-–—,;:])\s*$")
QUESTION_START = re.compile(
    r"^\s*(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|"
    r"will|would|should|have|has|had)\b",
    re.IGNORECASE,
)
"""An English question's first word."""
_ASKING = re.compile(r"^\s*(tell|remind) me\b", re.IGNORECASE)


def is_question(text: str) -> bool:
    """Asked, not said: a question mark, a question's first word, or "tell me", "remind me"."""
    return bool(text.strip().endswith("?") or QUESTION_START.match(text) or _ASKING.match(text))


MIN_QUESTION_WORDS = 3

# "What did the plumber … say about Friday?": after do-support or a modal the question needs
# a verb; Whisper punctuates the pause as finished ("What did the plumber?").
_DO = frozenset("do does did don doesn didn".split())  # "didn't" is "didn", "t"
_VERB_AUXILIARIES = _DO | frozenset(
    """can could will would should shall may might must couldn won wouldn shouldn mustn
    mightn""".split()
)
_BE = frozenset("am is are was were isn aren wasn weren".split())
_NEGATION = frozenset(["not", "t"])
_PRONOUNS = frozenset("i you he she it we they there".split())
_DETERMINERS = frozenset(
    "a an the this that these those my your our their his her its some any".split()
)
AUXILIARY_WITHIN = 3
"""Words before the auxiliary: the question word or phrase ("what", "what time", "how much")."""


def trails_off(text: str) -> bool:
    """The transcript ends mid-phrase: punctuation of trailing speech, or a dangling word."""
    said = words(text)
    if not said or _TRAILING_OFF.search(text.strip()):
        return True
    return said[-1] in _DANGLING


def may_continue_a_name(text: str, names: Iterable[str]) -> bool:
    """The last words are the start of a longer known name ("turn on the kitchen" when there
    is a "Kitchen Light"), or a number that may go on ("set it to twenty...")."""
    said = words(text)
    if not said:
        return False
    if said[-1] in NUMBER_WORDS or said[-1].isdigit():
        return True
    for name in names:
        name_words = words(name)
        for size in range(1, len(name_words)):
            if said[-size:] == name_words[:size]:
                return True
    return False


def lacks_verb(text: str) -> bool:
    """An auxiliary question that stops after its subject: "What did the plumber?", "Did
    Tom?", "When does Tom's wife?". The subject is taken at its shortest (a pronoun, a
    determiner and one word, a name, a name's and one word), so "What did the new plumber?"
    still passes; "the plumber say" does not end there."""
    said = words(text)
    opening = said[: AUXILIARY_WITHIN + 1]
    index = next((i for i, w in enumerate(opening) if w in _VERB_AUXILIARIES | _BE), None)
    if index is None or said[index] in _BE:
        return False  # no auxiliary; or "Where is the plumber?": "be" needs no other verb
    word = said[index]
    rest = said[index + 1 :]
    while rest and rest[0] in _NEGATION:
        rest = rest[1:]
    if not rest:
        return True
    if index == 1 and said[0] in {"who", "what"} and word not in _DO:
        subject = 0  # "Who will win?": the question word is the subject
    elif rest[0] in _PRONOUNS:
        subject = 1
    elif rest[0] in _DETERMINERS:
        subject = 2
    elif len(rest) > 1 and rest[1] == "s":  # "Tom's wife"
        subject = 3
    else:
        subject = 1
    return len(rest) <= subject


def complete_command(text: str, intent: HomeIntent | None, names: Iterable[str]) -> bool:
    """A template-matched home command with nothing that suggests more is coming."""
    if intent is None or intent.source != "template":
        return False
    return not trails_off(text) and not may_continue_a_name(text, names)


def complete_question(text: str) -> bool:
    """A question Whisper punctuated as finished, of at least a few words."""
    stripped = text.strip()
    if not stripped.endswith("?") or not QUESTION_START.match(stripped):
        return False
    return (
        len(words(stripped)) >= MIN_QUESTION_WORDS
        and not trails_off(stripped)
        and not lacks_verb(stripped)
    )
