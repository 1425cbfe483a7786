"""The ASR side of the Wyoming protocol: transcribe, audio-start/chunk/stop -> transcript.

Chunks may be of any size (the session's converter keeps partial frames). A RIFF/WAV header at
the start of the audio (Home Assistant's ``/api/stt`` forwards the uploaded file as it is) is
skipped, and the format it announces is the format of the samples after it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, Eventable

from familiar.audio import PcmFormat, WavHeaderSkipper
from familiar.server import Connection
from familiar_hub.asr.backend import AsrBackend, AsrSession

_LOGGER = logging.getLogger(__name__)

EVENT_TYPES: tuple[type[Eventable], ...] = (Transcribe, AudioStart, AudioChunk, AudioStop)
DEFAULT_MAX_SECONDS = 30.0
PIECE_SECONDS = 1.0
"""A big chunk is fed in pieces of this much audio, the loop free between them."""


class AsrHandler:
    """One per connection. A session opens on the first audio and closes on audio-stop.

    The connection's memory budget is measured in seconds of *sent* audio, before any
    conversion: past ``max_seconds`` per utterance the audio is dropped here, so a chunk
    labelled with an odd format can never grow into gigabytes once resampled (the edge already
    refuses rates below 8 kHz).
    """

    def __init__(
        self, backend: AsrBackend, conn: Connection, max_seconds: float = DEFAULT_MAX_SECONDS
    ) -> None:
        self._backend = backend
        self._conn = conn
        self._max_seconds = max_seconds
        self._language: str | None = None
        self._fmt = PcmFormat()
        self._stack: contextlib.AsyncExitStack | None = None
        self._session: AsrSession | None = None
        self._seconds = 0.0
        self._warned = False
        self._header = WavHeaderSkipper()

    async def handle_event(self, event: Event) -> bool:
        if Transcribe.is_type(event.type):
            await self._close_session()
            self._language = Transcribe.from_event(event).language
        elif AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
            self._fmt = PcmFormat(start.rate, start.width, start.channels)
            self._header = WavHeaderSkipper()
            await self._open_session()
        elif AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            audio = self._header.feed(chunk.audio)
            if audio:
                fmt = self._header.fmt or PcmFormat(chunk.rate, chunk.width, chunk.channels)
                await self._feed(audio, fmt)
        elif AudioStop.is_type(event.type):
            if tail := self._header.finish():
                await self._feed(tail, self._header.fmt or self._fmt)
            self._header = WavHeaderSkipper()
            session = await self._open_session()
            try:
                result = await session.finish()
            finally:
                await self._close_session()
                self._language = None
            _LOGGER.debug("transcript for %s: %s", self._conn.peer, result.text)
            await self._conn.send(Transcript(text=result.text, language=result.language).event())
        return True

    async def _feed(self, audio: bytes, fmt: PcmFormat) -> None:
        frame = fmt.width * fmt.channels
        left = int((self._max_seconds - self._seconds) * fmt.rate) * frame
        if left <= 0 or len(audio) > left:
            if not self._warned:
                _LOGGER.info(
                    "%s: utterance longer than %.0f s; the rest is dropped",
                    self._conn.peer,
                    self._max_seconds,
                )
                self._warned = True
            audio = audio[: max(left, 0)]
        if not audio:
            return
        session = await self._open_session()
        step = max(frame, int(PIECE_SECONDS * fmt.rate) * frame)
        for offset in range(0, len(audio), step):
            piece = audio[offset : offset + step]
            await session.feed(piece, fmt)
            self._seconds += len(piece) / fmt.bytes_per_second
            if offset + step < len(audio):
                await asyncio.sleep(0)  # others get the loop between pieces of a big chunk

    async def _open_session(self) -> AsrSession:
        if self._session is None:
            stack = contextlib.AsyncExitStack()
            self._session = await stack.enter_async_context(self._backend.session(self._language))
            self._stack = stack
        return self._session

    async def _close_session(self) -> None:
        self._seconds, self._warned = 0.0, False
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def disconnected(self) -> None:
        await self._close_session()
