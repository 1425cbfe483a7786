"""The conductor against a satellite-shaped Wyoming server on 127.0.0.1 (fake backends)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Attribution, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.snd import Played

from familiar.audio import PcmFormat
from familiar.server import Connection, WyomingServer
from familiar_hub.asr.backend import TranscriptResult
from familiar_hub.brain.brain import Reply, ReplyResult
from familiar_hub.brain.timers import Timer
from familiar_hub.conductor.conductor import Conductor
from familiar_hub.conductor.turn import Services
from familiar_hub.config import ConductorConfig, SatelliteEntry
from familiar_testkit.ports import free_port
from tests.fakes import FakeAsr, FakeAsrSession, FakeTts


class FakeSatellite:
    """Records what the controller sends; the test drives it like a user would."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.conn: Connection | None = None
        self.running = asyncio.Event()
        self.audio_stopped = asyncio.Event()
        self.ended = asyncio.Event()
        self.pinged = asyncio.Event()

    def __call__(self, conn: Connection) -> FakeSatellite:
        self.conn = conn
        self.running.clear()
        return self

    async def handle_event(self, event: Event) -> bool:
        assert self.conn is not None
        self.events.append(event)
        if event.type == "describe":
            satellite = Satellite(
                name="kitchen",
                attribution=Attribution(name="t", url=""),
                installed=True,
                description=None,
                version=None,
            )
            await self.conn.send(Info(satellite=satellite).event())
        elif event.type == "run-satellite":
            self.running.set()
        elif Ping.is_type(event.type):
            self.pinged.set()
            await self.conn.send(Pong().event())
        elif event.type == "pipeline-ended":
            self.ended.set()
        elif event.type == "audio-stop":
            self.audio_stopped.set()
            await self.conn.send(Played().event())
        return True

    async def disconnected(self) -> None:
        self.running.clear()

    async def ask(self, nbytes: int) -> None:
        await self.stream(nbytes)
        assert self.conn is not None
        await self.conn.send(AudioStop().event())

    async def stream(self, nbytes: int) -> None:
        """Wake word heard: the request's audio, without its end."""
        assert self.conn is not None
        self.audio_stopped.clear()
        self.ended.clear()
        await self.conn.send(
            RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event()
        )
        await self.conn.send(AudioStart(rate=16000, width=2, channels=1).event())
        for _ in range(nbytes // 320):
            await self.conn.send(
                AudioChunk(rate=16000, width=2, channels=1, audio=b"\0" * 320).event()
            )


class EchoResponder:
    """Says back what it heard and asks something back (so a follow-up is requested)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str | None]] = []

    def respond(self, text: str, conversation_id: str | None = None) -> Reply:
        self.heard.append((text, conversation_id))
        result = ReplyResult(conversation_id or "new")

        async def sentences() -> AsyncGenerator[str, None]:
            yield f"You said {text}."
            yield "Anything else?"
            result.kind, result.continue_conversation = "answer", True

        return Reply(sentences(), result)


@pytest.fixture
async def setup() -> AsyncIterator[tuple[FakeSatellite, Conductor, EchoResponder, int]]:
    port = free_port()
    satellite = FakeSatellite()
    responder = EchoResponder()
    config = ConductorConfig(
        discover=False, satellites=[SatelliteEntry(uri=f"tcp://127.0.0.1:{port}", name="kitchen")]
    )
    services = Services(asr=FakeAsr(), tts=FakeTts(), responder=responder, config=config)
    async with WyomingServer(satellite, "127.0.0.1", port), Conductor(services) as conductor:
        yield satellite, conductor, responder, port


async def test_drives_a_pipeline_end_to_end(
    setup: tuple[FakeSatellite, Conductor, EchoResponder, int],
) -> None:
    satellite, conductor, responder, _ = setup
    await asyncio.wait_for(satellite.running.wait(), 5)
    await satellite.ask(3200)
    await asyncio.wait_for(satellite.ended.wait(), 10)
    types = [e.type for e in satellite.events]
    assert types[:2] == ["describe", "run-satellite"]
    sent = [t for t in types[types.index("transcribe") :] if t != "ping"]
    assert sent[:2] == ["transcribe", "transcript"]
    assert sent[2:4] == ["synthesize", "audio-start"]
    # each sentence's text goes before its audio (the satellite's "answer" on MQTT)
    texts = [e.data["text"] for e in satellite.events if e.type == "synthesize"]
    assert texts == ["You said 3200 bytes at 16000.", "Anything else?"]
    assert sent[-2:] == ["audio-stop", "pipeline-ended"]
    # the answer asked something back: listen again without the wake word
    stop = next(e for e in satellite.events if e.type == "audio-stop")
    assert stop.data["continue_conversation"] is True
    ended = next(e for e in satellite.events if e.type == "pipeline-ended")
    assert ended.data["continue_conversation"] is True
    transcript = next(e for e in satellite.events if e.type == "transcript")
    assert transcript.data["text"] == "3200 bytes at 16000"
    assert responder.heard[0][0] == "3200 bytes at 16000"
    audio = sum(len(e.payload or b"") for e in satellite.events if e.type == "audio-chunk")
    assert audio > 0
    assert conductor.links["kitchen"].status.runs == 1


async def test_keeps_pinging(setup: tuple[FakeSatellite, Conductor, EchoResponder, int]) -> None:
    satellite, *_ = setup
    await asyncio.wait_for(satellite.running.wait(), 5)
    for _ in range(2):  # the controller keeps the link alive by itself, ping after ping
        satellite.pinged.clear()
        await asyncio.wait_for(satellite.pinged.wait(), 10)
    assert sum(Ping.is_type(e.type) for e in satellite.events) >= 2


async def test_same_conversation_continues(
    setup: tuple[FakeSatellite, Conductor, EchoResponder, int],
) -> None:
    satellite, _, responder, _ = setup
    await asyncio.wait_for(satellite.running.wait(), 5)
    for n in (320, 640):
        await satellite.ask(n)
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert responder.heard[0][1] == responder.heard[1][1]


async def test_reconnects_after_satellite_restarts() -> None:
    port = free_port()
    satellite = FakeSatellite()
    config = ConductorConfig(
        discover=False, satellites=[SatelliteEntry(uri=f"tcp://127.0.0.1:{port}")]
    )
    services = Services(asr=FakeAsr(), tts=FakeTts(), responder=EchoResponder(), config=config)
    async with Conductor(services) as conductor:
        link = next(iter(conductor.links.values()))
        changes: asyncio.Queue[bool] = asyncio.Queue()
        conductor.on_link_change = lambda _name, up: changes.put_nowait(up)
        for attempt in range(10):
            async with WyomingServer(satellite, "127.0.0.1", port):
                async with asyncio.timeout(10):  # a bound, not a timing
                    assert await changes.get() is True  # driven again
                    await satellite.running.wait()
            async with asyncio.timeout(10):
                assert await changes.get() is False  # noticed the satellite went away
            assert link.status.connects == attempt + 1


async def test_a_timer_rings_on_the_satellite_that_set_it(
    setup: tuple[FakeSatellite, Conductor, EchoResponder, int],
) -> None:
    satellite, conductor, _, _ = setup
    await asyncio.wait_for(satellite.running.wait(), 5)
    await satellite.ask(3200)
    await asyncio.wait_for(satellite.ended.wait(), 10)
    link = conductor.links["kitchen"]
    conversation_id = link.recent_conversations[-1]
    mark = len(satellite.events)
    satellite.audio_stopped.clear()
    await conductor.timer_finished(Timer(7, 300, "pasta", conversation_id))
    texts = [e.data["text"] for e in satellite.events[mark:] if e.type == "synthesize"]
    assert texts == ["Your 5 minutes timer for pasta is done."]
    assert satellite.audio_stopped.is_set()
    # a timer from a conversation held elsewhere (Home Assistant, the web page) does not ring here
    mark = len(satellite.events)
    await conductor.timer_finished(Timer(8, 60, None, "someone-elses"))
    assert [e for e in satellite.events[mark:] if e.type == "synthesize"] == []


class PausingAsr(FakeAsr):
    """Its sessions have a transcript ready at the 'pause': once ``pause_at`` bytes came;
    asked for quick looks, first ``quick_text`` (a quick look), then ``text`` once refined."""

    def __init__(self, text: str, pause_at: int, quick_text: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.quick_text = quick_text
        self.pause_at = pause_at
        self.refined = 0
        self.quick_asked = 0

    @contextlib.asynccontextmanager
    async def session(self, language: str | None) -> AsyncIterator[FakeAsrSession]:
        yield PausingSession(self, language)


class PausingSession(FakeAsrSession):
    backend: PausingAsr

    def __init__(self, backend: PausingAsr, language: str | None) -> None:
        super().__init__(backend, language)
        self._pause: asyncio.Future[TranscriptResult] | None = None

        self._quick = False

    async def feed(self, audio: bytes, fmt: PcmFormat) -> None:
        await super().feed(audio, fmt)
        if self._pause is None and self.nbytes >= self.backend.pause_at:
            quick = self.backend.quick_text
            if self._quick and quick is not None:
                self._ready(TranscriptResult(quick, quick=True))
            else:
                self._ready(TranscriptResult(self.backend.text))

    def _ready(self, result: TranscriptResult) -> None:
        self._pause = asyncio.get_running_loop().create_future()
        self._pause.set_result(result)

    def pause_transcript(self) -> asyncio.Future[TranscriptResult] | None:
        return self._pause

    def quick_looks(self) -> None:
        self.backend.quick_asked += 1
        self._quick = True

    def refine(self) -> None:
        if self._pause is not None and self._pause.result().quick:
            self.backend.refined += 1
            self._ready(TranscriptResult(self.backend.text))


class Judge:
    def __init__(self, complete: bool, command: bool | None = None) -> None:
        self.verdict = complete
        self.command = complete if command is None else command
        self.judged: list[str] = []
        self.judged_as_command: list[str] = []
        self.anticipated: list[tuple[str, str | None]] = []

    async def complete(self, text: str) -> bool:
        self.judged.append(text)
        return self.verdict

    async def complete_command(self, text: str) -> bool:
        self.judged_as_command.append(text)
        return self.command

    def anticipate(self, text: str, conversation_id: str | None) -> None:
        self.anticipated.append((text, conversation_id))


@contextlib.asynccontextmanager
async def pausing_setup(
    judge: Judge, asr: PausingAsr | None = None
) -> AsyncIterator[tuple[FakeSatellite, EchoResponder]]:
    port = free_port()
    satellite = FakeSatellite()
    responder = EchoResponder()
    config = ConductorConfig(
        discover=False, satellites=[SatelliteEntry(uri=f"tcp://127.0.0.1:{port}")]
    )
    asr = asr or PausingAsr("turn on the kitchen light", pause_at=3200)
    services = Services(
        asr=asr, tts=FakeTts(), responder=responder, config=config, endpointer=judge
    )
    async with WyomingServer(satellite, "127.0.0.1", port), Conductor(services):
        await asyncio.wait_for(satellite.running.wait(), 5)
        yield satellite, responder


async def test_a_whole_request_at_the_pause_ends_the_turn_there() -> None:
    judge = Judge(complete=True)
    async with pausing_setup(judge) as (satellite, responder):
        await satellite.stream(6400)  # and no audio-stop: the satellite's VAD is still waiting
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert judge.judged == ["turn on the kitchen light"]
    assert responder.heard[0][0] == "turn on the kitchen light"
    sent = [e.type for e in satellite.events]
    # the transcript tells the satellite to stop streaming; then the answer
    assert sent[sent.index("transcribe") :][:3] == ["transcribe", "transcript", "synthesize"]
    transcript = next(e for e in satellite.events if e.type == "transcript")
    assert transcript.data["text"] == "turn on the kitchen light"


async def test_an_unfinished_request_waits_for_the_end_and_starts_thinking() -> None:
    judge = Judge(complete=False)
    async with pausing_setup(judge) as (satellite, responder):
        await satellite.ask(6400)
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert judge.judged == ["turn on the kitchen light"]
    assert judge.anticipated[0][0] == "turn on the kitchen light"
    # the silence ended the turn: the whole audio was transcribed
    assert responder.heard[0] == ("6400 bytes at 16000", judge.anticipated[0][1])


async def test_a_quick_look_that_is_a_whole_home_command_ends_the_turn() -> None:
    judge = Judge(complete=False, command=True)
    asr = PausingAsr(
        "and turn on the kitchen light", pause_at=3200, quick_text="turn on the kitchen light"
    )
    async with pausing_setup(judge, asr) as (satellite, responder):
        await satellite.stream(6400)  # no audio-stop
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert judge.judged_as_command == ["turn on the kitchen light"]
    assert judge.judged == []  # the full transcript was never needed
    assert asr.quick_asked == 1
    assert asr.refined == 0
    assert responder.heard[0][0] == "turn on the kitchen light"


async def test_a_quick_look_that_is_no_command_is_judged_again_in_full() -> None:
    judge = Judge(complete=True, command=False)
    asr = PausingAsr("When is Tom's birthday dinner?", pause_at=3200, quick_text="When his Tom's")
    async with pausing_setup(judge, asr) as (satellite, responder):
        await satellite.stream(6400)  # no audio-stop: the full transcript is a whole question
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert judge.judged_as_command == ["When his Tom's"]
    assert asr.refined == 1
    assert judge.judged == ["When is Tom's birthday dinner?"]  # names need the full look
    assert responder.heard[0][0] == "When is Tom's birthday dinner?"


async def test_without_ending_on_meaning_there_are_no_quick_looks() -> None:
    port = free_port()
    satellite = FakeSatellite()
    responder = EchoResponder()
    config = ConductorConfig(
        discover=False, satellites=[SatelliteEntry(uri=f"tcp://127.0.0.1:{port}")]
    )
    asr = PausingAsr("turn on the kitchen light", pause_at=3200, quick_text="turn on the")
    services = Services(asr=asr, tts=FakeTts(), responder=responder, config=config)
    async with WyomingServer(satellite, "127.0.0.1", port), Conductor(services):
        await asyncio.wait_for(satellite.running.wait(), 5)
        await satellite.ask(6400)
        await asyncio.wait_for(satellite.audio_stopped.wait(), 10)
    assert asr.quick_asked == 0
    assert responder.heard[0][0] == "6400 bytes at 16000"  # the silence ended it, as ever
