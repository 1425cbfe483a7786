"""The running satellite: the thin shell around :func:`familiar_satellite.state.transition`.

It owns the microphone task, the speaker task, one worker thread for the wake word and VAD
models, and the controller (Home Assistant or the hub's conductor, one at a time). Inputs
from all of them go through :meth:`Satellite.apply`, which runs the pure transition and
performs its effects in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, WakeModel, WakeProgram
from wyoming.info import Satellite as SatelliteInfo
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStarted, VoiceStopped
from wyoming.wake import Detection

from familiar import __version__, pairing
from familiar.audio import PcmFormat, read_wav
from familiar.discovery import Advertisement, advertised_address
from familiar.errors import ConfigError
from familiar.extensions import PipelineEnded, follow_up_flag, with_snd_format
from familiar.server import Connection, Network, WyomingServer, address_allowed
from familiar.tasks import bounded, wait_for_stop
from familiar.threads import Worker
from familiar_satellite import state as sm
from familiar_satellite.audio_io import WAKE_FORMAT, MicCommand, Playback, Speaker
from familiar_satellite.config import SatelliteConfig
from familiar_satellite.segmenter import Segment, SpeechSegmenter
from familiar_satellite.vad import FRAME_SECONDS, VoiceDetector, create_vad
from familiar_satellite.wake import SpeechGate, WakeDetector, create_detector

if TYPE_CHECKING:
    from familiar_satellite.mqtt import SatelliteMqtt

_LOGGER = logging.getLogger(__name__)


BUSY_CODE = "satellite-busy"
"""``error`` code for ``run-satellite`` while another controller drives the satellite."""

_ATTRIBUTION = Attribution(name="Familiar", url="https://github.com/familiar-voice/familiar")
_ENGINE_ATTRIBUTION = {
    "openwakeword": Attribution(
        name="David Scripka", url="https://github.com/dscripka/openWakeWord"
    ),
    "microwakeword": Attribution(
        name="Kevin Ahrendt", url="https://github.com/kahrendt/microWakeWord"
    ),
}


@dataclass(frozen=True)
class SatelliteStatus:
    """What the MQTT layer shows."""

    state: str
    """Phase name: disconnected, paused, muted, idle, streaming, waiting, speaking."""

    connected: bool
    muted: bool
    volume: float
    last_wake_word: str | None
    timers: int
    """Timers running on the controller for this satellite."""

    announcing: bool = False
    """A local announcement (:meth:`Satellite.announce`) is playing."""


@dataclass(frozen=True)
class WakeWordDetected:
    """The wake word was heard and a request starts."""

    name: str


@dataclass(frozen=True)
class Transcribed:
    """The controller sent the transcript of the request."""

    text: str


@dataclass(frozen=True)
class Answered:
    """The answer of a turn has finished playing; ``text`` is what the controller said it
    synthesized (every ``synthesize`` of the turn, joined)."""

    text: str


Activity = WakeWordDetected | Transcribed | Answered
Observation = SatelliteStatus | Activity

#: Observations kept per :meth:`StatusBoard.observe` subscriber; the oldest go first.
FEED_SIZE = 64
#: Most characters of answer text kept per turn.
MAX_ANSWER_CHARS = 4000


def _offer(queue: asyncio.Queue[Any], item: Any) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


class StatusBoard:
    """The latest status and its subscribers; a slow subscriber only misses intermediate
    values (each keeps one slot, always the newest). :meth:`observe` subscribers get every
    status and activity in order instead (bounded, oldest dropped)."""

    def __init__(self, initial: SatelliteStatus) -> None:
        self.current = initial
        self._slots: set[asyncio.Queue[SatelliteStatus]] = set()
        self._feeds: set[asyncio.Queue[Observation]] = set()

    def publish(self, status: SatelliteStatus) -> None:
        if status == self.current:
            return
        self.current = status
        for slot in self._slots:
            _offer(slot, status)
        for feed in self._feeds:
            _offer(feed, status)

    def report(self, activity: Activity) -> None:
        for feed in self._feeds:
            _offer(feed, activity)

    async def observe(self) -> AsyncGenerator[Observation, None]:
        """The current status, then every status change and activity, in order."""
        feed: asyncio.Queue[Observation] = asyncio.Queue(maxsize=FEED_SIZE)
        self._feeds.add(feed)
        try:
            yield self.current
            while True:
                yield await feed.get()
        finally:
            self._feeds.discard(feed)

    async def subscribe(self) -> AsyncIterator[SatelliteStatus]:
        """The current status, then every change until the caller stops iterating."""
        slot: asyncio.Queue[SatelliteStatus] = asyncio.Queue(maxsize=1)
        self._slots.add(slot)
        try:
            yield self.current
            while True:
                yield await slot.get()
        finally:
            self._slots.discard(slot)


def _load_sounds(config: SatelliteConfig) -> dict[sm.Sound, tuple[bytes, PcmFormat]]:
    sounds: dict[sm.Sound, tuple[bytes, PcmFormat]] = {}
    problems: list[str] = []
    for sound in sm.Sound:
        path: Path | None = getattr(config.sounds, sound.value)
        if path is None:
            continue
        try:
            sounds[sound] = read_wav(path.read_bytes())
        except (OSError, EOFError, ValueError) as err:
            problems.append(f"sounds.{sound.value}: cannot read {path} as WAV: {err}")
    if problems:
        raise ConfigError("sounds", problems)
    return sounds


class Satellite:
    """One satellite; an async context manager. Hooks for MQTT: :attr:`status`,
    :meth:`subscribe`, :meth:`observe`, :meth:`announce`, :meth:`start_listening`,
    :meth:`set_muted`, :meth:`set_volume`."""

    def __init__(
        self,
        config: SatelliteConfig,
        *,
        detector_factory: Callable[[], WakeDetector] | None = None,
        vad_factory: Callable[[], VoiceDetector] | None = None,
    ) -> None:
        self.config = config
        self._detector_factory = detector_factory or (lambda: create_detector(config.wake))
        self._vad_factory = vad_factory or create_vad
        self._worker = Worker("satellite-audio")  # the wake word and VAD models
        self._detector: WakeDetector | None = None
        self._vad: VoiceDetector | None = None
        wake = config.wake
        self._gate = (
            SpeechGate(wake.gate_preroll_seconds, wake.gate_hold_seconds)
            if wake.speech_gate
            else None
        )
        self._sounds = _load_sounds(config)
        self.mic = MicCommand(config.mic)
        self.speaker = Speaker(config.snd)
        self.segmenter = SpeechSegmenter(
            speech_seconds=config.vad.speech_seconds,
            silence_seconds=config.vad.silence_seconds,
            max_seconds=config.vad.max_seconds,
            no_speech_seconds=config.vad.no_speech_seconds,
        )
        self.state = sm.State()
        self._lock = asyncio.Lock()
        self._controller: Connection | None = None
        self._streaming = False
        self._stream_ms = 0
        self._mic_skip = 0.0
        self._answer: Playback | None = None
        self._answer_format = PcmFormat(22050, 2, 1)
        self._response_timer: asyncio.Task[None] | None = None
        self._timers: dict[str, dict[str, Any]] = {}
        self.last_wake_word: str | None = None
        self._answer_texts: list[str] = []
        self._announcing = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.board = StatusBoard(self._status())

    # --- lifecycle ---

    async def __aenter__(self) -> Self:
        try:
            self._detector = await self._worker.run(self._detector_factory)
            self._vad = await self._worker.run(self._vad_factory)
        except BaseException:
            await self._close_models()
            raise
        self._spawn(self.speaker.run(), "speaker")
        self._spawn(self._mic_loop(), "mic")
        _LOGGER.info(
            "satellite %r listening for %s",
            self.config.name,
            ", ".join(w.id for w in self._detector.words),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10.0)
        await self._close_models()

    async def _close_models(self) -> None:
        def close() -> None:
            if self._detector is not None:
                self._detector.close()

        await self._worker.close(close)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("task %s failed", task.get_name(), exc_info=task.exception())

    # --- observable state and hooks ---

    def _status(self) -> SatelliteStatus:
        return SatelliteStatus(
            state=self.state.phase.value,
            connected=self.state.connected,
            muted=self.state.muted,
            volume=self.speaker.volume,
            last_wake_word=self.last_wake_word,
            timers=len(self._timers),
            announcing=self._announcing > 0,
        )

    @property
    def status(self) -> SatelliteStatus:
        return self.board.current

    def subscribe(self) -> AsyncIterator[SatelliteStatus]:
        return self.board.subscribe()

    def observe(self) -> AsyncGenerator[Observation, None]:
        """Every status change and activity (wake word, transcript, answer), in order."""
        return self.board.observe()

    async def start_listening(self) -> None:
        await self.apply(sm.ListenRequested())

    async def set_muted(self, muted: bool) -> None:
        await self.apply(sm.MuteChanged(muted))

    def set_volume(self, volume: float) -> None:
        self.speaker.volume = max(0.0, min(4.0, volume))
        self.board.publish(self._status())

    async def announce(self, audio: bytes, fmt: PcmFormat, timeout: float | None = None) -> bool:
        """Play audio now (after anything already queued); True once it has played."""
        playback = self.speaker.play(audio, fmt, "announcement")
        limit = timeout if timeout is not None else fmt.seconds(len(audio)) + 30.0
        self._announcing += 1
        self.board.publish(self._status())
        try:
            async with asyncio.timeout(limit):
                await playback.finished.wait()
        finally:
            self._announcing -= 1
            self.board.publish(self._status())
        return not (playback.aborted or playback.failed)

    # --- the machine ---

    async def apply(self, event: sm.Input) -> None:
        async with self._lock:
            old = self.state
            self.state, effects = sm.transition(old, event)
            if self.state != old or effects:
                _LOGGER.debug(
                    "%s: %s -> %s %s", type(event).__name__, old.phase, self.state.phase, effects
                )
            self.board.publish(self._status())
            for effect in effects:
                await self._perform(effect)

    async def _perform(self, effect: sm.Effect) -> None:
        match effect:
            case sm.SendDetection(name=name):
                await self._send(Detection(name=name).event())
            case sm.SendRunPipeline(wake_word_name=name):
                event = RunPipeline(
                    start_stage=PipelineStage.ASR,
                    end_stage=PipelineStage.TTS,
                    wake_word_name=name,
                    restart_on_end=False,
                ).event()
                snd = self.config.snd.format
                fmt = PcmFormat(snd.rate, snd.width, snd.channels)
                await self._send(with_snd_format(event, fmt))
            case sm.StartStreaming():
                self._answer_texts = []
                self.segmenter.reset()
                await self._worker.run(self._reset_models)
                self._stream_ms = 0
                self._streaming = True
                await self._send(AudioStart(**_format_kwargs(WAKE_FORMAT), timestamp=0).event())
            case sm.SendVoiceStarted():
                await self._send(VoiceStarted(timestamp=self._stream_ms).event())
            case sm.StopStreaming(send_stop=send_stop, voice_stopped=voice_stopped):
                self._streaming = False
                if send_stop:
                    if voice_stopped:
                        await self._send(VoiceStopped(timestamp=self._stream_ms).event())
                    await self._send(AudioStop(timestamp=self._stream_ms).event())
            case sm.PlaySound(sound=sound, mute_mic=mute_mic):
                self._play_sound(sound, mute_mic)
            case sm.StartPlayback():
                answer = self.speaker.open(self._answer_format, "answer")
                self._answer = answer
                self._spawn(self._watch(answer), "answer-played")
            case sm.EndPlayback():
                if self._answer is not None:
                    self.speaker.end(self._answer)
                    self._answer = None
            case sm.AbortPlayback():
                self.speaker.abort()
                self._answer = None
            case sm.SendPlayed():
                await self._send(Played().event())
                if self._answer_texts:
                    self.board.report(Answered(" ".join(self._answer_texts)))
                    self._answer_texts = []
            case sm.StartResponseTimer():
                self._cancel_response_timer()
                self._response_timer = self._spawn(self._response_timeout(), "response-timer")
            case sm.CancelResponseTimer():
                self._cancel_response_timer()

    def _detect(self, chunk: bytes, seconds: float, threshold: float) -> list[str]:
        """On the worker: the wake word models, behind the speech gate when there is one."""
        assert self._detector is not None and self._vad is not None
        if self._gate is None:
            return self._detector.process(chunk)
        speech = any(p >= threshold for p in self._vad.process(chunk))
        found: list[str] = []
        for audio in self._gate.feed(chunk, seconds, speech):
            found += self._detector.process(audio)
        return found

    def _reset_models(self) -> None:
        if self._detector is not None:
            self._detector.reset()
        if self._vad is not None:
            self._vad.reset()
        if self._gate is not None:
            self._gate.reset()

    def _play_sound(self, sound: sm.Sound, mute_mic: bool) -> None:
        loaded = self._sounds.get(sound)
        if loaded is None:
            return
        pcm, fmt = loaded
        repeat = self.config.sounds.timer_repeat if sound is sm.Sound.TIMER else 1
        for _ in range(repeat):
            self.speaker.play(pcm, fmt)
        if mute_mic and self.config.mic.mute_during_awake_sound:
            self._mic_skip = fmt.seconds(len(pcm)) + self.config.mic.mute_extra_seconds

    async def _watch(self, answer: Playback) -> None:
        await answer.finished.wait()
        if not answer.aborted:
            await self.apply(sm.PlaybackFinished())

    def _cancel_response_timer(self) -> None:
        if self._response_timer is not None:
            self._response_timer.cancel()
            self._response_timer = None

    async def _response_timeout(self) -> None:
        await asyncio.sleep(self.config.connection.response_timeout_seconds)
        self._response_timer = None
        _LOGGER.info("no answer within %.0f s", self.config.connection.response_timeout_seconds)
        await self.apply(sm.ResponseTimedOut())

    # --- microphone ---

    async def _mic_loop(self) -> None:
        loop = asyncio.get_running_loop()
        threshold = self.config.vad.threshold
        async with contextlib.aclosing(self.mic.chunks()) as chunks:
            async for chunk in chunks:
                await self._on_mic_chunk(chunk, loop, threshold)

    async def _on_mic_chunk(
        self, chunk: bytes, loop: asyncio.AbstractEventLoop, threshold: float
    ) -> None:
        seconds = WAKE_FORMAT.seconds(len(chunk))
        # Under the lock: the effects of the last input (StartStreaming, the awake
        # sound's mute) are all performed before the next chunk is looked at.
        async with self._lock:
            if self._mic_skip > 0:
                self._mic_skip -= seconds
                return
            streaming = self.state.phase is sm.Phase.STREAMING and self._streaming
            detecting = self.state.phase in sm.WAKE_PHASES and self.state.active
            if streaming:
                await self._send(
                    AudioChunk(
                        **_format_kwargs(WAKE_FORMAT), audio=chunk, timestamp=self._stream_ms
                    ).event()
                )
                self._stream_ms += round(seconds * 1000)
        if streaming:
            assert self._vad is not None
            probabilities = await self._worker.run(self._vad.process, chunk)
            for probability in probabilities:
                segment = self.segmenter.process(FRAME_SECONDS, probability >= threshold)
                if segment is Segment.STARTED:
                    await self.apply(sm.SpeechStarted())
                elif segment is not None:
                    await self.apply(sm.SpeechEnded(segment.value))
                    break
        elif detecting:
            assert self._detector is not None
            found = await self._worker.run(self._detect, chunk, seconds, threshold)
            if found:
                self.last_wake_word = found[0]
                _LOGGER.info("wake word %s", found[0])
                self.board.report(WakeWordDetected(found[0]))
                await self.apply(sm.WakeDetected(found[0]))

    # --- controller ---

    @property
    def has_controller(self) -> bool:
        return self._controller is not None

    def is_controller(self, conn: Connection) -> bool:
        return self._controller is conn

    def claim(self, conn: Connection) -> bool:
        if self._controller is not None and self._controller is not conn:
            return False
        if self._controller is None:
            _LOGGER.info("controller %s connected", conn.peer)
        self._controller = conn
        return True

    async def release(self, conn: Connection) -> None:
        if self._controller is conn:
            self._controller = None
            _LOGGER.info("controller %s gone", conn.peer)
            await self.apply(sm.ControllerLost())

    async def _send(self, event: Event) -> None:
        conn = self._controller
        if conn is None:
            return
        try:
            await conn.send(event)
        except (OSError, TimeoutError) as err:
            _LOGGER.warning("controller %s: send failed (%r); dropping it", conn.peer, err)
            conn.writer.close()

    async def from_controller(self, event: Event) -> None:
        kind = event.type
        flag = follow_up_flag(event.data)
        if AudioChunk.is_type(kind):
            if self._answer is not None and self.state.phase is sm.Phase.SPEAKING:
                self.speaker.write(self._answer, AudioChunk.from_event(event).audio)
            return
        if flag is not None and not (Transcript.is_type(kind) or PipelineEnded.is_type(kind)):
            await self.apply(sm.FollowUpSignalled(flag))
        if AudioStart.is_type(kind):
            start = AudioStart.from_event(event)
            self._answer_format = PcmFormat(start.rate, start.width, start.channels)
            await self.apply(sm.AnswerAudioStarted())
        elif AudioStop.is_type(kind):
            await self.apply(sm.AnswerAudioStopped())
        elif Transcript.is_type(kind):
            text = Transcript.from_event(event).text or ""
            _LOGGER.debug("transcript: %s", text)
            if text.strip():
                self.board.report(Transcribed(text))
            await self.apply(sm.TranscriptReceived(flag))
        elif Synthesize.is_type(kind):
            self._remember_answer(Synthesize.from_event(event).text or "")
        elif PipelineEnded.is_type(kind):
            await self.apply(sm.PipelineEnded(bool(flag)))
        elif PauseSatellite.is_type(kind):
            await self.apply(sm.ControllerPaused())
        elif Error.is_type(kind):
            error = Error.from_event(event)
            _LOGGER.warning("controller error %s: %s", error.code, error.text)
            await self.apply(sm.ErrorReceived(error.code))
        elif RunPipeline.is_type(kind):
            await self.apply(sm.ListenRequested())  # remote trigger
        elif TimerStarted.is_type(kind) or TimerUpdated.is_type(kind):
            timer_id = str(event.data.get("id"))
            self._timers[timer_id] = {**self._timers.get(timer_id, {}), **event.data}
            self.board.publish(self._status())
        elif TimerCancelled.is_type(kind):
            self._timers.pop(str(event.data.get("id")), None)
            self.board.publish(self._status())
        elif TimerFinished.is_type(kind):
            self._timers.pop(str(event.data.get("id")), None)
            await self.apply(sm.TimerFinished())
        else:
            # synthesize, handled, transcribe, detect, voice-started/stopped, detection:
            # informational for a satellite (their text is logged at DEBUG only).
            _LOGGER.debug("controller event %s", kind)

    def _remember_answer(self, text: str) -> None:
        """Keep what the controller synthesizes (the answer's text, maybe sentence by
        sentence), bounded; reported once the answer has played."""
        text = text.strip()
        _LOGGER.debug("synthesize: %s", text)
        used = sum(len(t) + 1 for t in self._answer_texts)
        if text and used < MAX_ANSWER_CHARS:
            self._answer_texts.append(text[: MAX_ANSWER_CHARS - used])

    # --- describe ---

    def info(self) -> Info:
        words = self._detector.words if self._detector is not None else []
        programs: dict[str, WakeProgram] = {}
        for word in words:
            program = programs.get(word.engine)
            if program is None:
                program = programs[word.engine] = WakeProgram(
                    name=word.engine,
                    attribution=_ENGINE_ATTRIBUTION[word.engine],
                    installed=True,
                    description=f"{word.engine} (local, on the satellite)",
                    version=None,
                    models=[],
                )
            program.models.append(
                WakeModel(
                    name=word.id,
                    attribution=_ENGINE_ATTRIBUTION[word.engine],
                    installed=True,
                    description=word.phrase,
                    version=None,
                    languages=["en"],
                    phrase=word.phrase,
                )
            )
        return Info(
            wake=list(programs.values()),
            satellite=SatelliteInfo(
                name=self.config.name,
                attribution=_ATTRIBUTION,
                installed=True,
                description="Familiar satellite",
                version=__version__,
                area=self.config.area,
                has_vad=True,
                active_wake_words=[w.id for w in words],
                max_active_wake_words=len(words),
                supports_trigger=True,
            ),
        )


def _format_kwargs(fmt: PcmFormat) -> dict[str, int]:
    return {"rate": fmt.rate, "width": fmt.width, "channels": fmt.channels}


@dataclass(frozen=True)
class Trust:
    """Who may drive the satellite: listed addresses, or hubs that prove the secret."""

    controllers: tuple[Network, ...] = ()
    secret: str | None = None

    @classmethod
    def of(cls, config: SatelliteConfig) -> Trust:
        import ipaddress

        networks = tuple(ipaddress.ip_network(n, strict=False) for n in config.pairing.controllers)
        return cls(networks, config.pairing.read_secret())

    def allows(self, address: str, paired: bool) -> bool:
        if paired:
            return True
        if self.controllers:
            return address_allowed(address, list(self.controllers))
        return self.secret is None  # nothing configured: whoever listen.allow lets in


class SatelliteHandler:
    """One connection: describe, ping and pairing for anyone; the rest only for the
    controller, and only a listed or paired peer may become the controller."""

    def __init__(self, satellite: Satellite, conn: Connection, trust: Trust | None = None) -> None:
        self.satellite = satellite
        self.conn = conn
        self.trust = trust or Trust()
        self._pong = asyncio.Event()
        self._pinging = False
        self._nonce: str | None = None
        self.paired = False

    async def _pairing(self, event: Event) -> bool:
        secret = self.trust.secret
        if secret is None:
            await self.conn.send(
                Error(text="no pairing secret here", code=pairing.NOT_CONFIGURED_CODE).event()
            )
            return True
        if pairing.PairHello.is_type(event.type):
            theirs = event.data.get("nonce")
            if not isinstance(theirs, str) or not 16 <= len(theirs) <= 128:
                return await self._pairing_failed()
            self._nonce = pairing.nonce()
            challenge = {
                "nonce": self._nonce,
                "proof": pairing.proof(secret, pairing.SATELLITE, theirs),
            }
            await self.conn.send(pairing.PairChallenge(**challenge).event())
            return True
        nonce, self._nonce = self._nonce, None  # one try per challenge
        if nonce is None or not pairing.verify(
            secret, pairing.CONTROLLER, nonce, event.data.get("proof")
        ):
            return await self._pairing_failed()
        self.paired = True
        _LOGGER.info("%s paired", self.conn.peer)
        await self.conn.send(pairing.Paired().event())
        return True

    async def _pairing_failed(self) -> bool:
        _LOGGER.warning("%s failed pairing; closing", self.conn.peer)
        await self.conn.send(Error(text="pairing failed", code=pairing.FAILED_CODE).event())
        return False

    async def handle_event(self, event: Event) -> bool:
        kind = event.type
        sat = self.satellite
        if pairing.PairHello.is_type(kind) or pairing.PairProof.is_type(kind):
            return await self._pairing(event)
        if Describe.is_type(kind):
            await self.conn.send(sat.info().event())
            return True
        if Ping.is_type(kind):
            await self.conn.send(Pong(text=event.data.get("text")).event())
            if sat.is_controller(self.conn) and not self._pinging:
                self._pinging = True
                self.conn.spawn(self._ping_loop(), "ping")
            return True
        if Pong.is_type(kind):
            self._pong.set()
            return True
        if RunSatellite.is_type(kind):
            if not self.trust.allows(self.conn.address, self.paired):
                _LOGGER.warning(
                    "refused %s: not a listed controller and not paired", self.conn.peer
                )
                await self.conn.send(
                    Error(
                        text="not allowed to drive this satellite (see pairing: in its config)",
                        code=pairing.NOT_AUTHORIZED_CODE,
                    ).event()
                )
                return False
            if not sat.claim(self.conn):
                return await self._refuse()
            await sat.apply(sm.ControllerReady())
            return True
        if not sat.is_controller(self.conn):
            if sat.has_controller:
                return await self._refuse()
            _LOGGER.debug("%s: %s ignored (send run-satellite first)", self.conn.peer, kind)
            return True
        await sat.from_controller(event)
        return True

    async def _refuse(self) -> bool:
        _LOGGER.warning("refused %s: another controller is connected", self.conn.peer)
        await self.conn.send(
            Error(
                text="this satellite already has a controller; only one may drive it at a time",
                code=BUSY_CODE,
            ).event()
        )
        return False

    async def _ping_loop(self) -> None:
        timing = self.satellite.config.connection
        while True:
            await asyncio.sleep(timing.ping_seconds)
            self._pong.clear()
            await self.conn.send(Ping().event())
            try:
                await bounded(self._pong.wait(), timing.pong_timeout_seconds)
            except TimeoutError:
                _LOGGER.warning(
                    "controller %s did not answer a ping in %.0f s; dropping it",
                    self.conn.peer,
                    timing.pong_timeout_seconds,
                )
                self.conn.writer.close()
                return

    async def disconnected(self) -> None:
        await self.satellite.release(self.conn)


@dataclass
class RunningSatellite:
    satellite: Satellite
    server: WyomingServer
    advertisement: Advertisement | None
    mqtt: SatelliteMqtt | None = None
    """The satellite's MQTT device (with an ``mqtt:`` section)."""

    @property
    def uri(self) -> str:
        return self.server.uri


