"""One turn, whatever carries it: audio in -> ASR -> brain -> TTS sentence by sentence -> audio out.

The Wyoming satellite link, a phone's WebSocket and the REST API are thin adapters: each
implements :class:`Channel` (how to tell its peer what happened and send audio) and feeds
:class:`Utterance` with microphone audio; :class:`TurnEngine` does the rest. Sentences come
from the brain already split (once per answer, as tokens arrive) and each is synthesized and
streamed as soon as it is ready. Barge-in is cancelling the turn's task (:class:`TurnSlot`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from familiar.audio import AudioConverter, PcmFormat
from familiar.errors import FamiliarError
from familiar_hub.asr.backend import AsrBackend, AsrSession, PauseTranscripts, TranscriptResult
from familiar_hub.conductor.responder import Endpointer, Responder
from familiar_hub.config import ConductorConfig
from familiar_hub.tts.backend import TtsBackend
from familiar_hub.tts.sentences import SentenceSplitter

_LOGGER = logging.getLogger(__name__)

AUDIO_QUEUE = 512
"""Microphone chunks buffered per utterance; overflow drops the oldest."""

PLAYED_GRACE = 3.0
"""Seconds past the answer's length to wait for the peer to say it has played it."""

NO_TEXT = "stt-no-text-recognized"
"""Error code when nothing was heard (Home Assistant's code)."""


@dataclass
class Services:
    """What a turn uses."""

    asr: AsrBackend
    tts: TtsBackend
    responder: Responder
    config: ConductorConfig
    first_clause_chars: int = 25
    """``tts.first_clause_chars``: for text that does not come from the brain (announcements)."""
    endpointer: Endpointer | None = None
    """Judges the transcript taken at the speaker's pause (``conductor.end_on_meaning``)."""


class Channel(Protocol):
    """The peer of one turn: a Wyoming satellite, a browser, a REST client.

    Calls come in this order: ``transcribing`` and ``transcript`` (audio turns only), then for
    each sentence ``sentence`` and its audio (``audio_start`` once, ``audio`` chunks), then
    ``audio_stop`` and ``wait_played`` when there was audio; ``error`` may come at any point
    and ends the turn."""

    async def transcribing(self) -> None:
        """Speech recognition starts (Wyoming: ``transcribe``)."""

    async def transcript(self, text: str) -> None: ...

    async def sentence(self, text: str) -> None:
        """The text of the next piece of the answer, before its audio."""

    async def audio_start(self, fmt: PcmFormat) -> None: ...

    async def audio(self, pcm: bytes, fmt: PcmFormat) -> None:
        """A chunk of the answer's audio, already in the format given to ``audio_start``."""

    async def audio_stop(self, follow_up: bool) -> None:
        """The answer's audio is complete; ``follow_up``: listen again without the wake word."""

    async def wait_played(self, timeout: float) -> None:
        """Until the peer has played the answer (or ``timeout`` seconds)."""

    async def error(self, code: str, text: str) -> None: ...


@dataclass
class TurnOutcome:
    """What a turn came to."""

    transcript: str = ""
    ended_on_meaning: bool = False
    """The turn ended at the speaker's pause: the words were already a whole request."""
    answer: str = ""
    kind: str = "empty"
    follow_up: bool = False
    error_code: str | None = None
    conversation_id: str | None = None


_END = None


