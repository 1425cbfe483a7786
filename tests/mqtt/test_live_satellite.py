"""The real satellite (in process, or ``familiar satellite``) on a real Mosquitto: discovery,
state during real pipeline runs driven by a Home-Assistant-like controller, and MQTT commands
spoken through a real hub process (``familiar hub tts`` with the packaged Piper voice).

Microphone = ``tail -f`` on a file the test appends speech to; speaker = a file. Every wait is
bounded; nothing asserts on timing except the 5 s the issue allows after a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from wyoming.asr import Transcript
from wyoming.tts import Synthesize

from familiar.config import load_config
from familiar.mqtt import Topics, read_retained
from familiar_satellite.app import RunningSatellite, SatelliteStatus, running_satellite
from familiar_satellite.config import SatelliteConfig
from familiar_satellite.device import STATE_OF_PHASE, voice_state
from familiar_testkit.broker import WAIT, Mosquitto
from familiar_testkit.ports import free_port
from familiar_testkit.processes import hub_process
from tests.mqtt.conftest import Watcher
from tests.mqtt.ha_schema import check_device_discovery
from tests.satellite.conftest import PYTHON, REALTIME_SINK, Speech, silence, wait_until
from tests.satellite.controller import FakeHomeAssistant
from tests.satellite.test_satellite import (
    make_config,
    played_audio,
    send_tts,
    speak,
    wake_and_question,
)

ROOT = Path(__file__).resolve().parents[2]
SAT = Topics("familiar", "test-satellite")


@pytest.fixture(scope="session")
def speech() -> Speech:
    return Speech()


HUB_TTS = {"noise_scale": 0.0, "noise_w_scale": 0.0}  # deterministic synthesis


@pytest.fixture(scope="module")
def tts_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real hub process serving only TTS (Piper, deterministic settings)."""
    with hub_process(tmp_path_factory.mktemp("hub"), {"tts": HUB_TTS}, ["tts"]) as (uri, _):
        yield uri


def hub_says(*texts: str) -> list[bytes]:
    """What ``tts_hub`` says for each text: the same Piper backend and settings, in process (on
    a thread with its own loop), 22050 Hz 16-bit mono."""
    from familiar_hub.config import TtsConfig
    from familiar_hub.tts.backends.piper import PiperTts

    async def synthesize() -> list[bytes]:
        async with PiperTts(TtsConfig(**HUB_TTS)) as tts:
            return [b"".join([p.pcm async for p in tts.synthesize(t, None)]) for t in texts]

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, synthesize()).result()


def mqtt_section(broker: Mosquitto, **overrides: Any) -> dict[str, Any]:
    fast = {"reconnect_min": 0.05, "reconnect_max": 0.5, "birth_delay_max": 0.2}
    return {"host": "127.0.0.1", "port": broker.port, **fast, **overrides}


@contextlib.asynccontextmanager
async def mqtt_satellite(
    workdir: Path, broker: Mosquitto, **sections: Any
) -> AsyncIterator[RunningSatellite]:
    config = make_config(workdir, mqtt=mqtt_section(broker), **sections)
    async with running_satellite(config) as running:
        assert running.mqtt is not None
        await running.mqtt.link.wait_connected(WAIT)
        yield running


def states(watcher: Watcher, after: int = 0) -> list[str]:
    return [m.payload.decode() for m in watcher.seen[after:] if m.topic == SAT.state]


async def heard_all(running: RunningSatellite, audio_bytes: int) -> None:
    """Until the microphone has read everything appended so far (plus ``audio_bytes``)."""
    mic = running.satellite.mic
    target = mic.seconds_read + audio_bytes / 32000
    await wait_until(lambda: mic.seconds_read >= target - 0.08, timeout=20.0)


# --------------------------------------------------------------------------- pure


def test_every_phase_maps_to_a_voice_state() -> None:
    from familiar.mqtt import VOICE_STATES
    from familiar_satellite.state import Phase

    assert set(STATE_OF_PHASE) == {phase.value for phase in Phase}
    assert set(STATE_OF_PHASE.values()) <= set(VOICE_STATES)
    base = SatelliteStatus("idle", True, False, 1.0, None, 0)
    assert voice_state(base) == "idle"
    for phase, expected in (("idle", "speaking"), ("disconnected", "speaking")):
        status = SatelliteStatus(phase, True, False, 1.0, None, 0, announcing=True)
        assert voice_state(status) == expected
    # a request in progress wins over a local announcement
    assert voice_state(SatelliteStatus("waiting", True, False, 1.0, None, 0, True)) == "thinking"


