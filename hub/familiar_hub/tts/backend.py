"""What a TTS backend offers: audio for a piece of text, as it is made."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

from wyoming.info import TtsProgram

from familiar.audio import PcmFormat


@dataclass(frozen=True)
class SpeechAudio:
    """A piece of synthesized audio (16-bit PCM)."""

    fmt: PcmFormat
    pcm: bytes


class TtsBackend(Protocol):
    """A loaded voice (or a remote server) that serves many requests at once."""

    def program(self) -> TtsProgram: ...

    def synthesize(self, text: str, voice: str | None) -> AsyncGenerator[SpeechAudio, None]:
        """Audio for ``text``; ``voice`` is a name from ``program().voices`` or None."""
        ...
