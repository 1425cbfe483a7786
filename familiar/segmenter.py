"""End of speech from VAD decisions: a pure object fed with audio durations, never the clock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Segment(StrEnum):
    STARTED = "started"
    """The command started (enough speech in a row)."""

    SILENCE = "silence"
    """The command ended with enough silence after speech."""

    MAX_LENGTH = "max-length"
    """The command ran into the length limit."""

    NO_SPEECH = "no-speech"
    """Nobody started speaking in time."""


@dataclass
class SpeechSegmenter:
    """Feeds on ``(seconds, is_speech)`` frames; reports the start and the end of a command.

    After the end it reports nothing more until :meth:`reset`.
    """

    speech_seconds: float = 0.3
    silence_seconds: float = 0.8
    max_seconds: float = 15.0
    no_speech_seconds: float = 8.0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.elapsed = 0.0
        self.in_speech = False
        self.finished = False
        self._speech_run = 0.0
        self._silence_run = 0.0

    def process(self, seconds: float, is_speech: bool) -> Segment | None:
        if self.finished:
            return None
        self.elapsed += seconds
        result: Segment | None = None
        if not self.in_speech:
            self._speech_run = self._speech_run + seconds if is_speech else 0.0
            if self._speech_run >= self.speech_seconds - 1e-9:
                self.in_speech = True
                self._silence_run = 0.0
                result = Segment.STARTED
            elif self.elapsed >= self.no_speech_seconds - 1e-9:
                return self._finish(Segment.NO_SPEECH)
        else:
            self._silence_run = 0.0 if is_speech else self._silence_run + seconds
            if self._silence_run >= self.silence_seconds - 1e-9:
                return self._finish(Segment.SILENCE)
        if self.elapsed >= self.max_seconds - 1e-9 and result is None:
            return self._finish(Segment.MAX_LENGTH)
        return result

    def _finish(self, segment: Segment) -> Segment:
        self.finished = True
        return segment
