"""faster-whisper (CTranslate2) in process: one model, several sessions at once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
from wyoming.info import AsrModel, AsrProgram, Attribution

from familiar.audio import AudioConverter, Float32Array, PcmFormat
from familiar.errors import SttFailed
from familiar.threads import ThreadedModel
from familiar.versions import installed_version
from familiar_hub import models
from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.asr.pause import PauseTracker
from familiar_hub.config import AsrConfig

_LOGGER = logging.getLogger(__name__)
WHISPER_RATE = 16000
FRAMES_PER_SECOND = 100
FULL_WINDOW_SECONDS = 30.0
TRAILING_SILENCE_SECONDS = 1.0
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
TOKENS_PER_SECOND = 8


def window_frames(duration: float, window_seconds: float) -> int | None:
    """Mel frames to encode for ``duration`` seconds of audio, or None for the full window."""
    if window_seconds >= FULL_WINDOW_SECONDS:
        return None
    needed = duration + TRAILING_SILENCE_SECONDS
    if needed > FULL_WINDOW_SECONDS - 2:
        return None
    seconds = max(window_seconds, math.ceil(needed))
    return int(seconds * FRAMES_PER_SECOND)


#: The faster-whisper release whose internals the short window uses (``pyproject.toml`` pins it;
#: tests/test_asr_window.py fails when the installed one differs or the internals moved).
SHORT_WINDOW_TESTED_WITH = "1.2.1"


def short_window_missing(model: Any) -> str | None:
    """What the short-window decoder needs from faster-whisper but does not find, or None.

    faster-whisper has no public call that encodes less than 30 s, so the short window uses
    its internals (``WhisperModel.model.generate``, ``feature_extractor``, ``hf_tokenizer``,
    ``Tokenizer``, ``get_suppressed_tokens``). When they move, the backend says so once and
    decodes every utterance through the public ``transcribe`` (the classic 30 s window).
    """
    try:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens
    except ImportError as err:
        return str(err)
    needed = {
        "WhisperModel.hf_tokenizer": getattr(model, "hf_tokenizer", None),
        "WhisperModel.feature_extractor": getattr(model, "feature_extractor", None),
        "WhisperModel.model.generate": getattr(getattr(model, "model", None), "generate", None),
        "WhisperModel.model.is_multilingual": hasattr(
            getattr(model, "model", None), "is_multilingual"
        )
        or None,
        "Tokenizer": Tokenizer,
        "get_suppressed_tokens": get_suppressed_tokens,
    }
    missing = [name for name, found in needed.items() if found is None]
    return ", ".join(missing) or None


def repeats_itself(text: str) -> bool:
    """Whisper's failure mode on a short window: the same sentence again and again."""
    sentences = [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return any(a == b for a, b in itertools.pairwise(sentences))


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


class FasterWhisperAsr(ThreadedModel):
    """``WhisperModel`` loaded once on its own worker threads."""

    def __init__(self, config: AsrConfig) -> None:
        super().__init__("asr", config.workers)
        self.config = config
        self._model: Any = None
        self._english_only = config.model.endswith(".en")
        self._short_window = False
        self._quick_window = False
        self._hotwords: str | None = None
        self.set_hotwords([])

    def set_hotwords(self, words: Sequence[str]) -> None:
        """Bias recognition towards the configured ``hotwords`` and ``words``, leaving out
        words Whisper already knows as one token ("Bank", "Chennai"): the prompt is short,
        and the names it splits into pieces ("Sel|v|am") are the ones it mishears."""
        from familiar_hub.persona.names import hotword_text

        model = self._model
        if model is not None:
            tokenizer = model.hf_tokenizer
            words = [
                w for w in words if len(tokenizer.encode(" " + w, add_special_tokens=False).ids) > 1
            ]
        unique = list(dict.fromkeys([*self.config.hotwords, *words]))
        self._hotwords = hotword_text(unique, self.config.hotword_chars) or None
        _LOGGER.debug("hotwords: %s", self._hotwords)

    def _load(self) -> None:
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
        self._short_window, self._quick_window = self._short_windows_usable(model)
        # Warm up once so the first real request does not pay for lazy initialisation.
        silence = np.zeros(WHISPER_RATE // 2, dtype=np.float32)
        self._run(model, silence, self.config.language)
        if self._quick_window:
            self._run(model, silence, self.config.language, quick=True)
        self._model = model

    def _short_windows_usable(self, model: Any) -> tuple[bool, bool]:
        """Whether the short window and the quick look at pauses can be used."""
        config = self.config
        short = config.window_seconds < FULL_WINDOW_SECONDS
        quick = config.quick_window_seconds > 0
        if not short and not quick:
            return False, False
        missing = short_window_missing(model)
        if missing is not None:
            _LOGGER.warning(
                "faster-whisper %s lacks what the short window uses (%s; tested with %s): "
                "every utterance gets the full 30 s window, and no quick look at pauses",
                installed_version("faster-whisper"),
                missing,
                SHORT_WINDOW_TESTED_WITH,
            )
            return False, False
        return short, quick

    @property
    def quick_look_helps(self) -> bool:
        """A quick look at a pause is faster or plainer than the full transcript: a shorter
        window, or no hotwords."""
        quick = self.config.quick_window_seconds
        return (
            self._quick_window
            and quick > 0
            and (quick < self.config.window_seconds or self._hotwords is not None)
        )

    def _unload(self) -> None:
        self._model = None

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
            version=installed_version("faster-whisper"),
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

    def _run(
        self, model: Any, audio: Float32Array, language: str | None, quick: bool = False
    ) -> TranscriptResult:
        if self._english_only:
            language = "en"
        duration = audio.size / WHISPER_RATE
        if quick:
            return self._run_quick(model, audio, language)
        frames = window_frames(duration, self.config.window_seconds)
        if language is not None and frames is not None and self._short_window:
            text = self._run_window(model, audio, language, frames, self._hotwords)
            if text is not None:
                return TranscriptResult(text=text, language=language)
            _LOGGER.debug("short-window result unreliable; using the full window")
        return self._run_full(model, audio, language)

    def _run_quick(self, model: Any, audio: Float32Array, language: str | None) -> TranscriptResult:
        """A short window without hotwords; empty when that cannot be trusted or the language
        is not known (the full transcript follows)."""
        frames = window_frames(audio.size / WHISPER_RATE, self.config.quick_window_seconds)
        text = None
        if frames is not None and language is not None and self._quick_window:
            text = self._run_window(model, audio, language, frames, None)
        return TranscriptResult(text=text or "", language=language, quick=True)

    def _run_window(
        self, model: Any, audio: Float32Array, language: str, frames: int, hotwords: str | None
    ) -> str | None:
        """Decode with a short encoder window; None when the result looks unreliable."""
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
        )
        features = model.feature_extractor(audio)[:, :frames]  # as faster-whisper does:
        features = np.pad(features, ((0, 0), (0, frames - features.shape[-1])))  # zero mel pad
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if hotwords:  # as faster-whisper's transcribe(hotwords=...) prompts
            prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + hotwords), *prompt]
        max_new = 12 + int(TOKENS_PER_SECOND * audio.size / WHISPER_RATE)
        result = model.model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
            [prompt],
            beam_size=self.config.beam_size,
            max_length=len(prompt) + max_new,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,))),
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        if result.no_speech_prob > NO_SPEECH_THRESHOLD and avg_logprob < LOG_PROB_THRESHOLD:
            return ""
        text = str(tokenizer.decode(tokens)).strip()
        if len(tokens) >= max_new or avg_logprob < LOG_PROB_THRESHOLD or repeats_itself(text):
            return None
        return text

    def _run_full(self, model: Any, audio: Float32Array, language: str | None) -> TranscriptResult:
        segments, info = model.transcribe(
            audio,
            language=language,
            beam_size=self.config.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
            hotwords=self._hotwords,
        )
        # Consume the lazy generator here, on the worker thread.
        text = "".join(segment.text for segment in segments).strip()
        return TranscriptResult(text=text, language=info.language)

    async def transcribe(
        self, audio: Float32Array, language: str | None, *, quick: bool = False
    ) -> TranscriptResult:
        """``quick``: a quick look (``TranscriptResult.quick``), empty when unreliable."""
        try:
            return await self.worker.run(self._run, self._model, audio, language, quick)
        except Exception as err:
            raise SttFailed(f"transcription failed: {err}") from err

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[WhisperSession]:
        session = WhisperSession(self, language)
        try:
            yield session
        finally:
            session.discard_early()


