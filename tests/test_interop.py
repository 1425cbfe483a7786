"""Interop with the reference Wyoming implementations as real peers over TCP, both directions.

- our hub -> their servers: the hub proxies ASR to a real ``wyoming-faster-whisper`` and TTS to
  a real ``wyoming-piper`` (``asr.uri``, ``tts.uri``), both with the packaged models;
- their client -> our hub: the reference ``wyoming`` library's own ``AsyncTcpClient`` (from the
  reference environment, not our code) describes, transcribes and synthesizes against our hub;
- our conductor -> their satellite: the hub drives a real ``wyoming-satellite`` process (always
  streaming, no wake word) as one of its listed satellites; the spoken command reaches a real
  Mosquitto and the answer's audio reaches the satellite's speaker command.

The reference servers live in their own environment (``bench/.ref-venv``, made by ``setup.sh``
from ``bench/ref-requirements.txt``; ``FAMILIAR_REF_VENV`` points elsewhere); wyoming-satellite
pins an older ``wyoming``, so it has one of its own (``bench/.ref-sat-venv`` from
``bench/ref-sat-requirements.txt``; ``FAMILIAR_REF_SAT_VENV``). Without them these tests are
skipped, saying why.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.tts import Synthesize

from familiar.client import WyomingClient
from familiar_hub import models
from familiar_hub.app import RunningHub, running_hub
from familiar_hub.config import HubConfig
from familiar_testkit.broker import Mosquitto
from familiar_testkit.ports import free_port, wait_for_port
from familiar_testkit.processes import ROOT, hub_process
from familiar_testkit.speech import speak, words

pytestmark = pytest.mark.models

REF_VENV = Path(os.environ.get("FAMILIAR_REF_VENV") or ROOT / "bench" / ".ref-venv")
REF_SAT_VENV = Path(os.environ.get("FAMILIAR_REF_SAT_VENV") or ROOT / "bench" / ".ref-sat-venv")
COMMAND = "Turn on the kitchen light."


@pytest.fixture(scope="session")
def ref_python() -> Path:
    python = REF_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no reference environment at {REF_VENV} (setup.sh makes it)")
    probe = subprocess.run(
        [str(python), "-c", "import wyoming, wyoming_faster_whisper, wyoming_piper"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"reference servers not installed in {REF_VENV}: {probe.stderr[-300:]}")
    return python


def _serve(argv: list[str], port: int, log: Path) -> Iterator[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, proc, 120)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def ref_asr(ref_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("ref-asr")
    port = free_port()
    argv = [
        str(ref_python),
        "-m",
        "wyoming_faster_whisper",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--stt-library",
        "faster-whisper",
        "--model",
        str(models.resolve("whisper-base")),
        "--data-dir",
        str(work),
        "--language",
        "en",
        "--local-files-only",
    ]
    yield from _serve(argv, port, work / "server.log")


@pytest.fixture(scope="session")
def ref_tts(ref_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("ref-tts")
    onnx = models.resolve("en_US-joe-medium")
    for src in (onnx, Path(f"{onnx}.json")):
        (work / src.name).symlink_to(src)
    port = free_port()
    argv = [
        str(ref_python),
        "-m",
        "wyoming_piper",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--voice",
        onnx.stem,
        "--data-dir",
        str(work),
        "--local-files-only",
    ]
    yield from _serve(argv, port, work / "server.log")


async def _transcribe(uri: str, pcm: bytes) -> str:
    async with WyomingClient(uri) as client:
        await client.send(Transcribe(language="en").event())
        await client.send(AudioStart(rate=16000, width=2, channels=1).event())
        for start in range(0, len(pcm), 3200):
            chunk = pcm[start : start + 3200]
            await client.send(AudioChunk(rate=16000, width=2, channels=1, audio=chunk).event())
        await client.send(AudioStop().event())
        return Transcript.from_event(await client.expect(Transcript, 120)).text


async def _synthesize(uri: str, text: str) -> tuple[int, int]:
    """(sample rate, bytes of audio)."""
    rate, size = 0, 0
    async with WyomingClient(uri) as client:
        await client.send(Synthesize(text=text).event())
        while True:
            event = await client.read(120)
            assert event is not None, "closed before audio-stop"
            if AudioStart.is_type(event.type):
                rate = AudioStart.from_event(event).rate
            elif AudioChunk.is_type(event.type):
                size += len(AudioChunk.from_event(event).audio)
            elif AudioStop.is_type(event.type):
                return rate, size


async def _loaded(hub: RunningHub) -> None:
    """Until every role's backend is loaded (the port opens before that)."""
    async with asyncio.timeout(300):
        for role in hub.endpoint.roles:
            assert role.ready is not None
            await role.ready.wait()


def _hub_config(**roles: object) -> HubConfig:
    return HubConfig.model_validate(
        {
            "endpoint": {"uri": "tcp://127.0.0.1:0"},
            "zeroconf": {"enabled": False},
            "conductor": {"enabled": False},
            "web": {"enabled": False},
            **roles,
        }
    )


async def test_our_hub_drives_the_reference_servers(ref_asr: str, ref_tts: str) -> None:
    config = _hub_config(asr={"uri": ref_asr}, tts={"uri": ref_tts})
    async with running_hub(config, roles=["asr", "tts"]) as hub:
        await _loaded(hub)
        heard = words(await _transcribe(hub.uri, speak(COMMAND)))
        rate, size = await _synthesize(hub.uri, "The kitchen light is on.")
    assert {"kitchen", "light"} <= set(heard), heard
    assert rate == 22050 and size > rate  # more than half a second of speech


