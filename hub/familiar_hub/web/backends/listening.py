"""Wake word and voice activity for phone streams: openWakeWord models (``pyopen-wakeword``, the
ones the Pi satellite uses) and pymicro-vad. Used from one worker thread per phone session."""

from __future__ import annotations

import logging

from pymicro_vad import MicroVad
from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

_LOGGER = logging.getLogger(__name__)

WAKE_FRAME_SECONDS = 0.08
VAD_FRAME_BYTES = 320  # 10 ms at 16 kHz, 16-bit mono
VAD_FRAME_SECONDS = 0.01


class OpenWakeWordListener:
    """Consumes 16 kHz 16-bit mono audio; returns the wake words heard in it."""

    def __init__(self, words: list[str], threshold: float, refractory_seconds: float = 2.0) -> None:
        self._features = OpenWakeWordFeatures.from_builtin()
        self._models = [(w, OpenWakeWord.from_builtin(Model(w))) for w in words]
        self._threshold = threshold
        self._refractory = refractory_seconds
        self._quiet_left = 0.0

    def process(self, audio: bytes) -> list[str]:
        found: list[str] = []
        for embeddings in self._features.process_streaming(audio):
            for word, model in self._models:
                for probability in model.process_streaming(embeddings):
                    if self._quiet_left > 0:
                        self._quiet_left = max(0.0, self._quiet_left - WAKE_FRAME_SECONDS)
                    elif probability > self._threshold:
                        _LOGGER.debug("%s: probability %.3f", word, probability)
                        self._quiet_left = self._refractory
                        found.append(word)
        return found

    def reset(self) -> None:
        self._features.reset()
        for _, model in self._models:
            model.reset()

    def close(self) -> None:
        for _, model in self._models:
            model.close()
        self._features.close()


class MicroVadListener:
    """One speech probability per 10 ms frame."""

    def __init__(self) -> None:
        self._vad = MicroVad()
        self._pending = b""

    def process(self, audio: bytes) -> list[float]:
        data = self._pending + audio
        usable = len(data) - len(data) % VAD_FRAME_BYTES
        self._pending = data[usable:]
        return [
            float(self._vad.process_10ms(data[i : i + VAD_FRAME_BYTES]))
            for i in range(0, usable, VAD_FRAME_BYTES)
        ]

    def reset(self) -> None:
        self._vad.reset()
        self._pending = b""