class WhisperSession:
    """Keeps one utterance in memory as 16 kHz float32, converted as it arrives.

    When the speaker pauses, transcription starts on what has arrived; if nothing but silence
    follows before the end, that result is the answer, ready early
    (see ``familiar_hub.asr.pause``)."""

    def __init__(self, backend: FasterWhisperAsr, language: str | None) -> None:
        self._backend = backend
        self._language = language or backend.config.language
        self._pieces: list[Float32Array] = []
        self._samples = 0
        self._max_samples = int(backend.config.max_seconds * WHISPER_RATE)
        self._truncated = False
        self._pause = PauseTracker()
        self._early: asyncio.Future[TranscriptResult] | None = None
        self._early_end: int | None = None
        self._early_quick = False
        self._quick = False
        self._early_after = int(backend.config.early_start_seconds * WHISPER_RATE)
        self._quick_after = min(
            self._early_after, int(backend.config.quick_start_seconds * WHISPER_RATE)
        )
        self._converter = AudioConverter(PcmFormat(WHISPER_RATE))
        self.used_early = False
        """Whether the transcript came from the early start (for tests and benchmarks)."""
        self.early_starts = 0
        """Transcriptions started at pauses, quick looks included (for tests and benchmarks)."""

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        if self._samples >= self._max_samples:
            if not self._truncated:
                _LOGGER.warning(
                    "utterance longer than %.0f s; the rest is dropped",
                    self._backend.config.max_seconds,
                )
                self._truncated = True
            return
        self._append(self._converter.convert_float(audio, fmt))
        self._maybe_start_early()

    def _append(self, samples: Float32Array) -> None:
        samples = samples[: self._max_samples - self._samples]
        self._pieces.append(samples)
        self._samples += samples.size
        self._pause.feed(samples)

    def _maybe_start_early(self) -> None:
        pause = self._pause
        quick = self._quick and self._backend.quick_look_helps
        if (
            self._early_after <= 0
            or pause.speech_end is None
            or pause.speech_end == self._early_end
            or pause.silent_samples < (self._quick_after if quick else self._early_after)
        ):
            return
        self.discard_early()
        self._early_end = pause.speech_end
        self._start_early(quick)

    def _start_early(self, quick: bool) -> None:
        audio = np.concatenate(self._pieces)
        self._early_quick = quick
        self._early = asyncio.ensure_future(
            self._backend.transcribe(audio, self._language, quick=quick)
        )
        self.early_starts += 1
        # A failure of an early start that is never used must not go unnoticed either.
        self._early.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _current_early(self) -> asyncio.Future[TranscriptResult] | None:
        """The transcription started at the latest pause, if the speaker has not gone on."""
        early = self._early
        if early is None or self._early_end != self._pause.speech_end:
            return None
        return early

    def pause_transcript(self) -> asyncio.Future[TranscriptResult] | None:
        early = self._current_early()
        if self._early_quick and self._pause.silent_samples < self._early_after:
            return None  # started ahead of time: offered once the pause is long enough to judge
        return early

    def quick_looks(self) -> None:
        self._quick = True

    def refine(self) -> None:
        if self._current_early() is None or not self._early_quick:
            return
        self.discard_early()
        self._start_early(quick=False)  # the same speech, and the silence since

    def discard_early(self) -> None:
        if self._early is not None:
            self._early.cancel()
            self._early = None

    async def finish(self) -> TranscriptResult:
        tail = self._converter.flush_float()
        if tail.size and self._samples < self._max_samples:
            self._append(tail)
        if not self._pieces:
            return TranscriptResult(text="", language=self._language)
        self.refine()  # a quick look is not the transcript
        early, self._early = self._early, None
        if early is not None and self._early_end == self._pause.speech_end:
            _LOGGER.debug("using the transcript started at the pause")
            self.used_early = True
            return await early
        if early is not None:
            early.cancel()  # the speaker went on after the pause
        audio = np.concatenate(self._pieces)
        self._pieces = []
        return await self._backend.transcribe(audio, self._language)