# --------------------------------------------------------------------------- in process


async def test_discovery_and_states_during_a_real_turn(
    tmp_path: Path, broker: Mosquitto, watcher: Watcher, speech: Speech
) -> None:
    answer_text = "It is three in the afternoon in Paris."
    answer = speech.piper(answer_text)
    sink = {"command": [PYTHON, REALTIME_SINK, str(tmp_path / "out.raw")]}
    async with mqtt_satellite(tmp_path, broker, snd=sink) as running:
        assert running.mqtt is not None
        discovery = await watcher.wait_for(SAT.discovery)
        payload = json.loads(discovery.payload)
        assert check_device_discovery(discovery.topic, payload) == []
        assert payload["dev"]["name"] == "test-satellite"
        assert payload["dev"]["mdl"] == "Familiar satellite"
        # no controller yet: the wake word can start nothing
        await watcher.wait_for(SAT.state, b"error")
        await watcher.wait_for(SAT.muted, b"OFF")
        await watcher.wait_for(SAT.volume, b"100")
        await watcher.wait_for(SAT.availability, b"online")

        async with FakeHomeAssistant(running.uri) as ha:
            await watcher.wait_for(SAT.state, b"idle")
            mark = watcher.mark()
            speak(tmp_path, wake_and_question(speech))
            wake = await watcher.wait_for(SAT.wake, after=mark)
            assert json.loads(wake.payload) == {"event_type": "detected", "wake_word": "hey_jarvis"}
            await watcher.wait_for(SAT.state, b"listening", after=mark)
            await ha.wait_for("audio-stop")
            await watcher.wait_for(SAT.state, b"thinking", after=mark)
            await ha.send(Transcript(text="What time is it in Paris?").event())
            heard = await watcher.wait_for(SAT.transcript, after=mark)
            assert heard.payload == b"What time is it in Paris?" and not heard.retain
            await ha.send(Synthesize(text=answer_text).event())
            await send_tts(ha, answer)
            await watcher.wait_for(SAT.state, b"speaking", after=mark)
            await ha.wait_for("played")
            said = await watcher.wait_for(SAT.answer, after=mark)
            assert said.payload == answer_text.encode()
            await watcher.wait_for(SAT.state, b"idle", after=mark)
            assert states(watcher, mark) == ["listening", "thinking", "speaking", "idle"]
            assert answer in played_audio(tmp_path)

            # Home Assistant's birth message: everything is announced again
            before = running.mqtt.link.announcements
            mark = watcher.mark()
            await watcher.publish("homeassistant/status", "online")
            again = await watcher.wait_for(SAT.discovery, after=mark)
            assert check_device_discovery(again.topic, json.loads(again.payload)) == []
            await watcher.wait_for(SAT.state, b"idle", after=mark)
            assert running.mqtt.link.announcements == before + 1
        await watcher.wait_for(SAT.state, b"error", after=mark)  # controller gone
    await watcher.wait_for(SAT.availability, b"offline")


