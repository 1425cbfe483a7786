"""One satellite driven by the hub, as Home Assistant would drive it.

Connect, ``describe``, ``run-satellite``, ping every 2 s after each pong (5 s without any event
is a dead link), and on ``run-pipeline`` run ASR -> brain -> TTS, streaming the answer's audio
back sentence by sentence. The link reconnects by itself (within about a second) when either
side restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.tts import Synthesize

from familiar.audio import PcmFormat, convert_pcm
from familiar.backoff import Backoff
from familiar.client import WyomingClient
from familiar.errors import FamiliarError, ProtocolError, RemoteUnavailable
from familiar.tasks import bounded
from familiar_hub.asr.backend import AsrBackend
from familiar_hub.conductor.responder import Responder
from familiar_hub.config import ConductorConfig
from familiar_hub.tts.backend import TtsBackend
from familiar_hub.tts.sentences import SentenceSplitter

_LOGGER = logging.getLogger(__name__)

PING_DELAY = 2.0
EVENT_TIMEOUT = 5.0
AUDIO_QUEUE = 512
SAMPLES_PER_CHUNK = 1024
PLAYED_GRACE = 3.0
FOLLOW_UP_KEY = "continue_conversation"
"""In ``audio-stop``'s data: our satellites then listen again without the wake word."""


@dataclass
class Services:
    """What a pipeline run uses."""

    asr: AsrBackend
    tts: TtsBackend
    responder: Responder
    config: ConductorConfig
    first_clause_chars: int = 25
    """``tts.first_clause_chars``: the answer's first piece may be a short opening clause."""


@dataclass
class LinkStatus:
    connected: bool = False
    info: Info | None = None
    runs: int = 0
    last_error: str | None = None
    connects: int = 0
    connected_event: asyncio.Event = field(default_factory=asyncio.Event)


_END = None

#: Told ``(satellite name, connected)`` whenever a link comes up or goes down.
LinkChanged = Callable[[str, bool], None]


