"""The turn engine against a recording channel (fake ASR/TTS, a scripted responder)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from familiar.audio import PcmFormat
from familiar.errors import LlmFailed
from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.brain.brain import Reply, ReplyResult
from familiar_hub.conductor.turn import (
    Conversations,
    Services,
    TurnEngine,
    TurnSlot,
    Utterance,
)
from familiar_hub.config import ConductorConfig
from tests.fakes import FakeAsr, FakeAsrSession, FakeTts

MIC = PcmFormat(16000, 2, 1)


class RecordingChannel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.audio_bytes = 0

    async def transcribing(self) -> None:
        self.calls.append(("transcribing", None))

    async def transcript(self, text: str) -> None:
        self.calls.append(("transcript", text))

    async def sentence(self, text: str) -> None:
        self.calls.append(("sentence", text))

    async def audio_start(self, fmt: PcmFormat) -> None:
        self.calls.append(("audio_start", fmt))

    async def audio(self, pcm: bytes, fmt: PcmFormat) -> None:
        self.audio_bytes += len(pcm)
        if self.calls[-1][0] != "audio":
            self.calls.append(("audio", fmt))

    async def audio_stop(self, follow_up: bool) -> None:
        self.calls.append(("audio_stop", follow_up))

    async def wait_played(self, timeout: float) -> None:
        assert timeout > 0
        self.calls.append(("played", None))

    async def error(self, code: str, text: str) -> None:
        self.calls.append(("error", code))


class ScriptedResponder:
    def __init__(self, sentences: list[str], ask_back: bool = False, fail: bool = False) -> None:
        self.sentences = sentences
        self.ask_back = ask_back
        self.fail = fail
        self.heard: list[tuple[str, str | None]] = []

    def respond(self, text: str, conversation_id: str | None = None) -> Reply:
        self.heard.append((text, conversation_id))
        result = ReplyResult(conversation_id or "fresh")

        async def sentences() -> AsyncGenerator[str, None]:
            for sentence in self.sentences:
                yield sentence
            if self.fail:
                raise LlmFailed("model went away")
            result.kind, result.continue_conversation = "answer", self.ask_back
            result.text = " ".join(self.sentences)

        return Reply(sentences(), result)


def engine(responder: ScriptedResponder, tts: FakeTts | None = None) -> TurnEngine:
    return TurnEngine(
        Services(FakeAsr(), tts or FakeTts(), responder, ConductorConfig(discover=False))
    )


async def test_a_voice_turn_reports_each_step_in_order() -> None:
    responder = ScriptedResponder(["Hello there.", "Anything else?"], ask_back=True)
    tts = FakeTts()
    channel = RecordingChannel()
    utterance = Utterance()
    utterance.feed(b"\0" * 640, MIC)
    utterance.end()
    outcome = await engine(responder, tts).listen_and_answer(channel, utterance, "c1")
    assert [name for name, _ in channel.calls] == [
        "transcribing",
        "transcript",
        "sentence",
        "audio_start",
        "audio",
        "sentence",
        "audio",
        "audio_stop",
        "played",
    ]
    assert channel.calls[1] == ("transcript", "640 bytes at 16000")
    assert channel.calls[-2] == ("audio_stop", True)
    # each sentence from the brain is synthesized as it is, never re-split
    assert tts.spoken == ["Hello there.", "Anything else?"]
    assert responder.heard == [("640 bytes at 16000", "c1")]
    assert outcome.answer == "Hello there. Anything else?"
    assert outcome.follow_up is True
    assert outcome.error_code is None
    assert channel.audio_bytes > 0


async def test_nothing_heard_is_an_error_and_the_brain_is_not_asked() -> None:
    responder = ScriptedResponder(["never"])
    channel = RecordingChannel()
    utterance = Utterance()
    utterance.end()

    turns = engine(responder)

    async def empty(*_: object) -> str:
        return ""

    turns.transcribe = empty  # type: ignore[method-assign]
    outcome = await turns.listen_and_answer(channel, utterance, None)
    assert channel.calls[-1] == ("error", "stt-no-text-recognized")
    assert outcome.error_code == "stt-no-text-recognized"
    assert responder.heard == []


async def test_a_failing_answer_is_told_to_the_channel_not_raised() -> None:
    channel = RecordingChannel()
    outcome = await engine(ScriptedResponder(["First."], fail=True)).answer_text(
        channel, "hi", None
    )
    assert ("sentence", "First.") in channel.calls
    assert channel.calls[-1] == ("error", "llm-failed")
    assert outcome.error_code == "llm-failed"


async def test_typed_turn_has_no_transcription_step() -> None:
    channel = RecordingChannel()
    outcome = await engine(ScriptedResponder(["Sure."])).answer_text(channel, "hi", "c9")
    names = [name for name, _ in channel.calls]
    assert "transcribing" not in names
    assert names[0] == "sentence"
    assert outcome.conversation_id == "c9"
    assert outcome.follow_up is False


async def test_announcement_text_is_split_into_sentences_once() -> None:
    tts = FakeTts()
    channel = RecordingChannel()
    await engine(ScriptedResponder([]), tts).speak_text(channel, "Dinner is ready. Come down!")
    assert tts.spoken == ["Dinner is ready.", "Come down!"]


async def test_utterance_is_bounded_and_keeps_the_newest_audio() -> None:
    utterance = Utterance(maxsize=2)
    for n in range(5):
        utterance.feed(bytes([n]), MIC)
    utterance.end()
    utterance.feed(b"late", MIC)  # after the end: ignored
    assert await utterance.get() == (bytes([4]), MIC)
    assert await utterance.get() is None


async def test_slot_runs_one_turn_at_a_time() -> None:
    slot = TurnSlot("phone")
    first_cancelled = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        try:
            await release.wait()
        except asyncio.CancelledError:
            first_cancelled.set()
            raise

    async def second() -> str:
        return "done"

    task = await slot.start(first())
    await asyncio.sleep(0)
    assert slot.busy
    second_task = await slot.start(second())  # barge-in
    assert first_cancelled.is_set()
    assert task.cancelled()
    assert await second_task == "done"
    await slot.stop()
    assert not slot.busy


def test_conversations_continue_within_the_window() -> None:
    now = [1000.0]
    conversations = Conversations(seconds=300, clock=lambda: now[0])
    first = conversations.current()
    conversations.answered()
    now[0] += 299
    assert conversations.current() == first
    now[0] += 2
    assert conversations.current() != first


async def test_audio_already_here_is_taken_without_waiting_and_the_end_is_kept() -> None:
    utterance = Utterance()
    fmt = PcmFormat()
    utterance.feed(b"\x01\x00", fmt)
    utterance.feed(b"\x02\x00", fmt)
    utterance.end()
    utterance.feed(b"\x03\x00", fmt)  # after the end: not this turn's
    assert utterance.ready() == [(b"\x01\x00", fmt), (b"\x02\x00", fmt)]
    assert utterance.ready() == []
    assert await utterance.get() is None  # the end is still there for the reader


class LateQuickLookAsr(FakeAsr):
    """Its session's quick look at the pause (``pause_at`` bytes) is still running when the
    audio ends: it is ready only when asked for once the utterance is finished (None: never).
    Refined, or at the end, the transcript is ``text``."""

    def __init__(
        self, utterance: Utterance, quick: str | None, text: str, pause_at: int = 3200
    ) -> None:
        super().__init__()
        self.utterance = utterance
        self.quick = quick
        self.text = text
        self.pause_at = pause_at
        self.refined = 0
        self.finished = 0

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[LateQuickLookSession]:
        yield LateQuickLookSession(self, language)


class LateQuickLookSession(FakeAsrSession):
    backend: LateQuickLookAsr

    def __init__(self, backend: LateQuickLookAsr, language: str | None) -> None:
        super().__init__(backend, language)
        self._pause: asyncio.Future[TranscriptResult] | None = None

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        await super().feed(audio, fmt)
        if self._pause is None and self.nbytes >= self.backend.pause_at:
            self._pause = asyncio.get_running_loop().create_future()

    def pause_transcript(self) -> asyncio.Future[TranscriptResult] | None:
        pause, quick = self._pause, self.backend.quick
        if pause is not None and not pause.done() and quick and self.backend.utterance.finished:
            pause.set_result(TranscriptResult(quick, quick=True))
        return pause

    def quick_looks(self) -> None:
        pass

    def refine(self) -> None:
        if self._pause is not None and self._pause.done() and self._pause.result().quick:
            self.backend.refined += 1
            self._pause = asyncio.get_running_loop().create_future()
            self._pause.set_result(TranscriptResult(self.backend.text))

    async def finish(self) -> TranscriptResult:
        self.backend.finished += 1
        if self._pause is not None and self._pause.done() and not self._pause.result().quick:
            return self._pause.result()
        return TranscriptResult(self.backend.text)


class CommandJudge:
    def __init__(self, command: bool) -> None:
        self.command = command
        self.judged_as_command: list[str] = []

    async def complete(self, text: str) -> bool:
        return False

    async def complete_command(self, text: str) -> bool:
        self.judged_as_command.append(text)
        return self.command

    def anticipate(self, text: str, conversation_id: str | None) -> None:
        pass


async def late_quick_look_turn(
    quick: str | None, command: bool, audio_timeout: float = 3.0
) -> tuple[str, LateQuickLookAsr, CommandJudge]:
    utterance = Utterance()
    for _ in range(10):
        utterance.feed(bytes(640), MIC)
    utterance.end()  # the satellite's VAD ended the audio before the quick look was done
    asr = LateQuickLookAsr(utterance, quick, "and turn on the kitchen light")
    judge = CommandJudge(command)
    config = ConductorConfig(discover=False, audio_timeout=audio_timeout)
    turns = TurnEngine(Services(asr, FakeTts(), ScriptedResponder([]), config, endpointer=judge))
    return await turns.transcribe(utterance), asr, judge


async def test_a_quick_look_done_after_the_audio_ended_still_ends_a_home_command() -> None:
    text, asr, judge = await late_quick_look_turn("turn on the kitchen light", command=True)
    assert text == "turn on the kitchen light"
    assert judge.judged_as_command == ["turn on the kitchen light"]
    assert asr.refined == 0 and asr.finished == 0  # no full transcript was asked for


async def test_a_late_quick_look_that_is_no_command_gives_way_to_the_full_transcript() -> None:
    text, asr, judge = await late_quick_look_turn("when his Tom's", command=False)
    assert judge.judged_as_command == ["when his Tom's"]
    assert asr.refined == 1
    assert text == "and turn on the kitchen light"


async def test_a_quick_look_that_never_comes_is_waited_for_a_bounded_time() -> None:
    text, asr, judge = await late_quick_look_turn(None, command=True, audio_timeout=0.01)
    assert judge.judged_as_command == []
    assert asr.finished == 1
    assert text == "and turn on the kitchen light"
