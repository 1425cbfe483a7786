"""Phone page vs Pi satellite: end of speech -> first byte of answer audio, through one real hub.

The hub runs in process with its default models (Whisper base, Qwen2.5 0.5B, Piper) as in
``voice_loop_bench.py``. Two clients ask it the same home command, each streaming the spoken
request in real time (80 ms chunks) followed by silence:

- the Pi path: a satellite-shaped Wyoming server driven by the conductor (``run-pipeline``,
  audio, ``audio-stop`` after 0.8 s of silence as the satellite's VAD does, unless the hub
  ended the turn on meaning first: ``endpoint_bench.BenchSatellite``);
- the phone path: the phone page's WebSocket protocol (``hello``, ``listen`` as the page sends
  on a tap, then binary PCM); the hub's VAD ends the request. Also with the wake word
  ("Hey Jarvis." before the request) instead of the tap, heard by the hub: the fallback for
  pages that cannot run it. Where the page hears it (``wake{name}``, docs/web.md) the hub
  gets what a tap gives it, so the tap row stands for that path after the end of speech.

The clock starts when the last loud sample of speech was spoken (the speaker stopped) and
stops at the end of the request and at the first byte of answer audio. Replaces ``## Phone``
in docs/benchmarks.md.

    python bench/phone_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import aiohttp  # noqa: E402
from endpoint_bench import BenchSatellite, speech_samples  # noqa: E402

from familiar.server import WyomingServer  # noqa: E402
from familiar_hub.app import running_hub  # noqa: E402
from familiar_testkit.benchdoc import replace_section  # noqa: E402
from familiar_testkit.benchhub import bench_hub_config, bench_web, build_persona  # noqa: E402
from familiar_testkit.broker import Mosquitto  # noqa: E402
from familiar_testkit.ports import free_port  # noqa: E402
from familiar_testkit.speech import speak  # noqa: E402

REQUEST = "Turn on the kitchen light."
CHUNK = 2560  # 80 ms at 16 kHz, 16-bit


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


async def stream(ws: aiohttp.ClientWebSocketResponse, audio: bytes, speech_end: int = 0) -> float:
    """Send in real time, each 80 ms chunk once it has been recorded; the moment the sample
    ``speech_end`` was spoken (``time.perf_counter``)."""
    begin = time.perf_counter()
    for n, i in enumerate(range(0, len(audio), CHUNK)):
        await asyncio.sleep(max(0.0, begin + (n + 1) * 0.08 - time.perf_counter()))
        await ws.send_bytes(audio[i : i + CHUNK])
    return begin + speech_end / 16000


async def phone_turn(
    ws: aiohttp.ClientWebSocketResponse, lead: bytes, speech: bytes, tap: bool
) -> tuple[float, float]:
    """Seconds from the end of speech (the last loud sample of ``speech``, after ``lead``) to
    the hub's end of the request (its VAD, or the words at the speaker's pause), and to the
    first byte of answer audio."""
    if tap:
        await ws.send_str(json.dumps({"type": "listen"}))
    first_audio = asyncio.get_running_loop().create_future()
    ended: list[float] = []

    async def read() -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY and not first_audio.done():
                first_audio.set_result(time.perf_counter())
            elif message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if data["type"] == "state" and data["state"] == "thinking" and not ended:
                    ended.append(time.perf_counter())
                if data["type"] == "audio-stop":
                    await ws.send_str(json.dumps({"type": "played"}))
                if data["type"] == "state" and data["state"] == "idle" and first_audio.done():
                    return

    reader = asyncio.create_task(read())
    end_of_speech = await stream(ws, lead + speech, len(lead) // 2 + speech_samples(speech))
    # keep the microphone open (silence) until the answer is over, as the page does
    feeder = asyncio.create_task(stream(ws, silence(30)))
    try:
        first = await asyncio.wait_for(first_audio, 120)
        await asyncio.wait_for(reader, 120)
    finally:
        feeder.cancel()
        reader.cancel()
    return ended[0] - end_of_speech, first - end_of_speech


async def main(runs: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        persona = build_persona(Path(tmp))
        broker = Mosquitto(Path(tmp), free_port())  # the light command goes here
        broker.start()
        try:
            return await _run(Path(tmp), persona, broker.port, runs)
        finally:
            broker.stop()


async def _run(tmp: Path, persona: Path, broker_port: int, runs: int) -> list[str]:
    satellite = BenchSatellite()
    port = free_port()
    config = bench_hub_config(persona, [port], broker_port, web=bench_web(tmp / "web"))
    request = speak(REQUEST)
    wake = speak("Hey Jarvis.") + silence(0.8)
    async with WyomingServer(satellite, "127.0.0.1", port), running_hub(config) as hub:
        assert hub.web is not None and hub.web.context is not None
        _, token = hub.web.context.credentials.issue("phone", "bench")
        await asyncio.wait_for(satellite.ready.wait(), 30)
        results: dict[str, list[tuple[float, float]]] = {
            "Pi satellite": [],
            "phone, tap": [],
            "phone, wake word": [],
        }
        await satellite.ask([request])  # warm-up
        for _ in range(runs):
            turn = await satellite.ask([request])
            results["Pi satellite"].append((turn.ended, turn.first_audio))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connector = aiohttp.TCPConnector(ssl=context)
        url = hub.web.url.replace("https", "wss") + "/ws/phone"
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.ws_connect(url) as ws,
        ):
            await ws.send_str(json.dumps({"type": "hello", "token": token, "rate": 16000}))
            while json.loads((await ws.receive()).data)["type"] != "ready":
                pass
            await phone_turn(ws, silence(0.5), request, tap=True)  # warm-up
            for _ in range(runs):
                results["phone, tap"].append(await phone_turn(ws, silence(0.5), request, tap=True))
            for _ in range(runs):
                results["phone, wake word"].append(
                    await phone_turn(ws, silence(1.0) + wake, request, tap=False)
                )
    rows = []
    for name, values in results.items():
        ends = [value[0] for value in values]
        firsts = [value[1] for value in values]
        rows.append(
            f"| {name} | {statistics.median(ends):.2f} | {statistics.median(firsts):.2f} "
            f"| {max(firsts):.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def write(rows: list[str], runs: int) -> None:
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "## Phone",
            "",
            "`python bench/phone_bench.py`: one hub in process with its defaults (Whisper "
            'base, Qwen2.5 0.5B, Piper), asked the home command "Turn on the kitchen light." '
            "by a Pi-shaped Wyoming satellite (driven by the conductor) and by a phone speaking "
            'the page\'s WebSocket protocol (a tap, or "Hey Jarvis." first), each streaming in '
            "real time. Seconds from the end of speech (the last speech sample sent) to the end "
            "of the request and to the answer's first audio byte, median and worst of "
            f"{runs} after a warm-up. Load average {load:.1f} on {os.cpu_count()} cores. "
            "*End of speech* is when the last loud sample was spoken; each 80 ms chunk is sent "
            "once it has been recorded. The Pi satellite sends `audio-stop` 0.8 s after the "
            "speech (its VAD) unless the hub has ended the turn on meaning first (it sent the "
            "transcript: the satellite stops streaming, as in `endpoint_bench.py`); for a phone "
            "the hub ends the request, on meaning or by its own VAD (pymicro-vad, 0.8 s of "
            "silence), and the page keeps its microphone open. So the paths differ only in "
            "transport.",
            "",
            "| client | request ended (median) | first audio (median) | first audio (worst) |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    replace_section(section.split("\n", 1)[0], section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    write(asyncio.run(main(args.runs)), args.runs)
