"""``familiar_satellite.device.synthesize`` against small Wyoming TTS peers on 127.0.0.1:
the audio it collects, and how a failing, silent or chatty peer is reported."""

from __future__ import annotations

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event

from familiar.audio import PcmFormat
from familiar.errors import RemoteUnavailable, TtsFailed
from familiar.server import Connection, WyomingServer
from familiar_satellite.device import synthesize
from familiar_testkit.ports import free_port

FMT = PcmFormat(22050, 2, 1)


class Peer:
    """Answers ``synthesize`` with a script chosen by the text."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def handle_event(self, event: Event) -> bool:
        if event.type != "synthesize":
            return True
        text = event.data["text"]
        if text == "fail":
            await self.conn.send(Error(text="voice broke", code="tts-failed").event())
            return True
        if text == "hang up":
            return False
        if text == "silent":
            return True  # never answers
        await self.conn.send(AudioStart(rate=22050, width=2, channels=1).event())
        repeat = 200 if text == "long" else 2
        for n in range(repeat):
            audio = bytes([n % 256, 1]) * 22050  # one second per chunk
            await self.conn.send(AudioChunk(rate=22050, width=2, channels=1, audio=audio).event())
        await self.conn.send(AudioStop().event())
        return True

    async def disconnected(self) -> None:
        pass


async def test_collects_the_audio_and_reports_failures() -> None:
    async with WyomingServer(Peer, "127.0.0.1", 0) as server:
        uri = f"tcp://127.0.0.1:{server.port}"
        audio, fmt = await synthesize(uri, "hello")
        assert fmt == FMT
        assert audio == bytes([0, 1]) * 22050 + bytes([1, 1]) * 22050

        with pytest.raises(TtsFailed) as failed:
            await synthesize(uri, "fail")
        assert failed.value.code == "tts-failed" and "voice broke" in str(failed.value)
        with pytest.raises(RemoteUnavailable):
            await synthesize(uri, "hang up")
        with pytest.raises(TtsFailed, match="no speech within"):
            await synthesize(uri, "silent", event_timeout=0.3)
        with pytest.raises(TtsFailed, match="longer than"):
            await synthesize(uri, "long", max_seconds=10)
    with pytest.raises(RemoteUnavailable):
        await synthesize(f"tcp://127.0.0.1:{free_port()}", "nobody there", connect_timeout=1)