@contextlib.asynccontextmanager
async def running_satellite(
    config: SatelliteConfig,
    *,
    zeroconf_interfaces: list[str] | None = None,
    detector_factory: Callable[[], WakeDetector] | None = None,
    vad_factory: Callable[[], VoiceDetector] | None = None,
) -> AsyncIterator[RunningSatellite]:
    """Load the models (on the worker thread), start mic and speaker, serve, advertise."""
    async with contextlib.AsyncExitStack() as stack:
        satellite = await stack.enter_async_context(
            Satellite(config, detector_factory=detector_factory, vad_factory=vad_factory)
        )
        listen = config.listen
        trust = Trust.of(config)
        if not trust.controllers and trust.secret is None:
            _LOGGER.warning(
                "any host on the allowed networks (%s) may drive this satellite and open its "
                "microphone; set pairing.controllers or pairing.secret_file (docs/security.md)",
                ", ".join(listen.allow),
            )
        server = await stack.enter_async_context(
            WyomingServer.listening(
                lambda conn: SatelliteHandler(satellite, conn, trust),
                listen,
                f"satellite[{config.name}]",
            )
        )
        advertisement = None
        if config.zeroconf.enabled and listen.socket_path is None:
            advertisement = await stack.enter_async_context(
                Advertisement(
                    config.zeroconf.name or config.name,
                    server.port,
                    advertised_address(listen.host, config.zeroconf.host),
                    properties={
                        "controller": config.controller,
                        "role": "satellite",
                        "pairing": "1" if trust.secret else "0",
                    },
                    interfaces=zeroconf_interfaces,
                )
            )
        running = RunningSatellite(satellite, server, advertisement)
        if config.mqtt is not None:
            from familiar_satellite.device import SatelliteDevice
            from familiar_satellite.mqtt import SatelliteMqtt

            device = SatelliteDevice(satellite, config.speech_uri)
            running.mqtt = await stack.enter_async_context(
                SatelliteMqtt(config.mqtt, config.name, device)
            )
        yield running


async def run_satellite(config: SatelliteConfig) -> None:
    async with running_satellite(config) as running:
        _LOGGER.info(
            "satellite %r ready at %s (controller: %s)", config.name, running.uri, config.controller
        )
        await wait_for_stop()
        _LOGGER.info("stopping")
