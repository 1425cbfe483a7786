"""Fake backends for integration tests of the protocol layer (the real ones are tested too)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from wyoming.info import AsrModel, AsrProgram, Attribution, TtsProgram, TtsVoice

from familiar.audio import PcmFormat
from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.tts.backend import SpeechAudio

ATTR = Attribution(name="fake", url="")


class FakeAsr:
    """'Transcribes' by reporting how many bytes of audio it got, at which rate."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.open_sessions = 0
        self.session_opened = asyncio.Event()

    def program(self) -> AsrProgram:
        return AsrProgram(
            name="fake-asr",
            attribution=ATTR,
            installed=True,
            description=None,
            version=None,
            models=[
                AsrModel(
                    name="fake",
                    attribution=ATTR,
                    installed=True,
                    description=None,
                    version=None,
                    languages=["en"],
                )
            ],
        )

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[FakeAsrSession]:
        self.open_sessions += 1
        self.session_opened.set()
        try:
            yield FakeAsrSession(self, language)
        finally:
            self.open_sessions -= 1


class FakeAsrSession:
    def __init__(self, backend: FakeAsr, language: str | None) -> None:
        self.backend = backend
        self.language = language
        self.nbytes = 0
        self.rate = 0

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        self.nbytes += len(audio)
        self.rate = fmt.rate

    async def finish(self) -> TranscriptResult:
        await asyncio.sleep(self.backend.delay)
        return TranscriptResult(text=f"{self.nbytes} bytes at {self.rate}", language=self.language)


class FakeTts:
    """100 samples of silence per character, one piece per word, optionally slowly."""

    fmt = PcmFormat(22050, 2, 1)

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.spoken: list[str] = []
        self.open_streams = 0
        self.stream_opened = asyncio.Event()

    def program(self) -> TtsProgram:
        return TtsProgram(
            name="fake-tts",
            attribution=ATTR,
            installed=True,
            description=None,
            version=None,
            supports_synthesize_streaming=True,
            voices=[
                TtsVoice(
                    name="fake",
                    attribution=ATTR,
                    installed=True,
                    description=None,
                    version=None,
                    languages=["en_US"],
                )
            ],
        )

    async def synthesize(self, text: str, voice: str | None) -> AsyncGenerator[SpeechAudio, None]:
        self.spoken.append(text)
        self.open_streams += 1
        self.stream_opened.set()
        try:
            for word in text.split(" "):
                await asyncio.sleep(self.delay)
                yield SpeechAudio(self.fmt, b"\x00\x00" * 100 * (len(word) + 1))
        finally:
            self.open_streams -= 1
