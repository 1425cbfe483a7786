"""The language a question is asked in (script and function words, no model)."""

from __future__ import annotations

import pytest

from familiar_hub.persona.language import (
    SoundIndex,
    alike,
    gloss,
    question_language,
    romanised,
    script_stopword,
    sound_key,
    stem,
    stem_prefixes,
    tokens,
    without_question_words,
    word_for_word,
)
from familiar_hub.persona.relevance import query_words


@pytest.mark.parametrize(
    ("question", "languages", "expected"),
    [
        ("¿Dónde está la llave de repuesto?", ["en", "es"], "es"),
        ("¿Qué día es el yoga?", ["en", "es"], "es"),
        ("Wann fliegst du nach Hamburg?", ["en", "de"], "de"),
        ("Was schenkst du Klaus?", ["en", "de"], "de"),
        ("Wo ist die Feier von Klaus?", ["en", "de"], "de"),
        ("spare key enga vechirukka?", ["en", "ta"], "ta"),
        ("plumber eppo varuvaar?", ["en", "ta"], "ta"),
        ("சாம்பாருக்கு எவ்வளவு புளி போடணும்?", ["en", "ta"], "ta"),
        ("आज मौसम कैसा है?", ["en"], "hi"),  # a script names its language whoever asks
        ("Où est la clé ?", ["en", "fr"], "fr"),
        # English, also for someone who speaks German or Spanish
        ("What was the plumber's name?", ["en", "de"], "en"),
        ("Where is the spare key?", ["en", "es", "de", "ta"], "en"),
        ("When is the dentist?", ["en", "es", "de", "ta"], "en"),
        ("Is Anna coming on Saturday?", ["en", "de"], "en"),
        # a language the persona does not speak is not guessed from Latin-script words
        ("¿Dónde está la llave?", ["en", "de"], "en"),
        ("", ["en"], "en"),
    ],
)
def test_question_language(question: str, languages: list[str], expected: str) -> None:
    assert question_language(question, languages) == expected


def test_other_languages_function_words_are_not_keywords() -> None:
    # they are in no English mail, so as keywords they would outweigh "llave" and "yoga"
    assert query_words("¿Dónde está la llave de repuesto?") == ["llave", "repuesto"]
    assert query_words("¿Qué día es el yoga?") == ["día", "yoga"]
    assert query_words("Wann fliegst du nach Hamburg?") == ["fliegst", "hamburg"]
    assert query_words("spare key enga vechirukka?") == ["spare", "key"]  # "where", "kept"
    # English words that look like them stay ("son", "den", "Al")
    assert query_words("Is my son in the den with Al?") == ["son", "den", "al"]


def test_words_of_indic_scripts_stay_whole() -> None:
    # Python's \w alone cuts them at every vowel sign and virama
    assert tokens("சாம்பாருக்கு எவ்வளவு புளி?") == ["சாம்பாருக்கு", "எவ்வளவு", "புளி"]
    assert tokens("मदुरै की ट्रेन कब है।") == ["मदुरै", "की", "ट्रेन", "कब", "है"]
    assert query_words("மதுரை ரயில் டிக்கெட் எந்த தேதி?")[:3] == ["மதுரை", "ரயில்", "டிக்கெட்"]


@pytest.mark.parametrize(
    ("latin", "script"),
    [
        ("selvam", "செல்வம்"),
        ("madurai", "மதுரை"),
        ("madurai", "मदुरै"),
        ("train", "ट्रेन"),
        ("premium", "प्रीमियम"),
        ("password", "பாஸ்வேர்ட்"),
    ],
)
def test_a_name_or_loanword_sounds_the_same_in_either_script(latin: str, script: str) -> None:
    romanised_word = romanised(script)
    assert romanised_word is not None
    assert sound_key(latin) == sound_key(romanised_word, romanised_from=True)


def test_latin_words_are_not_romanised() -> None:
    assert romanised("Müller") is None and romanised("2024") is None


def test_sound_keys_keep_what_tells_words_apart() -> None:
    assert sound_key("premium") != sound_key("from")  # letters a vowel parts count twice
    assert sound_key("ticket") == sound_key("tikket") == "tkt"
    assert sound_key("city") == "st" and sound_key("cat") == "kt"
    assert sound_key("Ooty") == "at"


