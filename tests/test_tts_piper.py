"""Piper in process: the voice we load speaks as ``PiperVoice.load`` makes it speak, with its
ONNX threads sleeping between operators (the hub's cores are shared); short texts said again
are replayed from memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing

import pytest

from familiar.audio import PcmFormat
from familiar_hub import models
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import SpeechAudio
from familiar_hub.tts.backends.piper import PiperTts
from familiar_hub.tts.cache import PhraseCache

TEXT = "Okay, the kitchen light is on now."


@pytest.mark.models
async def test_the_voice_speaks_as_piper_loads_it_without_spinning_threads() -> None:
    from piper import PiperVoice, SynthesisConfig

    config = TtsConfig(noise_scale=0.0, noise_w_scale=0.0)  # deterministic synthesis
    async with PiperTts(config) as tts:
        options = tts._voice.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        ours = b"".join([piece.pcm async for piece in tts.synthesize(TEXT, None)])
    reference = PiperVoice.load(models.resolve(config.voice))
    settings = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    theirs = b"".join(chunk.audio_int16_bytes for chunk in reference.synthesize(TEXT, settings))
    assert len(ours) > 16000
    assert ours == theirs


@pytest.mark.models
async def test_a_short_text_said_again_is_replayed_not_synthesised() -> None:
    long_text = "The spare key is with Lakshmi aunty next door, in the brass pot on her shelf."
    async with PiperTts(TtsConfig(cache_chars=40)) as tts:
        first = [piece async for piece in tts.synthesize(TEXT, None)]
        # a stream its reader stops is not kept: only a whole synthesis is
        async with aclosing(tts.synthesize("Goodnight, sleep well.", None)) as cut:
            async for _ in cut:
                break
        calls = 0
        make = tts._sentences

        def counting(text: str) -> Iterator[SpeechAudio]:
            nonlocal calls
            calls += 1
            return make(text)

        tts._sentences = counting  # type: ignore[method-assign]
        again = [piece async for piece in tts.synthesize(TEXT, None)]
        assert calls == 0 and again == first  # the same audio, at once
        [piece async for piece in tts.synthesize("Goodnight, sleep well.", None)]
        assert calls == 1
        [piece async for piece in tts.synthesize(long_text, None)]
        [piece async for piece in tts.synthesize(long_text, None)]
        assert calls == 3  # longer than cache_chars: made each time


def test_the_phrase_cache_is_bounded_in_bytes_least_recently_used_out() -> None:
    fmt = PcmFormat(16000, 2, 1)
    cache = PhraseCache(max_chars=20, max_bytes=1000)

    def audio(size: int) -> list[SpeechAudio]:
        return [SpeechAudio(fmt, b"\x00" * size)]

    cache.put("one", audio(400))
    cache.put("two", audio(400))
    assert cache.get("one") is not None  # "two" is now the least recently used
    cache.put("three", audio(400))
    assert cache.get("two") is None and cache.get("one") and cache.get("three")
    assert cache.nbytes == 800 and len(cache) == 2
    cache.put("huge", audio(2000))  # more than the whole cache: not kept
    cache.put("a text longer than twenty", audio(10))
    assert len(cache) == 2 and cache.get("huge") is None
    assert PhraseCache(max_chars=0, max_bytes=1000).wanted("Done.") is False
