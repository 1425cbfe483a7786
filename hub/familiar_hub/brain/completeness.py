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
_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred""".split()
)
# Whisper marks speech that trails off: "Turn on the..." or "Turn on the -".
_TRAILING_OFF = re.compile(r"(\.\.\.|…|[-–—,;:])\s*$")
_QUESTION_START = re.compile(
    r"^\s*(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|"
    r"will|would|should|have|has|had)\b",
    re.IGNORECASE,
)
MIN_QUESTION_WORDS = 3


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
    if said[-1] in _NUMBER_WORDS or said[-1].isdigit():
        return True
    for name in names:
        name_words = words(name)
        for size in range(1, len(name_words)):
            if said[-size:] == name_words[:size]:
                return True
    return False


def complete_command(text: str, intent: HomeIntent | None, names: Iterable[str]) -> bool:
    """A template-matched home command with nothing that suggests more is coming."""
    if intent is None or intent.source != "template":
        return False
    return not trails_off(text) and not may_continue_a_name(text, names)


def complete_question(text: str) -> bool:
    """A question Whisper punctuated as finished, of at least a few words."""
    stripped = text.strip()
    if not stripped.endswith("?") or not _QUESTION_START.match(stripped):
        return False
    return len(words(stripped)) >= MIN_QUESTION_WORDS and not trails_off(stripped)
