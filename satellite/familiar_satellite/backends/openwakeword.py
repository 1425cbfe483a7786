"""openWakeWord models from ``pyopen-wakeword`` (TFLite, bundled C library, numpy only).

One shared feature extractor (mel spectrogram + embeddings, ~4.5 ms per 80 ms frame) feeds
every model (~0.1 ms each), so several wake words cost little more than one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

from familiar_satellite.config import OPENWAKEWORD_MODELS, WakeWordConfig
from familiar_satellite.wake import WakeGate, WakeWord

_LOGGER = logging.getLogger(__name__)

FRAME_SECONDS = 0.08
DEFAULT_THRESHOLD = 0.5


class OpenWakeWordDetector:
    def __init__(self, words: list[WakeWordConfig], refractory_seconds: float) -> None:
        self.words = [WakeWord(w.id, w.spoken, "openwakeword") for w in words]
        self._features = OpenWakeWordFeatures.from_builtin()
        self._models: list[tuple[str, OpenWakeWord, float, WakeGate]] = []
        for word in words:
            if word.model in OPENWAKEWORD_MODELS:
                model = OpenWakeWord.from_builtin(Model(word.model))
            else:
                model = OpenWakeWord.from_model(Path(word.model).expanduser())
            threshold = word.threshold if word.threshold is not None else DEFAULT_THRESHOLD
            gate = WakeGate(word.trigger_level, refractory_seconds)
            self._models.append((word.id, model, threshold, gate))
            _LOGGER.info("openWakeWord: %s (threshold %.2f)", word.id, threshold)

    def process(self, audio: bytes) -> list[str]:
        found: list[str] = []
        for embeddings in self._features.process_streaming(audio):
            for word_id, model, threshold, gate in self._models:
                for probability in model.process_streaming(embeddings):
                    if gate.observe(probability > threshold, FRAME_SECONDS):
                        _LOGGER.debug("%s: probability %.3f", word_id, probability)
                        found.append(word_id)
        return found

    def reset(self) -> None:
        self._features.reset()
        for _, model, _, gate in self._models:
            model.reset()
            gate.reset()

    def close(self) -> None:
        for _, model, _, _ in self._models:
            model.close()
        self._features.close()
