"""The packaged wake word models on speech made by Piper, through our detectors.

Phrasings: openWakeWord's hey_mycroft fires on "Hey Mycroft." but not on "Hey, Mycroft!"
(the comma's pause breaks it); the others fire on the plain phrase.
"""

from __future__ import annotations

import pytest

from familiar_satellite.config import WakeConfig
from familiar_satellite.wake import WakeDetector, create_detector
from tests.satellite.conftest import Speech, noise, silence

pytestmark = pytest.mark.models

PHRASES = {
    "alexa": "Alexa.",
    "hey_jarvis": "Hey Jarvis.",
    "hey_mycroft": "Hey Mycroft.",
    "hey_rhasspy": "Hey Rhasspy.",
    "okay_nabu": "Okay Nabu.",
}

OTHER_SPEECH = [
    "Good morning, how did you sleep last night?",
    "The train to the city leaves at a quarter past eight.",
    "Could you remind me to buy milk, eggs and some bread on the way home?",
    "I think the meeting went well, although it ran a little long.",
    "Turn on the lights in the living room and close the blinds.",
    "My brother is visiting next weekend with his two children.",
    "What a lovely garden, the roses are in full bloom this year.",
    "Please send the report to the whole team before Friday.",
    "We watched a documentary about whales and the deep ocean.",
    "The recipe needs two cups of flour and a pinch of salt.",
    "Traffic was terrible, so I took the bike instead.",
    "Jarvis Cocker sang with Pulp; Alexander the Great rode a horse.",
    "Set a timer for ten minutes and play some quiet music.",
    "Okay, now we need to talk about the budget for next year.",
]

CHUNK = 1280  # 40 ms at 16 kHz, as the microphone delivers it


def detect(detector: WakeDetector, audio: bytes) -> list[str]:
    found: list[str] = []
    for i in range(0, len(audio), CHUNK):
        found += detector.process(audio[i : i + CHUNK])
    return found


@pytest.fixture(scope="module")
def every_openwakeword() -> WakeDetector:
    config = WakeConfig.model_validate({"words": [{"model": m} for m in PHRASES]})
    return create_detector(config)


@pytest.mark.parametrize("model", list(PHRASES))
def test_openwakeword_model_fires_on_its_phrase(
    every_openwakeword: WakeDetector, speech: Speech, model: str
) -> None:
    every_openwakeword.reset()
    audio = silence(1.0) + speech.say(PHRASES[model]) + silence(1.0)
    assert detect(every_openwakeword, audio) == [model]


def test_openwakeword_silent_on_a_minute_of_other_speech_and_noise(
    every_openwakeword: WakeDetector, speech: Speech
) -> None:
    every_openwakeword.reset()
    audio = b"".join(speech.say(text) + silence(0.4) for text in OTHER_SPEECH)
    audio += noise(10.0, 0.02, seed=1) + noise(5.0, 0.2, seed=2)
    assert len(audio) / 32000 >= 60.0
    assert detect(every_openwakeword, audio) == []


@pytest.mark.parametrize("model", ["alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"])
def test_microwakeword_model_fires_on_its_phrase(speech: Speech, model: str) -> None:
    config = WakeConfig.model_validate({"words": [{"model": model, "engine": "microwakeword"}]})
    detector = create_detector(config)
    try:
        audio = silence(1.0) + speech.say(PHRASES[model]) + silence(1.0)
        assert detect(detector, audio) == [model]
        assert detect(detector, speech.say(OTHER_SPEECH[0]) + noise(3.0)) == []
    finally:
        detector.close()


def test_both_engines_at_once(speech: Speech) -> None:
    config = WakeConfig.model_validate(
        {"words": [{"model": "hey_jarvis"}, {"model": "okay_nabu", "engine": "microwakeword"}]}
    )
    detector = create_detector(config)
    try:
        assert {w.id for w in detector.words} == {"hey_jarvis", "okay_nabu"}
        audio = speech.say("Hey Jarvis.") + silence(1.0) + speech.say("Okay Nabu.") + silence(1.0)
        assert detect(detector, audio) == ["hey_jarvis", "okay_nabu"]
    finally:
        detector.close()
