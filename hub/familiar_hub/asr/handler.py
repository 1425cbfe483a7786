"""The ASR side of the Wyoming protocol: transcribe, audio-start/chunk/stop -> transcript."""

from __future__ import annotations

import contextlib
import logging

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event

from familiar.audio import PcmFormat
from familiar.server import Connection
from familiar_hub.asr.backend import AsrBackend, AsrSession

_LOGGER = logging.getLogger(__name__)

EVENT_TYPES = frozenset({"transcribe", "audio-start", "audio-chunk", "audio-stop"})


class AsrHandler:
    """One per connection. A session opens on the first audio and closes on audio-stop."""

    def __init__(self, backend: AsrBackend, conn: Connection) -> None:
        self._backend = backend
        self._conn = conn
        self._language: str | None = None
        self._fmt = PcmFormat()
        self._stack: contextlib.AsyncExitStack | None = None
        self._session: AsrSession | None = None

    async def handle_event(self, event: Event) -> bool:
        if event.type == "transcribe":
            await self._close_session()
            self._language = Transcribe.from_event(event).language
        elif event.type == "audio-start":
            start = AudioStart.from_event(event)
            self._fmt = PcmFormat(start.rate, start.width, start.channels)
            await self._open_session()
        elif event.type == "audio-chunk":
            chunk = AudioChunk.from_event(event)
            if chunk.audio:
                session = await self._open_session()
                await session.feed(chunk.audio, PcmFormat(chunk.rate, chunk.width, chunk.channels))
        elif event.type == "audio-stop":
            session = await self._open_session()
            try:
                result = await session.finish()
            finally:
                await self._close_session()
                self._language = None
            _LOGGER.debug("transcript for %s: %s", self._conn.peer, result.text)
            await self._conn.send(Transcript(text=result.text, language=result.language).event())
        return True

    async def _open_session(self) -> AsrSession:
        if self._session is None:
            stack = contextlib.AsyncExitStack()
            self._session = await stack.enter_async_context(self._backend.session(self._language))
            self._stack = stack
        return self._session

    async def _close_session(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def disconnected(self) -> None:
        await self._close_session()
