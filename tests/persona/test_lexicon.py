"""Everyday Tamil and Hindi words and their English (``persona/lexicon.py``, through
``language.listed_english``)."""

from __future__ import annotations

import pytest

from familiar_hub.persona.language import listed_english


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("சாவி", ("key", "keys")),  # key
        ("மாத்திரைகள்", ("tablets", "tablet", "medicine", "pills")),  # with the plural ending
        ("தீபாவளிக்கு", ("diwali", "deepavali")),  # "for Diwali"
        ("சாம்பாருக்கு", ("sambar",)),  # the final consonant's virama gives way to the ending
        ("புளி", ("tamarind",)),
        ("தோட்டத்தில்", ("garden",)),  # "in the garden": "-ம்" nouns take "-த்த" before endings
        ("चाबी", ("key", "keys")),
        ("दवाइयाँ", ("medicine", "medicines", "tablets")),  # plural of "दवा"
        ("दफ़्तर", ("office",)),  # with the nukta, as the list has it without
        ("माँ", ("mother", "amma", "mom")),  # candrabindu typed for anusvara
    ],
)
def test_words_of_the_home_are_found_with_their_endings(word: str, meant: tuple[str, ...]) -> None:
    assert listed_english(word) == meant


@pytest.mark.parametrize(
    "word",
    [
        "எங்கே",  # where: a question word, glossed by language.py
        "பலர்",  # many people: not "பல்" (tooth) with an ending, nor anything listed
        "மதுரை",  # a place: found by its sound, not here
        "key",  # Latin letters
        "ключ",  # another script
        "",
    ],
)
def test_other_words_have_no_english_here(word: str) -> None:
    assert listed_english(word) == ()
