"""Dangerous home actions need a spoken yes. Pure: no I/O, no clock.

A lock, an alarm panel, a garage door (a cover) or any entity configured as sensitive is
only acted on after the person confirms in the same conversation:

    "Unlock the front door."  ->  "Unlock the Front Door. Are you sure?"  ->  "Yes."  ->  done

A statement is never a yes ("I'm locked out" is not a command, and even if the LLM fallback
makes one of it, it is asked about, never carried out); the yes must be the whole reply.
Per domain, the policy is ``allow``, ``confirm`` or ``refuse`` (``home.policy`` in the hub's
config); actions that make the home safer (locking, arming) need no confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from familiar_hub.brain.home import (
    SET_POSITION,
    TURN_OFF,
    TURN_ON,
    HomeIntent,
    ServiceCall,
    service_calls,
    words,
)

Policy = Literal["allow", "confirm", "refuse"]

DEFAULT_POLICY: Mapping[str, Policy] = {
    "lock": "confirm",
    "alarm_control_panel": "confirm",
    "cover": "confirm",
}
"""Domains that need a yes unless ``home.policy`` says otherwise (garage doors are covers)."""

SAFER = frozenset(
    {
        ("lock", "lock"),
        ("alarm_control_panel", "alarm_arm_away"),
        ("alarm_control_panel", "alarm_arm_home"),
        ("alarm_control_panel", "alarm_arm_night"),
    }
)
"""Service calls that make the home safer: carried out without asking (unless refused)."""

_ORDER: dict[Policy, int] = {"allow": 0, "confirm": 1, "refuse": 2}

# The verbs a domain's two directions must be asked with: "turn off the front door" is not
# "unlock the front door", and "turn off the alarm" is not "disarm the alarm".
_VERBS: dict[tuple[str, str], frozenset[str]] = {
    ("lock", TURN_ON): frozenset({"lock"}),
    ("lock", TURN_OFF): frozenset({"unlock"}),
    ("alarm_control_panel", TURN_ON): frozenset({"arm"}),
    ("alarm_control_panel", TURN_OFF): frozenset({"disarm"}),
}
_DIRECTION_WORDS = {
    ("lock", TURN_ON): "lock",
    ("lock", TURN_OFF): "unlock",
    ("alarm_control_panel", TURN_ON): "arm",
    ("alarm_control_panel", TURN_OFF): "disarm",
}

_ACTION_WORDS = {
    "unlock": "unlock",
    "lock": "lock",
    "open_cover": "open",
    "close_cover": "close",
    "open_valve": "open",
    "close_valve": "close",
    "alarm_disarm": "disarm",
    "alarm_arm_away": "arm",
    "turn_on": "turn on",
    "turn_off": "turn off",
    "press": "press",
}

_YES = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "confirm",
        "confirmed",
        "correct",
        "affirmative",
        "ok",
        "okay",
        "please",
        "do",
        "it",
        "go",
        "ahead",
        "i",
        "am",
        "im",
        "absolutely",
        "definitely",
    }
)
_YES_STARTS = frozenset(
    {"yes", "yeah", "yep", "yup", "sure", "confirm", "confirmed", "correct", "ok", "okay"}
)
_YES_PHRASES = frozenset({"do it", "go ahead", "please do", "i am sure", "im sure", "i am"})
_NO = frozenset({"no", "nope", "cancel", "stop", "don't", "dont", "never", "nah", "not"})


@dataclass(frozen=True)
class Decision:
    """What to do with a recognised intent before carrying it out."""

    policy: Policy
    calls: tuple[ServiceCall, ...]


def decide(
    intent: HomeIntent,
    policy: Mapping[str, Policy],
    sensitive: Sequence[str] = (),
) -> Decision:
    """The strictest policy over the intent's service calls.

    ``policy``: per domain, over :data:`DEFAULT_POLICY`; ``sensitive``: entity ids that need a
    yes whatever their domain. An intent from the LLM fallback on a domain that is sensitive by
    default is always asked about, even where the policy allows it.
    """
    effective = {**DEFAULT_POLICY, **policy}
    calls = tuple(service_calls(intent))
    strictest: Policy = "allow"
    for call in calls:
        chosen: Policy = effective.get(call.domain, "allow")
        if call.entity_id in sensitive and chosen == "allow":
            chosen = "confirm"
        if chosen == "confirm" and (call.domain, call.service) in SAFER:
            chosen = "allow"
        if (
            chosen == "allow"
            and intent.source == "llm"
            and call.domain in DEFAULT_POLICY
            and (call.domain, call.service) not in SAFER
        ):
            chosen = "confirm"
        if _ORDER[chosen] > _ORDER[strictest]:
            strictest = chosen
    return Decision(strictest, calls)


def wrong_verb(intent: HomeIntent, text: str) -> str | None:
    """A sentence to say instead, when the words do not ask for what the intent would do
    ("turn off the front door" on a lock); None when they do."""
    said = set(words(text))
    for target in intent.targets:
        key = (target.domain, intent.name)
        needed = _VERBS.get(key)
        if needed is not None and not needed & said:
            verb = _DIRECTION_WORDS[key]
            return (
                f"To {verb} the {target.name}, please say {verb} the {target.name}; "
                "I haven't touched it."
            )
    return None


def action_phrase(calls: Sequence[ServiceCall], intent: HomeIntent) -> str:
    """``unlock the Front Door``: what will happen, for the question."""
    if not calls:
        return "do that"
    by_entity = {t.entity_id: t.name for t in intent.targets}
    first = calls[0]
    if intent.name == SET_POSITION:
        position = int(intent.slots.get("position", 0))
        names = " and ".join(by_entity.get(c.entity_id, c.entity_id) for c in calls)
        return f"set the {names} to {position} percent"
    verb = _ACTION_WORDS.get(first.service, first.service.replace("_", " "))
    names = " and ".join(by_entity.get(c.entity_id, c.entity_id) for c in calls)
    return f"{verb} the {names}"


def question(calls: Sequence[ServiceCall], intent: HomeIntent) -> str:
    phrase = action_phrase(calls, intent)
    return f"{phrase[0].upper()}{phrase[1:]}. Are you sure?"


def refusal(calls: Sequence[ServiceCall], intent: HomeIntent) -> str:
    return f"Sorry, I'm not allowed to {action_phrase(calls, intent)} by voice."


def is_yes(text: str) -> bool:
    """The whole reply is a yes ("yes", "yes please", "go ahead", "I'm sure"): nothing else."""
    said = words(text.replace("'", ""))
    if not said or len(said) > 5 or _NO & set(said):
        return False
    joined = " ".join(said)
    if said[0] not in _YES_STARTS and not any(p in joined for p in _YES_PHRASES):
        return False
    return all(w in _YES for w in said) or joined in _YES_PHRASES


def is_no(text: str) -> bool:
    said = words(text.replace("'", ""))
    return bool(said) and len(said) <= 6 and said[0] in _NO | {"dont", "wait"}


# --- what the brain says -----------------------------------------------------------------

_JSON = re.compile(r'[{\[]\s*"|"\s*:\s*["{\[\d]|^\s*[{\[]')
_MARKERS = re.compile(
    r"<\s*/?\s*documents?\b|\[document \d|\bTASK:|\bsystem prompt\b|\bHass[A-Z]\w+|"
    r"\b(light|lock|cover|switch|climate|alarm_control_panel)\.[a-z_]+\b",
    re.IGNORECASE,
)
_RECITED_WORDS = 6
"""Six words in a row from the instructions are a recital, not a coincidence."""


_CLAIMED_ACTION = re.compile(
    r"\bI(?:'ve| have| just|'ll| will| am going to| can) (?:now )?(?:turn|turned|switch|switched|"
    r"open|opened|unlock|unlocked|lock|locked|close|closed|dim|dimmed|arm|armed|disarm|"
    r"disarmed)\b"
    r"|\b(?:it|they|the \w+(?: \w+)?) (?:is|are) now (?:on|off|open|closed|locked|unlocked)\b",
    re.IGNORECASE,
)


def claims_action(sentence: str) -> bool:
    """An answer sentence saying a device is being or was just worked ("I've turned on the
    light", "I'll unlock it", "the door is now unlocked"): only the home path acts, so from
    the persona's answer it is false. Past facts from her mail ("I locked the door when I
    left") are not claims."""
    return bool(_CLAIMED_ACTION.search(sentence))


class Leaks:
    """Tells whether a sentence about to be spoken recites the instructions or is JSON."""

    def __init__(self, *instructions: str) -> None:
        self._ngrams: set[tuple[str, ...]] = set()
        self._fragments: set[tuple[str, ...]] = set()
        for text in instructions:
            for line in text.splitlines():
                if line.lstrip().startswith("- "):
                    continue  # the persona's own example sentences may be said
                said = words(line)
                for i in range(len(said) - _RECITED_WORDS + 1):
                    self._ngrams.add(tuple(said[i : i + _RECITED_WORDS]))
                for size in range(2, _RECITED_WORDS):
                    for i in range(len(said) - size + 1):
                        self._fragments.add(tuple(said[i : i + size]))

    def __call__(self, sentence: str) -> bool:
        return self.structured(sentence) or self.recites(sentence)

    @staticmethod
    def structured(sentence: str) -> bool:
        """JSON, the prompt's own markers, or an entity id: never something she would say."""
        return bool(_JSON.search(sentence) or _MARKERS.search(sentence))

    def recites(self, sentence: str) -> bool:
        """A line of the instructions said back, whole or six words of it."""
        said = words(sentence)
        if tuple(said) in self._fragments:
            return True  # a whole short sentence out of the instructions ("Say it.")
        return any(
            tuple(said[i : i + _RECITED_WORDS]) in self._ngrams
            for i in range(len(said) - _RECITED_WORDS + 1)
        )
