"""Piper in process: the voice we load speaks as ``PiperVoice.load`` makes it speak, with its
ONNX threads sleeping between operators (the hub's cores are shared)."""

from __future__ import annotations

import pytest

from familiar_hub import models
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backends.piper import PiperTts

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
