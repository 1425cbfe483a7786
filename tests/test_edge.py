"""Hostile and careless peers at the edge: bad fields, bad frames, budgets, limits, networks.

Everything over real sockets on 127.0.0.1 with the fake backends; the probes of issue 14 at
full size are in bench/hardening_bench.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import SynthesizeChunk, SynthesizeStart, SynthesizeStop

from familiar.client import WyomingClient
from familiar.config import EVERYONE, PRIVATE_NETWORKS, ListenConfig
from familiar.edge import EventRejected, check_event, checked_types
from familiar.server import ConnectionPolicy, WyomingServer, address_allowed
from familiar.wire import Limits, encode_event
from familiar_hub.asr.handler import EVENT_TYPES as ASR_EVENTS
from familiar_hub.asr.handler import AsrHandler
from familiar_hub.config import TtsConfig
from familiar_hub.endpoint import Endpoint, Role
from familiar_hub.tts.handler import EVENT_TYPES as TTS_EVENTS
from familiar_hub.tts.handler import TtsHandler
from tests.fakes import FakeAsr, FakeTts

TTS_CONFIG = TtsConfig(first_clause_chars=0)

# Each a (type, data) that once crashed a handler or asked for too much (issue 14, probe 2).
BAD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("audio-start", {}),
    ("audio-start", {"rate": 0, "width": 2, "channels": 1}),
    ("audio-start", {"rate": 1, "width": 2, "channels": 1}),
    ("audio-start", {"rate": 16000, "width": 0, "channels": 1}),
    ("audio-start", {"rate": 16000, "width": 7, "channels": 1}),
    ("audio-start", {"rate": 16000, "width": -2, "channels": 1}),
    ("audio-start", {"rate": 16000, "width": 2**31, "channels": 1}),
    ("audio-start", {"rate": 16000, "width": 2, "channels": 0}),
    ("audio-start", {"rate": "16000", "width": 2, "channels": 1}),
    ("audio-start", {"rate": 16000.0, "width": 2, "channels": 1}),
    ("audio-start", {"rate": True, "width": 2, "channels": 1}),
    ("audio-chunk", {"rate": 16000}),
    ("audio-chunk", {"rate": 1, "width": 2, "channels": 1}),
    ("audio-chunk", {"rate": 16000, "width": 2, "channels": 1, "timestamp": "now"}),
    ("audio-stop", {"timestamp": -1}),
    ("synthesize", {}),
    ("synthesize", {"text": None}),
    ("synthesize", {"text": 123}),
    ("synthesize", {"text": "x" * 5000}),
    ("synthesize", {"text": "hi", "voice": "joe"}),
    ("synthesize", {"text": "hi", "voice": {"name": 5}}),
    ("synthesize-chunk", {}),
    ("synthesize-chunk", {"text": ["a"]}),
    ("synthesize-start", {"voice": []}),
    ("transcribe", {"language": 3}),
    ("transcript", {}),
    ("transcript", {"text": "hi", "context": "x"}),
    ("transcript", {"text": "hi", "context": {"conversation_id": {"a": 1}}}),
    ("ping", {"text": 5}),
    ("run-pipeline", {"start_stage": "wake"}),
    ("run-pipeline", {"start_stage": [], "end_stage": "tts"}),  # found by tests/test_fuzz.py
    ("run-pipeline", {"start_stage": "asr", "end_stage": "tts", "wake_word_names": "x"}),
    ("timer-started", {"id": "t"}),
    ("timer-finished", {}),
]


@pytest.mark.parametrize(("event_type", "data"), BAD_EVENTS)
def test_bad_fields_are_rejected_with_a_reason(event_type: str, data: dict[str, Any]) -> None:
    with pytest.raises(EventRejected) as caught:
        check_event(Event(type=event_type, data=data))
    assert str(caught.value).startswith(event_type)
    assert caught.value.code == "event-invalid"


def test_good_events_and_unknown_types_pass() -> None:
    good = [
        AudioStart(rate=16000, width=2, channels=1).event(),
        AudioChunk(rate=8000, width=1, channels=2, audio=b"\0" * 4).event(),
        AudioStop().event(),
        SynthesizeStart().event(),
        SynthesizeChunk(text="Hello").event(),
        SynthesizeStop().event(),
        Event(type="synthesize", data={"text": "Hi", "voice": {"name": "joe"}}),
        Event(type="future-event", data={"rate": 0}),
    ]
    for event in good:
        check_event(event)
    assert {"audio-chunk", "synthesize", "transcript"} <= checked_types()


def test_defaults_allow_loopback_and_private_networks_only() -> None:
    default = [ipaddress.ip_network(n) for n in ListenConfig().allow]
    assert tuple(ListenConfig().allow) == PRIVATE_NETWORKS
    for host in ("127.0.0.1", "::1", "10.1.2.3", "172.20.0.5", "192.168.1.20", "fe80::1%eth0"):
        assert address_allowed(host, default), host
    for host in ("8.8.8.8", "::ffff:8.8.8.8", "2001:db8::1", "100.64.0.1", "172.32.0.1", "x"):
        assert not address_allowed(host, default), host
    everyone = [ipaddress.ip_network(n) for n in EVERYONE]
    assert address_allowed("8.8.8.8", everyone) and address_allowed("2001:db8::1", everyone)


def test_every_bad_cidr_is_reported() -> None:
    from familiar.config import load_config

    with pytest.raises(Exception) as caught:
        load_config(ListenConfig, None, {"allow": ["10.0.0.0/8", "10.0.0.0/33", "nonsense"]})
    text = str(caught.value)
    assert "[1]" in text and "10.0.0.0/33" in text and "[2]" in text and "nonsense" in text


class Hub:
    def __init__(self, server: WyomingServer, asr: FakeAsr, tts: FakeTts) -> None:
        self.server, self.asr, self.tts = server, asr, tts
        self.port = server.port
        self.uri = f"tcp://127.0.0.1:{server.port}"


def _endpoint(asr: FakeAsr, tts: FakeTts, max_seconds: float = 30.0) -> Endpoint:
    return Endpoint(
        [
            Role("asr", ASR_EVENTS, lambda c: AsrHandler(asr, c, max_seconds), asr.program),
            Role("tts", TTS_EVENTS, lambda c: TtsHandler(tts, TTS_CONFIG, c), tts.program),
        ]
    )


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    asr, tts = FakeAsr(), FakeTts()
    limits = Limits(max_data_bytes=1 << 16, max_payload_bytes=8 << 20)
    async with WyomingServer(_endpoint(asr, tts), "127.0.0.1", 0, limits=limits) as server:
        yield Hub(server, asr, tts)


def _raw(event_type: str, data: dict[str, Any], payload: bytes = b"") -> bytes:
    return encode_event(Event(type=event_type, data=data, payload=payload or None))


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """The server closed (or reset) the connection without sending anything."""
    try:
        return await asyncio.wait_for(reader.read(), 10) == b""
    except ConnectionResetError:
        return True


async def _read(reader: asyncio.StreamReader) -> Event | None:
    from familiar.wire import read_event

    return await asyncio.wait_for(read_event(reader), 10)


async def test_each_bad_event_gets_an_error_and_the_connection_lives(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    try:
        for event_type, data in BAD_EVENTS:
            writer.write(_raw(event_type, data))
            await writer.drain()
            answer = await _read(reader)
            assert answer is not None and answer.type == "error", (event_type, data)
            assert answer.data["code"] == "event-invalid"
            assert answer.data["text"].startswith(event_type)
        writer.write(encode_event(Describe().event()))
        await writer.drain()
        info = await _read(reader)
        assert info is not None and info.type == "info"
    finally:
        writer.close()
        await writer.wait_closed()
    assert hub.server.rejected_events == len(BAD_EVENTS)
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"


BAD_FRAMES = [
    b"not json\n",
    b"[1, 2]\n",
    b'{"type": ""}\n',
    b'{"type": "x", "data": [1]}\n',
    b'{"type": "x", "data_length": -1}\n',
    b'{"type": "x", "payload_length": "9"}\n',
    b'{"type": "x", "payload_length": 99999999999}\n',
    b'{"type": "x", "data_length": 4}\n[1]\n',
    b"\xff\xfe\n",
    b"{" * 70000 + b"\n",
]


@pytest.mark.parametrize("frame", BAD_FRAMES, ids=range(len(BAD_FRAMES)))
async def test_a_bad_frame_closes_that_connection_only(
    hub: Hub, frame: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with WyomingClient(hub.uri) as bystander:
        reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
        try:
            writer.write(frame)
            await writer.drain()
            answer = await _read(reader)
            assert answer is not None and answer.type == "error"
            assert answer.data["code"] == "protocol-error"
            assert await _read(reader) is None  # closed
        finally:
            writer.close()
        await bystander.send(Describe().event())
        assert (await bystander.expect(Info, 5)).type == "info"
    assert not [r for r in caplog.records if r.exc_info]


async def test_odd_audio_never_grows_past_the_utterance_budget() -> None:
    """8 MiB at 8 kHz, 8-bit: 1,048 s as sent. Only the 30 s budget reaches the backend."""
    asr, tts = FakeAsr(), FakeTts()
    limits = Limits(max_payload_bytes=8 << 20)
    server = WyomingServer(_endpoint(asr, tts, 30.0), "127.0.0.1", 0, limits=limits)
    async with server, WyomingClient(f"tcp://127.0.0.1:{server.port}") as client:
        await client.send(AudioStart(rate=8000, width=1, channels=1).event())
        for _ in range(3):
            chunk = AudioChunk(rate=8000, width=1, channels=1, audio=b"\x80" * (8 << 20))
            await client.send(chunk.event())
        await client.send(AudioStop().event())
        transcript = await client.expect(Transcript, 30)
    assert transcript.data["text"] == f"{30 * 8000} bytes at 8000"


async def test_a_streamed_text_over_the_cap_is_cut_with_an_error(hub: Hub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(SynthesizeStart().event())
        await client.send(SynthesizeChunk(text="Short. ").event())
        for _ in range(10):
            await client.send(SynthesizeChunk(text="word " * 100).event())
        events = []
        while True:
            event = await client.read(10)
            assert event is not None
            events.append(event)
            if event.type == "error":
                break
        assert event.data["code"] == "event-invalid"
        assert "synthesize-stopped" in [e.type for e in events]
        await client.send(Describe().event())
        assert (await client.expect(Info, 5)).type == "info"
    assert "Short." in hub.tts.spoken
    assert sum(len(s) for s in hub.tts.spoken) <= 4000


async def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    asr, tts = FakeAsr(), FakeTts()
    policy = ConnectionPolicy(idle_timeout=0.2)
    async with WyomingServer(_endpoint(asr, tts), "127.0.0.1", 0, policy=policy) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            assert await closed_by_server(reader)
        finally:
            writer.close()


async def test_when_full_the_longest_idle_connection_makes_room() -> None:
    asr, tts = FakeAsr(), FakeTts()
    policy = ConnectionPolicy(max_connections=3, max_per_address=3)
    async with WyomingServer(_endpoint(asr, tts), "127.0.0.1", 0, policy=policy) as server:
        uri = f"tcp://127.0.0.1:{server.port}"
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
        async with WyomingClient(uri) as client:
            await client.send(Describe().event())
            assert (await client.expect(Info, 5)).type == "info"
        assert await closed_by_server(idle[0][0])  # the oldest made room
        assert server.evicted >= 1
        for _, writer in idle:
            writer.close()


async def test_when_every_connection_is_busy_a_new_one_is_refused() -> None:
    asr, tts = FakeAsr(), FakeTts(delay=0.5)
    policy = ConnectionPolicy(max_connections=2, max_per_address=2)
    async with WyomingServer(_endpoint(asr, tts), "127.0.0.1", 0, policy=policy) as server:
        uri = f"tcp://127.0.0.1:{server.port}"
        async with WyomingClient(uri) as a, WyomingClient(uri) as b:
            for client in (a, b):  # each asks for a long, slow synthesis: busy
                await client.send(Event(type="synthesize", data={"text": "word " * 50}))
                await client.expect(AudioStart, 10)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            assert await closed_by_server(reader)
            writer.close()
            assert server.refused == 1


async def test_a_server_with_a_narrow_allow_list_refuses_loopback() -> None:
    asr, tts = FakeAsr(), FakeTts()
    server = WyomingServer(_endpoint(asr, tts), "127.0.0.1", 0, allow=["10.0.0.0/8"])
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(json.dumps({"type": "describe"}).encode() + b"\n")
        assert await closed_by_server(reader)
        writer.close()
        assert server.refused == 1


async def test_back_pressure_follows_what_the_peer_has_taken() -> None:
    """Speech is only made for a client that takes what it was sent (TTS back-pressure)."""
    from familiar.server import Connection

    accepted: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(Connection(reader, writer, write_timeout=1.0))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        conn = await asyncio.wait_for(accepted, 10)
        await conn.wait_taken()  # nothing sent yet
        conn.writer.write(b"x" * 4_000_000)  # more than the buffers between us hold
        assert conn.unsent_bytes() > 64 * 1024
        with pytest.raises(TimeoutError):
            await conn.wait_taken()  # the client is not reading: no more is made for it
        await reader.readexactly(4_000_000)
        await conn.wait_taken()  # it read everything: go on
        assert conn.unsent_bytes() <= 64 * 1024
        conn.writer.close()
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
