"""End to end: the real hub process with the packaged Whisper and Piper models."""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from familiar.audio import PcmFormat, convert_pcm, wav_bytes
from familiar.client import WyomingClient
from familiar_testkit.processes import hub_process
from familiar_testkit.speech import speak, words

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def hub_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Piper without its random noise: the spoken checks below hear the same audio every run
    # (with it, Whisper once heard "Turn on, the kitchen light" as "The current kitchen light")
    tts = {"noise_scale": 0.0, "noise_w_scale": 0.0}
    with hub_process(tmp_path_factory.mktemp("hub"), {"tts": tts}) as (uri, _proc):
        yield uri


SPEECH = PcmFormat()


async def transcribe(
    uri: str, audio: bytes, fmt: PcmFormat = SPEECH, step: int | None = None
) -> str:
    async with WyomingClient(uri) as client:
        await client.send(Transcribe(language="en").event())
        await client.send(AudioStart(rate=fmt.rate, width=fmt.width, channels=fmt.channels).event())
        step = step or fmt.bytes_per_second // 10
        for i in range(0, len(audio), step):
            await client.send(
                AudioChunk(
                    rate=fmt.rate, width=fmt.width, channels=fmt.channels, audio=audio[i : i + step]
                ).event()
            )
        await client.send(AudioStop().event())
        return str((await client.expect(Transcript, 60)).data["text"])


async def collect(client: WyomingClient, until: str) -> list[Event]:
    events = []
    while True:
        event = await client.read(60)
        assert event is not None
        events.append(event)
        if event.type == until:
            return events


def audio_of(events: list[Event]) -> tuple[bytes, PcmFormat]:
    start = next(e for e in events if e.type == "audio-start")
    fmt = PcmFormat(start.data["rate"], start.data["width"], start.data["channels"])
    return b"".join(e.payload or b"" for e in events if e.type == "audio-chunk"), fmt


async def test_describe(hub_uri: str) -> None:
    async with WyomingClient(hub_uri) as client:
        await client.send(Describe().event())
        info = Info.from_event(await client.expect(Info, 10))
    assert info.asr[0].models[0].name == "whisper-base"
    assert info.tts[0].voices[0].name == "en_US-joe-medium"
    assert info.tts[0].supports_synthesize_streaming


COMMANDS = [
    "Turn on the kitchen light.",
    "Set a timer for ten minutes.",
    "What is the weather tomorrow?",
    "Turn off the bedroom fan.",
]


async def test_transcribes_piper_speech(hub_uri: str) -> None:
    text = COMMANDS[0]
    assert words(await transcribe(hub_uri, speak(text))) == words(text)


async def test_any_input_format_is_converted(hub_uri: str) -> None:
    text = COMMANDS[1]
    mono22 = speak(text, rate=22050)
    stereo44 = convert_pcm(mono22, PcmFormat(22050), PcmFormat(44100, 2, 2))
    assert words(await transcribe(hub_uri, mono22, PcmFormat(22050))) == words(text)
    assert words(await transcribe(hub_uri, stereo44, PcmFormat(44100, 2, 2))) == words(text)


async def test_odd_chunks_and_a_wav_header_as_home_assistant_sends_them(hub_uri: str) -> None:
    """HA 2024.3.3's /api/stt splits uploads at arbitrary byte counts (the transcript was
    "So, I'm gonna get this fight." when each chunk lost its odd byte); HA 2026.11 forwards the
    RIFF header as audio ("Turn on the kitchen like."). Here: the words come out right either
    way; that the header's 44 bytes never reach the model is checked byte-exactly in
    tests/test_endpoint.py (this speech is recognised even with them)."""
    text = COMMANDS[0]
    pcm = speak(text)
    assert words(await transcribe(hub_uri, pcm, step=1001)) == words(text)
    upload = wav_bytes(pcm, SPEECH)
    assert words(await transcribe(hub_uri, upload, step=1001)) == words(text)
    stereo48 = convert_pcm(pcm, SPEECH, PcmFormat(48000, 2, 2))
    fmt48 = PcmFormat(48000, 2, 2)
    assert words(await transcribe(hub_uri, stereo48, fmt48, step=4097)) == words(text)


