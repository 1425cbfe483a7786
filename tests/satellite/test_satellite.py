"""The satellite over real sockets on 127.0.0.1 with real mic/speaker processes, the real
openWakeWord and VAD models, and speech made by Piper; the controller behaves like Home
Assistant (tests/satellite/controller.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping
from wyoming.satellite import RunSatellite
from wyoming.timer import TimerFinished, TimerStarted
from wyoming.tts import Synthesize

from familiar.audio import PcmFormat, read_wav
from familiar.client import WyomingClient
from familiar.extensions import PipelineEnded
from familiar_satellite.app import RunningSatellite, SatelliteStatus, running_satellite
from familiar_satellite.config import SOUNDS_DIR, SatelliteConfig
from tests.satellite.conftest import PYTHON, REALTIME_SINK, Speech, pad, silence, wait_until
from tests.satellite.controller import FakeHomeAssistant

ROOT = Path(__file__).resolve().parents[2]
TTS_CHUNK = 2048  # what Home Assistant sends per audio-chunk


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def make_config(workdir: Path, **sections: Any) -> SatelliteConfig:
    mic = workdir / "mic.raw"
    mic.touch()
    pids = shlex.quote(str(workdir / "mic.pids"))
    out = shlex.quote(str(workdir / "out.raw"))
    data: dict[str, Any] = {
        "name": "test-satellite",
        "area": "Kitchen",
        "listen": {"uri": "tcp://127.0.0.1:0"},
        "zeroconf": {"enabled": False},
        "mic": {
            # tail -f: the test "speaks" by appending to mic.raw
            "command": [
                "sh",
                "-c",
                f"echo $$ >> {pids}; exec tail -c +1 -f {shlex.quote(str(mic))}",
            ],
            "restart_seconds": 0.1,
            "restart_max_seconds": 0.5,
        },
        "snd": {"command": ["sh", "-c", f"cat >> {out}"]},
    }
    return SatelliteConfig.model_validate(_merge(data, sections))


@contextlib.asynccontextmanager
async def satellite(workdir: Path, **sections: Any) -> AsyncIterator[RunningSatellite]:
    async with running_satellite(make_config(workdir, **sections)) as running:
        yield running


def speak(workdir: Path, audio: bytes) -> None:
    with (workdir / "mic.raw").open("ab") as mic:
        mic.write(pad(audio))


def played_audio(workdir: Path) -> bytes:
    path = workdir / "out.raw"
    return path.read_bytes() if path.exists() else b""


def sound(name: str) -> bytes:
    return read_wav((SOUNDS_DIR / f"{name}.wav").read_bytes())[0]


async def send_tts(ha: FakeHomeAssistant, pcm: bytes, **extra: Any) -> None:
    start = AudioStart(rate=22050, width=2, channels=1, timestamp=0).event()
    start.data.update(extra)
    await ha.send(start)
    for i in range(0, len(pcm), TTS_CHUNK):
        await ha.send(
            AudioChunk(rate=22050, width=2, channels=1, audio=pcm[i : i + TTS_CHUNK]).event()
        )
    await ha.send(AudioStop().event())


def wake_and_question(speech: Speech, question: str = "What time is it in Paris?") -> bytes:
    return (
        silence(0.5)
        + speech.say("Hey Jarvis.")
        + silence(1.2)
        + speech.say(question)
        + silence(1.5)
    )


async def test_home_assistant_turn(workdir: Path, speech: Speech) -> None:
    answer = speech.piper("It is three in the afternoon in Paris.")
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        sat = running.satellite
        assert ha.info is not None and ha.info.satellite is not None
        assert ha.info.satellite.name == "test-satellite"
        assert ha.info.satellite.area == "Kitchen"
        assert ha.info.satellite.has_vad is True
        assert ha.info.satellite.active_wake_words == ["hey_jarvis"]
        assert ha.info.satellite.supports_trigger is True
        assert [m.name for p in ha.info.wake for m in p.models] == ["hey_jarvis"]
        await wait_until(lambda: sat.status.state == "idle")

        speak(workdir, wake_and_question(speech))
        stop = await ha.wait_for("audio-stop")
        detection = await ha.wait_for("detection")
        run = await ha.wait_for("run-pipeline")
        assert detection.data["name"] == "hey_jarvis"
        assert run.data["start_stage"] == "asr" and run.data["end_stage"] == "tts"
        assert run.data["wake_word_name"] == "hey_jarvis"
        assert run.data["restart_on_end"] is False
        assert ha.types()[:5] == [
            "detection",
            "run-pipeline",
            "audio-start",
            "voice-started",
            "voice-stopped",
        ]
        start = await ha.wait_for("audio-start")
        assert (start.data["rate"], start.data["width"], start.data["channels"]) == (16000, 2, 1)
        chunks = [
            AudioChunk.from_event(e).audio
            for e in ha.received[ha.index_of(start) : ha.index_of(stop)]
            if e.type == "audio-chunk"
        ]
        streamed = sum(len(c) for c in chunks) / 32000
        question = len(speech.say("What time is it in Paris?")) / 32000
        # the question and the silence that ended it, without the wake word before it
        assert question < streamed < question + 1.2 + 1.5, streamed
        assert sat.status.state == "waiting"
        assert sat.status.last_wake_word == "hey_jarvis"

        mark = len(ha.received)
        await ha.send(Transcribe(language="en").event())
        await ha.send(Transcript(text="What time is it in Paris?").event())
        await ha.send(Synthesize(text="It is three in the afternoon in Paris.").event())
        await send_tts(ha, answer)
        await ha.wait_for("played", after=mark)
        await wait_until(lambda: sat.status.state == "idle")
        out = played_audio(workdir)
        assert answer in out
        assert out.index(sound("awake")) < out.index(sound("done")) < out.index(answer)
        assert ha.ping_failures == 0 and ha.pongs >= 1


async def test_follow_up_listens_again_without_wake_word(workdir: Path, speech: Speech) -> None:
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        sat = running.satellite
        await wait_until(lambda: sat.status.state == "idle")
        speak(workdir, wake_and_question(speech, "Set a reminder."))
        await ha.wait_for("audio-stop")
        # the hub's conductor flags that its answer is a question back
        transcript = Transcript(text="Set a reminder.").event()
        transcript.data["context"] = {"conversation_id": "c1", "continue_conversation": True}
        await ha.send(transcript)
        mark = len(ha.received)
        await send_tts(ha, speech.piper("For when?"))
        played = await ha.wait_for("played", after=mark)
        run = await ha.wait_for("run-pipeline", after=ha.index_of(played))
        assert run.data.get("wake_word_name") is None
        assert run.data["start_stage"] == "asr"
        await wait_until(lambda: sat.status.state == "streaming")
        speak(workdir, silence(0.6) + speech.say("Tomorrow at nine.") + silence(1.5))
        await ha.wait_for("audio-stop", after=ha.index_of(run))
        assert "detection" not in ha.types(after=ha.index_of(played))
        await ha.send(Transcript(text="Tomorrow at nine.").event())
        await ha.send(PipelineEnded(follow_up=False).event())
        await wait_until(lambda: sat.status.state == "idle")


async def test_barge_in_stops_playback(workdir: Path, speech: Speech) -> None:
    out = str(workdir / "out.raw")
    long_answer = speech.piper("Let me tell you a long story. " * 8)
    async with (
        satellite(workdir, snd={"command": [PYTHON, REALTIME_SINK, out]}) as running,
        FakeHomeAssistant(running.uri) as ha,
    ):
        sat = running.satellite
        await wait_until(lambda: sat.status.state == "idle")
        speak(workdir, wake_and_question(speech))
        await ha.wait_for("audio-stop")
        await ha.send(Transcript(text="What time is it in Paris?").event())
        mark = len(ha.received)
        await send_tts(ha, long_answer)
        await wait_until(lambda: sat.status.state == "speaking")
        await asyncio.sleep(0.5)  # let it play a little (the sink plays in real time)
        speak(workdir, silence(0.3) + speech.say("Hey Jarvis.") + silence(0.5))
        played = await ha.wait_for("played", after=mark)
        detection = await ha.wait_for("detection", after=mark)
        assert ha.index_of(played) < ha.index_of(detection)
        await ha.wait_for("run-pipeline", after=ha.index_of(detection))
        await wait_until(lambda: sat.status.state == "streaming")
        assert len(played_audio(workdir)) < len(long_answer)


async def test_one_controller_at_a_time(workdir: Path) -> None:
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        async with WyomingClient(running.uri) as other:
            await other.send(Describe().event())  # describe-only is fine
            info = await other.expect(Info, 5.0)
            assert info.data["satellite"]["name"] == "test-satellite"
            await other.send(RunSatellite().event())
            refusal = await other.expect(Error, 5.0)
            assert refusal.data["code"] == "satellite-busy"
            assert await other.read(5.0) is None  # and closed
        async with WyomingClient(running.uri) as intruder:
            await intruder.send(Transcript(text="hello").event())
            assert (await intruder.expect(Error, 5.0)).data["code"] == "satellite-busy"
        await ha.send(Ping(text="still there?").event())
        await wait_until(lambda: ha.pongs >= 1 or not ha.closed.is_set())
        assert not ha.closed.is_set()
        assert running.satellite.status.connected


async def test_malformed_frame_closes_only_that_connection(workdir: Path) -> None:
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.server.port)
        writer.write(b'{"type": "describe", "data_length": -5}\n')
        await writer.drain()
        rest = await asyncio.wait_for(reader.read(), 5.0)
        assert b'"protocol-error"' in rest
        writer.close()
        await writer.wait_closed()
        mark = len(ha.received)
        await ha.send(Describe().event())
        await ha.wait_for("info", after=mark)
        assert running.satellite.status.state == "idle"


async def test_mic_command_is_restarted(workdir: Path) -> None:
    async with satellite(workdir) as running:
        pids = workdir / "mic.pids"
        await wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 1)
        first = int(pids.read_text().split()[0])
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: len(pids.read_text().split()) == 2)
        assert int(pids.read_text().split()[1]) != first
        await wait_until(lambda: running.satellite.mic.starts == 2)


async def test_feedback_sounds_timers_and_announcements(workdir: Path, speech: Speech) -> None:
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        sat = running.satellite
        await wait_until(lambda: sat.status.state == "idle")
        await ha.send(TimerStarted(id="t1", total_seconds=60, name="tea").event())
        await wait_until(lambda: sat.status.timers == 1)
        await ha.send(TimerFinished(id="t1").event())
        timer = sound("timer")
        await wait_until(lambda: played_audio(workdir).count(timer) == 3)
        assert sat.status.timers == 0

        await ha.send(Error(text="no text recognized", code="stt-no-text-recognized").event())
        await wait_until(lambda: sound("error") in played_audio(workdir))

        announcement = speech.piper("Dinner is ready.")
        mark = len(ha.received)
        await send_tts(ha, announcement)  # audio with no request: an announcement
        await ha.wait_for("played", after=mark)
        assert announcement in played_audio(workdir)
        await wait_until(lambda: sat.status.state == "idle")


async def test_hooks_mute_volume_listen_and_subscribe(workdir: Path, speech: Speech) -> None:
    async with satellite(workdir) as running, FakeHomeAssistant(running.uri) as ha:
        sat = running.satellite
        seen: list[SatelliteStatus] = []

        async def watch() -> None:
            async for status in sat.subscribe():
                seen.append(status)

        watcher = asyncio.create_task(watch())
        try:
            await wait_until(lambda: sat.status.state == "idle")
            await sat.set_muted(True)
            assert sat.status.state == "muted"
            said = pad(silence(0.3) + speech.say("Hey Jarvis.") + silence(1.0))
            heard = sat.mic.seconds_read
            speak(workdir, said)
            await wait_until(lambda: sat.mic.seconds_read >= heard + len(said) / 32000)
            assert "detection" not in ha.types()
            await sat.set_muted(False)
            sat.set_volume(0.5)
            await sat.start_listening()
            run = await ha.wait_for("run-pipeline")
            assert run.data.get("wake_word_name") is None
            await wait_until(lambda: any(s.state == "streaming" for s in seen))
            assert any(s.muted for s in seen) and seen[-1].volume == 0.5
            # a local announcement (MQTT) at half volume
            assert await sat.announce(b"\x00\x40" * 2205, PcmFormat(22050, 2, 1)) is True
            assert b"\x00\x20" * 2205 in played_audio(workdir)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def test_silent_controller_is_dropped(workdir: Path) -> None:
    async with (
        satellite(
            workdir, connection={"ping_seconds": 0.2, "pong_timeout_seconds": 0.5}
        ) as running,
        FakeHomeAssistant(running.uri, answer_pings=False, send_pings=False) as ha,
    ):
        await ha.send(Ping().event())  # enables the satellite's pings, which go unanswered
        await asyncio.wait_for(ha.closed.wait(), 10.0)
        await wait_until(lambda: running.satellite.status.state == "disconnected")
        async with FakeHomeAssistant(running.uri):  # a new controller is welcome
            await wait_until(lambda: running.satellite.status.state == "idle")


async def test_command_line(workdir: Path) -> None:
    config = workdir / "satellite.yaml"
    config.write_text(
        "name: cli-satellite\nlisten: {uri: 'tcp://127.0.0.1:10799'}\nzeroconf: {enabled: false}\n"
        "mic: {command: [sleep, '600']}\nsnd: {command: [sh, -c, 'cat > /dev/null']}\n",
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "familiar",
        "satellite",
        "-c",
        str(config),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        info: Event | None = None
        async with asyncio.timeout(30):
            while info is None:
                try:
                    async with WyomingClient("tcp://127.0.0.1:10799") as client:
                        await client.send(Describe().event())
                        info = await client.expect(Info, 5.0)
                except Exception:  # not listening yet
                    await asyncio.sleep(0.2)
        assert info.data["satellite"]["name"] == "cli-satellite"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
