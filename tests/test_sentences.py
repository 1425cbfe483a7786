"""Sentence cutting for streaming TTS and whole documents (pure)."""

from __future__ import annotations

import pytest

from familiar_hub.tts.sentences import SentenceSplitter, clean_for_speech, split_sentences


def split_all(
    text: str, first_clause_chars: int = 0, step: int = 0, *, phrases: bool = False
) -> list[str]:
    splitter = SentenceSplitter(first_clause_chars, phrases=phrases)
    out: list[str] = []
    if step:
        for i in range(0, len(text), step):
            out += splitter.feed(text[i : i + step])
    else:
        out += splitter.feed(text)
    return out + splitter.flush()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Wait! Really?! Yes.", ["Wait!", "Really?!", "Yes."]),
        ("Dr. Smith met Mr. Jones at 5.30 today.", ["Dr. Smith met Mr. Jones at 5.30 today."]),
        ("It costs 3.50 euros. Fine.", ["It costs 3.50 euros.", "Fine."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
        ("First line\n\nSecond paragraph", ["First line", "Second paragraph"]),
        ("**Bold** and `code` here.", ["Bold and code here."]),
        ("   ", []),
        ("...", []),
        ("今日は晴れです。明日は雨です。", ["今日は晴れです。", "明日は雨です。"]),
        ("No ending punctuation", ["No ending punctuation"]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert split_all(text) == expected


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_streaming_in_small_pieces_gives_the_same_sentences(step: int) -> None:
    text = "Hello there. Dr. Who is here! Is it 3.5 or 4? Fine then."
    assert split_all(text, step=step) == split_all(text)


def test_sentence_waits_for_following_whitespace() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hello there.") == []
    assert splitter.feed(" How") == ["Hello there."]
    assert splitter.flush() == ["How"]


def test_long_first_sentence_is_cut_at_a_clause() -> None:
    text = (
        "Well, my dear, the birthday dinner for Tom is on Saturday at eight, "
        "at the Italian place near the station. Bring a cake."
    )
    assert split_all(text, first_clause_chars=40) == [
        "Well,",
        "my dear, the birthday dinner for Tom is on Saturday at eight, at the Italian place "
        "near the station.",
        "Bring a cake.",
    ]
    # Without the option the sentence stays whole; short first sentences are never cut.
    assert split_all(text)[0].endswith("station.")
    assert split_all("Yes, dear. Bye.", first_clause_chars=40) == ["Yes, dear.", "Bye."]


def test_first_clause_cut_while_streaming() -> None:
    splitter = SentenceSplitter(first_clause_chars=30)
    assert splitter.feed("Okay, the dinner") == []  # short yet: it may end as one sentence
    assert splitter.feed(" for Tom is on Saturday evening, ") == ["Okay,"]
    assert splitter.feed("at eight, I think. Later, maybe, more.") == [
        "the dinner for Tom is on Saturday evening, at eight, I think."
    ]


def test_first_sentence_without_a_comma_is_cut_before_a_phrase() -> None:
    text = "I have set the thermostat to twenty one degrees. It should be warm in a few minutes."
    assert split_all(text, first_clause_chars=25, phrases=True) == [
        "I have set the thermostat,",  # spoken as a phrase that goes on
        "to twenty one degrees.",
        "It should be warm in a few minutes.",  # only the first piece is cut early
    ]
    # an earlier clause wins; a head of fewer than three words is not cut off
    assert split_all("Playing your playlist in the bedroom, with calm songs.", 25, phrases=True)[
        0
    ] == ("Playing your playlist,")
    assert split_all("The lights in the hall are all off now.", 25, phrases=True) == [
        "The lights in the hall are all off now."
    ]
    # short sentences and sentences with no phrase stay whole; without the option, nothing
    assert split_all("Set it to nine.", 25, phrases=True) == ["Set it to nine."]
    assert split_all("Your ten minute timer has started.", 25, phrases=True) == [
        "Your ten minute timer has started."
    ]
    assert split_all(text)[0] == "I have set the thermostat to twenty one degrees."
    assert split_all(text, 25)[0] == "I have set the thermostat to twenty one degrees."


@pytest.mark.parametrize("step", [1, 3, 8])
def test_phrase_cut_while_streaming_waits_for_the_phrase(step: int) -> None:
    text = "I have set the thermostat to twenty one degrees. Done."
    assert split_all(text, 25, step, phrases=True) == split_all(text, 25, phrases=True)
    splitter = SentenceSplitter(first_clause_chars=25, phrases=True)
    assert splitter.feed("I have set the thermostat to") == []  # "to" may begin "today"
    assert splitter.feed(" twenty") == ["I have set the thermostat,"]


def test_clean_for_speech() -> None:
    assert clean_for_speech("- item one\n- item *two*") == "item one item two"
    assert clean_for_speech("It is on 2025-03-12.") == "It is on 12 March 2025."
    assert clean_for_speech("Ref 2025-13-40, 10-05-2025") == "Ref 2025-13-40, 10-05-2025"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Rao came. He left! Did he? Yes", ["Dr. Rao came.", "He left!", "Did he?", "Yes"]),
        (
            "Ask J. Smith at Acme Inc. about it. Then rest.",
            ["Ask J. Smith at Acme Inc. about it.", "Then rest."],
        ),
        ("वह आया। फिर गया।", ["वह आया।", "फिर गया।"]),
        ("他来了。她走了。", ["他来了。", "她走了。"]),
        ('"Go home." She went.', ['"Go home."', "She went."]),
        ("See you at St.\n\nNext  paragraph\nhere", ["See you at St.", "Next paragraph here"]),
        ("A **bold** claim. Done", ["A **bold** claim.", "Done"]),
        ("  \n ", []),
    ],
)
def test_split_sentences_of_a_whole_text(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_whole_text_and_stream_cut_at_the_same_places() -> None:
    text = (
        "Mrs. Iyer met Dr. Rao on Jan. 5 at the St. James hall. It went well! "
        "Was it planned? No, e.g. the cake was a surprise…  Anyway.\n\nNew paragraph"
    )
    assert split_sentences(text) == split_all(text) == split_all(text, step=3)
