"""The TTS side of the Wyoming protocol, plain and streaming.

Plain: ``synthesize`` -> ``audio-start``, ``audio-chunk``..., ``audio-stop``.
Streaming: ``synthesize-start`` -> ``synthesize-chunk``... -> ``synthesize-stop``; each sentence
is spoken as soon as it is complete (``audio-start/chunk/stop`` per sentence), then
``synthesize-stopped``. The compatibility ``synthesize`` that Home Assistant sends inside a
stream is ignored, so nothing is spoken twice.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, Eventable
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from familiar.audio import AudioConverter, PcmFormat
from familiar.edge import EventRejected
from familiar.server import Connection
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import TtsBackend
from familiar_hub.tts.sentences import SentenceSplitter

_LOGGER = logging.getLogger(__name__)

EVENT_TYPES: tuple[type[Eventable], ...] = (
    Synthesize,
    SynthesizeStart,
    SynthesizeChunk,
    SynthesizeStop,
)
_QUEUE_SIZE = 64
_END = None


class AudioSender:
    """Sends synthesized audio as Wyoming events, cut into fixed-size chunks.

    The first audio fixes the format of the stream (``audio-start``); audio in another format
    later (a backend changing voice or rate) goes through a streaming converter to it."""

    def __init__(self, conn: Connection, samples_per_chunk: int) -> None:
        self._conn = conn
        self._samples_per_chunk = samples_per_chunk
        self.fmt: PcmFormat | None = None
        self._converter: AudioConverter | None = None

    async def speak(self, backend: TtsBackend, text: str, voice: str | None) -> None:
        # Back-pressure: nothing more is synthesized for a client that has not taken what it
        # was sent (kernel buffers would otherwise absorb minutes of audio); one that never
        # reads is dropped after the write timeout.
        await self._conn.wait_taken()
        async with aclosing(backend.synthesize(text, voice)) as pieces:
            async for piece in pieces:
                if self.fmt is None:
                    self.fmt = PcmFormat(piece.fmt.rate, 2, piece.fmt.channels)
                    self._converter = AudioConverter(self.fmt)
                    await self._conn.send(
                        AudioStart(
                            rate=self.fmt.rate, width=self.fmt.width, channels=self.fmt.channels
                        ).event()
                    )
                assert self._converter is not None
                await self._send(self._converter.convert(piece.pcm, piece.fmt))

    async def _send(self, pcm: bytes) -> None:
        fmt = self.fmt
        assert fmt is not None
        step = self._samples_per_chunk * fmt.width * fmt.channels
        for offset in range(0, len(pcm), step):
            await self._conn.send(
                AudioChunk(
                    rate=fmt.rate,
                    width=fmt.width,
                    channels=fmt.channels,
                    audio=pcm[offset : offset + step],
                ).event()
            )

    async def stop(self) -> None:
        if self.fmt is not None:
            if self._converter is not None:
                await self._send(self._converter.flush())
            await self._conn.send(AudioStop().event())
        self.fmt = None
        self._converter = None


class TtsHandler:
    """One per connection."""

    def __init__(self, backend: TtsBackend, config: TtsConfig, conn: Connection) -> None:
        self._backend = backend
        self._config = config
        self._conn = conn
        self._splitter: SentenceSplitter | None = None
        self._queue: asyncio.Queue[str | None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._stream_chars = 0

    async def handle_event(self, event: Event) -> bool:
        if Synthesize.is_type(event.type):
            if self._splitter is not None:
                _LOGGER.debug("ignoring compatibility synthesize inside a stream")
                return True
            request = Synthesize.from_event(event)
            await self._speak_whole(request.text, request.voice.name if request.voice else None)
        elif SynthesizeStart.is_type(event.type):
            await self._finish_stream(send_stopped=False)
            start = SynthesizeStart.from_event(event)
            self._splitter = SentenceSplitter(
                self._config.first_clause_chars, phrases=self._config.first_phrase_cut
            )
            self._stream_chars = 0
            self._queue = asyncio.Queue(_QUEUE_SIZE)
            voice = start.voice.name if start.voice else None
            self._worker = self._conn.spawn(self._speak_stream(self._queue, voice), "tts-stream")
        elif SynthesizeChunk.is_type(event.type):
            if self._splitter is None or self._queue is None:
                _LOGGER.debug("synthesize-chunk outside a stream from %s; ignored", self._conn.peer)
                return True
            text = SynthesizeChunk.from_event(event).text
            self._stream_chars += len(text)
            if self._stream_chars > self._conn.events.max_text_chars:
                # One stream is one answer: its whole text has the same cap as one event.
                await self._finish_stream(send_stopped=True)
                raise EventRejected(
                    f"synthesize stream longer than {self._conn.events.max_text_chars} "
                    "characters; what came before was spoken, the rest is dropped"
                )
            for sentence in self._splitter.feed(text):
                await self._put(sentence)
        elif SynthesizeStop.is_type(event.type):
            await self._finish_stream(send_stopped=True)
        return True

    async def _put(self, item: str | None) -> None:
        """Queue for the stream worker; if the worker has died, raise its error instead."""
        assert self._queue is not None and self._worker is not None
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._worker}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            await self._worker  # raises the worker's error
            raise RuntimeError("TTS stream ended early")

    async def _speak_whole(self, text: str, voice: str | None) -> None:
        sender = AudioSender(self._conn, self._config.samples_per_chunk)
        splitter = SentenceSplitter(
            self._config.first_clause_chars, phrases=self._config.first_phrase_cut
        )
        for sentence in [*splitter.feed(text), *splitter.flush()]:
            await sender.speak(self._backend, sentence, voice)
        if sender.fmt is None:  # nothing speakable: still a well-formed (empty) answer
            await self._conn.send(AudioStart(rate=22050, width=2, channels=1).event())
            sender.fmt = PcmFormat(22050)
        await sender.stop()

    async def _speak_stream(self, queue: asyncio.Queue[str | None], voice: str | None) -> None:
        sender = AudioSender(self._conn, self._config.samples_per_chunk)
        while (sentence := await queue.get()) is not _END:
            await sender.speak(self._backend, sentence, voice)
            await sender.stop()

    async def _finish_stream(self, *, send_stopped: bool) -> None:
        splitter, worker = self._splitter, self._worker
        if splitter is None or worker is None:
            if send_stopped:
                await self._conn.send(SynthesizeStopped().event())
            return
        for sentence in splitter.flush():
            await self._put(sentence)
        await self._put(_END)
        self._splitter = self._queue = self._worker = None
        await worker
        if send_stopped:
            await self._conn.send(SynthesizeStopped().event())

    async def disconnected(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
