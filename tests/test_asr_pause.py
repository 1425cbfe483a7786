"""Early transcription at a pause: the pure tracker, and the real model's session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from familiar.audio import PcmFormat
from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr, WhisperSession
from familiar_hub.asr.pause import PauseTracker
from familiar_hub.config import AsrConfig
from familiar_testkit.speech import speak, words


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def quiet(seconds: float, level: float = 0.002) -> np.ndarray:
    return (np.random.default_rng(1).normal(0, level, int(seconds * 16000))).astype(np.float32)


@pytest.mark.parametrize("chunk", [1, 160, 333, 1280])
def test_tracker_finds_where_speech_ended(chunk: int) -> None:
    audio = np.concatenate([quiet(0.5), tone(1.0), quiet(0.7)])
    tracker = PauseTracker()
    assert tracker.silent_samples == 0
    for i in range(0, audio.size, chunk):
        tracker.feed(audio[i : i + chunk])
    assert tracker.speech_end is not None
    assert abs(tracker.speech_end - 1.5 * 16000) <= 160
    assert abs(tracker.silent_samples - 0.7 * 16000) <= 160


def test_quiet_after_loud_speech_is_silence_and_no_speech_is_no_pause() -> None:
    tracker = PauseTracker()
    tracker.feed(quiet(2.0))
    assert tracker.speech_end is None and tracker.silent_samples == 0
    tracker.feed(tone(0.5, 0.5))
    tracker.feed(tone(0.5, 0.05))  # 10 % of the peak: background, not speech
    assert tracker.silent_samples == 8000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def asr() -> AsyncIterator[FasterWhisperAsr]:
    async with FasterWhisperAsr(AsrConfig(workers=2)) as backend:
        yield backend


def trimmed(pcm: bytes) -> bytes:
    """Speech up to where the pause tracker hears it end (Piper leaves some silence after)."""
    tracker = PauseTracker()
    tracker.feed(np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768)
    assert tracker.speech_end is not None
    return pcm[: tracker.speech_end * 2]


async def feed(session: WhisperSession, pcm: bytes) -> None:
    for i in range(0, len(pcm), 2560):
        await session.feed(pcm[i : i + 2560], PcmFormat())


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_transcript_started_at_the_pause_is_used(asr: FasterWhisperAsr) -> None:
    text = "Turn on the kitchen light."
    async with asr.session("en") as session:
        assert isinstance(session, WhisperSession)
        await feed(session, speak(text) + bytes(16000))  # speech, then 0.5 s of silence
        pause = session.pause_transcript()
        assert pause is not None  # what the conductor judges before the end of speech
        result = await session.finish()
        assert words((await pause).text) == words(text)
    assert session.used_early
    assert words(result.text) == words(text)


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_speaking_again_after_a_pause_is_transcribed_whole(asr: FasterWhisperAsr) -> None:
    async with asr.session("en") as session:
        assert isinstance(session, WhisperSession)
        await feed(session, speak("Turn on") + bytes(16000))
        assert session.pause_transcript() is not None
        await feed(session, speak("the kitchen light."))
        assert session.pause_transcript() is None  # the speaker went on: nothing to judge
        result = await session.finish()
    assert not session.used_early
    assert words(result.text) == words("Turn on the kitchen light.")


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_a_quick_look_first_then_the_full_transcript(asr: FasterWhisperAsr) -> None:
    text = "Turn on the kitchen light."
    asr.set_hotwords(["Azul", "Dune", "Harbour", "Lisbon", "Patel"])
    try:
        async with asr.session("en") as session:
            assert isinstance(session, WhisperSession)
            session.quick_looks()
            await feed(session, speak(text) + bytes(16000))
            pause = session.pause_transcript()
            assert pause is not None
            quick = await pause
            assert quick.quick and words(quick.text) == words(text)
            session.refine()
            refined = session.pause_transcript()
            assert refined is not None and refined is not pause
            result = await session.finish()
            assert result is await refined
        assert session.used_early and not result.quick
        assert words(result.text) == words(text)
    finally:
        asr.set_hotwords([])


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_the_end_of_speech_never_returns_a_quick_look(asr: FasterWhisperAsr) -> None:
    asr.set_hotwords(["Azul", "Dune"])
    try:
        async with asr.session("en") as session:
            assert isinstance(session, WhisperSession)
            session.quick_looks()
            await feed(session, speak("When is Tom's birthday dinner?") + bytes(16000))
            pause = session.pause_transcript()
            assert pause is not None and (await pause).quick
            result = await session.finish()  # nobody refined: finish does
        assert session.used_early and not result.quick
        assert "birthday" in words(result.text)
    finally:
        asr.set_hotwords([])


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_a_quick_look_starts_early_but_is_offered_at_the_pause(
    asr: FasterWhisperAsr,
) -> None:
    """It starts after ``quick_start_seconds`` of silence so that it is ready when the pause
    reaches ``early_start_seconds`` (0.3 s); the turn is judged only then."""
    text = "Turn on the kitchen light."
    asr.set_hotwords(["Azul", "Dune"])
    try:
        async with asr.session("en") as session:
            assert isinstance(session, WhisperSession)
            session.quick_looks()
            await feed(session, trimmed(speak(text)) + bytes(int(0.2 * 16000) * 2))
            assert session.early_starts == 1  # started at 0.15 s of silence...
            assert session.pause_transcript() is None  # ...not offered before 0.3 s
            await feed(session, bytes(int(0.2 * 16000) * 2))
            pause = session.pause_transcript()
            assert pause is not None and session.early_starts == 1  # the same look
            quick = await pause
            assert quick.quick and words(quick.text) == words(text)
    finally:
        asr.set_hotwords([])


@pytest.mark.models
@pytest.mark.asyncio(loop_scope="module")
async def test_speech_ending_before_the_pause_is_judged_is_transcribed_in_full(
    asr: FasterWhisperAsr,
) -> None:
    asr.set_hotwords(["Azul", "Dune"])
    try:
        async with asr.session("en") as session:
            assert isinstance(session, WhisperSession)
            session.quick_looks()
            speech = trimmed(speak("Turn off the bedroom lamp."))
            await feed(session, speech + bytes(int(0.2 * 16000) * 2))
            assert session.early_starts == 1  # a quick look was started...
            result = await session.finish()  # ...but the end came before it was offered
        assert not result.quick
        assert words(result.text) == words("Turn off the bedroom lamp.")
    finally:
        asr.set_hotwords([])