async def test_announce_and_ask_are_spoken_with_the_hub_voice(
    tmp_path: Path, broker: Mosquitto, watcher: Watcher, speech: Speech, tts_hub: str
) -> None:
    async with (
        mqtt_satellite(tmp_path, broker, speech_uri=tts_hub) as running,
        FakeHomeAssistant(running.uri) as ha,
    ):
        await watcher.wait_for(SAT.state, b"idle")
        dinner, question = hub_says("Dinner is ready.", "Shall I order pizza?")
        mark = watcher.mark()
        await watcher.publish(SAT.command("announce"), "Dinner is ready.")
        await wait_until(lambda: dinner in played_audio(tmp_path), timeout=WAIT)
        await watcher.wait_for(SAT.state, b"speaking", after=mark)
        await watcher.wait_for(SAT.state, b"idle", after=mark + 1)
        assert "run-pipeline" not in ha.types()  # an announcement does not listen

        mark = watcher.mark()
        await watcher.publish(SAT.command("ask"), "Shall I order pizza?")
        run = await ha.wait_for("run-pipeline")
        assert question in played_audio(tmp_path)  # spoken before listening
        assert run.data.get("wake_word_name") is None
        assert run.data["start_stage"] == "asr"
        assert "detection" not in ha.types()
        start = await ha.wait_for("audio-start", after=ha.index_of(run))
        speak(tmp_path, silence(0.5) + speech.say("Yes please.") + silence(1.5))
        await ha.wait_for("audio-stop", after=ha.index_of(start))
        chunks = [e for e in ha.received[ha.index_of(start) :] if e.type == "audio-chunk"]
        assert chunks  # the answer was streamed without a wake word
        await watcher.wait_for(SAT.state, b"listening", after=mark)
        assert running.mqtt is not None and running.mqtt.rejected == 0


async def test_mute_volume_and_malformed_commands(
    tmp_path: Path,
    broker: Mosquitto,
    watcher: Watcher,
    speech: Speech,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with (
        mqtt_satellite(tmp_path, broker) as running,
        FakeHomeAssistant(running.uri) as ha,
    ):
        sat = running.satellite
        assert running.mqtt is not None
        await watcher.wait_for(SAT.state, b"idle")
        mark = watcher.mark()
        await watcher.publish(SAT.command("muted"), "ON")
        await watcher.wait_for(SAT.muted, b"ON", after=mark)
        await watcher.wait_for(SAT.state, b"muted", after=mark)
        assert sat.status.muted and sat.status.state == "muted"
        wake = silence(0.3) + speech.say("Hey Jarvis.") + silence(1.0)
        speak(tmp_path, wake)
        await heard_all(running, len(wake))
        assert "detection" not in ha.types() and "run-pipeline" not in ha.types()
        await watcher.publish(SAT.command("muted"), "off")
        await watcher.wait_for(SAT.muted, b"OFF", after=mark)
        await watcher.wait_for(SAT.state, b"idle", after=mark)

        await watcher.publish(SAT.command("volume"), "30")
        await watcher.wait_for(SAT.volume, b"30", after=mark)
        assert sat.speaker.volume == pytest.approx(0.3)

        # no speech_uri: announce is refused with a clear error, nothing is played
        before = len(tmp_path.joinpath("out.raw").read_bytes()) if played_audio(tmp_path) else 0
        await watcher.publish(SAT.command("announce"), "Nobody can say this.")
        await wait_until(lambda: any("no speech_uri" in r.getMessage() for r in caplog.records))
        assert len(played_audio(tmp_path)) == before

        bad = [
            (SAT.command("volume"), b"loud"),
            (SAT.command("volume"), b"-5"),
            (SAT.command("muted"), b"maybe"),
            (SAT.command("announce"), b"\xff\xfe"),
            (SAT.command("ask"), b""),
            (SAT.command("explode"), b"now"),
        ]
        for topic, payload in bad:
            await watcher.publish(topic, payload)
        await watcher.publish(SAT.command("volume"), "60")  # in order after the bad ones
        await watcher.wait_for(SAT.volume, b"60", after=mark)
        assert running.mqtt.rejected == len(bad)
        assert sat.speaker.volume == pytest.approx(0.6)
        # ...and the satellite still works: the wake word starts a request
        speak(tmp_path, silence(0.3) + speech.say("Hey Jarvis.") + silence(0.5))
        run = await ha.wait_for("run-pipeline")
        assert run.data["wake_word_name"] == "hey_jarvis"
        await watcher.wait_for(SAT.state, b"listening", after=mark)


async def test_broker_restart_brings_the_satellite_back(
    tmp_path: Path, broker: Mosquitto, watcher: Watcher
) -> None:
    async with mqtt_satellite(tmp_path, broker) as running:
        assert running.mqtt is not None
        await watcher.wait_for(SAT.state, b"error")
        connects = running.mqtt.link.connects
        await broker.restart()  # no persistence: every retained message is gone
        async with Watcher(broker) as after:
            await after.wait_for(SAT.discovery, timeout=5.0)
            await after.wait_for(SAT.state, b"error", timeout=5.0)
            await after.wait_for(SAT.availability, b"online", timeout=5.0)
            assert running.mqtt.link.connects == connects + 1
            # the new session takes commands
            await after.publish(SAT.command("volume"), "45")
            await after.wait_for(SAT.volume, b"45")
            assert running.satellite.speaker.volume == pytest.approx(0.45)


# --------------------------------------------------------------------------- processes


async def test_satellite_process_and_forget_mqtt(tmp_path: Path, broker: Mosquitto) -> None:
    config = tmp_path / "satellite.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "Attic Pi",
                "listen": {"uri": "tcp://127.0.0.1:0"},
                "zeroconf": {"enabled": False},
                "mic": {"command": ["sleep", "600"]},
                "snd": {"command": ["sh", "-c", "cat > /dev/null"]},
                "mqtt": mqtt_section(broker),
                "speech_uri": "tcp://127.0.0.1:9",
            }
        ),
        encoding="utf-8",
    )
    load_config(SatelliteConfig, config)  # the file is valid
    attic = Topics("familiar", "attic_pi")
    async with Watcher(broker) as watch:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "familiar", "satellite", "-c", str(config), cwd=ROOT
        )
        try:
            discovery = await watch.wait_for(attic.discovery, timeout=30.0)
            assert json.loads(discovery.payload)["dev"]["name"] == "Attic Pi"
            await watch.wait_for(attic.availability, b"online")
            await watch.wait_for(attic.state, b"error")  # no controller
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await watch.wait_for(attic.availability, b"offline")
    forget = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "familiar",
        "satellite",
        "--forget-mqtt",
        "-c",
        str(config),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(forget.communicate(), 30)
    assert forget.returncode == 0
    assert attic.discovery in out.decode()
    assert await read_retained(broker.config(), attic.retained()) == {}


