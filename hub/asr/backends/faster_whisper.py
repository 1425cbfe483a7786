"""faster-whisper (CTranslate2) in process: one model, several sessions at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

import numpy as np
from wyoming.info import AsrModel, AsrProgram, Attribution

from familiar import models
from familiar.audio import Float32Array, PcmFormat, pcm_to_float, resample
from familiar.errors import SttFailed
from hub.asr.backend import TranscriptResult
from hub.config import AsrConfig

_LOGGER = logging.getLogger(__name__)
WHISPER_RATE = 16000

# Whisper's languages; the multilingual models answer any of them, ``.en`` ones English only.
_LANGUAGES = [
    "en",
    "de",
    "es",
    "fr",
    "it",
    "ja",
    "ko",
    "nl",
    "pl",
    "pt",
    "ru",
    "sv",
    "tr",
    "zh",
    "ar",
    "cs",
    "da",
    "el",
    "fi",
    "he",
    "hi",
    "hu",
    "id",
    "ms",
    "no",
    "ro",
    "sk",
    "ta",
    "th",
    "uk",
    "vi",
]


class FasterWhisperAsr:
    """``WhisperModel`` loaded once on its own worker threads."""

    def __init__(self, config: AsrConfig) -> None:
        self.config = config
        self._executor = ThreadPoolExecutor(config.workers, thread_name_prefix="asr")
        self._model: Any = None
        self._english_only = config.model.endswith(".en")

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._model = await loop.run_in_executor(self._executor, self._load)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._model = None

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        path = models.resolve(self.config.model)
        self._english_only = self._english_only or (path.name.endswith(".en"))
        _LOGGER.info(
            "loading Whisper %s (%s, %s)",
            path,
            self.config.device,
            self.config.resolved_compute_type,
        )
        model = WhisperModel(
            str(path),
            device=self.config.device,
            compute_type=self.config.resolved_compute_type,
            cpu_threads=self.config.cpu_threads or (os.cpu_count() or 1),
            num_workers=self.config.workers,
            local_files_only=True,
        )
        # Warm up once so the first real request does not pay for lazy initialisation.
        self._run(model, np.zeros(WHISPER_RATE // 2, dtype=np.float32), self.config.language)
        return model

    def program(self) -> AsrProgram:
        name = (
            self.config.model
            if models.is_packaged(self.config.model)
            else os.path.basename(self.config.model.rstrip("/"))
        )
        languages = ["en"] if self._english_only else list(_LANGUAGES)
        return AsrProgram(
            name="familiar-faster-whisper",
            description="Familiar speech-to-text (faster-whisper)",
            attribution=Attribution(
                name="Familiar", url="https://github.com/SYSTRAN/faster-whisper"
            ),
            installed=True,
            version="1.2.1",
            models=[
                AsrModel(
                    name=name,
                    description=f"Whisper {name}",
                    attribution=Attribution(name="OpenAI", url="https://github.com/openai/whisper"),
                    installed=True,
                    version=None,
                    languages=languages,
                )
            ],
            supports_transcript_streaming=False,
        )

    def _run(self, model: Any, audio: Float32Array, language: str | None) -> TranscriptResult:
        if self._english_only:
            language = "en"
        segments, info = model.transcribe(
            audio,
            language=language,
            beam_size=self.config.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        # Consume the lazy generator here, on the worker thread.
        text = "".join(segment.text for segment in segments).strip()
        return TranscriptResult(text=text, language=info.language)

    async def transcribe(self, audio: Float32Array, language: str | None) -> TranscriptResult:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, self._run, self._model, audio, language
            )
        except Exception as err:
            raise SttFailed(f"transcription failed: {err}") from err

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[WhisperSession]:
        yield WhisperSession(self, language)


class WhisperSession:
    """Keeps one utterance in memory as 16 kHz float32, converted as it arrives."""

    def __init__(self, backend: FasterWhisperAsr, language: str | None) -> None:
        self._backend = backend
        self._language = language or backend.config.language
        self._pieces: list[Float32Array] = []
        self._samples = 0
        self._max_samples = int(backend.config.max_seconds * WHISPER_RATE)
        self._truncated = False

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        if self._samples >= self._max_samples:
            if not self._truncated:
                _LOGGER.warning(
                    "utterance longer than %.0f s; the rest is dropped",
                    self._backend.config.max_seconds,
                )
                self._truncated = True
            return
        samples = resample(pcm_to_float(audio, fmt.width, fmt.channels), fmt.rate, WHISPER_RATE)
        samples = samples[: self._max_samples - self._samples]
        self._pieces.append(samples)
        self._samples += samples.size

    async def finish(self) -> TranscriptResult:
        if not self._pieces:
            return TranscriptResult(text="", language=self._language)
        audio = np.concatenate(self._pieces)
        self._pieces = []
        return await self._backend.transcribe(audio, self._language)