class Utterance:
    """Microphone audio of one request: a bounded queue; overflow drops the oldest audio."""

    def __init__(self, maxsize: int = AUDIO_QUEUE) -> None:
        self._queue: asyncio.Queue[tuple[bytes, PcmFormat] | None] = asyncio.Queue(maxsize)
        self.ended = False
        self._end_taken = False

    def feed(self, pcm: bytes, fmt: PcmFormat) -> None:
        if not self.ended:
            self._offer((pcm, fmt))

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self._offer(_END)

    def _offer(self, item: tuple[bytes, PcmFormat] | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            _LOGGER.warning("microphone audio queue full; dropped the oldest chunk")
        self._queue.put_nowait(item)

    async def get(self) -> tuple[bytes, PcmFormat] | None:
        """The next chunk; None at the end."""
        if self._end_taken:
            return None
        item = await self._queue.get()
        if item is None:
            self._end_taken = True
        return item

    @property
    def finished(self) -> bool:
        """The end has been taken: no more audio comes."""
        return self._end_taken

    def ready(self) -> list[tuple[bytes, PcmFormat]]:
        """The chunks already here, without waiting (the end, if reached, is kept for
        :meth:`get`)."""
        chunks = []
        while not self._end_taken and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._end_taken = True
            else:
                chunks.append(item)
        return chunks


class Conversations:
    """A new request within ``seconds`` of the last answer continues the same conversation."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._id: str | None = None
        self._last_answer = -float("inf")

    def current(self) -> str:
        expired = self._clock() - self._last_answer > self.seconds
        if self._id is None or expired:
            self._id = uuid.uuid4().hex
        return self._id

    def answered(self) -> None:
        self._last_answer = self._clock()


class TurnSlot:
    """At most one running turn per peer: starting another cancels the first (barge-in)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[Any] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        await self.stop()
        self._task = asyncio.create_task(work, name=f"turn[{self.name}]")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class TurnEngine:
    """Runs turns for any number of peers on one set of services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def config(self) -> ConductorConfig:
        return self.services.config

    async def listen_and_answer(
        self, channel: Channel, utterance: Utterance, conversation_id: str | None
    ) -> TurnOutcome:
        """A whole voice turn; errors are told to the channel and returned, never raised."""
        outcome = TurnOutcome(conversation_id=conversation_id)
        try:
            await channel.transcribing()
            outcome.transcript = await self.transcribe(utterance, conversation_id, outcome)
            utterance.end()  # what the peer still sends is not this turn's
            # When the turn ended on meaning, the transcript also tells the satellite to stop
            # streaming (ours and rhasspy's wyoming-satellite both do).
            await channel.transcript(outcome.transcript)
            _LOGGER.debug("turn heard: %s", outcome.transcript)
            if not outcome.transcript.strip():
                outcome.error_code = NO_TEXT
                await channel.error(NO_TEXT, "No speech was recognised")
                return outcome
            await self._answer(channel, outcome.transcript, outcome)
        except asyncio.CancelledError:
            raise
        except FamiliarError as err:
            _LOGGER.error("turn failed (%s): %s", err.code, err)
            outcome.error_code = err.code
            with contextlib.suppress(FamiliarError, ConnectionError):
                await channel.error(err.code, str(err))
        return outcome

    async def answer_text(
        self, channel: Channel, text: str, conversation_id: str | None
    ) -> TurnOutcome:
        """A typed turn (REST, chat test): the brain's answer spoken to ``channel``."""
        outcome = TurnOutcome(transcript=text, conversation_id=conversation_id)
        try:
            await self._answer(channel, text, outcome)
        except asyncio.CancelledError:
            raise
        except FamiliarError as err:
            _LOGGER.error("turn failed (%s): %s", err.code, err)
            outcome.error_code = err.code
            with contextlib.suppress(FamiliarError, ConnectionError):
                await channel.error(err.code, str(err))
        return outcome

    async def _answer(self, channel: Channel, text: str, outcome: TurnOutcome) -> None:
        async with self.services.responder.respond(text, outcome.conversation_id) as reply:
            outcome.answer = await self.speak(
                channel, reply, lambda: reply.result.continue_conversation
            )
        result = reply.result
        outcome.kind = result.kind
        outcome.follow_up = result.continue_conversation
        outcome.conversation_id = result.conversation_id
        if result.error_code:
            outcome.error_code = result.error_code
            _LOGGER.warning("answer ended with %s", result.error_code)

    async def transcribe(
        self,
        utterance: Utterance,
        conversation_id: str | None = None,
        outcome: TurnOutcome | None = None,
    ) -> str:
        """Feed the utterance to an ASR session until it ends, goes quiet or runs too long; or,
        when the transcript taken at the speaker's pause is already a whole request, stop
        there (``outcome.ended_on_meaning``)."""
        config = self.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.max_utterance_seconds
        async with self.services.asr.session(config.language) as session:
            if self.services.endpointer is not None and isinstance(session, PauseTranscripts):
                session.quick_looks()  # a home command is recognised in a fraction of the time
            getter: asyncio.Future[tuple[bytes, PcmFormat] | None] | None = None
            judged: asyncio.Future[TranscriptResult] | None = None
            try:
                while True:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    if getter is None:
                        getter = asyncio.ensure_future(utterance.get())
                    pause = self._pause_transcript(session)
                    waits: set[asyncio.Future[Any]] = {getter}
                    if pause is not None and pause is not judged:
                        waits.add(pause)
                    done, _ = await asyncio.wait(
                        waits,
                        timeout=min(config.audio_timeout, remaining),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if not done:
                        break
                    if pause is not None and pause in done:
                        judged = pause
                        text = await self._judge_pause(session, pause, utterance, conversation_id)
                        if text is not None:
                            if outcome is not None:
                                outcome.ended_on_meaning = True
                            return text
                        continue
                    item, getter = getter.result(), None
                    if item is None:
                        break
                    await session.feed(*item)
            finally:
                if getter is not None:
                    getter.cancel()
            text = await self._last_quick_look(session, judged, utterance, conversation_id)
            if text is not None:
                return text
            result = await session.finish()
        return result.text

    async def _last_quick_look(
        self,
        session: AsrSession,
        judged: asyncio.Future[TranscriptResult] | None,
        utterance: Utterance,
        conversation_id: str | None,
    ) -> str | None:
        """The words of a quick look at the last pause that was still on its way when the audio
        ended, if they are a whole home command; otherwise None (``finish`` gives the full
        transcript).

        Under load a quick look can queue behind other turns' until the satellite's VAD ends
        the audio; ``finish`` would then replace it by the full transcript, a decode several
        times as long, queued behind the same turns. It is waited for instead (at most
        ``audio_timeout``) and judged as at the pause.
        """
        pause = self._pause_transcript(session)
        if pause is None or pause is judged:
            return None
        done, _ = await asyncio.wait({pause}, timeout=self.config.audio_timeout)
        if not done or pause.cancelled() or pause.exception() is not None:
            return None
        if not pause.result().quick:
            return None  # the full transcript at the pause: ``finish`` returns it
        return await self._judge_pause(session, pause, utterance, conversation_id)

    def _pause_transcript(self, session: AsrSession) -> asyncio.Future[TranscriptResult] | None:
        if self.services.endpointer is None or not isinstance(session, PauseTranscripts):
            return None
        return session.pause_transcript()

    async def _judge_pause(
        self,
        session: AsrSession,
        pause: asyncio.Future[TranscriptResult],
        utterance: Utterance,
        conversation_id: str | None,
    ) -> str | None:
        """The pause transcript's words when they are a whole request and the speaker has not
        gone on since; otherwise None (and the brain starts on the words so far).

        A quick look (no hotwords, a short window) can only end the turn on a whole home
        command; otherwise the full transcript of the same audio is asked for and judged next.
        """
        endpointer = self.services.endpointer
        if endpointer is None or pause.cancelled() or pause.exception() is not None:
            return None
        for chunk in utterance.ready():  # audio already here may show the speaker went on
            await session.feed(*chunk)
        if self._pause_transcript(session) is not pause:
            return None
        result = pause.result()
        text = result.text
        if result.quick:
            if text.strip() and await endpointer.complete_command(text):
                _LOGGER.debug("whole home command at the pause (quick look)")
                return text
            if isinstance(session, PauseTranscripts):
                session.refine()
            return None
        if not text.strip():
            return None
        if await endpointer.complete(text):
            _LOGGER.debug("whole request at the pause")
            return text
        endpointer.anticipate(text, conversation_id)
        return None

    async def speak(
        self,
        channel: Channel,
        sentences: AsyncIterable[str],
        follow_up: Callable[[], bool] | None = None,
    ) -> str:
        """Synthesize each sentence as it comes and stream it; wait until it has been played.

        ``follow_up`` (asked once the sentences are spent) says whether the persona asked
        something back."""
        spoken: list[str] = []
        stream = _AnswerAudio(channel)
        async for sentence in sentences:
            spoken.append(sentence)
            await channel.sentence(sentence)
            await self._speak_sentence(stream, sentence)
        answer = " ".join(spoken)
        if stream.out is None:
            return answer
        await stream.finish()
        await channel.audio_stop(follow_up is not None and follow_up())
        await channel.wait_played(stream.out.seconds(stream.nbytes) + PLAYED_GRACE)
        return answer

    async def speak_text(self, channel: Channel, text: str) -> str:
        """Speak plain text (an announcement), split into sentences here, once."""
        splitter = SentenceSplitter(self.services.first_clause_chars)
        pieces = [*splitter.feed(text), *splitter.flush()]

        async def sentences() -> AsyncIterable[str]:
            for piece in pieces:
                yield piece

        return await self.speak(channel, sentences())

    async def _speak_sentence(self, stream: _AnswerAudio, text: str) -> None:
        """Synthesize one sentence and stream it."""
        pieces = self.services.tts.synthesize(text, self.config.voice)
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                await stream.send(piece.pcm, piece.fmt)


class _AnswerAudio:
    """One answer's audio to a channel: the first audio fixes the stream's format (16-bit);
    audio in another format later goes through one streaming converter to it."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.out: PcmFormat | None = None
        self.nbytes = 0
        self._converter: AudioConverter | None = None

    async def send(self, pcm: bytes, fmt: PcmFormat) -> None:
        if self._converter is None:
            self.out = PcmFormat(fmt.rate, 2, fmt.channels)
            self._converter = AudioConverter(self.out)
            await self._channel.audio_start(self.out)
        await self._send(self._converter.convert(pcm, fmt))

    async def finish(self) -> None:
        """What the converter still holds (its filter's tail)."""
        if self._converter is not None:
            await self._send(self._converter.flush())

    async def _send(self, pcm: bytes) -> None:
        if pcm and self.out is not None:
            await self._channel.audio(pcm, self.out)
            self.nbytes += len(pcm)