class SatelliteLink:
    """Keeps one satellite connected and serves its pipeline runs."""

    def __init__(
        self, name: str, uri: str, services: Services, on_change: LinkChanged | None = None
    ) -> None:
        self.name = name
        self.uri = uri
        self.services = services
        self.on_change = on_change
        self.status = LinkStatus()
        self._client: WyomingClient | None = None
        self._audio: asyncio.Queue[tuple[bytes, PcmFormat] | None] | None = None
        self._pipeline: asyncio.Task[None] | None = None
        self._played = asyncio.Event()
        self._pong = asyncio.Event()
        self._conversation_id: str | None = None
        self._last_answer = 0.0
        self._speak_lock = asyncio.Lock()

    async def run(self) -> None:
        """Forever: connect, serve, and reconnect after any failure."""
        backoff = Backoff(0.2, 2.0)
        while True:
            try:
                async with WyomingClient(self.uri, connect_timeout=2.0) as client:
                    self._client = client
                    await self._serve(client, backoff)
            except (RemoteUnavailable, ProtocolError, TimeoutError, ConnectionError) as err:
                self.status.last_error = str(err) or type(err).__name__
                _LOGGER.debug("satellite %s: %s", self.name, self.status.last_error)
            finally:
                self._client = None
                await self._stop_pipeline()
                was_connected = self.status.connected
                self.status.connected = False
                self.status.connected_event.clear()
                if was_connected:
                    _LOGGER.info("satellite %s disconnected", self.name)
                    self._changed(False)
            await asyncio.sleep(backoff.next_delay())

    async def _serve(self, client: WyomingClient, backoff: Backoff) -> None:
        await client.send(Describe().event())
        info = Info.from_event(await client.expect("info", EVENT_TIMEOUT))
        if info.satellite is None:
            raise RemoteUnavailable(f"{self.uri} is not a satellite")
        self.status.info = info
        await client.send(RunSatellite().event())
        self.status.connected = True
        self.status.connects += 1
        self.status.connected_event.set()
        backoff.reset()
        _LOGGER.info("driving satellite %s at %s", self.name, self.uri)
        self._changed(True)
        pinger = asyncio.create_task(self._ping(client), name=f"ping[{self.name}]")
        try:
            while True:
                event = await client.read(EVENT_TIMEOUT)
                if event is None:
                    raise RemoteUnavailable(f"satellite {self.name} closed the connection")
                await self._on_event(client, event)
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    def _changed(self, connected: bool) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(self.name, connected)
        except Exception:
            _LOGGER.exception("satellite %s: link change callback failed", self.name)

    async def _ping(self, client: WyomingClient) -> None:
        while True:
            await asyncio.sleep(PING_DELAY)
            self._pong.clear()
            await client.send(Ping().event())
            await self._pong.wait()  # the reader's 5 s timeout catches a silent satellite

    async def _on_event(self, client: WyomingClient, event: Event) -> None:
        if event.type == "pong":
            self._pong.set()
        elif event.type == "ping":
            await client.send(Pong(text=event.data.get("text")).event())
        elif event.type == "run-pipeline":
            run = RunPipeline.from_event(event)
            _LOGGER.debug("satellite %s: run-pipeline %s", self.name, run)
            await self._stop_pipeline()  # barge-in: a new request replaces the old one
            self._audio = asyncio.Queue(AUDIO_QUEUE)
            self._pipeline = asyncio.create_task(
                self._run_pipeline(client, self._audio), name=f"pipeline[{self.name}]"
            )
        elif event.type == "audio-chunk":
            if self._audio is not None:
                chunk = AudioChunk.from_event(event)
                self._offer(
                    self._audio, (chunk.audio, PcmFormat(chunk.rate, chunk.width, chunk.channels))
                )
        elif event.type == "audio-stop":
            if self._audio is not None:
                self._offer(self._audio, _END)
                self._audio = None
        elif event.type == "played":
            self._played.set()
        elif event.type == "info":
            self.status.info = Info.from_event(event)

    @staticmethod
    def _offer(queue: asyncio.Queue[Any], item: Any) -> None:
        """Bounded queue, overflow drops the oldest audio (the end marker always fits)."""
        if queue.full():
            queue.get_nowait()
            _LOGGER.warning("microphone audio queue full; dropped the oldest chunk")
        queue.put_nowait(item)

    async def _stop_pipeline(self) -> None:
        task, self._pipeline = self._pipeline, None
        self._audio = None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _conversation(self) -> str:
        now = time.monotonic()
        expired = now - self._last_answer > self.services.config.conversation_seconds
        if self._conversation_id is None or expired:
            self._conversation_id = uuid.uuid4().hex
        return self._conversation_id

    async def _run_pipeline(
        self, client: WyomingClient, audio: asyncio.Queue[tuple[bytes, PcmFormat] | None]
    ) -> None:
        config = self.services.config
        self.status.runs += 1
        try:
            await client.send(Transcribe(language=config.language).event())
            text = await self._transcribe(audio)
            await client.send(Transcript(text=text).event())
            _LOGGER.debug("satellite %s heard: %s", self.name, text)
            if not text.strip():
                await client.send(
                    Error(text="No speech was recognised", code="stt-no-text-recognized").event()
                )
                return
            async with self.services.responder.respond(text, self._conversation()) as reply:
                await self.speak(reply, lambda: reply.result.continue_conversation)
            self._last_answer = time.monotonic()
            if reply.result.error_code:
                _LOGGER.warning(
                    "satellite %s: answer ended with %s", self.name, reply.result.error_code
                )
        except asyncio.CancelledError:
            raise
        except FamiliarError as err:
            _LOGGER.error("satellite %s: pipeline failed (%s): %s", self.name, err.code, err)
            with contextlib.suppress(FamiliarError):
                await client.send(Error(text=str(err), code=err.code).event())
        finally:
            self._audio = None

    async def _transcribe(self, audio: asyncio.Queue[tuple[bytes, PcmFormat] | None]) -> str:
        config = self.services.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.max_utterance_seconds
        async with self.services.asr.session(config.language) as session:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await bounded(audio.get(), min(config.audio_timeout, remaining))
                except TimeoutError:
                    break
                if item is None:
                    break
                await session.feed(*item)
            result = await session.finish()
        return result.text

    async def speak(
        self, sentences: AsyncIterable[str], follow_up: Callable[[], bool] | None = None
    ) -> str:
        """Synthesize each sentence as it comes and stream it; wait for ``played``.

        ``follow_up`` (asked once the sentences are spent) says whether the persona asked
        something back: then ``audio-stop`` carries ``continue_conversation`` and the satellite
        listens again without the wake word after playing."""
        client = self._client
        if client is None:
            raise RemoteUnavailable(f"satellite {self.name} is not connected")
        async with self._speak_lock:
            spoken: list[str] = []
            out: PcmFormat | None = None
            nbytes = 0
            self._played.clear()
            splitter = SentenceSplitter(self.services.first_clause_chars)
            async for sentence in sentences:
                spoken.append(sentence)
                for piece in splitter.feed(sentence + " "):
                    out, sent = await self._speak_piece(client, piece, out)
                    nbytes += sent
            for piece in splitter.flush():
                out, sent = await self._speak_piece(client, piece, out)
                nbytes += sent
            answer = " ".join(spoken)
            if out is None:
                return answer
            stop = AudioStop().event()
            if follow_up is not None and follow_up():
                stop.data[FOLLOW_UP_KEY] = True
            await client.send(stop)
            try:
                async with asyncio.timeout(out.seconds(nbytes) + PLAYED_GRACE):
                    await self._played.wait()
            except TimeoutError:
                _LOGGER.debug("satellite %s did not report played", self.name)
            return answer

    async def _speak_piece(
        self, client: WyomingClient, text: str, out: PcmFormat | None
    ) -> tuple[PcmFormat | None, int]:
        """Synthesize one piece and stream it; the first audio fixes the stream's format."""
        nbytes = 0
        # The text first, as Home Assistant sends it: our satellite publishes the answer.
        await client.send(Synthesize(text=text).event())
        pieces = self.services.tts.synthesize(text, self.services.config.voice)
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                if out is None:
                    out = piece.fmt
                    await client.send(
                        AudioStart(rate=out.rate, width=out.width, channels=out.channels).event()
                    )
                nbytes += await self._send_audio(client, piece.pcm, piece.fmt, out)
        return out, nbytes

    @staticmethod
    async def _send_audio(client: WyomingClient, pcm: bytes, fmt: PcmFormat, out: PcmFormat) -> int:
        pcm = convert_pcm(pcm, fmt, out)
        step = SAMPLES_PER_CHUNK * out.width * out.channels
        for offset in range(0, len(pcm), step):
            await client.send(
                AudioChunk(
                    rate=out.rate,
                    width=out.width,
                    channels=out.channels,
                    audio=pcm[offset : offset + step],
                ).event()
            )
        return len(pcm)
