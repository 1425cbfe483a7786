"""Wake word detection behind a small Protocol; the engines live in ``familiar_satellite.backends``.

A detector is used from one worker thread only (the satellite's), never from the event loop.
"""

from __future__ import annotations

from collections import deque
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


class SpeechGate:
    """Lets microphone audio through to the wake word models only around speech (pure, counted
    in audio seconds).

    A cheap VAD looks at every chunk; the models, which cost far more, see nothing while the
    room is quiet. When speech starts, the models first get the last ``preroll_seconds`` of
    audio (the VAD notices speech late, the wake word's start is in there), then every chunk
    until ``hold_seconds`` after the last speech."""

    def __init__(self, preroll_seconds: float = 2.0, hold_seconds: float = 2.0) -> None:
        self.preroll_seconds = preroll_seconds
        self.hold_seconds = hold_seconds
        self._preroll: deque[tuple[bytes, float]] = deque()
        self._buffered = 0.0
        self._open_for = 0.0

    @property
    def open(self) -> bool:
        return self._open_for > 0

    def feed(self, chunk: bytes, seconds: float, speech: bool) -> list[bytes]:
        """The audio the models should process now (oldest first)."""
        if speech:
            self._open_for = self.hold_seconds + seconds
        if self._open_for > 0:
            self._open_for -= seconds
            out = [audio for audio, _ in self._preroll]
            self._preroll.clear()
            self._buffered = 0.0
            out.append(chunk)
            return out
        self._preroll.append((chunk, seconds))
        self._buffered += seconds
        while self._preroll and self._buffered - self._preroll[0][1] >= self.preroll_seconds:
            self._buffered -= self._preroll.popleft()[1]
        return []

    def reset(self) -> None:
        self._preroll.clear()
        self._buffered = 0.0
        self._open_for = 0.0


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