async def test_four_clients_at_once(hub_uri: str) -> None:
    speech = [speak(text) for text in COMMANDS]
    results = await asyncio.gather(*(transcribe(hub_uri, s) for s in speech))
    # Each client gets its own transcript: closest to its own command, and mostly right
    # (Piper's prosody varies between runs, so Whisper base now and then mishears a word).
    for result, command in zip(results, COMMANDS, strict=True):

        def likeness(text: str, heard: str = result) -> float:
            return difflib.SequenceMatcher(a=words(text), b=words(heard)).ratio()

        assert likeness(command) >= 0.6, (command, result)
        assert all(likeness(command) > likeness(other) for other in COMMANDS if other != command)


async def test_plain_synthesize_speaks_the_text(hub_uri: str) -> None:
    text = "The birthday dinner starts on Saturday at eight."
    async with WyomingClient(hub_uri) as client:
        await client.send(Synthesize(text=text).event())
        events = await collect(client, "audio-stop")
    audio, fmt = audio_of(events)
    assert fmt == PcmFormat(22050, 2, 1)
    assert [e.type for e in events].count("audio-start") == 1
    # Piper's prosody varies from run to run and Whisper base now and then hears one word
    # differently ("dinner is" as "dinner's"): the text is spoken when at most one word differs.
    expected, heard = words(text), words(await transcribe(hub_uri, audio, fmt))
    matching = difflib.SequenceMatcher(a=expected, b=heard).get_matching_blocks()
    assert sum(block.size for block in matching) >= len(expected) - 1, heard
    assert len(heard) <= len(expected) + 1, heard


async def test_streaming_as_home_assistant_speaks_once(hub_uri: str) -> None:
    text = "Turn on the kitchen light. Then open the front door."
    async with WyomingClient(hub_uri) as client:
        await client.send(SynthesizeStart().event())
        for token in text.split(" "):
            await client.send(SynthesizeChunk(text=token + " ").event())
        await client.send(Synthesize(text=text).event())  # HA's compatibility event
        await client.send(SynthesizeStop().event())
        events = await collect(client, "synthesize-stopped")
    types = [e.type for e in events]
    assert types[-1] == "synthesize-stopped"
    assert types.count("audio-start") == types.count("audio-stop") == 2
    audio, fmt = audio_of(events)
    seconds = len(audio) / fmt.bytes_per_second
    assert 2.0 < seconds < 6.0  # spoken once (twice would be ~8 s)
    assert words(await transcribe(hub_uri, audio, fmt)) == words(text)


async def test_bad_frame_does_not_disturb_other_clients(hub_uri: str) -> None:
    host, port = hub_uri.removeprefix("tcp://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(json.dumps({"type": "audio-chunk", "payload_length": 1 << 30}).encode() + b"\n")
    await writer.drain()
    header = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert header["type"] == "error"
    writer.close()
    text = COMMANDS[3]
    assert words(await transcribe(hub_uri, speak(text))) == words(text)


def test_remote_roles_proxy_to_another_wyoming_server(hub_uri: str, tmp_path: Path) -> None:
    """A second hub that uses the first as its ASR and TTS servers."""
    remote = {"asr": {"uri": hub_uri}, "tts": {"uri": hub_uri}}
    with hub_process(tmp_path, remote, timeout=30) as (proxy_uri, _):

        async def check() -> None:
            text = "Open the front door."
            async with WyomingClient(proxy_uri) as client:
                await client.send(SynthesizeStart().event())
                await client.send(SynthesizeChunk(text=text).event())
                await client.send(SynthesizeStop().event())
                audio, fmt = audio_of(await collect(client, "synthesize-stopped"))
            assert np.frombuffer(audio, dtype="<i2").std() > 100
            assert words(await transcribe(proxy_uri, audio, fmt)) == words(text)
            # both roles have loaded (they answered): describe shows the remote's programs,
            # under this hub's name
            async with WyomingClient(proxy_uri) as client:
                await client.send(Describe().event())
                info = Info.from_event(await client.expect(Info, 10))
            assert info.asr[0].models[0].name == "whisper-base"  # the remote's model
            assert info.tts[0].voices[0].name == "en_US-joe-medium"

        asyncio.run(check())
