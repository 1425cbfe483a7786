"""Voice activity detection behind a small Protocol.

The engine is in ``familiar_satellite.backends``."""

from __future__ import annotations

from typing import Protocol

FRAME_SECONDS = 0.01


class VoiceDetector(Protocol):
    """Consumes 16 kHz 16-bit mono audio; returns one speech probability per 10 ms frame."""

    def process(self, audio: bytes) -> list[float]: ...

    def reset(self) -> None: ...


def create_vad() -> VoiceDetector:
    from familiar_satellite.backends.microvad import MicroVadDetector

    return MicroVadDetector()
