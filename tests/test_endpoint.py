"""The hub endpoint over real sockets on 127.0.0.1, with fake backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Pong
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from familiar.audio import PcmFormat, wav_bytes
from familiar.client import WyomingClient
from familiar.config import ListenConfig
from familiar.server import WyomingServer
from familiar.wire import Limits
from familiar_hub.asr.handler import EVENT_TYPES as ASR_EVENTS
from familiar_hub.asr.handler import AsrHandler
from familiar_hub.config import AsrConfig, TtsConfig
from familiar_hub.endpoint import Endpoint, Role
from familiar_hub.tts.handler import EVENT_TYPES as TTS_EVENTS
from familiar_hub.tts.handler import TtsHandler
from tests.fakes import FakeAsr, FakeTts

TTS_CONFIG = TtsConfig(first_clause_chars=0)


class Hub:
    def __init__(self, server: WyomingServer, asr: FakeAsr, tts: FakeTts) -> None:
        self.server, self.asr, self.tts = server, asr, tts
        self.uri = f"tcp://127.0.0.1:{server.port}"


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    asr, tts = FakeAsr(delay=0.05), FakeTts(delay=0.01)
    endpoint = Endpoint(
        [
            Role("asr", ASR_EVENTS, lambda c: AsrHandler(asr, c), asr.program),
            Role("tts", TTS_EVENTS, lambda c: TtsHandler(tts, TTS_CONFIG, c), tts.program),
        ]
    )
    limits = Limits(max_data_bytes=4096, max_payload_bytes=65536)
    async with WyomingServer(endpoint, "127.0.0.1", 0, limits=limits) as server:
        yield Hub(server, asr, tts)


async def collect(client: WyomingClient, until: str, timeout: float = 10.0) -> list[Event]:
    events = []
    while True:
        event = await client.read(timeout)
        assert event is not None, f"closed before {until}: {[e.type for e in events]}"
        events.append(event)
        if event.type == until:
            return events


async def test_describe_offers_asr_and_tts_from_one_port(hub: Hub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(Describe().event())
        info = Info.from_event(await client.expect(Info, 5))
    assert [p.name for p in info.asr] == ["fake-asr"]
    assert [p.name for p in info.tts] == ["fake-tts"]
    assert info.tts[0].supports_synthesize_streaming


def test_programs_are_described_under_the_hubs_name() -> None:
    """HA titles a discovered Wyoming entry after its first ASR program ("familiar-faster-
    whisper" before); named after the hub, the entry and its entities are "Kitchen Hub"."""
    asr, tts = FakeAsr(), FakeTts()
    roles = [
        Role("asr", ASR_EVENTS, lambda c: AsrHandler(asr, c), asr.program),
        Role("tts", TTS_EVENTS, lambda c: TtsHandler(tts, TTS_CONFIG, c), tts.program),
    ]
    info = Endpoint(roles, name="Kitchen Hub").info()
    assert [p.name for p in (*info.asr, *info.tts)] == ["Kitchen Hub", "Kitchen Hub"]
    assert info.asr[0].models[0].name == "fake"
    assert info.tts[0].supports_synthesize_streaming
    assert Endpoint(roles).info().asr[0].name == "fake-asr"


async def test_streaming_tts_as_home_assistant_does_it(hub: Hub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(SynthesizeStart().event())
        for piece in ["Hello ", "there. How", " are", " you?"]:
            await client.send(SynthesizeChunk(text=piece).event())
        # Home Assistant's compatibility synthesize inside the stream: must not be spoken.
        await client.send(Synthesize(text="Hello there. How are you?").event())
        await client.send(SynthesizeStop().event())
        events = await collect(client, "synthesize-stopped")
    assert hub.tts.spoken == ["Hello there.", "How are you?"]
    types = [e.type for e in events]
    assert types[-1] == "synthesize-stopped"
    assert types.count("audio-start") == 2
    assert types.count("audio-stop") == 2
    audio = sum(len(e.payload or b"") for e in events if e.type == "audio-chunk")
    assert audio == 2 * 100 * len("Hello there. How are you?".replace(" ", "")) + 2 * 100 * 5


async def test_plain_synthesize(hub: Hub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(Synthesize(text="One. Two.").event())
        events = await collect(client, "audio-stop")
    types = [e.type for e in events]
    assert types[0] == "audio-start" and types.count("audio-start") == 1
    assert set(types[1:-1]) == {"audio-chunk"}
    assert hub.tts.spoken == ["One.", "Two."]


@pytest.mark.parametrize(
    ("phrases", "expected"),
    [
        (True, ["I have set the thermostat,", "to twenty one degrees.", "It is warm."]),
        (False, ["I have set the thermostat to twenty one degrees.", "It is warm."]),
    ],
)
async def test_first_sentence_is_cut_before_a_phrase_when_configured(
    phrases: bool, expected: list[str]
) -> None:
    tts = FakeTts()
    config = TtsConfig(first_phrase_cut=phrases)
    endpoint = Endpoint(
        [Role("tts", TTS_EVENTS, lambda c: TtsHandler(tts, config, c), tts.program)]
    )
    text = "I have set the thermostat to twenty one degrees. It is warm."
    async with WyomingServer(endpoint, "127.0.0.1", 0) as server:
        uri = f"tcp://127.0.0.1:{server.port}"
        async with WyomingClient(uri) as client:  # streamed word by word, as an LLM writes
            await client.send(SynthesizeStart().event())
            for word in text.split(" "):
                await client.send(SynthesizeChunk(text=word + " ").event())
            await client.send(SynthesizeStop().event())
            streamed = await collect(client, "synthesize-stopped")
        assert [e.type for e in streamed].count("audio-start") == len(expected)
        assert tts.spoken == expected
        tts.spoken.clear()
        async with WyomingClient(uri) as client:  # one plain synthesize: the same pieces
            await client.send(Synthesize(text=text).event())
            await collect(client, "audio-stop")
        assert tts.spoken == expected


async def transcribe(uri: str, audio: bytes, rate: int = 16000, step: int = 3200) -> str:
    async with WyomingClient(uri) as client:
        await client.send(Transcribe(language="en").event())
        await client.send(AudioStart(rate=rate, width=2, channels=1).event())
        for i in range(0, len(audio), step):
            await client.send(
                AudioChunk(rate=rate, width=2, channels=1, audio=audio[i : i + step]).event()
            )
        await client.send(AudioStop().event())
        return str((await client.expect(Transcript, 10)).data["text"])


async def test_wav_header_is_skipped_and_its_format_used(hub: Hub) -> None:
    """HA 2026.11's /api/stt forwards the uploaded file, RIFF header and all, in chunks that
    split anywhere; audio-start says 16 kHz but the file says 22.05 kHz."""
    pcm = b"\x01\x00" * 11025
    upload = wav_bytes(pcm, PcmFormat(22050))
    for step in (1001, 7, 44):
        assert await transcribe(hub.uri, upload, step=step) == f"{len(pcm)} bytes at 22050"
    # without a header, the bytes pass as they are (odd chunks included)
    assert await transcribe(hub.uri, pcm, step=1001) == f"{len(pcm)} bytes at 16000"


async def test_four_clients_at_once(hub: Hub) -> None:
    sizes = [3200 * n for n in (1, 2, 3, 4)]
    results = await asyncio.gather(*(transcribe(hub.uri, b"\x00" * n) for n in sizes))
    assert results == [f"{n} bytes at 16000" for n in sizes]
    assert hub.asr.open_sessions == 0


async def raw_connection(hub: Hub) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", hub.server.port)


async def expect_error_then_close(reader: asyncio.StreamReader) -> dict[str, str]:
    header = json.loads(await asyncio.wait_for(reader.readline(), 5))
    assert header["type"] == "error"
    data = json.loads(await reader.readexactly(header["data_length"]))
    assert await asyncio.wait_for(reader.read(), 5) == b""  # then the server closes
    return data


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"{not json\n", "protocol-error"),
        (
            json.dumps({"type": "audio-chunk", "payload_length": 1 << 20}).encode() + b"\n",
            "protocol-error",
        ),
        (
            json.dumps({"type": "synthesize", "data_length": 1 << 16}).encode() + b"\n",
            "protocol-error",
        ),
    ],
    ids=["malformed", "oversize-payload", "oversize-data"],
)
async def test_bad_frame_closes_only_that_connection(hub: Hub, frame: bytes, code: str) -> None:
    hub.tts.delay = 0.05
    async with WyomingClient(hub.uri) as good:
        await good.send(SynthesizeStart().event())
        await good.send(SynthesizeChunk(text="A fairly long first sentence here. ").event())
        reader, writer = await raw_connection(hub)
        writer.write(frame)
        await writer.drain()
        error = await expect_error_then_close(reader)
        writer.close()
        assert error["code"] == code
        await good.send(SynthesizeChunk(text="And a second one.").event())
        await good.send(SynthesizeStop().event())
        events = await collect(good, "synthesize-stopped")
    assert [e.type for e in events].count("audio-stop") == 2


