"""A remote Wyoming ASR server (wyoming-faster-whisper, another hub...) behind our endpoint."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.info import AsrProgram, Attribution

from familiar.audio import AudioConverter, PcmFormat
from familiar.client import WyomingClient, describe
from familiar.errors import RemoteUnavailable
from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.config import AsrConfig

TRANSCRIPT_TIMEOUT = 60.0
REMOTE_FORMAT = PcmFormat(16000, 2, 1)
"""What the remote server gets: every ASR server takes 16 kHz mono 16-bit, in whole frames."""


class RemoteAsr:
    """Proxies each utterance to ``asr.uri`` on its own connection."""

    def __init__(self, config: AsrConfig) -> None:
        assert config.uri is not None
        self.config = config
        self.uri = config.uri
        self._program: AsrProgram | None = None

    async def __aenter__(self) -> Self:
        info = await describe(self.uri)
        if info is not None and info.asr:
            self._program = info.asr[0]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def program(self) -> AsrProgram:
        if self._program is not None:
            return self._program
        return AsrProgram(
            name="familiar-remote-asr",
            description=f"speech-to-text at {self.uri}",
            attribution=Attribution(name="Familiar", url=""),
            installed=True,
            version=None,
            models=[],
        )

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[RemoteSession]:
        async with WyomingClient(self.uri) as client:
            yield RemoteSession(client, language or self.config.language)


class RemoteSession:
    def __init__(self, client: WyomingClient, language: str | None) -> None:
        self._client = client
        self._language = language
        self._started = False
        self._converter = AudioConverter(REMOTE_FORMAT)

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        await self._send(self._converter.convert(audio, fmt))

    async def _send(self, audio: bytes) -> None:
        out = REMOTE_FORMAT
        if not self._started:
            await self._client.send(Transcribe(language=self._language).event())
            await self._client.send(
                AudioStart(rate=out.rate, width=out.width, channels=out.channels).event()
            )
            self._started = True
        if audio:
            chunk = AudioChunk(rate=out.rate, width=out.width, channels=out.channels, audio=audio)
            await self._client.send(chunk.event())

    async def finish(self) -> TranscriptResult:
        if not self._started:
            return TranscriptResult(text="", language=self._language)
        await self._send(self._converter.flush())
        await self._client.send(AudioStop().event())
        try:
            event = await self._client.expect(Transcript, TRANSCRIPT_TIMEOUT)
        except TimeoutError as err:
            raise RemoteUnavailable(f"{self._client.uri} sent no transcript") from err
        transcript = Transcript.from_event(event)
        return TranscriptResult(text=transcript.text, language=transcript.language)
