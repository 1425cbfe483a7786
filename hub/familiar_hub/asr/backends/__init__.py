"""ASR backends; the only place a speech recognition library is imported."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from familiar_hub.asr.backend import AsrBackend
    from familiar_hub.config import AsrConfig


def choose(config: AsrConfig) -> str:
    """Which backend a config asks for (pure, tested on its own)."""
    return "remote" if config.uri is not None else "faster-whisper"


def create(config: AsrConfig) -> AbstractAsyncContextManager[AsrBackend]:
    kind = choose(config)
    if kind == "remote":
        from familiar_hub.asr.backends.remote import RemoteAsr

        return RemoteAsr(config)
    from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr

    return FasterWhisperAsr(config)