def test_sound_index_bridges_names_places_and_loanwords_only() -> None:
    files = "selvam plumber thursday madurai tickets train sambar tamarind lemon water from"
    index = SoundIndex([*files.split(), "premium", "puram", "party", "forty"])
    assert index.lookup("செல்வம்") == ["selvam"]
    assert index.lookup("சாம்பாருக்கு") == ["sambar"]  # with its case ending
    assert index.lookup("டிக்கெட்") == ["tickets"]
    assert index.lookup("प्रीमियम") == ["premium"]
    # a short stem would be another word: "vaittirukkiray" is not "water", "prthvi" not "party"
    assert index.lookup("வைத்திருக்கிறாய்") == []
    assert index.lookup("पृथ्वी") == []
    assert index.lookup("சாவி") == []  # two consonants say too little
    assert index.lookup("selvam") == []  # a Latin word is looked up as itself


def test_question_words_in_another_script_are_not_keywords() -> None:
    assert query_words("செல்வம் எப்போ வருவார்?") == ["செல்வம்"]
    assert query_words("मदुरै की ट्रेन कब है?") == ["मदुरै", "ट्रेन"]
    assert not script_stopword("மதுரை") and not script_stopword("where")


def test_in_a_big_store_a_shared_skeleton_bridges_to_the_word_most_alike() -> None:
    # "mtr" is many words in a big store; "mturai" (மதுரை) is most like "madurai"
    index = SoundIndex(["meter", "motor", "mother", "matter", "metro", "madurai", "mitre"])
    assert index.lookup("மதுரை") == ["madurai"]
    # none alike enough: no bridge rather than a guess
    assert SoundIndex(["meter", "motor", "mother", "matter", "metro"]).lookup("மதுரை") == []


@pytest.mark.parametrize(
    ("question", "language", "glossed", "copy"),
    [
        (
            "plumber eppo varuvaar?",
            "ta",
            "eppo: when; varuvaar: will come",
            "plumber when will come?",
        ),
        (
            "Amma tablets enga irukku?",
            "ta",
            "enga: where; irukku: is there",
            "Amma tablets where is there?",
        ),
        (
            "spare key enga vechirukka?",
            "ta",
            "enga: where; vechirukka: kept",
            "spare key where kept?",
        ),
        # by its sound, and the words of the home by the lexicon (with Tamil's endings:
        # "சாம்பாருக்கு", for sambar); the words it does not know stay as they are
        (
            "சாம்பாருக்கு எவ்வளவு புளி போடணும்?",
            "ta",
            "சாம்பாருக்கு: sambar; எவ்வளவு: how much; புளி: tamarind",
            "sambar how much tamarind போடணும்?",
        ),
        # "की" (of) is not "kya" (what)
        ("मदुरै की ट्रेन कब है?", "hi", "ट्रेन: train; कब: when", "मदुरै की train when है?"),
        ("train kab hai?", "hi", "kab: when", "train when?"),  # "hai" (is) needs no English
        ("train hai?", "hi", None, None),  # nothing that asks
        ("When is yen day?", "en", None, None),  # English questions are not glossed
        # Spanish, German and French question words: the 0.5B read "¿Qué día…?" as "what
        # time" and "Was schenkst du…?" as "what is it like"
        ("¿Qué día es el yoga?", "es", "qué: what; día: day", "¿what day es el yoga?"),
        ("Was schenkst du Klaus?", "de", "was: what", "what schenkst du Klaus?"),
        ("Quel jour arrive Paul ?", "fr", "quel: which; jour: day", "which day arrive Paul?"),
        ("Klaus kommt morgen?", "de", None, None),  # nothing that asks
    ],
)
def test_question_words_are_glossed_and_put_in_english(
    question: str, language: str, glossed: str | None, copy: str | None
) -> None:
    assert gloss(question, language) == glossed
    assert word_for_word(question, language) == copy


