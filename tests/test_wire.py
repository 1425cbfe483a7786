"""Wire layer: every event we send or accept survives a round trip; bad frames are errors."""

from __future__ import annotations

import asyncio
import json

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Describe,
    HandleModel,
    HandleProgram,
    Info,
    Satellite,
    TtsProgram,
    TtsVoice,
)
from wyoming.intent import Entity, Intent
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite, StreamingStarted, StreamingStopped
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)
from wyoming.vad import VoiceStarted, VoiceStopped
from wyoming.wake import Detect, Detection

from familiar.errors import ProtocolError
from familiar.wire import Limits, encode_event, read_event

ATTR = Attribution(name="test", url="http://example.invalid")

EVENTS: list[Eventable] = [
    Describe(),
    Info(
        asr=[
            AsrProgram(
                name="a",
                attribution=ATTR,
                installed=True,
                description=None,
                version="1",
                models=[
                    AsrModel(
                        name="m",
                        attribution=ATTR,
                        installed=True,
                        description=None,
                        version=None,
                        languages=["en"],
                    )
                ],
            )
        ],
        tts=[
            TtsProgram(
                name="t",
                attribution=ATTR,
                installed=True,
                description=None,
                version=None,
                supports_synthesize_streaming=True,
                voices=[
                    TtsVoice(
                        name="v",
                        attribution=ATTR,
                        installed=True,
                        description=None,
                        version=None,
                        languages=["en_US"],
                    )
                ],
            )
        ],
        handle=[
            HandleProgram(
                name="h",
                attribution=ATTR,
                installed=True,
                description=None,
                version=None,
                supports_handled_streaming=True,
                models=[
                    HandleModel(
                        name="b",
                        attribution=ATTR,
                        installed=True,
                        description=None,
                        version=None,
                        languages=["en"],
                    )
                ],
            )
        ],
        satellite=Satellite(
            name="s",
            attribution=ATTR,
            installed=True,
            description=None,
            version=None,
            area="kitchen",
            active_wake_words=["hey_jarvis"],
        ),
    ),
    Transcribe(language="en", context={"conversation_id": "c1"}),
    Transcript(text="turn on the kitchen light", language="en"),
    AudioStart(rate=16000, width=2, channels=1, timestamp=0),
    AudioChunk(rate=16000, width=2, channels=1, audio=b"\x01\x00" * 160, timestamp=10),
    AudioStop(timestamp=20),
    Synthesize(text="Hello there.", voice=SynthesizeVoice(name="en_US-joe-medium")),
    SynthesizeStart(voice=SynthesizeVoice(name="en_US-joe-medium"), context={"a": 1}),
    SynthesizeChunk(text="Hello "),
    SynthesizeStop(),
    SynthesizeStopped(),
    Error(text="bad", code="protocol-error"),
    Ping(text="x"),
    Pong(text="x"),
    Handled(text="Done, love.", context={"conversation_id": "c1"}),
    NotHandled(text="No idea."),
    HandledStart(),
    HandledChunk(text="Done"),
    HandledStop(),
    Intent(
        name="HassTurnOn",
        entities=[Entity(name="name", value="kitchen light")],
        text="turn on the kitchen light",
    ),
    RunPipeline(
        start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS, wake_word_name="hey_jarvis"
    ),
    RunSatellite(),
    PauseSatellite(),
    StreamingStarted(),
    StreamingStopped(),
    Detect(names=["hey_jarvis"]),
    Detection(name="hey_jarvis", timestamp=5),
    VoiceStarted(timestamp=1),
    VoiceStopped(timestamp=2),
    Played(),
    TimerStarted(id="t1", total_seconds=60, name="tea"),
    TimerUpdated(id="t1", is_active=True, total_seconds=30),
    TimerCancelled(id="t1"),
    TimerFinished(id="t1"),
]


def reader_with(data: bytes, limits: Limits | None = None) -> asyncio.StreamReader:
    limit = (limits or Limits()).max_header_bytes
    reader = asyncio.StreamReader(limit=limit)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


@pytest.mark.parametrize("message", EVENTS, ids=lambda m: type(m).__name__)
async def test_round_trip(message: Eventable) -> None:
    event = message.event()
    reader = reader_with(encode_event(event) + encode_event(event))
    for _ in range(2):
        decoded = await read_event(reader)
        assert decoded is not None
        assert decoded.type == event.type
        assert decoded.data == json.loads(json.dumps(event.data))
        assert (decoded.payload or None) == (event.payload or None)
        assert type(message).from_event(decoded) == message
    assert await read_event(reader) is None


async def test_wyoming_library_reads_our_frames() -> None:
    from wyoming.event import async_read_event

    chunk = AudioChunk(rate=22050, width=2, channels=1, audio=b"\x00\x01" * 1000).event()
    decoded = await async_read_event(reader_with(encode_event(chunk)))
    assert decoded is not None
    assert decoded.payload == chunk.payload
    assert decoded.data == chunk.data


async def test_unknown_event_types_are_kept() -> None:
    event = Event(type="future-thing", data={"x": [1, 2]}, payload=b"abc")
    decoded = await read_event(reader_with(encode_event(event)))
    assert decoded == event


def header(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"this is not json\n", "not JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (header(data={}), "no event type"),
        (header(type="x", data_length=-1), "non-negative"),
        (header(type="x", data_length="5"), "non-negative"),
        (header(type="x", data_length=10) + b"not json!!", "data block is not JSON"),
        (header(type="x", data_length=2 << 20), "exceeds the limit"),
        (header(type="audio-chunk", payload_length=64 << 20), "exceeds the limit"),
        (header(type="audio-chunk", payload_length=100) + b"short", "middle of a frame"),
        (b'{"type": "describe"', "middle of a header"),
        (b"x" * (70 * 1024) + b"\n", "header line longer"),
    ],
)
async def test_bad_frames_raise_protocol_error(frame: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        await read_event(reader_with(frame))


async def test_clean_eof_is_none() -> None:
    assert await read_event(reader_with(b"")) is None
    assert await read_event(reader_with(b"\n  ")) is None
