"""A phone satellite over a WebSocket: the wake word in the page or on the hub, VAD on the hub.

The page sends its microphone as 16-bit mono PCM (binary frames, the rate it said in
``hello``). Where the browser runs the wake word itself (``hello{wake: "page"}``, see
:mod:`familiar_hub.web.wakeword`) it sends nothing until it heard one, then ``wake{name}``
and the request's audio (with a short pre-roll) while the hub says ``listening``. Otherwise
(``wake: "hub"``, the fallback) it streams all the time and the hub listens for the wake word.
Either way the hub cuts the request by VAD, runs the turn with the shared :class:`TurnEngine`
and streams the reply back (JSON messages + binary PCM frames).

Messages from the page: ``hello{token, rate, wake}`` (first, within 5 s), ``wake{name}`` (the
page heard a wake word: listen, barge in), ``listen`` (tap / push to talk: skip the wake word,
barge in), ``end`` (push to talk released), ``stop`` (stop the answer), ``played`` (the answer
finished playing). Messages to the page: ``ready{wake}``,
``state{state}`` (idle, listening, thinking, speaking), ``wake{name}``, ``transcript{text}``,
``sentence{text}``, ``audio-start{rate,width,channels}``, then binary PCM,
``audio-stop{follow_up}``, ``stop-audio`` (drop what is queued: barge-in), ``error{code,text}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from enum import StrEnum
from typing import Any, Protocol

from familiar.audio import AudioConverter, PcmFormat
from familiar.segmenter import Segment, SpeechSegmenter
from familiar_hub.conductor.turn import Conversations, TurnEngine, TurnSlot, Utterance

_LOGGER = logging.getLogger(__name__)

MIC = PcmFormat(16000, 2, 1)
HELLO_TIMEOUT = 5.0
MAX_FRAME_BYTES = 64 * 1024
SPEECH_THRESHOLD = 0.5
OUT_CHUNK_BYTES = 8192


class PhoneState(StrEnum):
    IDLE = "idle"
    """Listening for the wake word."""
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"


class WakeListener(Protocol):
    def process(self, audio: bytes) -> list[str]: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class VoiceListener(Protocol):
    def process(self, audio: bytes) -> list[float]: ...

    def reset(self) -> None: ...


class Socket(Protocol):
    """What a phone session needs from a WebSocket (Starlette's fits)."""

    async def send_text(self, data: str) -> None: ...

    async def send_bytes(self, data: bytes) -> None: ...

    async def receive(self) -> Any: ...


class PhoneChannel:
    """The turn's :class:`Channel` over the phone's WebSocket."""

    def __init__(self, session: PhoneSession) -> None:
        self._session = session

    async def transcribing(self) -> None:
        pass

    async def transcript(self, text: str) -> None:
        self._session.set_state(PhoneState.THINKING)
        await self._session.send({"type": "transcript", "text": text})

    async def sentence(self, text: str) -> None:
        await self._session.send({"type": "sentence", "text": text})

    async def audio_start(self, fmt: PcmFormat) -> None:
        self._session.played.clear()
        self._session.set_state(PhoneState.SPEAKING)
        await self._session.send(
            {"type": "audio-start", "rate": fmt.rate, "width": fmt.width, "channels": fmt.channels}
        )

    async def audio(self, pcm: bytes, fmt: PcmFormat) -> None:
        for offset in range(0, len(pcm), OUT_CHUNK_BYTES):
            await self._session.send_audio(pcm[offset : offset + OUT_CHUNK_BYTES])

    async def audio_stop(self, follow_up: bool) -> None:
        await self._session.send({"type": "audio-stop", "follow_up": follow_up})

    async def wait_played(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._session.played.wait()
        except TimeoutError:
            _LOGGER.debug("phone %s did not report played", self._session.name)

    async def error(self, code: str, text: str) -> None:
        await self._session.send({"type": "error", "code": code, "text": text})


class WakeWhere(StrEnum):
    """Where a phone's wake word runs (chosen by the page in ``hello``)."""

    HUB = "hub"
    """The page streams all the time; the hub's wake listener runs on it (the fallback)."""
    PAGE = "page"
    """The page runs the wake word and sends audio only after it heard one."""


class PhoneSession:
    """One connected phone."""

    def __init__(  # noqa: PLR0917
        self,
        name: str,
        socket: Socket,
        turns: TurnEngine,
        make_wake: Callable[[], WakeListener],
        make_vad: Callable[[], VoiceListener],
        end_silence_seconds: float,
        executor: Executor,
        wake_words: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.socket = socket
        self.turns = turns
        self.played = asyncio.Event()
        self.state = PhoneState.IDLE
        self._make_wake = make_wake
        self._make_vad = make_vad
        self._wake: WakeListener | None = None
        self._vad: VoiceListener | None = None
        self._executor = executor
        config = turns.config
        self._segmenter = SpeechSegmenter(
            silence_seconds=end_silence_seconds,
            max_seconds=config.max_utterance_seconds,
            no_speech_seconds=min(8.0, config.max_utterance_seconds),
        )
        self._utterance: Utterance | None = None
        self._slot = TurnSlot(name)
        self._conversations = Conversations(config.conversation_seconds)
        self._send_lock = asyncio.Lock()
        self._rate = MIC.rate
        self._mic = AudioConverter(MIC)
        """The page's microphone (its own rate, odd bytes carried) to 16 kHz mono."""
        self._pending: set[asyncio.Task[Any]] = set()
        self.turns_done = 0
        self.wake_words = tuple(wake_words)
        """The names a page may say it heard (``wake{name}``)."""
        self.wake_where = WakeWhere.HUB
        self.page_wakes: list[str] = []
        """Wake words the page reported (page wake word)."""
        self.hub_wake_chunks = 0
        """Audio blocks that went through the hub's wake listener."""
        self.audio_bytes = 0
        self.idle_audio_bytes = 0
        """Audio received while no request was being heard."""

    # --- sending -----------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.socket.send_text(json.dumps(message))

    async def send_audio(self, pcm: bytes) -> None:
        async with self._send_lock:
            await self.socket.send_bytes(pcm)

    def set_state(self, state: PhoneState) -> None:
        if state != self.state:
            self.state = state
            self._post({"type": "state", "state": state.value})

    def _post(self, message: dict[str, Any]) -> None:
        """Send without waiting (state changes from synchronous code); owned by the loop."""
        task = asyncio.get_running_loop().create_task(self._send_quietly(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.send(message)

    # --- serving -----------------------------------------------------------------------------

    async def serve(self, rate: int, wake: WakeWhere = WakeWhere.HUB) -> None:
        """Until the page goes away; ``rate`` is the microphone rate from ``hello``, ``wake``
        where the wake word runs."""
        self._rate = rate
        self.wake_where = wake
        loop = asyncio.get_running_loop()
        if wake is WakeWhere.HUB:
            self._wake = await loop.run_in_executor(self._executor, self._make_wake)
        self._vad = self._make_vad()
        try:
            await self.send({"type": "ready", "wake": wake.value})
            await self.send({"type": "state", "state": self.state.value})
            while True:
                message = await self.socket.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is not None:
                    if len(data) > MAX_FRAME_BYTES:
                        await self.send({"type": "error", "code": "frame-too-large", "text": ""})
                        return
                    await self._on_audio(data)
                elif message.get("text") is not None:
                    await self._on_message(message["text"])
        finally:
            await self._slot.stop()
            listener = self._wake
            self._wake = None
            if listener is not None:
                await loop.run_in_executor(self._executor, listener.close)
            for task in list(self._pending):
                task.cancel()
            _LOGGER.info(
                "phone %s: wake word in the %s; %d wake word(s) from the page, %d audio blocks"
                " through the hub's wake word; %d bytes of audio received, %d while idle",
                self.name,
                self.wake_where.value,
                len(self.page_wakes),
                self.hub_wake_chunks,
                self.audio_bytes,
                self.idle_audio_bytes,
            )

    async def _on_message(self, text: str) -> None:
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            await self.send({"type": "error", "code": "bad-message", "text": "not a message"})
            return
        if kind == "wake":
            name = message.get("name")
            if self.wake_where is not WakeWhere.PAGE or name not in self.wake_words:
                await self.send(
                    {"type": "error", "code": "bad-message", "text": "not a wake word of this hub"}
                )
                return
            self.page_wakes.append(name)
            await self.send({"type": "wake", "name": name})
            await self._start_turn(f"{name}, heard by the page")
        elif kind == "listen":
            await self._start_turn("tap")
        elif kind == "end":
            self._end_utterance()
        elif kind == "stop":
            await self._slot.stop()
            self._utterance = None
            await self.send({"type": "stop-audio"})
            self.set_state(PhoneState.IDLE)
        elif kind == "played":
            self.played.set()

    async def _on_audio(self, data: bytes) -> None:
        self.audio_bytes += len(data)
        if self._utterance is None:
            self.idle_audio_bytes += len(data)
            if self._wake is None:
                return  # the page's wake word: stray audio after the request ended
        pcm = self._mic.convert(data, PcmFormat(self._rate, 2, 1))
        if not pcm:
            return
        utterance = self._utterance
        if utterance is not None:
            utterance.feed(pcm, MIC)
            assert self._vad is not None
            for probability in self._vad.process(pcm):
                segment = self._segmenter.process(0.01, probability > SPEECH_THRESHOLD)
                if segment in (Segment.SILENCE, Segment.MAX_LENGTH, Segment.NO_SPEECH):
                    self._end_utterance()
                    break
            return
        wake = self._wake
        if wake is None:
            return
        loop = asyncio.get_running_loop()
        self.hub_wake_chunks += 1
        found = await loop.run_in_executor(self._executor, wake.process, pcm)
        if found:
            await self.send({"type": "wake", "name": found[0]})
            await self._start_turn(found[0])

    async def _start_turn(self, reason: str) -> None:
        """Barge in on whatever runs and listen for a request."""
        if self._slot.busy:
            await self.send({"type": "stop-audio"})
        self._segmenter.reset()
        if self._vad is not None:
            self._vad.reset()
        utterance = self._utterance = Utterance()
        self.set_state(PhoneState.LISTENING)
        _LOGGER.debug("phone %s: listening (%s)", self.name, reason)
        await self._slot.start(self._turn(utterance))

    def _end_utterance(self) -> None:
        if self._utterance is not None:
            self._utterance.end()
            self._utterance = None
            self.set_state(PhoneState.THINKING)

    async def _turn(self, utterance: Utterance) -> None:
        channel = PhoneChannel(self)
        outcome = await self.turns.listen_and_answer(
            channel, utterance, self._conversations.current()
        )
        if self._utterance is utterance:
            self._utterance = None
        self.turns_done += 1
        if outcome.answer:
            self._conversations.answered()
        if self._wake is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._wake.reset)
        if outcome.follow_up:
            # The persona asked something back: listen again without the wake word.
            self._segmenter.reset()
            if self._vad is not None:
                self._vad.reset()
            follow = self._utterance = Utterance()
            self.set_state(PhoneState.LISTENING)
            task = asyncio.get_running_loop().create_task(self._slot.start(self._turn(follow)))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        self.set_state(PhoneState.IDLE)