@pytest.mark.parametrize(
    ("question", "language", "answer", "said"),
    [
        # from the fidelity bench: the 0.5B took the question words for a name
        (
            "plumber eppo varuvaar?",
            "ta",
            "Kanna, Plumber Eppo Varuvaar will come on Thursday at 10 am.",
            "Kanna, Plumber will come on Thursday at 10 am.",
        ),
        (
            "Bruno-ku vaccine eppo?",
            "ta",
            "Kanna, Bruno-ku vaccine eppo is due on 5 April.",
            "Kanna, Bruno-ku vaccine is due on 5 April.",
        ),
        (
            "Madurai train endha thethi?",
            "ta",
            "Madurai train endha thethi is 3 May.",
            "Madurai train is 3 May.",
        ),
        ("shaadi kab hai?", "hi", "Kab? 22 November.", "22 November."),
        # in her mix, a glossed word that does not ask stays
        (
            "Amma tablets enga irukku?",
            "ta",
            "Amma tablets steel box-la irukku.",
            "Amma tablets steel box-la irukku.",
        ),
        # English, Spanish: nothing is taken out
        ("Where is it?", "en", "Where is it? In the box.", "Where is it? In the box."),
        ("¿Dónde está?", "es", "Dónde está, en la caja.", "Dónde está, en la caja."),
    ],
)
def test_question_words_said_back_in_an_answer_are_left_out(
    question: str, language: str, answer: str, said: str
) -> None:
    assert without_question_words(answer, question, language) == said


def test_question_words_in_their_script_are_known_exactly() -> None:
    # by its sound "எப்போது" (when) was "eppadi" (how), "எப்போ" too short to say, and "கண்"
    # (eye) a question word
    assert word_for_word("கண் பரிசோதனை எப்போது?", "ta") == "eye checkup when?"
    assert word_for_word("பால் எப்போ வரும்?", "ta") == "milk when will come?"
    assert word_for_word("अतिरिक्त चाबी कहाँ है?", "hi") == "अतिरिक्त key where है?"
    assert script_stopword("எப்போது") and script_stopword("कहाँ")


def test_tamil_and_hindi_words_for_date_and_which_are_glossed() -> None:
    assert gloss("மதுரை ரயில் டிக்கெட் எந்த தேதி?", "ta") == (
        "ரயில்: train; டிக்கெட்: ticket; எந்த: which; தேதி: date"
    )
    assert word_for_word("Madurai train endha thethi?", "ta") == "Madurai train which date?"
    assert word_for_word("shaadi kis tarikh ko hai?", "hi") == "shaadi kis date ko?"


def test_one_word_in_its_english_forms_and_not_every_word_with_its_first_letters() -> None:
    same = [
        ("meet", "meetings"),
        ("cleaner", "cleaning"),
        ("charge", "charges"),
        ("arrive", "arriving"),
        ("library", "libraries"),
        ("heat", "heating"),
        ("car", "cars"),
        ("key", "keys"),
    ]
    assert all(alike(a, b) and alike(b, a) for a, b in same)
    other = [("electrician", "electricity"), ("test", "testament"), ("care", "car"), ("ate", "at")]
    assert not any(alike(a, b) for a, b in other)


def test_a_word_of_another_language_has_the_stem_of_its_other_forms() -> None:
    same = [
        ("de", "schenkst", "Geschenk"),  # the German "ge-" of nouns and participles
        ("de", "schenkst", "Geschenken"),
        ("de", "Geburtstag", "Geburtstags"),
        ("de", "fliegst", "fliegen"),
        ("es", "vuelas", "vuelo"),
        ("es", "llave", "llaves"),
        ("fr", "cadeaux", "cadeau"),
    ]
    for language, a, b in same:
        key = stem(a, language)
        assert key is not None and key == stem(b, language), (language, a, b)
        # a big vocabulary is read only where the forms begin
        assert any(b.lower().startswith(p) for p in stem_prefixes(key, language))
    other = [("de", "Feier", "Feuer"), ("de", "schenkst", "schenkel"), ("es", "vuelas", "vuelta")]
    assert not any(stem(a, lang) == stem(b, lang) for lang, a, b in other)
    # English has its own forms (alike); a language without a stemmer and short stems: none
    assert stem("meetings", "en") is None and stem("dosa", "xx") is None
    assert stem("Feuer", "de") is None  # "feu"
