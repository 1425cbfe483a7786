"""Which language a text is in, from its script and its function words (pure, no model).

Used for the persona's writing (``style``: which languages she mixes) and for questions
(``question_language``): a question in another language than her files cannot be matched by
an English-only embedder, shares few keywords with them, and should be answered in its own
language. Whole words only, few of them: a question is short, so one question word ("dónde",
"wann", "enga") is already good evidence.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

import snowballstemmer
from anyascii import anyascii

from familiar_hub.persona import lexicon

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

ROMANISED_QUESTION_WORDS: dict[str, dict[str, str]] = {
    "ta": {
        "enga": "where",
        "engey": "where",
        "eppo": "when",
        "eppadi": "how",
        "yaaru": "who",
        "yaar": "who",
        "enna": "what",
        "evvalavu": "how much",
        "ethana": "how many",
        "ethanai": "how many",
        "edhu": "which",
        "ethu": "which",
        "entha": "which",
        "endha": "which",
        "thethi": "date",
        "thedhi": "date",
        "neram": "time",
        "kizhamai": "day of the week",
        "yen": "why",
        "irukka": "is there",
        "irukku": "is there",
        "varuvaar": "will come",
        "varuvanga": "will come",
        "varum": "will come",
        "vechirukka": "kept",
        "sollu": "tell",
        "sonna": "said",
    },
    "hi": {
        "kahan": "where",
        "kahaan": "where",
        "kab": "when",
        "kaun": "who",
        "kya": "what",
        "kitna": "how much",
        "kitne": "how many",
        "kitni": "how much",
        "kaise": "how",
        "kaunsa": "which",
        "kaunsi": "which",
        "kaunse": "which",
        "tarikh": "date",
        "tareekh": "date",
        "kyun": "why",
        "kyon": "why",
        "hai": "",  # "is": nothing to explain
    },
}
"""Tamil and Hindi question words as people type them in Latin letters in code-mixed
questions, with their English (``gloss``; "" for one that needs none)."""
_GLOSSES = {
    word: english for words in ROMANISED_QUESTION_WORDS.values() for word, english in words.items()
}

LATIN_QUESTION_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "qué": "what", "dónde": "where", "donde": "where", "adónde": "where to",
        "cuándo": "when", "cuando": "when", "quién": "who", "quiénes": "who",
        "cuánto": "how much", "cuánta": "how much", "cuántos": "how many",
        "cuántas": "how many", "cómo": "how", "cuál": "which", "cuáles": "which",
        "día": "day", "hora": "time", "fecha": "date",
    },
    "de": {
        "was": "what", "wann": "when", "wo": "where", "wohin": "where to", "woher": "where from",
        "wer": "who", "wen": "whom", "wem": "to whom", "wie": "how", "wieviel": "how much",
        "welche": "which", "welcher": "which", "welches": "which", "welchen": "which",
        "welchem": "which", "warum": "why", "tag": "day", "uhr": "o'clock", "datum": "date",
    },
    "fr": {
        "où": "where", "quand": "when", "qui": "who", "quoi": "what", "comment": "how",
        "combien": "how much", "quel": "which", "quelle": "which", "quels": "which",
        "quelles": "which", "pourquoi": "why", "jour": "day", "heure": "time",
    },
}  # fmt: skip
"""Spanish, German and French question words with their English (``gloss``): asked "¿Qué
día es el yoga?", the 0.5B said "El yoga es el día 6 pm."; told "qué: what; día: day", "The
yoga is on Tuesday." Asked "Was schenkst du Klaus?" it said the line after the gift
("Schottisch, alt, funktioniert."); told "was: what": "Ich bringe dir ein Barometer aus
Messing mit." """

_ASKING: dict[str, frozenset[str]] = {
    "en": frozenset("what where when who whom whose which how why".split()),
    "es": frozenset(
        "qué dónde donde cuándo cuando quién quiénes cuánto cuánta cuántos cuántas cómo cuál "
        "cuáles".split()
    ),
    "de": frozenset("wann wo wer wie welche welcher welches warum wieviel wohin woher".split()),
    "fr": frozenset("où quand qui quoi comment combien quel quelle quels pourquoi".split()),
}
ASKING_WORDS = frozenset().union(
    *_ASKING.values(),
    (
        word
        for words in ROMANISED_QUESTION_WORDS.values()
        for word, english in words.items()
        # "kya" also asks yes or no ("kya tum aaoge?")
        if english.split(" ")[0] in _ASKING["en"] and word != "kya"
    ),
)
"""Words that ask what, where, when, who, how or why, in the languages above: a question
with one wants more than a yes or a no."""