async def test_peer_leaving_mid_stream_leaks_nothing(hub: Hub) -> None:
    hub.tts.delay = 0.2
    client = WyomingClient(hub.uri)
    await client.__aenter__()
    await client.send(SynthesizeStart().event())
    await client.send(SynthesizeChunk(text="one two three four five six seven. eight").event())
    await client.expect(AudioStart, 5)
    asr_client = WyomingClient(hub.uri)
    await asr_client.__aenter__()
    await asr_client.send(AudioStart(rate=16000, width=2, channels=1).event())
    await asr_client.send(AudioChunk(rate=16000, width=2, channels=1, audio=b"\0" * 320).event())
    async with asyncio.timeout(5):
        await hub.tts.stream_opened.wait()
        await hub.asr.session_opened.wait()
    assert hub.tts.open_streams == 1
    assert hub.asr.open_sessions == 1
    await client.aclose()
    await asr_client.aclose()
    async with asyncio.timeout(5):
        while hub.server.connection_count or hub.tts.open_streams or hub.asr.open_sessions:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    # and the server still serves
    assert await transcribe(hub.uri, b"\0" * 640) == "640 bytes at 16000"


async def test_allow_list_refuses_other_networks() -> None:
    endpoint = Endpoint([])
    async with WyomingServer(endpoint, "127.0.0.1", 0, allow=["10.0.0.0/8"]) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    async with WyomingServer(endpoint, "127.0.0.1", 0, allow=["127.0.0.0/8"]) as server:
        client = WyomingClient(f"tcp://127.0.0.1:{server.port}")
        async with client:
            await client.send(Describe().event())
            assert (await client.expect(Info, 5)).type == "info"


