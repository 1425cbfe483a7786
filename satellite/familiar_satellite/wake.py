"""Wake word detection behind a small Protocol; the engines live in ``familiar_satellite.backends``.

A detector is used from one worker thread only (the satellite's), never from the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from familiar_satellite.config import WakeConfig, WakeWordConfig


@dataclass(frozen=True)
class WakeWord:
    """A wake word as advertised to the controller."""

    id: str
    """Model id (sent in ``detection.name`` and ``run-pipeline.wake_word_name``)."""

    phrase: str
    """What is said."""

    engine: str
    """``openwakeword`` or ``microwakeword``."""


class WakeDetector(Protocol):
    """Consumes 16 kHz 16-bit mono audio; returns the ids of the wake words detected in it."""

    words: list[WakeWord]

    def process(self, audio: bytes) -> list[str]: ...

    def reset(self) -> None:
        """Forget buffered audio (called when streaming starts)."""

    def close(self) -> None: ...


@dataclass
class WakeGate:
    """Trigger level and refractory time for one wake word, counted in audio seconds.

    ``observe`` is fed every model output frame; a detection needs ``trigger_level``
    activated frames in a row, and none follows within ``refractory_seconds`` of audio.
    """

    trigger_level: int = 1
    refractory_seconds: float = 2.0
    _run: int = field(default=0, init=False)
    _quiet_left: float = field(default=0.0, init=False)

    def observe(self, activated: bool, seconds: float) -> bool:
        if self._quiet_left > 0:
            self._quiet_left = max(0.0, self._quiet_left - seconds)
            self._run = 0
            return False
        self._run = self._run + 1 if activated else 0
        if self._run >= self.trigger_level:
            self._run = 0
            self._quiet_left = self.refractory_seconds
            return True
        return False

    def reset(self) -> None:
        self._run = 0


class CombinedDetector:
    """Several detectors (one per engine) as one."""

    def __init__(self, parts: list[WakeDetector]) -> None:
        self._parts = parts
        self.words = [word for part in parts for word in part.words]

    def process(self, audio: bytes) -> list[str]:
        found: list[str] = []
        for part in self._parts:
            found += part.process(audio)
        return found

    def reset(self) -> None:
        for part in self._parts:
            part.reset()

    def close(self) -> None:
        for part in self._parts:
            part.close()


def create_detector(config: WakeConfig) -> WakeDetector:
    """Load the configured engines (call on the worker thread: models load here)."""
    by_engine: dict[str, list[WakeWordConfig]] = {}
    for word in config.words:
        by_engine.setdefault(word.engine, []).append(word)
    parts: list[WakeDetector] = []
    try:
        for engine, words in by_engine.items():
            if engine == "openwakeword":
                from familiar_satellite.backends.openwakeword import OpenWakeWordDetector

                parts.append(OpenWakeWordDetector(words, config.refractory_seconds))
            else:
                from familiar_satellite.backends.microwakeword import MicroWakeWordDetector

                parts.append(MicroWakeWordDetector(words, config.refractory_seconds))
    except BaseException:
        for part in parts:
            part.close()
        raise
    return parts[0] if len(parts) == 1 else CombinedDetector(parts)
