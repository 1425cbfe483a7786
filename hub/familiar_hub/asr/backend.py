"""What an ASR backend offers: one shared model, one session per utterance."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from wyoming.info import AsrProgram

from familiar.audio import PcmFormat


@dataclass(frozen=True)
class TranscriptResult:
    text: str
    language: str | None = None
    quick: bool = False
    """A quick look (``PauseTranscripts.quick_looks``): a short encoder window without
    hotwords, good enough to recognise a home command, not to hear names."""


class AsrSession(Protocol):
    """One utterance: audio goes in as it arrives, one transcript comes out."""

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None: ...

    async def finish(self) -> TranscriptResult: ...


@runtime_checkable
class PauseTranscripts(Protocol):
    """A session that transcribes at the speaker's pause (in-process Whisper does; a remote
    Wyoming ASR server cannot tell us)."""

    def pause_transcript(self) -> asyncio.Future[TranscriptResult] | None:
        """The transcript started at the speaker's latest pause (possibly still running); None
        before any pause, or once the speaker has spoken again since."""
        ...

    def quick_looks(self) -> None:
        """From now on, make the first transcript at each pause a quick look
        (``TranscriptResult.quick``) where that is faster than the full one."""
        ...

    def refine(self) -> None:
        """Replace a quick look at the latest pause by the full transcript of the same audio
        (``pause_transcript`` then returns it); nothing otherwise. ``finish`` does it too."""
        ...


class AsrBackend(Protocol):
    """A loaded model (or remote server) that serves many sessions at once."""

    def program(self) -> AsrProgram: ...

    def session(self, language: str | None) -> AbstractAsyncContextManager[AsrSession]: ...


@runtime_checkable
class HotwordAsr(Protocol):
    """A backend whose recognition can be biased towards given words (names)."""

    def set_hotwords(self, words: Sequence[str]) -> None:
        """Bias every later transcription towards ``words`` (most important first)."""
        ...
