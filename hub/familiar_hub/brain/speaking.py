"""The persona's way of talking, as a deterministic layer around the LLM's content (pure).

Measured with the packaged Qwen2.5-Coder 0.5B/1.5B (bench/persona_fidelity.py): few-shot
examples of the persona's own sentences make these tiny models copy their *content* (a grey
folder, a date of another email), and style instructions alone change nothing. So the model
is asked for the facts only, in the first person, and this layer gives the answer her voice:

- her term of address for family and her sentence openers before the answer, her short
  closing lines after it, in the proportions she uses them, chosen deterministically per
  turn so answers vary but tests and benchmarks repeat;
- perspective repaired ("your key is with Lakshmi" -> "my key ..." when "your key" was asked);
- every sentence checked against what it may rest on (this turn's passages, the question,
  the conversation): a sentence naming a number or a name found in none of them is dropped,
  so nothing from style evidence, few-shot text or the model's imagination is said as a fact;
- small talk, identity, thanks, farewells and declines composed from her own greetings,
  terms of address, closers and farewells, with several wordings each.

Nothing here quotes her writing except her habits (greeting words, terms of address,
openers, closers, farewells), which carry no facts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from familiar_hub.brain.completeness import NUMBER_WORDS, is_question
from familiar_hub.brain.memory import Turn
from familiar_hub.brain.smalltalk import SmallTalk, classify
from familiar_hub.persona.api import StyleProfile
from familiar_hub.persona.language import ASKING_WORDS, in_other_script
from familiar_hub.tts.sentences import ISO_DATE, MONTHS, spoken_date

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Capitalised words that are not names of anything the persona could have made up.
_COMMON_CAPITALISED = frozenset(
    """i i'm i'll i've i'd okay ok yes no english tamil hindi spanish german french mr mrs ms
    dr sir madam""".split()
)
_MONTHS = [month.lower() for month in MONTHS]
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
# The same months and days in the other languages passages may be written in.
_FOREIGN_CALENDAR = {
    foreign: english
    for english, words in {
        "january": "januar enero janvier",
        "february": "februar febrero février",
        "march": "märz marzo mars",
        "april": "abril avril",
        "may": "mai mayo",
        "june": "juni junio juin",
        "july": "juli julio juillet",
        "august": "agosto août",
        "september": "septiembre septembre",
        "october": "oktober octubre octobre",
        "november": "noviembre novembre",
        "december": "dezember diciembre décembre",
        "monday": "montag lunes lundi",
        "tuesday": "dienstag martes mardi",
        "wednesday": "mittwoch miércoles mercredi",
        "thursday": "donnerstag jueves jeudi",
        "friday": "freitag viernes vendredi",
        "saturday": "samstag sábado samedi",
        "sunday": "sonntag domingo dimanche",
    }.items()
    for foreign in words.split()
}
_CALENDAR = re.compile(r"\b(" + "|".join(_MONTHS + _WEEKDAYS) + r")\b", re.I)
_MIN_CONTENT_WORDS = 3
_WRITTEN_FAREWELLS = frozenset(
    "regards best regards kind regards warm regards yours yours sincerely yours faithfully "
    "yours truly sincerely best respectfully".split(" ")
)
_FUNCTION = frozenset(
    """that this these those there their they them then than with from have has had were
    will would could should about into over just also very what when where which your yours
    mine know sure think really well here been being does doing said says tell told""".split()
)
_ENGLISHISH = frozenset(
    "the a an is are was were i my you your it to of and in on at for with not have has".split()
)

_DECLINES_CASUAL = (
    "I don't know that one.",
    "No idea, I haven't got anything about that.",
    "That I don't know.",
    "Hmm, nothing about that in my letters.",
    "I can't tell you, I don't remember anything like that.",
    "I really don't know.",
)
_DECLINES_FORMAL = (
    "I do not know.",
    "I have no record of that.",
    "Nothing on that in my papers.",
    "That I cannot tell you.",
    "I have nothing on that.",
)
DECLINES = _DECLINES_CASUAL + _DECLINES_FORMAL
"""Every core wording of a decline (the persona's habits go around them)."""
_WELLBEING_CASUAL = ("I'm fine.", "Fine, fine.", "All good here.", "Doing well.")
_WELLBEING_FORMAL = ("Well, thank you.", "Quite well.", "Perfectly well, thank you.")
_THANKS_CASUAL = ("Anytime.", "You're welcome.", "No need to thank me.")
_THANKS_FORMAL = ("You are welcome.", "Not at all.")
_ASK_CASUAL = ("What do you need?", "Tell me.", "What is it?")
_ASK_FORMAL = ("What is it?", "Yes?", "Go on.")


def _pick(options: Sequence[str], key: str, salt: str = "") -> str:
    digest = hashlib.sha256(f"{salt}|{key}".encode()).digest()
    return options[digest[0] % len(options)]


def _chance(key: str, salt: str, percent: int) -> bool:
    digest = hashlib.sha256(f"{salt}|{key}".encode()).digest()
    return int.from_bytes(digest[1:5], "big") % 100 < percent


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_LOWER_AFTER_ADDRESS = _ENGLISHISH | frozenset(
    """she he they we that this there no yes nothing it's hmm fine all doing well quite
    perfectly not anytime tell what go ask you're that's""".split()
)


def _uncap(text: str) -> str:
    """Lower-case the first letter unless it starts "I " or a name-like word."""
    if text.startswith(("I ", "I'")) or not text:
        return text
    first = text.split(" ", 1)[0].rstrip(",.!?")
    if len(first) > 1 and first[1:].islower() and first.lower() in _LOWER_AFTER_ADDRESS:
        return text[:1].lower() + text[1:]
    return text


@dataclass(frozen=True)
class Voice:
    """How one persona talks: built from the style profile, no LLM needed."""

    name: str
    style: StyleProfile | None = None

    # --- habits ---------------------------------------------------------------------------

    @property
    def formal(self) -> bool:
        return self.style is not None and self.style.formality == "formal"

    @property
    def address(self) -> str | None:
        """Her term of address for family (``Kanna``), if she has one."""
        terms = self.style.address_terms if self.style else []
        return terms[0] if terms else None

    @property
    def openers(self) -> list[str]:
        return list(self.style.openers) if self.style else []

    @property
    def closers(self) -> list[str]:
        """Her closing lines that fit after anything said ("Please confirm." asks for
        something, so it is left for letters)."""
        closers = self.style.closers if self.style else []
        return [c for c in closers if "please" not in c.lower() and not c.endswith("?")]

    @property
    def terse(self) -> bool:
        return self.style is not None and 0 < self.style.mean_sentence_words < 7

    def _with_address(self, text: str, key: str) -> str:
        address = self.address
        if address is None or address.lower() in text.lower():
            return text
        if text[-1:] in ".!?" and _chance(key, "address-end", 35):
            return f"{text.rstrip('.!')}, {address}{text[-1] if text[-1] in '.!?' else '.'}"
        return f"{_cap(address)}, {_uncap(text)}"

    def lead(self, sentence: str, key: str) -> str:
        """The answer's first sentence with her opener or term of address, as she would."""
        lead = sentence.strip()
        first = lead.split(",", 1)[0].strip().lower()
        if first in {o.lower() for o in self.openers}:
            return lead  # the model began as she does: not "Seri, Aama, ..."
        if self.openers and _chance(key, "opener", 40):
            opener = _pick(self.openers, key, "opener")
            return f"{_cap(opener)}, {_uncap(lead)}"
        if self.address and _chance(key, "address", 70):
            return self._with_address(lead, key)
        return lead

    def closer(self, key: str, said: Sequence[str]) -> str | None:
        """One of her short closing lines, after some answers (as in some of her mails)."""
        if not self.closers or not _chance(key, "closer", 50 if self.formal else 30):
            return None
        closer = _pick(self.closers, key, "closer")
        spoken = " ".join(said).lower()
        first_word = closer.split()[0].strip(",.!").lower()
        if closer.lower() in spoken or spoken.startswith(f"{first_word},"):
            return None  # never "Bueno, ... Bueno, ya está."
        return closer

    def dress(self, sentences: Sequence[str], key: str) -> list[str]:
        """Opener or term of address before, a closer after."""
        out = [s for s in (x.strip() for x in sentences) if s]
        if not out:
            return out
        out[0] = self.lead(out[0], key)
        closer = self.closer(key, out)
        return [*out, closer] if closer else out

    # --- turns answered without the LLM -------------------------------------------------------

    def decline(self, key: str) -> list[str]:
        """Nothing found: said in her words, a different wording from turn to turn."""
        core = _pick(_DECLINES_FORMAL if self.formal else _DECLINES_CASUAL, key, "decline")
        return self.dress([core], key)

    def greeting(self, key: str) -> list[str]:
        words = self.style.greeting_words if self.style else []
        word = _cap(words[0]) if words else ("Hello" if self.formal else "Hi")
        address = self.address
        line = f"{word}, {address}!" if address else f"{word}."
        spanish = "¡" in " ".join(self.style.greetings if self.style else [])
        if spanish and address:
            line = f"¡{word}, {address}!"
        elif (
            address
            and self.style
            and any(
                g.lower().rstrip("!,. ").endswith(words[0]) for g in self.style.greetings if words
            )
        ):
            line = f"{_cap(address)}, {word.lower()}!"  # "Kanna, vanakkam!" as she writes it
        ask = _pick(_ASK_FORMAL if self.formal else _ASK_CASUAL, key, "ask")
        return [line, ask]

    def identity(self, key: str) -> list[str]:
        core = (
            f"{self.name} here."
            if self.terse
            else _pick((f"It's me, {self.name}.", f"I'm {self.name}."), key, "who")
        )
        told = (
            "Or rather a voice assistant answering as me, from my mails and notes."
            if not self.formal
            else "Strictly, an assistant answering as me, from my correspondence."
        )
        return [self._with_address(core, key), told]

    def wellbeing(self, key: str) -> list[str]:
        core = _pick(_WELLBEING_FORMAL if self.formal else _WELLBEING_CASUAL, key, "well")
        return self.dress([core], key)

    def thanks(self, key: str) -> list[str]:
        core = _pick(_THANKS_FORMAL if self.formal else _THANKS_CASUAL, key, "thanks")
        return self.dress([core], key)

    def farewell(self, key: str) -> list[str]:
        farewells = self.style.farewells if self.style else []
        spoken = [
            f.rstrip(",").strip()
            for f in farewells
            if f.rstrip(",.! ").lower() not in _WRITTEN_FAREWELLS
        ]
        if spoken:
            line = spoken[0]
            return [line if line[-1:] in ".!?" else f"{line}."]
        return ["Goodbye." if self.formal else "Bye for now."]

    def recall(self, kind: SmallTalk, history: Sequence[Turn], key: str) -> list[str]:
        """ "What did I just ask?" / "what did you say?" from the conversation memory."""
        if not history:
            return self.dress(["You haven't asked me anything yet."], key)
        last = history[-1]
        if kind is SmallTalk.RECALL_ANSWER:
            return [last.answer] if last.answer else ["I didn't say anything."]
        recalls = (SmallTalk.RECALL_QUESTION, SmallTalk.RECALL_ANSWER)
        asked_before = [t for t in history if classify(t.user) not in recalls]
        if not asked_before:
            return self.dress(["You haven't asked me anything yet."], key)
        last = asked_before[-1]
        said = last.user.strip().rstrip("?.!")
        if is_question(last.user):
            return [self._with_address(f"You asked: {said}.", key)]
        questions = [t for t in asked_before if is_question(t.user)]
        if not questions:
            return [self._with_address(f"You said: {said}.", key)]
        # "Thank you!" is not what anyone means by "what did I just ask?"
        asked = questions[-1].user.strip().rstrip("?.!")
        return [self._with_address(f"You said: {said}.", key), f"Before that you asked: {asked}."]

    def small_talk(self, kind: SmallTalk, history: Sequence[Turn], key: str) -> list[str]:
        if kind is SmallTalk.GREETING:
            return self.greeting(key)
        if kind is SmallTalk.IDENTITY:
            return self.identity(key)
        if kind is SmallTalk.WELLBEING:
            return self.wellbeing(key)
        if kind is SmallTalk.THANKS:
            return self.thanks(key)
        if kind is SmallTalk.FAREWELL:
            return self.farewell(key)
        return self.recall(kind, history, key)


# --- perspective ----------------------------------------------------------------------------

_YOU_VERB = re.compile(
    r"\b(?:do|did|are|were|will|would|have|had|can|could|should)\s+you\s+(\w+)", re.I
)
_YOUR_NOUN = re.compile(r"\byour\s+(\w+(?:\s+\w+)?)", re.I)
_TO_BE = {"are": "am", "were": "was", "have": "have", "will": "will", "had": "had"}


_FILLER = frozenset("the a an is are was were it its to of in on at for and so".split())


def echoes(sentence: str, question: str) -> bool:
    """The sentence is the question said back, which answers nothing: as a question with most
    of the question's words (tiny models start answers with it), or, to a question asking
    what, where, when, who… (:data:`ASKING_WORDS`), as a statement with no word of its own
    (the 1.5B answered "Amma tablets enga irukku?" with "Amma tablets enga irukku."). A
    yes-or-no question may be answered in its own words ("Is Selvam coming?" -> "Selvam is
    coming.")."""
    asked = {w.lower() for w in _WORD.findall(question)}
    said = [w.lower() for w in _WORD.findall(sentence)]
    if not said:
        return False
    if sentence.rstrip().endswith("?"):
        return sum(w in asked for w in said) >= 0.7 * len(said)
    return bool(asked & ASKING_WORDS) and not set(said) - asked - _FILLER


def names_herself(sentence: str, names: Sequence[str], question: str = "") -> bool:
    """The sentence still names the persona (after ``first_person``): unless the question
    did, that is the model putting her where someone else belongs."""
    for name in names:
        if len(name) < 3:
            continue
        pattern = rf"(?<!\w){re.escape(name)}(?!\w)"
        if re.search(pattern, sentence) and not re.search(pattern, question, re.IGNORECASE):
            return True
    return False


_YOU_AS_THIRD = re.compile(r"(?:^|[,;:] )you (?:is|was|has|does|doesn't|isn't|wasn't)\b", re.I)


def you_for_someone(sentence: str) -> bool:
    """ "You is coming to service the boiler.": "you" with a verb only a third person takes is
    the model putting "you" (how the passages name her) where someone else's name belongs."""
    return bool(_YOU_AS_THIRD.search(sentence))


def first_person(
    sentence: str, question: str, names: Sequence[str] = (), addressed: str = ""
) -> str:
    """The persona talks about herself as "I": repairs answers that echo the question's "you"
    ("You book it on the 1st" to "Where do you book...") or name her in the third person.
    What the question or her mail (``addressed``: the passages written to her) calls "your"
    is hers: "Your check-up with Dr Fraser…", copied from the dentist's mail, is "My
    check-up…" (unless the listener asks about their own: "when is my check-up?")."""
    out = sentence
    for name in names:
        if not name or len(name) < 2:
            continue
        escaped = re.escape(name)
        out = re.sub(rf"\b{escaped}'s\b", "my", out)
        out = re.sub(rf"^{escaped} (is|was|has|will|would|can)\b", _third_to_first, out)
    theirs = {m.group(1).lower() for m in re.finditer(r"\bmy (\w+)", question, re.I)}
    yours = {m.group(1).split()[0].lower() for m in _YOUR_NOUN.finditer(question)}
    yours |= {m.group(1).lower() for m in re.finditer(r"\byour (\w+)", addressed, re.I)} - theirs
    for noun in yours:
        out = re.sub(rf"\b[Yy]our ({re.escape(noun)})\b", _your_to_my, out, flags=re.I)
    verbs = {m.group(1).lower() for m in _YOU_VERB.finditer(question)}
    if re.search(r"\b(?:are|were|will|have|do|did|can)\s+you\b", question, re.I):
        for verb in verbs:
            forms = "|".join(re.escape(form) for form in sorted(verb_forms(verb), key=len)[::-1])
            out = re.sub(
                rf"\b[Yy]ou (?:(are|were|will|have|had|would|can|do|did) )?(?:{forms})\b",
                _you_to_i,
                out,
            )
        out = re.sub(r"^You are\b", "I am", out)
        out = re.sub(r"^You're\b", "I'm", out)
    return _cap(out) if sentence[:1].isupper() else out


_IRREGULAR = {
    "bring": ("brought",),
    "buy": ("bought",),
    "come": ("came",),
    "do": ("did", "done"),
    "eat": ("ate", "eaten"),
    "find": ("found",),
    "forget": ("forgot", "forgotten"),
    "get": ("got", "gotten"),
    "give": ("gave", "given"),
    "go": ("went", "gone"),
    "hide": ("hid", "hidden"),
    "keep": ("kept",),
    "leave": ("left",),
    "lend": ("lent",),
    "lose": ("lost",),
    "make": ("made",),
    "meet": ("met",),
    "pay": ("paid",),
    "put": ("put",),
    "say": ("said",),
    "see": ("saw", "seen"),
    "sell": ("sold",),
    "send": ("sent",),
    "spend": ("spent",),
    "take": ("took", "taken"),
    "tell": ("told",),
    "think": ("thought",),
    "win": ("won",),
    "write": ("wrote", "written"),
}
"""Past forms of the verbs people ask a person about ("did you give…?" -> "you gave")."""


def verb_forms(verb: str) -> set[str]:
    """The forms an answer may say ``verb`` of the question in: "give" -> give, gives, gave,
    given, giving; "book" -> book, books, booked, booking."""
    verb = verb.lower()
    stem = verb[:-1] if verb.endswith("e") else verb
    forms = {verb, f"{verb}s", f"{verb}es", f"{stem}ed", f"{stem}ing", *_IRREGULAR.get(verb, ())}
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        forms |= {f"{verb[:-1]}ies", f"{verb[:-1]}ied"}
    return forms


def _your_to_my(match: re.Match[str]) -> str:
    return ("My " if match.group(0)[:1].isupper() else "my ") + match.group(1)


def _you_to_i(match: re.Match[str]) -> str:
    text = match.group(0)
    aux = match.group(1)
    rest = text[3:]
    if aux:
        rest = rest.replace(aux, _TO_BE.get(aux.lower(), aux), 1)
    return "I" + rest


def _third_to_first(match: re.Match[str]) -> str:
    verb = match.group(1)
    return "I " + {"is": "am", "has": "have"}.get(verb, verb)


# --- grounding ------------------------------------------------------------------------------


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").lstrip("0") or "0" for n in _NUMBER.findall(text)}


def _calendar_text(text: str) -> str:
    """Sources with ISO dates spelled out and foreign month and day names in English too."""
    spelled = ISO_DATE.sub(lambda m: f"{m.group(0)} {spoken_date(m)}", text)
    words = {w.lower() for w in _WORD.findall(spelled)}
    extra = [_FOREIGN_CALENDAR[w] for w in words if w in _FOREIGN_CALENDAR]
    return spelled + " " + " ".join(extra)


_UNITS = {
    "minute": "minute", "min": "minute", "hour": "hour", "hr": "hour", "day": "day",
    "week": "week", "month": "month", "year": "year", "cup": "cup", "spoon": "spoon",
    "teaspoon": "teaspoon", "tsp": "teaspoon", "tablespoon": "tablespoon", "tbsp": "tablespoon",
    "glass": "glass", "kg": "kg", "kilo": "kg", "gram": "gram", "g": "gram", "litre": "litre",
    "liter": "litre", "ml": "ml", "km": "km", "mile": "mile", "metre": "metre", "meter": "metre",
}  # fmt: skip
_SMALL_NUMBERS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
_AMOUNT = rf"(?<![\w.,])(\d+(?:\.\d+)?|{'|'.join(_SMALL_NUMBERS)})"
_UNIT = rf"({'|'.join(sorted(_UNITS, key=len, reverse=True))})(?:e?s)?\b"
_QUANTITY = re.compile(rf"{_AMOUNT}\s?{_UNIT}", re.IGNORECASE)
_BEFORE_UNIT = re.compile(rf"{_AMOUNT}(?![\w.,]\d)", re.IGNORECASE)
_UNIT_WORD = re.compile(rf"\b{_UNIT}", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;:!?\n]")
_UNIT_REACH = 4
"""Words before a unit in a passage whose numbers it counts ("1-2 hours", "2 or 3 cups")."""


def _counted(text: str) -> dict[str, set[str]]:
    """The numbers each unit of measure counts in ``text``: "soak for 6 hours" -> hour: 6.
    A number up to four words before its unit, in the same clause, counts."""
    out: dict[str, set[str]] = {}
    clause_start, ends = 0, _CLAUSE_END.finditer(text)
    next_end = next(ends, None)
    for match in _UNIT_WORD.finditer(text):
        while next_end is not None and next_end.start() < match.start():
            clause_start, next_end = next_end.end(), next(ends, None)
        before = text[clause_start : match.start()].split()[-_UNIT_REACH:]
        numbers = {_number_value(n) for n in _BEFORE_UNIT.findall(" ".join(before))}
        if numbers:
            out.setdefault(_UNITS[match.group(1).lower()], set()).update(numbers)
    return out


def _number_value(token: str) -> str:
    return _SMALL_NUMBERS.get(token.lower(), token)


def _miscounted(sentence: str, sources: str) -> list[str]:
    """Amounts of a unit the sources count with other numbers only: "4 hours" when the mail
    says "4 cups rice… soak for 6 hours" (the 0.5B took the cups' number for the hours).
    A unit the sources never count is not judged."""
    known = _counted(sources)
    out = []
    for number, written in _QUANTITY.findall(sentence):
        unit = _UNITS[written.lower()]
        if unit in known and _number_value(number) not in known[unit]:
            out.append(f"{number} {unit}")
    return out


_OF_QUANTITY = re.compile(
    rf"{_AMOUNT}\s?{_UNIT}\s+of\s+(?:the\s+|a\s+|an\s+)?([^\W\d_]{{3,}})", re.IGNORECASE
)
_HOW_MUCH = re.compile(r"\bhow (?:much|many) ([^\W\d_]{3,})", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bMrs)[.!?](?!\d)|\n")
"""Where a sentence of the sources ends (not at "Mr." or "1.5")."""
_NOT_A_THING = (
    _FUNCTION
    | _ENGLISHISH
    | frozenset("does did do goes go should shall must can may might will would it".split())
)


def _misattributed(sentence: str, sources: str, question: str = "") -> list[str]:
    """Amounts given for another thing: "1 cup of tamarind", or "1 cup" asked "how much
    tamarind…?", when the recipe says "Toor dal one cup, cooked soft. Tamarind the size of a
    lemon." (the 0.5B took the dal's amount). The thing must be named in a sentence of the
    sources that counts that amount of that unit. An amount no sentence counts is
    ``_miscounted``'s case; a thing asked about that no source names (another word for it)
    is not judged."""
    pieces = [p.lower() for p in _SENTENCE_END.split(sources)]
    claims = [
        (m.group(0), m.group(1), m.group(2), m.group(3)) for m in _OF_QUANTITY.finditer(sentence)
    ]
    asked = _HOW_MUCH.search(question)
    thing = asked.group(1).lower() if asked else ""
    named = any(thing[:4] in p and p.strip() not in question.lower() for p in pieces)
    if thing and thing not in _NOT_A_THING and not _UNIT_WORD.match(thing) and named:
        claims += [
            (m.group(0), m.group(1), m.group(2), thing) for m in _QUANTITY.finditer(sentence)
        ]
    counts = [(p, _counted(p)) for p in pieces] if claims else []
    out = []
    for said, number, written, what in claims:
        value, unit = _number_value(number), _UNITS[written.lower()]
        counting = [p for p, counted in counts if value in counted.get(unit, set())]
        if counting and not any(what.lower()[:4] in p for p in counting):
            out.append(f"{said} ({what})" if what.lower() not in said.lower() else said)
    return list(dict.fromkeys(out))


_NEGATED = re.compile(
    r"\b(?:not|never|n't|cannot|no longer)\s+(?:(?:be|been|going|able)\s+)?(?:to\s+)?"
    r"([^\W\d_]{3,})",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[.!?;:,](?!\d)|\n|\b(?:but|so|although|though)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|cannot)\b|n't\b", re.IGNORECASE)


def _verb_stem(word: str) -> str:
    """ "coming", "comes", "come" -> "com"; "cancelled" -> "cancell"."""
    word = word.lower()
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    return word.rstrip("e")


_ENGLISHISH_STEMS = frozenset(_verb_stem(w) for w in _ENGLISHISH)


def _contradicted(sentence: str, sources: str) -> list[str]:
    """What an affirmative sentence says that the sources say is not so: "Yes, the maid is
    coming on Tuesday." when her mail says "I will not come to work on Tuesday" (the 1.5B).
    A clause of the sources denying a verb of the answer ("not come", "won't be coming") and
    sharing another of its words (Tuesday, the maid) is the same matter denied; "I could not
    come last week, so I am coming on Tuesday" denies nothing of "coming on Tuesday". A
    sentence with a negation of its own is not judged."""
    if _NEGATION.search(sentence):
        return []
    words = [w for w in _WORD.findall(sentence) if len(w) >= 3 and w.lower() not in _FUNCTION]
    stems = {_verb_stem(w): w for w in words}
    out = []
    for piece in _CLAUSE.split(sources):
        denied = {_verb_stem(m.group(1)) for m in _NEGATED.finditer(piece)} & stems.keys()
        if not denied:
            continue
        others = {_verb_stem(w) for w in _WORD.findall(piece)} & stems.keys() - denied
        if others - _ENGLISHISH_STEMS:
            out += [f"not {stems[stem]}" for stem in sorted(denied)]
    return list(dict.fromkeys(out))


def ungrounded(sentence: str, sources: Sequence[str], question: str = "") -> list[str]:
    """What in ``sentence`` none of ``sources`` supports: numbers, amounts of a unit ("4
    hours"), or of another thing (``question``: what was asked, "how much tamarind…?"),
    months and weekdays, names, or every content word at once.

    A tiny model asked about something its passages do not cover answers anyway, with a date
    or a place from somewhere else (a style example, a previous turn, its training): "next
    January", "the grey folder in the study". Numbers and calendar words are checked
    everywhere; capitalised names only in English sentences (German capitalises every noun)."""
    joined = _calendar_text(" ".join(sources))
    lower = joined.lower()
    known_numbers = _numbers(joined)
    missing = [
        n
        for n in _numbers(sentence)
        if n not in known_numbers and n not in {"0", "1"} and not _part_of_known(n, known_numbers)
    ]
    missing += _miscounted(sentence, joined)
    missing += _misattributed(sentence, joined, question)
    missing += _contradicted(sentence, joined)
    missing += [m.group(1) for m in _CALENDAR.finditer(sentence) if m.group(1).lower() not in lower]
    words = [w.lower() for w in _WORD.findall(sentence)]
    # the same in the other languages an answer may be in ("El yoga es el sábado")
    missing += [w for w in words if w in _FOREIGN_CALENDAR and _FOREIGN_CALENDAR[w] not in lower]
    english = sum(1 for w in words if w in _ENGLISHISH) >= max(1, len(words) // 6)
    content = [w for w in words if len(w) >= 4 and w not in _FUNCTION and not w.isdigit()]
    supported = sum(1 for w in content if w[:4] in lower)
    if len(content) >= _MIN_CONTENT_WORDS and supported * 3 < len(content):
        missing.append(" ".join(content))
    if english:
        missing += [name for name in _capitalised(sentence) if name.lower() not in lower]
    return list(dict.fromkeys(missing))


def _capitalised(sentence: str) -> list[str]:
    """The capitalised words of an English sentence but its first (capitalised anyway), "'s"
    taken off, that may be names: not "I", "OK", "Mr" and the like."""
    out = []
    for word in _WORD.findall(sentence)[1:]:
        base = word[:-2] if word.endswith("'s") else word
        if len(base) >= 3 and base[0].isupper() and base.lower() not in _COMMON_CAPITALISED:
            out.append(base)
    return out


_WHEN_QUESTION = re.compile(
    r"^\W*(?:when|what time|what day|which day|what date|how soon|"
    r"cuándo|cuando|a qué hora|qué día|en qué día|qué fecha|"
    r"wann|um wie viel uhr|um wieviel uhr|an welchem tag|welcher tag|welches datum|"
    r"quand|à quelle heure|quel jour|quelle date)\b",
    re.IGNORECASE,
)
"""A question asking when, in English or in the other languages of ``_FOREIGN_CALENDAR``."""
_DAY_QUESTION = re.compile(
    r"^\W*(?:on )?(?:what day|which day|what date|which date|qué día|en qué día|qué fecha|"
    r"an welchem tag|welcher tag|welches datum|quel jour|quelle date)\b",
    re.IGNORECASE,
)
"""A question asking which day: a clock time alone ("at 6 pm") does not answer it."""
_WHEN_COPY = re.compile(r"\bwhen\b", re.IGNORECASE)
_DAY_COPY = re.compile(r"\b(?:what|which) (?:day|date)\b", re.IGNORECASE)
_DAY_WORDS = frozenset(
    """today tomorrow tonight yesterday weekend weekends weekday weekdays daily christmas easter
    holiday holidays birthday hoy mañana ayer pasado heute morgen gestern übermorgen
    aujourd'hui demain hier""".split()
).union(
    _WEEKDAYS,
    _FOREIGN_CALENDAR,
    (f"{day}s" for day in _WEEKDAYS),  # "Tuesdays"
    (f"{day}s" for day, english in _FOREIGN_CALENDAR.items() if day.endswith("tag")),
)
_FOREIGN_TIME_WORDS = _DAY_WORDS | frozenset(
    """tarde noche semana mes año siempre nunca hora horas mediodía medianoche una dos tres
    cuatro cinco seis siete ocho nueve diez once doce
    abend nacht woche monat jahr immer nie uhr mittag mitternacht halb eins zwei drei vier
    fünf sechs sieben acht neun zehn elf zwölf
    soir matin semaine mois an toujours jamais heure heures midi minuit deux trois quatre
    cinq six sept huit neuf dix onze douze""".split()
)
_DATE_NUMBER = re.compile(r"\b\d{1,2}(?:st|nd|rd|th|\.)(?!\d)|\b\d{1,4}[./-]\d{1,2}\b", re.I)
_EVERY_DAY = re.compile(r"\b(?:every|each) day\b", re.IGNORECASE)
_MONEY_QUESTION = re.compile(
    r"^\s*(?:how much|what)\b.*\b(?:cost|costs|charge|charges|price|pay|pays|paid|earn|earns|"
    r"income|salary|fee|fees|premium|rent|bill|owe|spend|spent|balance)\b",
    re.IGNORECASE,
)
_TIME_WORDS = NUMBER_WORDS | frozenset(
    """today tomorrow tonight yesterday morning afternoon evening night noon midnight week
    weekend fortnight month year daily weekly monthly yearly annually christmas easter soon
    later never always every next last after before until since o'clock once twice holiday
    holidays half quarter""".split()
)
_MONEY_WORDS = NUMBER_WORDS | frozenset(
    """free nothing pound pounds dollar dollars euro euros rupee rupees cent cents pence penny
    quid thousand million lakh lakhs crore crores""".split()
)
_CURRENCY = re.compile(r"[£$€₹¥]")


_WHO_DOES = re.compile(
    r"^\W*who(?:'s|\s+(?:is|was|will|has|had|can|should|does|did)\b)"
    r"(?!\s+(?:i|you|we|they|he|she|it)\b)",
    re.I,
)
"""A question whose answer is someone ("Who is picking Karthik up?", "Who has the key?"; not
"Who am I meeting?", whose answer "You are meeting Dr Rao" rightly starts with "you")."""
_LEAD_YOU = r"^(?P<lead>\W*(?:[^\W\d_]+,\s*)?)you"
"""A sentence starting with "you", after a call at most ("Ay, you ...")."""
_YOU_DO = re.compile(_LEAD_YOU + r"(?:'re|'ll|'ve|\s+(?:are|were|will|have|had))\b", re.I)


def _names_someone(sentence: str, question: str) -> bool:
    """A name in ``sentence`` that the question does not hold (a day or month is none)."""
    asked = {w.lower() for w in _WORD.findall(question)} | set(_WEEKDAYS) | set(_MONTHS)
    return any(name.lower() not in asked for name in _capitalised(sentence))


def carries_answer(sentence: str, question: str, copy: str | None = None) -> bool:
    """Whether ``sentence`` can be an answer to ``question`` at all: asked when, it names a
    time (a date, a day, a number, "tomorrow", "every week"...), and asked which day, a day
    (the 0.5B answered "¿Qué día es el yoga?" with "El yoga es el día 6 pm."); asked what
    something costs or earns, an amount. Other questions: always. A sentence of the right
    passage that says neither is not the answer: the 1.5B model answered "What is your
    pension income?" with "Pension statements attached." from the tax-return mail. Asked who
    does or has something, "you" doing it is no answer unless someone else is named with it:
    the hub does not know who is speaking ("You are picking Karthik up from the airport.",
    from "Murugan will pick you up"; but "You have my spare key with Mrs Henderson.").
    ``copy``: a Tamil or Hindi question with its question words in English
    (``language.word_for_word``, "plumber when will come?"); a sentence in another script
    than Latin is not judged."""
    words = {w.lower() for w in _WORD.findall(sentence)}
    if _WHO_DOES.search(question) and _YOU_DO.search(sentence):
        return _names_someone(sentence, question)
    copied = "" if copy is None or in_other_script(sentence) else copy
    named_day = bool(
        _CALENDAR.search(sentence)
        or _DATE_NUMBER.search(sentence)
        or _EVERY_DAY.search(sentence)
        or words & _DAY_WORDS
    )
    if _DAY_QUESTION.search(question) or _DAY_COPY.search(copied):
        return named_day
    if _WHEN_QUESTION.search(question) or _WHEN_COPY.search(copied):
        return bool(
            named_day or _NUMBER.search(sentence) or words & (_TIME_WORDS | _FOREIGN_TIME_WORDS)
        )
    if _MONEY_QUESTION.search(question):
        return bool(_NUMBER.search(sentence) or _CURRENCY.search(sentence) or words & _MONEY_WORDS)
    return True


_YOU_DID = re.compile(
    _LEAD_YOU + r"(?P<aux>'re|'ll|'ve|\s+(?:are|were|will|have|had|is|was|has)\b)(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
"""The same with the verbs only a third person takes ("You is coming"), and what follows."""
_THIRD_PERSON_AUX = {
    "re": "is",
    "ll": "will",
    "ve": "has",
    "are": "is",
    "were": "was",
    "have": "has",
}
_TITLED_RUN = re.compile(
    r"\b(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?[^\W\d_a-z][^\W\d_]*(?:'[^\W\d_]+)?"
    r"(?:\s+[^\W\d_a-z][^\W\d_]*)*"
)
_DOER_EVIDENCE = 2
"""Words a document's sentence must share with the answer for its one person to be the doer."""
_NOT_A_PERSON = (
    _FUNCTION
    | _ENGLISHISH
    | _COMMON_CAPITALISED
    | frozenset(
        """our we they he she his her this please dear hi hello thanks thank sorry also so but
    if after before today tomorrow tonight every each""".split()
    )
)


_COMING = frozenset(
    """come comes coming came attend attends attending visit visits visiting arrive arrives
    arriving""".split()
)
"""Verbs of someone coming to the house: "who is coming?" is answered by who attends."""


def doer_for_you(
    sentence: str, question: str, documents: Sequence[str], names: Sequence[str] = ()
) -> str | None:
    """Asked who does something, the 0.5B says "you" do it when a mail says someone does it
    to "you": "Murugan will pick you up at the airport" -> "You are picking Karthik up from
    the airport."; "Your boiler service is booked for Friday. Our engineer, Mr Okafor, will
    attend." -> "You is coming to service the boiler."

    The one person named by the sentence of ``documents`` (the passages) that shares the most
    of the answer's words (two at least) is put in its place: "Murugan is picking Karthik up
    from the airport." Asked who is coming, a passage sharing two of the answer's words may
    instead have one sentence naming one person who comes, attends, visits or arrives: "Mr
    Okafor is coming to service the boiler." None when the sentence is no such answer, or
    when no single person stands out (then the sentence stays no answer to "who", see
    ``carries_answer``). ``names``: the persona's own, never the doer (she is "I")."""
    said = _YOU_DID.match(sentence)
    if not _WHO_DOES.search(question) or said is None or _names_someone(sentence, question):
        return None
    own = {w.lower()[:4] for w in _WORD.findall(said["rest"])}
    own = {w for w in own if len(w) >= 3 and w not in _NOT_A_PERSON}
    text = "\n".join(documents)
    excluded = (
        {w.lower() for w in _WORD.findall(question)}
        | {w.lower() for name in names for w in _WORD.findall(name)}
        | {w for w in _WORD.findall(text) if w.islower()}  # a word, not a name
        | set(_WEEKDAYS)
        | set(_MONTHS)
    )

    def people(piece: str) -> set[str]:
        return {
            run.group(0)
            for run in _TITLED_RUN.finditer(piece)
            if any(
                w.lower() not in excluded and w.lower() not in _NOT_A_PERSON
                for w in _WORD.findall(run.group(0))
            )
        }

    def shared(piece: str) -> int:
        return len({w.lower()[:4] for w in _WORD.findall(piece)} & own)

    found: dict[str, int] = {}
    for piece in _SENTENCE_END.split(text):
        named, evidence = people(piece), shared(piece)
        if evidence >= _DOER_EVIDENCE and len(named) == 1:
            person = named.pop()
            found[person] = max(found.get(person, 0), evidence)
    best = [p for p, n in found.items() if n == max(found.values(), default=0)]
    verb = next(iter(_WORD.findall(said["rest"])), "").lower()
    if not best and verb in _COMING:
        comers: set[str] = set()
        for document in documents:
            if shared(document) < _DOER_EVIDENCE:
                continue
            for piece in _SENTENCE_END.split(document):
                named = people(piece)
                if len(named) == 1 and {w.lower() for w in _WORD.findall(piece)} & _COMING:
                    comers |= named
        best = list(comers)
    if len(best) != 1:
        return None
    aux = said["aux"].strip().lstrip("'").lower()
    return f"{said['lead']}{best[0]} {_THIRD_PERSON_AUX.get(aux, aux)}{said['rest']}"


def _part_of_known(number: str, known: set[str]) -> bool:
    """ "7:15" is split into 7 and 15 in both; "5001" may appear as "5,001"."""
    return any(number in k.replace(".", "") for k in known if len(number) >= 2)