# --------------------------------------------------------------------------- the hub


async def test_hub_health_follows_satellite_links(
    tmp_path: Path, broker: Mosquitto, watcher: Watcher
) -> None:
    """The running hub's conductor drives a real satellite; "satellites connected" follows
    each link at once (the health interval is an hour, so only the link hook can do it)."""
    from familiar_hub.app import running_hub
    from familiar_hub.config import HubConfig

    hub_topics = Topics("familiar", "hub")
    sat_uri = f"tcp://127.0.0.1:{free_port()}"
    sat_config = make_config(
        tmp_path, controller="hub", listen={"uri": sat_uri}, mqtt=mqtt_section(broker)
    )
    hub_config = load_config(
        HubConfig,
        None,
        {
            "endpoint": {"uri": "tcp://127.0.0.1:0"},
            "zeroconf": {"enabled": False},
            # nothing is transcribed or spoken here: unreachable remotes load instantly
            "asr": {"uri": "tcp://127.0.0.1:9"},
            "tts": {"uri": "tcp://127.0.0.1:9"},
            "brain": {
                "backend": "openai",
                "url": "http://127.0.0.1:9/v1",
                "persona_config": None,
            },
            "conductor": {
                "discover": False,
                "satellites": [{"uri": sat_uri, "name": "test-satellite"}],
            },
            "mqtt": mqtt_section(broker, health_interval=3600),
            "web": {"enabled": False},
        },
    )
    async with running_hub(hub_config) as hub:
        assert hub.conductor is not None and hub.mqtt is not None
        await _health(watcher, hub_topics, lambda h: h["satellites"] == 0)
        async with running_satellite(sat_config):
            up = await _health(watcher, hub_topics, lambda h: h["satellites"] == 1)
            assert up["asr"] == "remote" and up["tts"] == "remote" and up["brain"] == "ok"
            # the hub drives it: the satellite's own device shows idle
            await watcher.wait_for(SAT.state, b"idle")
            mark = watcher.mark()
        await _health(watcher, hub_topics, lambda h: h["satellites"] == 0, after=mark)


async def _health(watcher: Watcher, topics: Topics, check: Any, after: int = 0) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        while True:
            for message in watcher.seen[after:]:
                if message.topic == topics.health and message.payload:
                    health = json.loads(message.payload)
                    if check(health):
                        assert isinstance(health, dict)
                        return health
            watcher.changed.clear()
            await watcher.changed.wait()