async def test_ping_is_answered(hub: Hub) -> None:
    async with WyomingClient(hub.uri) as client:
        await client.send(Event(type="ping", data={"text": "hi"}))
        assert (await client.expect(Pong, 5)).data == {"text": "hi"}


async def test_a_unix_socket_serves_like_tcp(tmp_path: Path) -> None:
    """``unix://PATH`` for peers on the same machine: served, reached by our client, the
    socket file removed when the server stops (and a stale one replaced when it starts)."""
    asr = FakeAsr()
    endpoint = Endpoint([Role("asr", ASR_EVENTS, lambda c: AsrHandler(asr, c), asr.program)])
    path = tmp_path / "hub.sock"
    path.write_text("left by a process that died")
    listen = ListenConfig(uri=f"unix://{path}")
    async with WyomingServer.listening(endpoint, listen, "unix-test") as server:
        assert server.uri == f"unix://{path}"
        assert await transcribe(server.uri, b"\0" * 640) == "640 bytes at 16000"
    assert not path.exists()


def test_unix_and_tcp_uris_are_checked() -> None:
    assert ListenConfig(uri="unix:///run/familiar/hub.sock").socket_path == "/run/familiar/hub.sock"
    assert AsrConfig(uri="unix:///run/wyoming/whisper.sock").uri is not None
    for bad in ("unix://", "udp://host:1", "tcp://host"):
        with pytest.raises(ValueError, match=r"unix://PATH|no socket path"):
            ListenConfig(uri=bad)
