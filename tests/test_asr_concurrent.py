"""One loaded Whisper serves many sessions at once: utterances transcribed together get the
transcripts they get one by one (the real Whisper base model)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr
from familiar_hub.config import AsrConfig
from familiar_testkit.speech import speak, words

COMMANDS = [
    "Turn on the kitchen light.",
    "Turn off the bedroom lamp.",
    "Set a timer for ten minutes.",
    "What's the weather tomorrow?",
    "Lock the front door.",
    "Turn off all the lights in the living room.",
]


def audio(text: str) -> np.ndarray:
    pcm = speak(text) + bytes(4800 * 2)  # and the 0.3 s pause it is transcribed at
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768


@pytest.mark.models
async def test_concurrent_transcripts_equal_the_sequential_ones() -> None:
    audios = [audio(text) for text in COMMANDS]
    # every utterance as a quick look (10 s window, no hotwords) and as the full transcript
    # (the 30 s window, hotwords), all at once on the model's two workers
    requests = [(a, quick) for a in audios for quick in (True, False)]
    async with FasterWhisperAsr(AsrConfig(workers=2, hotwords=["Azul", "Dune"])) as asr:
        alone: list[TranscriptResult] = []
        for a, quick in requests:
            alone.append(await asr.transcribe(a, "en", quick=quick))
        together = await asyncio.gather(*(asr.transcribe(a, "en", quick=q) for a, q in requests))
    assert together == alone
    heard = [words(result.text) for result in alone if not result.quick]
    assert heard == [words(text) for text in COMMANDS]
