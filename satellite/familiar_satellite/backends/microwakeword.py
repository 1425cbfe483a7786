"""microWakeWord models from ``pymicro-wakeword`` (~0.02 ms per 10 ms of audio)."""

from __future__ import annotations

import logging
from pathlib import Path

from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

from familiar_satellite.config import MICROWAKEWORD_MODELS, WakeWordConfig
from familiar_satellite.wake import WakeGate, WakeWord

_LOGGER = logging.getLogger(__name__)

FEATURE_SECONDS = 0.01


class MicroWakeWordDetector:
    def __init__(self, words: list[WakeWordConfig], refractory_seconds: float) -> None:
        self.words = [WakeWord(w.id, w.spoken, "microwakeword") for w in words]
        self._features = MicroWakeWordFeatures()
        self._models: list[tuple[str, MicroWakeWord, float, WakeGate]] = []
        self._calls = 0
        for word in words:
            if word.model in MICROWAKEWORD_MODELS:
                model = MicroWakeWord.from_builtin(Model(word.model))
            else:
                model = MicroWakeWord.from_config(Path(word.model).expanduser())
            cutoff = word.threshold if word.threshold is not None else model.probability_cutoff
            gate = WakeGate(word.trigger_level, refractory_seconds)
            self._models.append((word.id, model, cutoff, gate))
            _LOGGER.info("microWakeWord: %s (cutoff %.2f)", word.id, cutoff)

    def process(self, audio: bytes) -> list[str]:
        found: list[str] = []
        for features in self._features.process_streaming(audio):
            self._calls += 1
            for word_id, model, cutoff, gate in self._models:
                probability = model.process_streaming_prob(features)
                # A model runs once per ``stride`` feature frames and answers 0.0 between.
                if probability is None or self._calls % model.stride:
                    continue
                if gate.observe(probability > cutoff, FEATURE_SECONDS * model.stride):
                    _LOGGER.debug("%s: probability %.3f", word_id, probability)
                    found.append(word_id)
        return found

    def reset(self) -> None:
        self._features.reset()
        self._calls = 0
        for _, model, _, gate in self._models:
            model.reset()
            gate.reset()

    def close(self) -> None:
        for _, model, _, _ in self._models:
            model.close()
