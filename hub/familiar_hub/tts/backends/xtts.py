"""Coqui XTTS v2: the persona's cloned voice, streamed, on a GPU.

Written against coqui-tts' real API (``Xtts.init_from_config``, ``load_checkpoint``,
``get_conditioning_latents``, ``inference_stream``). The weights are never downloaded at run
time: they are loaded from ``tts.xtts.model_dir``. Tests inject a stand-in model with the same
methods (no weights can be installed on the CI machine).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from wyoming.info import Attribution, TtsProgram, TtsVoice

from familiar.audio import PcmFormat, float_to_pcm16
from familiar.errors import ModelNotFound, TtsFailed
from familiar.threads import ThreadedModel
from familiar_hub.config import TtsConfig, XttsConfig
from familiar_hub.tts.backend import SpeechAudio

_LOGGER = logging.getLogger(__name__)
XTTS_RATE = 24000
CLIP_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


class XttsModel(Protocol):
    """The part of coqui-tts' ``Xtts`` we use."""

    def get_conditioning_latents(self, audio_path: list[str]) -> tuple[Any, Any]: ...

    def inference_stream(
        self,
        text: str,
        language: str,
        gpt_cond_latent: Any,
        speaker_embedding: Any,
        **kwargs: Any,
    ) -> Iterator[Any]: ...


def load_coqui_xtts(config: XttsConfig) -> XttsModel:
    """Load XTTS v2 from a local directory with coqui-tts (``pip install coqui-tts``)."""
    try:
        from TTS.tts.configs.xtts_config import XttsConfig as CoquiConfig
        from TTS.tts.models.xtts import Xtts
    except ImportError as err:
        raise ModelNotFound("XTTS needs coqui-tts: pip install 'coqui-tts[cuda]'") from err
    model_dir = Path(config.model_dir).expanduser()
    coqui_config = CoquiConfig()
    coqui_config.load_json(str(model_dir / "config.json"))
    model = Xtts.init_from_config(coqui_config)
    model.load_checkpoint(coqui_config, checkpoint_dir=str(model_dir), use_deepspeed=False)
    if config.device == "cuda":
        model.cuda()
    model.eval()
    return model  # type: ignore[no-any-return]


def default_clips_dir() -> Path:
    data = os.environ.get("FAMILIAR_DATA") or str(Path.home() / ".local" / "share" / "familiar")
    return Path(data) / "voice"


def find_clips(directory: Path) -> list[str]:
    clips = sorted(str(p) for p in directory.glob("*") if p.suffix.lower() in CLIP_SUFFIXES)
    if not clips:
        raise ModelNotFound(
            f"no voice clips in {directory}: enrol some with `familiar persona voice add CLIP...`"
        )
    return clips


def to_pcm16(chunk: Any) -> bytes:
    """A torch tensor or numpy array of float samples -> 16-bit PCM."""
    if hasattr(chunk, "detach"):
        chunk = chunk.detach().float().cpu().numpy()
    return float_to_pcm16(np.asarray(chunk, dtype=np.float32).reshape(-1))


class XttsTts(ThreadedModel):
    """One loaded XTTS model and the persona's conditioning latents, on one worker thread."""

    def __init__(
        self, config: TtsConfig, load: Callable[[XttsConfig], XttsModel] = load_coqui_xtts
    ) -> None:
        assert config.xtts is not None
        super().__init__("xtts")  # one thread: one GPU stream
        self.config = config
        self.xtts = config.xtts
        self._load_model = load
        self._model: XttsModel | None = None
        self._latents: tuple[Any, Any] | None = None

    def _load(self) -> None:
        clips_dir = Path(self.xtts.clips_dir).expanduser() if self.xtts.clips_dir else None
        clips = find_clips(clips_dir or default_clips_dir())
        _LOGGER.info("loading XTTS from %s with %d voice clips", self.xtts.model_dir, len(clips))
        self._model = self._load_model(self.xtts)
        self._latents = self._model.get_conditioning_latents(audio_path=clips)

    def program(self) -> TtsProgram:
        return TtsProgram(
            name="familiar-xtts",
            description="Familiar text-to-speech in the persona's voice (XTTS v2)",
            attribution=Attribution(name="Coqui", url="https://github.com/idiap/coqui-ai-TTS"),
            installed=True,
            version=None,
            voices=[
                TtsVoice(
                    name=self.xtts.voice_name,
                    description="the persona's cloned voice",
                    attribution=Attribution(name="Familiar", url=""),
                    installed=True,
                    version=None,
                    languages=[self.xtts.language],
                )
            ],
            supports_synthesize_streaming=True,
        )

    def _stream(self, text: str) -> Iterator[SpeechAudio]:
        assert self._model is not None and self._latents is not None
        fmt = PcmFormat(XTTS_RATE, 2, 1)
        gpt_cond_latent, speaker_embedding = self._latents
        for chunk in self._model.inference_stream(
            text,
            self.xtts.language,
            gpt_cond_latent,
            speaker_embedding,
            stream_chunk_size=self.xtts.stream_chunk_size,
            temperature=self.xtts.temperature,
            enable_text_splitting=False,
        ):
            yield SpeechAudio(fmt, to_pcm16(chunk))

    async def synthesize(self, text: str, voice: str | None) -> AsyncGenerator[SpeechAudio, None]:
        try:
            async with aclosing(self.worker.iterate(lambda: self._stream(text))) as it:
                async for piece in it:
                    yield piece
        except (RuntimeError, ValueError) as err:
            raise TtsFailed(f"XTTS failed: {err}") from err
