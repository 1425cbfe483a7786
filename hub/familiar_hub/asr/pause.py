"""Notices when the speaker has paused, from the audio alone (pure, clock-free).

A satellite's VAD waits for ~0.8 s of silence before it sends ``audio-stop``; Home Assistant's
does the same. Once the speech has paused for a fraction of that, the ASR session starts
transcribing what it has, so the transcript is ready (or nearly) when ``audio-stop`` arrives.
"""

from __future__ import annotations

import numpy as np

from familiar.audio import Float32Array

FRAME = 160
"""10 ms at 16 kHz."""

MIN_SPEECH_RMS = 0.01
"""Below this a frame is silence whatever else was heard."""

RELATIVE_SPEECH_RMS = 0.15
"""A frame quieter than this fraction of the loudest frame so far is silence."""


class PauseTracker:
    """Fed 16 kHz mono float audio; knows where the last speech ended."""

    def __init__(self) -> None:
        self.samples = 0
        """Samples seen."""
        self.speech_end: int | None = None
        """Sample index just after the last speech frame; None before any speech."""
        self._peak = 0.0
        self._rest = np.zeros(0, dtype=np.float32)

    def feed(self, samples: Float32Array) -> None:
        audio = np.concatenate([self._rest, samples]) if self._rest.size else samples
        whole = audio.size - audio.size % FRAME
        start = self.samples - self._rest.size
        if whole:
            frames = audio[:whole].reshape(-1, FRAME)
            rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
            for index, level in enumerate(rms):
                self._peak = max(self._peak, float(level))
                if level >= max(MIN_SPEECH_RMS, RELATIVE_SPEECH_RMS * self._peak):
                    self.speech_end = start + (index + 1) * FRAME
        self._rest = audio[whole:]
        self.samples += samples.size

    @property
    def silent_samples(self) -> int:
        """Samples of silence since the last speech (0 before any speech)."""
        if self.speech_end is None:
            return 0
        return self.samples - self.speech_end
