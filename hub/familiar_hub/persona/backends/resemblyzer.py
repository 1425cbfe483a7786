"""Speaker embeddings with resemblyzer's bundled encoder (torch), on a worker thread."""

from __future__ import annotations

import logging
import sys
import types
import warnings
from typing import Any

import numpy as np

from familiar.errors import BackendError
from familiar.threads import ThreadedModel
from familiar_hub.persona.backend import ClipAudio, Vectors

_LOGGER = logging.getLogger(__name__)


def _ensure_webrtcvad() -> None:
    """resemblyzer imports ``webrtcvad``, whose module imports ``pkg_resources`` only to read
    its own version; setuptools >= 81 no longer has it. Provide the same ``Vad`` over the
    installed compiled ``_webrtcvad`` extension when that import fails."""
    try:
        import webrtcvad  # noqa: F401
    except ModuleNotFoundError as err:
        if err.name != "pkg_resources":
            raise
        import _webrtcvad

        class Vad:
            def __init__(self, mode: int | None = None) -> None:
                self._vad = _webrtcvad.create()
                _webrtcvad.init(self._vad)
                if mode is not None:
                    self.set_mode(mode)

            def set_mode(self, mode: int) -> None:
                _webrtcvad.set_mode(self._vad, mode)

            def is_speech(self, buf: bytes, sample_rate: int, length: int | None = None) -> bool:
                length = length or len(buf) // 2
                if length * 2 > len(buf):
                    raise IndexError(f"buffer has {len(buf) // 2} frames, fewer than {length}")
                return bool(_webrtcvad.process(self._vad, sample_rate, buf, length))

        module = types.ModuleType("webrtcvad")
        module.Vad = Vad  # type: ignore[attr-defined]
        module.valid_rate_and_frame_length = (  # type: ignore[attr-defined]
            _webrtcvad.valid_rate_and_frame_length
        )
        sys.modules["webrtcvad"] = module


class ResemblyzerEncoder(ThreadedModel):
    def __init__(self, device: str = "cpu") -> None:
        super().__init__("speaker")
        self.device = device
        self._encoder: Any = None
        self._preprocess: Any = None

    def _load(self) -> None:
        _ensure_webrtcvad()
        try:
            with warnings.catch_warnings():
                # scipy.ndimage.morphology and friends, inside resemblyzer
                warnings.simplefilter("ignore", DeprecationWarning)
                from resemblyzer import VoiceEncoder, preprocess_wav
        except ImportError as err:
            raise BackendError(f"resemblyzer is not usable: {err}") from err
        self._encoder = VoiceEncoder(self.device, verbose=False)
        self._preprocess = preprocess_wav

    def _unload(self) -> None:
        self._encoder = None

    def _embed(self, clip: ClipAudio) -> Vectors:
        wav = self._preprocess(clip.samples.astype(np.float32), source_sr=clip.rate)
        if wav.size < 1600:
            raise BackendError("too little speech to recognise the speaker")
        vector = np.asarray(self._encoder.embed_utterance(wav), dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    async def embed_speaker(self, clip: ClipAudio) -> Vectors:
        return await self.worker.run(self._embed, clip)