_REFERENCE_CLIENT = """
import asyncio, json, sys
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

async def main(host, port, pcm_path):
    pcm = open(pcm_path, "rb").read()
    out = {}
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        while not Info.is_type((event := await client.read_event()).type):
            pass
        info = Info.from_event(event)
        out["asr"] = [m.name for p in info.asr for m in p.models]
        out["tts"] = [v.name for p in info.tts for v in p.voices]
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for i in range(0, len(pcm), 3200):
            await client.write_event(
                AudioChunk(rate=16000, width=2, channels=1, audio=pcm[i:i + 3200]).event())
        await client.write_event(AudioStop().event())
        while not Transcript.is_type((event := await client.read_event()).type):
            pass
        out["transcript"] = Transcript.from_event(event).text
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Synthesize(text="The kitchen light is on.").event())
        size = 0
        while True:
            event = await client.read_event()
            if AudioChunk.is_type(event.type):
                size += len(AudioChunk.from_event(event).audio)
            elif AudioStop.is_type(event.type):
                break
        out["audio_bytes"] = size
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


async def test_the_reference_client_talks_to_our_hub(ref_python: Path, tmp_path: Path) -> None:
    pcm = tmp_path / "command.raw"
    pcm.write_bytes(speak(COMMAND))
    async with running_hub(_hub_config(), roles=["asr", "tts"]) as hub:
        await _loaded(hub)
        port = hub.server.port
        done = await _run_reference_client(ref_python, port, pcm)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["asr"] == ["whisper-base"]
    assert result["tts"] == ["en_US-joe-medium"]
    assert {"kitchen", "light"} <= set(words(result["transcript"])), result
    assert result["audio_bytes"] > 22050


async def _run_reference_client(
    python: Path, port: int, pcm: Path
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(python), "-c", _REFERENCE_CLIENT, "127.0.0.1", str(port), str(pcm)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=str(Path(sys.executable).parent),  # not the repository: only the reference's code
    )


@pytest.fixture(scope="session")
def ref_satellite_python() -> Path:
    python = REF_SAT_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no wyoming-satellite environment at {REF_SAT_VENV} (setup.sh makes it)")
    probe = subprocess.run(
        [str(python), "-c", "import wyoming_satellite"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"wyoming-satellite not installed in {REF_SAT_VENV}: {probe.stderr[-300:]}")
    return python


def _silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


async def _until_in_log(path: Path, pattern: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not re.search(pattern, path.read_text(errors="replace")):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _until_audio(path: Path, min_bytes: int, timeout: float) -> bytes:
    """The speaker file once it holds ``min_bytes`` and stopped growing for a second."""
    async with asyncio.timeout(timeout):
        last = -1
        while True:
            size = path.stat().st_size if path.exists() else 0
            if size >= min_bytes and size == last:
                return path.read_bytes()
            last = size
            await asyncio.sleep(1.0)


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)


async def test_our_conductor_drives_the_reference_satellite(
    ref_satellite_python: Path, tmp_path: Path, broker: Mosquitto
) -> None:
    mic = tmp_path / "mic.raw"
    mic.write_bytes(b"")
    speaker = tmp_path / "speaker.raw"
    port = free_port()
    log = tmp_path / "satellite.log"
    argv = [
        str(ref_satellite_python),
        "-m",
        "wyoming_satellite",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--name",
        "kitchen",
        "--no-zeroconf",
        "--mic-command",
        shlex.join(["tail", "-c", "+1", "-f", str(mic)]),
        "--snd-command",
        shlex.join(["sh", "-c", f"cat >> {shlex.quote(str(speaker))}"]),
        "--snd-command-rate",
        "22050",
        "--debug",
    ]
    config = {
        "logging": {"level": "DEBUG"},
        "brain": {
            "persona_config": None,  # home commands only: no persona store to build
            "home": {
                "entities": [
                    {"entity_id": "light.kitchen", "name": "Kitchen Light", "area": "Kitchen"}
                ],
                "mqtt": {},
            },
        },
        "mqtt": {"host": "127.0.0.1", "port": broker.port},
        "conductor": {
            "discover": False,
            "satellites": [{"uri": f"tcp://127.0.0.1:{port}", "name": "kitchen"}],
        },
    }
    commands: list[str] = []

    async def watch(subscribed: asyncio.Event) -> None:
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            await client.subscribe("familiar/command/#")
            subscribed.set()
            async for message in client.messages:
                commands.append(str(message.topic))

    subscribed = asyncio.Event()
    watcher = asyncio.create_task(watch(subscribed))
    satellite = _start(argv, log)
    try:
        wait_for_port(port, satellite, 60)
        await subscribed.wait()
        with hub_process(tmp_path, config):
            # the hub listens at once, then loads its models before it drives the satellite
            await _until_in_log(log, r"Streaming audio", 180)
            with mic.open("ab") as out_mic:  # the user speaks
                out_mic.write(_silence(0.5) + speak(COMMAND) + _silence(2.0))
            answer = await _until_audio(speaker, 22050, 120)  # half a second of speech
    finally:
        satellite.terminate()
        try:
            satellite.wait(10)
        except subprocess.TimeoutExpired:
            satellite.kill()
            satellite.wait()
        watcher.cancel()
    assert commands == ["familiar/command/light/kitchen/turn_on"], log.read_text()[-3000:]
    assert any(answer[i : i + 2] != b"\0\0" for i in range(0, len(answer), 2))
