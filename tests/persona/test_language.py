"""The language a question is asked in (script and function words, no model)."""

from __future__ import annotations

import pytest

from familiar_hub.persona.language import question_language
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
    assert query_words("spare key enga vechirukka?") == ["spare", "key", "vechirukka"]
    # English words that look like them stay ("son", "den", "Al")
    assert query_words("Is my son in the den with Al?") == ["son", "den", "al"]
