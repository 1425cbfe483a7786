"""TTS backends; the only place a speech synthesis library is imported."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from familiar_hub.config import TtsConfig
    from familiar_hub.tts.backend import TtsBackend


def choose(config: TtsConfig) -> str:
    """Which backend a config asks for (pure, tested on its own)."""
    if config.uri is not None:
        return "remote"
    return config.engine


def create(config: TtsConfig) -> AbstractAsyncContextManager[TtsBackend]:
    kind = choose(config)
    if kind == "remote":
        from familiar_hub.tts.backends.remote import RemoteTts

        return RemoteTts(config)
    if kind == "xtts":
        from familiar_hub.tts.backends.xtts import XttsTts

        return XttsTts(config)
    from familiar_hub.tts.backends.piper import PiperTts

    return PiperTts(config)
