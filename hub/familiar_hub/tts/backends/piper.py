"""Piper in process: one loaded voice on its own worker threads."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import numpy as np
from wyoming.info import Attribution, TtsProgram, TtsVoice

from familiar.audio import PcmFormat
from familiar.errors import TtsFailed
from familiar.threads import ThreadedModel
from familiar.versions import installed_version
from familiar_hub import models
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import SpeechAudio
from familiar_hub.tts.backends.piper_split import CALIBRATION, SplitVoice
from familiar_hub.tts.cache import PhraseCache

_LOGGER = logging.getLogger(__name__)
_FULL_SCALE = 32767.0


def _session(model: bytes | str, use_cuda: bool) -> Any:
    """An ONNX Runtime session for (part of) a voice. On the CPU its threads sleep between
    operators instead of spinning: the hub shares its cores between Whisper, Piper and the LLM,
    and a spinning thread takes a core from them. With 8 turns at once on 2 cores (a Whisper
    quick look, then the first sentence), the CPU time fell 10 % and the median turn 17 % (1.68 s
    against 2.02; one alone 0.47 s against 0.56), the two sessions alternating in one process.
    On a GPU it is made as ``PiperVoice.load(use_cuda=True)`` makes it."""
    import onnxruntime

    if use_cuda:
        cuda = ("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"})
        return onnxruntime.InferenceSession(model, providers=[cuda, "CPUExecutionProvider"])
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def _int16(audio: np.ndarray) -> bytes:
    """Float audio as Piper makes its 16-bit samples."""
    return np.clip(audio * _FULL_SCALE, -_FULL_SCALE, _FULL_SCALE).astype(np.int16).tobytes()


class PiperTts(ThreadedModel):
    def __init__(self, config: TtsConfig) -> None:
        super().__init__("tts", config.workers)
        self.config = config
        self._voice: Any = None
        self._syn_config: Any = None
        self.voice_name = Path(config.voice).name.removesuffix(".onnx")
        self._language = "en_US"
        self._cache = PhraseCache(config.cache_chars, int(config.cache_mb * 1e6))
        self._split: SplitVoice | None = None

    def _load(self) -> None:
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        path = models.resolve(self.config.voice)
        _LOGGER.info("loading Piper voice %s", path)
        with Path(f"{path}.json").open(encoding="utf-8") as file:
            voice_config = json.load(file)
        language = voice_config.get("language", {}).get("code")
        if language:
            self._language = str(language)
        session = functools.partial(_session, use_cuda=self.config.use_cuda)
        self._split = SplitVoice.split(path, session, models.cache_dir() / "piper-halves")
        whole = self._split.text_half if self._split else session(str(path))
        self._voice = PiperVoice(session=whole, config=PiperConfig.from_dict(voice_config))
        self._syn_config = SynthesisConfig(
            length_scale=self.config.length_scale,
            noise_scale=self.config.noise_scale,
            noise_w_scale=self.config.noise_w_scale,
        )
        if self._split:  # without the voice's noise: the same gain at every start
            quiet = SynthesisConfig(
                length_scale=self.config.length_scale, noise_scale=0.0, noise_w_scale=0.0
            )
            sentences = self._voice.phonemize(CALIBRATION)
            self._split.calibrate([self._inputs(p, quiet) for p in sentences])  # and warms up
        else:
            for _ in self._sentences("Ready."):  # warm-up
                pass

    def _inputs(self, phonemes: list[str], settings: Any) -> dict[str, np.ndarray]:
        """The graph's inputs for one sentence, as ``PiperVoice.phoneme_ids_to_audio`` makes
        them."""
        voice = self._voice.config
        ids = self._voice.phonemes_to_ids(phonemes)
        scales = [
            voice.noise_scale if settings.noise_scale is None else settings.noise_scale,
            voice.length_scale if settings.length_scale is None else settings.length_scale,
            voice.noise_w_scale if settings.noise_w_scale is None else settings.noise_w_scale,
        ]
        inputs: dict[str, np.ndarray] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(scales, dtype=np.float32),
        }
        if voice.num_speakers > 1:
            speaker = settings.speaker_id
            inputs["sid"] = np.array(
                [voice.default_speaker_id if speaker is None else speaker], dtype=np.int64
            )
        return inputs

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def program(self) -> TtsProgram:
        return TtsProgram(
            name="familiar-piper",
            description="Familiar text-to-speech (Piper)",
            attribution=Attribution(name="Familiar", url="https://github.com/OHF-Voice/piper1-gpl"),
            installed=True,
            version=installed_version("piper-tts"),
            voices=[
                TtsVoice(
                    name=self.voice_name,
                    description=f"Piper {self.voice_name}",
                    attribution=Attribution(name="rhasspy", url="https://github.com/rhasspy/piper"),
                    installed=True,
                    version=None,
                    languages=[self._language],
                )
            ],
            supports_synthesize_streaming=True,
        )

    def _sentences(self, text: str) -> Iterator[SpeechAudio]:
        fmt = PcmFormat(self.sample_rate, 2, 1)
        if self._split is None:
            for chunk in self._voice.synthesize(text, self._syn_config):
                yield SpeechAudio(fmt, chunk.audio_int16_bytes)
            return
        for phonemes in self._voice.phonemize(text):
            if phonemes:
                for audio in self._split.pieces(self._inputs(phonemes, self._syn_config)):
                    yield SpeechAudio(fmt, _int16(audio))

    async def synthesize(self, text: str, voice: str | None) -> AsyncGenerator[SpeechAudio, None]:
        if voice not in (None, self.voice_name):
            _LOGGER.debug("voice %r not loaded; using %s", voice, self.voice_name)
        kept = self._cache.get(text)
        if kept is not None:
            for piece in kept:
                yield piece
            return
        keep = self._cache.wanted(text)
        made: list[SpeechAudio] = []
        try:
            async with aclosing(self.worker.iterate(lambda: self._sentences(text))) as pieces:
                async for piece in pieces:
                    if keep:
                        made.append(piece)
                    yield piece
        except (RuntimeError, ValueError, OSError) as err:
            raise TtsFailed(f"Piper failed: {err}") from err
        if keep:
            self._cache.put(text, made)  # only a whole synthesis gets here
