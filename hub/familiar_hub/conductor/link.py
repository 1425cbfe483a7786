"""One satellite driven by the hub, as Home Assistant would drive it.

Connect, ``describe``, ``run-satellite``, ping every 2 s after each pong, and on ``run-pipeline``
run ASR -> brain -> TTS, streaming the answer's audio back sentence by sentence. Once the
satellite has answered a ping, 5 s without any event is a dead link; one that never answers
(rhasspy's wyoming-satellite 1.0) is dropped only when its connection closes. The link
reconnects by itself (within about a second) when either side restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.tts import Synthesize

from familiar import pairing
from familiar.audio import PcmFormat
from familiar.backoff import Backoff
from familiar.client import WyomingClient
from familiar.edge import EventRejected, check_event
from familiar.errors import ProtocolError, RemoteUnavailable
from familiar.extensions import PipelineEnded, with_follow_up
from familiar.logs import LogLimiter
from familiar_hub.conductor.turn import Conversations, Services, TurnEngine, Utterance

_LOGGER = logging.getLogger(__name__)
_BAD_EVENTS = LogLimiter(_LOGGER)

PING_DELAY = 2.0
EVENT_TIMEOUT = 5.0
PAIRING_TIMEOUT = 2.0
"""Seconds a satellite may take to answer a pairing event (a third-party one never does)."""
SAMPLES_PER_CHUNK = 1024
RECENT_CONVERSATIONS = 16
"""Conversations remembered per satellite (a timer set in one of them rings there)."""


class NotPaired(RemoteUnavailable):
    """A satellite that must prove the pairing secret did not."""

    code = "pairing-failed"


@dataclass
class LinkStatus:
    paired: bool = False
    """The satellite proved the pairing secret on this connection."""
    connected: bool = False
    info: Info | None = None
    runs: int = 0
    last_error: str | None = None
    connects: int = 0
    connected_event: asyncio.Event = field(default_factory=asyncio.Event)


#: Told ``(satellite name, connected)`` whenever a link comes up or goes down.
LinkChanged = Callable[[str, bool], None]


class SatelliteLink:
    """Keeps one satellite connected and serves its pipeline runs."""

    def __init__(
        self,
        name: str,
        uri: str,
        services: Services,
        on_change: LinkChanged | None = None,
        *,
        secret: str | None = None,
        paired_only: bool = False,
    ) -> None:
        self.name = name
        self.uri = uri
        self.secret = secret
        """Pairing secret: when set, the satellite is asked to prove it (familiar.pairing)."""
        self.paired_only = paired_only
        """Drive it only once it proved the secret (a satellite found by zeroconf)."""
        self.services = services
        self.turns = TurnEngine(services)
        self.on_change = on_change
        self.status = LinkStatus()
        self._client: WyomingClient | None = None
        self._utterance: Utterance | None = None
        self._pipeline: asyncio.Task[None] | None = None
        self._played = asyncio.Event()
        self._pong = asyncio.Event()
        self._answers_pings = False
        """This connection's satellite has answered a ping: silence from it means a dead link."""
        self._conversations = Conversations(services.config.conversation_seconds)
        self.recent_conversations: deque[str] = deque(maxlen=RECENT_CONVERSATIONS)
        """The conversations held through this satellite lately (a timer set in one of them
        rings here)."""
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
        info = Info.from_event(await client.expect(Info, EVENT_TIMEOUT))
        if info.satellite is None:
            raise RemoteUnavailable(f"{self.uri} is not a satellite")
        self.status.info = info
        paired = await self._pair(client) if self.secret is not None else False
        if self.paired_only and not paired:
            raise NotPaired(f"satellite {self.name} did not prove the pairing secret")
        self._pong.clear()
        self._answers_pings = False
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
                event = await client.read(EVENT_TIMEOUT if self._answers_pings else None)
                if event is None:
                    raise RemoteUnavailable(f"satellite {self.name} closed the connection")
                await self._on_event(client, event)
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _pair(self, client: WyomingClient) -> bool:
        """Both sides prove the shared secret (familiar.pairing); False when the satellite
        does not take part (a third-party satellite ignores the events)."""
        assert self.secret is not None
        mine = pairing.nonce()
        await client.send(pairing.PairHello(nonce=mine).event())
        try:
            answer = await self._pairing_answer(client, pairing.PairChallenge)
        except TimeoutError:
            return False
        if not pairing.PairChallenge.is_type(answer.type):
            return False  # an error: no secret there
        if not pairing.verify(self.secret, pairing.SATELLITE, mine, answer.data.get("proof")):
            raise NotPaired(f"satellite {self.name} gave a wrong pairing proof")
        theirs = answer.data.get("nonce")
        if not isinstance(theirs, str):
            raise NotPaired(f"satellite {self.name} sent no pairing nonce")
        proof = pairing.proof(self.secret, pairing.CONTROLLER, theirs)
        await client.send(pairing.PairProof(proof=proof).event())
        done = await self._pairing_answer(client, pairing.Paired)
        if not pairing.Paired.is_type(done.type):
            raise NotPaired(f"satellite {self.name} refused our pairing proof")
        self.status.paired = True
        return True

    @staticmethod
    async def _pairing_answer(client: WyomingClient, expected: type[Eventable]) -> Event:
        """The next ``expected`` or ``error`` event (anything else is skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PAIRING_TIMEOUT
        while True:
            event = await client.read(max(0.0, deadline - loop.time()))
            if event is None:
                raise RemoteUnavailable("satellite closed the connection while pairing")
            if expected.is_type(event.type) or Error.is_type(event.type):
                return event

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
            # the reader's 5 s timeout catches a silent satellite (one that ever answered)
            await self._pong.wait()

    async def _on_event(self, client: WyomingClient, event: Event) -> None:
        try:
            check_event(event)
        except EventRejected as err:  # a broken or hostile satellite: ignore that event
            _BAD_EVENTS.log(logging.WARNING, "satellite %s: %s", self.name, err)
            return
        if Pong.is_type(event.type):
            self._answers_pings = True
            self._pong.set()
        elif Ping.is_type(event.type):
            await client.send(Pong(text=Ping.from_event(event).text).event())
        elif RunPipeline.is_type(event.type):
            run = RunPipeline.from_event(event)
            _LOGGER.debug("satellite %s: run-pipeline %s", self.name, run)
            await self._stop_pipeline()  # barge-in: a new request replaces the old one
            self._utterance = Utterance()
            self._pipeline = asyncio.create_task(
                self._run_pipeline(client, self._utterance), name=f"pipeline[{self.name}]"
            )
        elif AudioChunk.is_type(event.type):
            if self._utterance is not None:
                chunk = AudioChunk.from_event(event)
                self._utterance.feed(
                    chunk.audio, PcmFormat(chunk.rate, chunk.width, chunk.channels)
                )
        elif AudioStop.is_type(event.type):
            if self._utterance is not None:
                self._utterance.end()
                self._utterance = None
        elif Played.is_type(event.type):
            self._played.set()
        elif Info.is_type(event.type):
            self.status.info = Info.from_event(event)

    async def _stop_pipeline(self) -> None:
        task, self._pipeline = self._pipeline, None
        self._utterance = None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_pipeline(self, client: WyomingClient, utterance: Utterance) -> None:
        self.status.runs += 1
        try:
            conversation_id = self._conversations.current()
            if conversation_id not in self.recent_conversations:
                self.recent_conversations.append(conversation_id)
            outcome = await self.turns.listen_and_answer(
                WyomingChannel(client, self._played, self.services.config.language),
                utterance,
                conversation_id,
            )
            if outcome.answer:
                self._conversations.answered()
            # the run is over (also when the answer had no audio, so no audio-stop ended it)
            await client.send(PipelineEnded(follow_up=bool(outcome.follow_up)).event())
        finally:
            if self._utterance is utterance:
                self._utterance = None

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
            channel = WyomingChannel(client, self._played, self.services.config.language)
            return await self.turns.speak(channel, sentences, follow_up)


class WyomingChannel:
    """A turn's :class:`Channel` over a Wyoming satellite connection (as Home Assistant does it)."""

    def __init__(self, client: WyomingClient, played: asyncio.Event, language: str | None) -> None:
        self._client = client
        self._played = played
        self._language = language

    async def transcribing(self) -> None:
        await self._client.send(Transcribe(language=self._language).event())

    async def transcript(self, text: str) -> None:
        await self._client.send(Transcript(text=text).event())

    async def sentence(self, text: str) -> None:
        # The text first, as Home Assistant sends it: our satellite publishes the answer.
        await self._client.send(Synthesize(text=text).event())

    async def audio_start(self, fmt: PcmFormat) -> None:
        self._played.clear()
        await self._client.send(
            AudioStart(rate=fmt.rate, width=fmt.width, channels=fmt.channels).event()
        )

    async def audio(self, pcm: bytes, fmt: PcmFormat) -> None:
        step = SAMPLES_PER_CHUNK * fmt.width * fmt.channels
        for offset in range(0, len(pcm), step):
            await self._client.send(
                AudioChunk(
                    rate=fmt.rate,
                    width=fmt.width,
                    channels=fmt.channels,
                    audio=pcm[offset : offset + step],
                ).event()
            )

    async def audio_stop(self, follow_up: bool) -> None:
        await self._client.send(with_follow_up(AudioStop().event(), follow_up))

    async def wait_played(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._played.wait()
        except TimeoutError:
            _LOGGER.debug("satellite did not report played")

    async def error(self, code: str, text: str) -> None:
        await self._client.send(Error(text=text, code=code).event())
