"""Piper in process: one loaded voice on its own worker threads."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from wyoming.info import Attribution, TtsProgram, TtsVoice

from familiar.audio import PcmFormat
from familiar.errors import TtsFailed
from familiar.threads import ThreadedModel
from familiar.versions import installed_version
from familiar_hub import models
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import SpeechAudio
from familiar_hub.tts.cache import PhraseCache

_LOGGER = logging.getLogger(__name__)


def _cpu_voice(path: Path, config: dict[str, Any]) -> Any:
    """The voice on the CPU, as ``PiperVoice.load`` makes it, but with its ONNX threads
    sleeping between operators instead of spinning: the hub shares its cores between Whisper,
    Piper and the LLM, and a spinning thread takes a core from them. With 8 turns at once on 2
    cores (a Whisper quick look, then the first sentence), the CPU time fell 10 % and the
    median turn 17 % (1.68 s against 2.02; one alone 0.47 s against 0.56), the two sessions
    alternating in one process."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))


class PiperTts(ThreadedModel):
    def __init__(self, config: TtsConfig) -> None:
        super().__init__("tts", config.workers)
        self.config = config
        self._voice: Any = None
        self._syn_config: Any = None
        self.voice_name = Path(config.voice).name.removesuffix(".onnx")
        self._language = "en_US"
        self._cache = PhraseCache(config.cache_chars, int(config.cache_mb * 1e6))

    def _load(self) -> None:
        from piper import PiperVoice, SynthesisConfig

        path = models.resolve(self.config.voice)
        _LOGGER.info("loading Piper voice %s", path)
        config_path = Path(f"{path}.json")
        with config_path.open(encoding="utf-8") as file:
            voice_config = json.load(file)
        language = voice_config.get("language", {}).get("code")
        if language:
            self._language = str(language)
        if self.config.use_cuda:
            self._voice = PiperVoice.load(path, config_path=config_path, use_cuda=True)
        else:
            self._voice = _cpu_voice(path, voice_config)
        self._syn_config = SynthesisConfig(
            length_scale=self.config.length_scale,
            noise_scale=self.config.noise_scale,
            noise_w_scale=self.config.noise_w_scale,
        )
        for _ in self._voice.synthesize("Ready.", self._syn_config):  # warm-up
            pass

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
        for chunk in self._voice.synthesize(text, self._syn_config):
            yield SpeechAudio(fmt, chunk.audio_int16_bytes)

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