QUESTION_WORDS: dict[str, frozenset[str]] = {
    "es": _ASKING["es"] | frozenset("está están hay tienes vas vuelas".split()),
    "de": _ASKING["de"] | frozenset("ist sind hast du dein deine".split()),
    "fr": _ASKING["fr"] | frozenset(["est-ce"]),
    **{code: frozenset(words) for code, words in ROMANISED_QUESTION_WORDS.items()},
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
    hain ka ki ke ko mein se
    """.split()
).union(*ROMANISED_QUESTION_WORDS.values())
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


# ------------------------------------------------------------------ words across scripts

_TOKEN = re.compile(r"(?:\w|[\u0300-\u036F\u0900-\u0963\u0966-\u0DFF])+")


def tokens(text: str) -> list[str]:
    """The words of ``text`` in any script, lower case. Python's ``\\w`` alone cuts an Indic
    word at each vowel sign and virama ("சாம்பார்" -> "ச", "ம", "ப", "ர")."""
    return _TOKEN.findall(text.lower())


_NON_LATIN = re.compile(r"[^\W\d_a-zA-Z\u00C0-\u024F]")


def in_other_script(text: str) -> bool:
    """Whether ``text`` has a letter of a script other than Latin (Tamil, Devanagari…)."""
    return bool(_NON_LATIN.search(text))


def listed_english(word: str) -> tuple[str, ...]:
    """The English of a Tamil or Hindi word of the home in its script (``lexicon``; "சாவி"
    -> ("key", "keys")); () for any other word."""
    language = next((code for code, script in SCRIPTS if script.search(word)), None)
    return lexicon.english(word, language) if language is not None else ()


def romanised(word: str) -> str | None:
    """``word`` in Latin letters (anyascii: Tamil, Devanagari, Cyrillic, Greek, Arabic… as
    their letters sound), lower case; None for a word already in Latin script (or digits).
    Indic scripts come out without their inherent vowels ("மதுரை" -> "mturai"): good enough
    for ``sound_key``, which keeps only consonants."""
    if not in_other_script(word):
        return None
    return re.sub(r"[^a-z]", "", anyascii(word).lower()) or None


_DIGRAPHS = (
    ("ph", "p"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "t"),
    ("kh", "k"),
    ("gh", "k"),
    ("bh", "p"),
    ("zh", "l"),
    ("ck", "k"),
    ("x", "ks"),
)
_VOICING = str.maketrans("gqdbfzjw", "kktppssv")
_VOWELS = re.compile(r"[aeiouyh]")
_SOFT_C = re.compile(r"c(?=[eiy])")


def sound_key(word: str, *, romanised_from: bool = False) -> str:
    """The consonant skeleton of a Latin-script word, as a script that does not tell voiced
    from unvoiced consonants, or short from long vowels, writes it: "Madurai", "mturai" and
    "mathurai" -> "mtr"; "password" and "pasvert" -> "psvrt"; "ticket" and "tikket" -> "tkt".
    Doubled letters count once, letters a vowel parts twice ("premium" -> "prmm", "from" ->
    "prm"); a leading vowel is kept as "a". ``romanised_from``: the word came from
    ``romanised`` (its "c" is the Indic "ch"/"s" sound, never a "k")."""
    text = word.lower()
    for pair, sound in _DIGRAPHS:
        text = text.replace(pair, sound)
    text = text.replace("c", "s") if romanised_from else _SOFT_C.sub("s", text).replace("c", "k")
    text = re.sub(r"[^a-z]", "", text).translate(_VOICING)
    lead = "a" if text[:1] in {"a", "e", "i", "o", "u"} else ""
    single = "".join(ch for i, ch in enumerate(text) if i == 0 or ch != text[i - 1])
    return lead + _VOWELS.sub("", single)


def _consonants(key: str) -> int:
    """How many consonants a ``sound_key`` holds (its leading-vowel mark aside)."""
    return len(key.lstrip("a"))


def _script_key(word: str) -> tuple[str, str] | None:
    """A word in another script, romanised, and its ``sound_key``; None for a Latin one."""
    latin = romanised(word)
    return None if latin is None else (latin, sound_key(latin, romanised_from=True))


_STOP_KEYS = frozenset(sound_key(word) for word in [*_GLOSSES, "hain", "mein"])

SCRIPT_QUESTION_WORDS = {
    **dict.fromkeys(["எங்கே", "எங்க", "எங்கு"], "where"),
    **dict.fromkeys(["எப்போ", "எப்போது", "எப்பொழுது"], "when"),
    **dict.fromkeys(["என்ன", "எதை"], "what"),
    **dict.fromkeys(["யார்", "யாரு", "யாருக்கு"], "who"),
    **dict.fromkeys(["எவ்வளவு"], "how much"),
    **dict.fromkeys(["எத்தனை"], "how many"),
    **dict.fromkeys(["எப்படி"], "how"),
    **dict.fromkeys(["ஏன்"], "why"),
    **dict.fromkeys(["எந்த", "எது"], "which"),
    **dict.fromkeys(["कहाँ", "कहां"], "where"),
    **dict.fromkeys(["कब"], "when"),
    **dict.fromkeys(["क्या"], "what"),
    **dict.fromkeys(["कौन"], "who"),
    **dict.fromkeys(["कितना", "कितनी"], "how much"),
    **dict.fromkeys(["कितने"], "how many"),
    **dict.fromkeys(["कैसे"], "how"),
    **dict.fromkeys(["क्यों", "क्यूँ"], "why"),
    **dict.fromkeys(["कौनसा", "कौनसी", "कौनसे", "किस"], "which"),
}
"""Tamil and Hindi question words in their script, known exactly: found by their sound
instead, "எப்போது" (when) was "eppadi" (how), and "எப்போ" has too few consonants to say."""


def script_stopword(word: str) -> bool:
    """A word in another script that is a function or question word: one of
    ``SCRIPT_QUESTION_WORDS``; romanised, it sounds like one of the romanised Tamil and Hindi
    ones ("எங்கே" ~ "enga", "कब" ~ "kab"), or it has at most one consonant ("है", "की")."""
    if word in SCRIPT_QUESTION_WORDS:
        return True
    found = _script_key(word)
    return found is not None and (_consonants(found[1]) <= 1 or found[1] in _STOP_KEYS)


_GLOSS_KEYS = {sound_key(word): english for word, english in _GLOSSES.items()}


def gloss(question: str, language: str) -> str | None:
    """ "eppo: when; varuvaar: will come" for the question words of a question asked in Tamil
    or Hindi (``language``, from ``question_language``), in Latin letters or in their script
    ("எவ்வளவு" sounds like "evvalavu"), or in Spanish, German or French
    (``LATIN_QUESTION_WORDS``); None for English questions and those without any.
    The packaged models read the English words of "plumber eppo varuvaar?" but not what it
    asks (the 0.5B: "Selvam plumber eppo varuvaar is from Selvam plumber"; told "eppo: when;
    varuvaar: will come", it said "... will come on Thursday at 10 am")."""
    found = _glossed(question, language)
    return "; ".join(f"{word}: {english}" for word, english in found.items() if english) or None


def word_for_word(question: str, language: str) -> str | None:
    """The question with the words ``gloss`` explains put in English, word for word: "Amma
    tablets enga irukku?" -> "Amma tablets where is there?"; None where ``gloss`` is.
    Told the glosses, the 1.5B sometimes says the question back ("Amma tablets enga
    irukku."); given this copy, it read the passage. The 0.5B does better with the glosses:
    given the copy of a short question it said that back ("Paati birthday function where.")."""
    found = _glossed(question, language)
    if not any(found.values()):
        return None

    def english(match: re.Match[str]) -> str:
        return found.get(match.group(0).lower(), match.group(0))

    out = _TOKEN.sub(english, question)
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", out)).strip()


def without_question_words(sentence: str, question: str, language: str) -> str:
    """``sentence`` without the question's own Tamil or Hindi question words said back in it:
    a run of words ``gloss`` explains that holds one asking what, where, when, who, which,
    how or why ("Plumber Eppo Varuvaar will come on Thursday." -> "Plumber will come on
    Thursday."; "Bruno-ku vaccine eppo is due on 5 April." -> "Bruno-ku vaccine is due on 5
    April."). An answer has no use for them, and read as names they confuse the voice. Other
    glossed words stay ("... steel box-la irukku."): she may answer in her mix."""
    if language not in ROMANISED_QUESTION_WORDS:  # "La llave está donde…" is Spanish
        return sentence
    found = _glossed(question, language)
    asking = {w for w, english in found.items() if english.split(" ")[0] in _ASKING["en"]}
    if not asking:
        return sentence
    runs: list[list[re.Match[str]]] = []
    for match in _TOKEN.finditer(sentence):
        if match.group(0).lower() not in found:
            continue
        last = runs[-1][-1] if runs else None
        if last is not None and not sentence[last.end() : match.start()].strip():
            runs[-1].append(match)  # only spaces between: the same run
        else:
            runs.append([match])
    for run in reversed(runs):
        if any(m.group(0).lower() in asking for m in run):
            start, end = run[0].start(), run[-1].end()
            sentence = sentence[:start].rstrip() + " " + sentence[end:].lstrip()
    return re.sub(r"\s+([?.!,;:])", r"\1", sentence).strip().lstrip("?.!,;: ")


def _glossed(question: str, language: str) -> dict[str, str]:
    """The question's words that ``gloss`` explains, with their English ("" for a word that
    needs none, as "hai")."""
    if language in LATIN_QUESTION_WORDS:
        table = LATIN_QUESTION_WORDS[language]
        return {word: table[word] for word in tokens(question) if word in table}
    if language not in {"ta", "hi"}:
        return {}
    found: dict[str, str] = {}
    for word in tokens(question):
        sounds = _script_key(word)
        if sounds is None:
            english = _GLOSSES.get(word)
        else:  # known exactly, then a word of the home ("சாவி": key, ``lexicon``), then
            # by its sound; one consonant says too little: "की" (of) would be "kya" (what)
            english = SCRIPT_QUESTION_WORDS.get(word) or next(iter(listed_english(word)), None)
            if english is None and _consonants(sounds[1]) >= 2:
                english = _GLOSS_KEYS.get(sounds[1])
        if english is not None:
            found.setdefault(word, english)
    return found


MIN_SOUND_CONSONANTS = 3
"""A skeleton of fewer consonants ("sv": saavi, save, sieve) says too little to bridge on."""
SUFFIX_CONSONANTS = 2
"""Consonants a romanised word may have beyond a word of the files it is taken for: case
endings ("சாம்பாருக்கு", sambar-ukku -> "smprk" ~ "smpr")..."""
MIN_STEM_CONSONANTS = 4
"""...when what is left is this long (a stem of three, "mtr" of "mattiraikal" -> "mtrkl",
is too often another word: "madurai")."""
MAX_SOUNDALIKES = 3
"""A skeleton shared by more of the files' words than this (a big store: "mtr" is madurai,
meter, motor, mother...) bridges to the few most alike in their letters ("mturai" ->
madurai), when one is alike enough (``MIN_LETTERS_ALIKE``)."""
MIN_LETTERS_ALIKE = 0.6
"""difflib's ratio of the romanised word to a word of the files ("mturai"/"madurai" 0.77,
"mturai"/"meter" 0.55)."""


class SoundIndex:
    """The words of the persona's files by ``sound_key``: a word of a question in another
    script (a name, a place, a loanword: "செல்வம்", "मदुरै", "பாஸ்வேர்ட்") is looked up as
    the files' words that sound like it. Built once from a store's vocabulary."""

    def __init__(self, words: Sequence[str]) -> None:
        self._by_key: dict[str, list[str]] = {}
        for word in words:
            if word.isascii() and word.isalpha():
                key = sound_key(word)
                if _consonants(key) >= MIN_SOUND_CONSONANTS:
                    self._by_key.setdefault(key, []).append(word)

    def __len__(self) -> int:
        return sum(len(words) for words in self._by_key.values())

    def lookup(self, word: str) -> list[str]:
        """The files' words that ``word`` (in another script) may be, longest match first."""
        found = _script_key(word)
        if found is None:
            return []
        latin, key = found
        stems = [key, key + "s"]  # the files may hold only the plural: "tikket" ~ "tickets"
        stems += [key[:-cut] for cut in range(1, SUFFIX_CONSONANTS + 1)]
        for stem in stems:
            if stem == key or _consonants(stem) >= MIN_STEM_CONSONANTS:
                alike = self._by_key.get(stem, [])
                if 0 < len(alike) <= MAX_SOUNDALIKES:
                    return list(alike)
                if alike:
                    return _most_alike(latin, alike)
        return []


def _most_alike(latin: str, words: Sequence[str]) -> list[str]:
    """Of many words sharing a skeleton, the few whose letters are most like ``latin``'s."""
    scored = sorted(
        ((SequenceMatcher(None, latin, word).ratio(), word) for word in words),
        key=lambda item: (-item[0], item[1]),
    )
    if not scored or scored[0][0] < MIN_LETTERS_ALIKE:
        return []
    return [word for ratio, word in scored[:MAX_SOUNDALIKES] if ratio >= MIN_LETTERS_ALIKE]


INFLECTIONS = ("", "e", "s", "es", "ed", "d", "ing", "ings", "er", "ers", "y", "ies", "ied")
"""English endings that make one word of two: "meet" ~ "meetings", "cleaner" ~ "cleaning",
"charge" ~ "charges", "library" ~ "libraries" (but not "electrician" ~ "electricity"). A stem
shorter than :data:`MIN_STEM` takes only a plural ("car" ~ "cars", not "care")."""
MIN_STEM = 4
PLURALS = ("", "s", "es")
LONGEST_ENDING = max(len(e) for e in INFLECTIONS)


def alike(word: str, other: str) -> bool:
    """The same word in two forms: equal, or one stem with two of :data:`INFLECTIONS` after it
    (of :data:`PLURALS` after a stem of three letters)."""
    if word == other:
        return True
    common = 0
    for a, b in zip(word, other, strict=False):
        if a != b:
            break
        common += 1
    for size in range(common, 2, -1):
        endings = INFLECTIONS if size >= MIN_STEM else PLURALS
        if word[size:] in endings and other[size:] in endings:
            return True
    return False


# ----------------------------------------------------------- forms in other languages

SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
"""The Snowball stemmers (``snowballstemmer``) of the languages other than English a persona
may be asked in, by ISO 639-1 code."""
GERMAN_PREFIX = "ge"
"""German makes nouns and participles with "ge-" ("schenken" -> "Geschenk", "geschenkt"):
taken off a stem of :data:`GERMAN_PREFIX_MIN` letters or more, as the CISTEM stemmer does."""
GERMAN_PREFIX_MIN = 6
MIN_STEM_LETTERS = 4
"""A stem shorter than this ("hab", "sag") is shared by too many unrelated words."""


@functools.cache
def _stemmer(language: str) -> Callable[[str], str] | None:
    algorithm = SNOWBALL.get(language)
    if algorithm is None or algorithm not in snowballstemmer.algorithms():
        return None
    stemmer: Callable[[str], str] = snowballstemmer.stemmer(algorithm).stemWord
    return stemmer


def stem(word: str, language: str) -> str | None:
    """``word``'s stem in ``language`` (its Snowball stemmer; German also without "ge-"):
    "schenkst", "Geschenk" and "geschenkt" are all "schenk", "vuelas" and "vuelo" "vuel".
    Accents are dropped first, as the keyword index drops them. None for English (see
    ``alike``), a language without a stemmer, or a stem too short to tell words apart."""
    stemmer = _stemmer(language)
    if stemmer is None or not word.isalpha():
        return None
    if word.isascii() or _latin(word):
        word = "".join(
            c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
        )
    found = stemmer(word.lower())
    if language == "de" and found.startswith(GERMAN_PREFIX) and len(found) >= GERMAN_PREFIX_MIN:
        found = found[len(GERMAN_PREFIX) :]
    return found if len(found) >= MIN_STEM_LETTERS else None


def stem_prefixes(key: str, language: str) -> list[str]:
    """What the words with stem ``key`` begin with, so that only those are read from a big
    vocabulary: the stem but for its last letter (a stemmer may change it), and in German
    the same after "ge"."""
    prefix = key[: max(3, len(key) - 1)]
    return [prefix, GERMAN_PREFIX + prefix] if language == "de" else [prefix]


def _latin(word: str) -> bool:
    return all(unicodedata.name(c, "").startswith("LATIN") for c in word)
