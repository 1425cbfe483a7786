"""Satellite CPU and memory while listening for wake words.

Runs ``familiar satellite`` as its own process with a microphone command that delivers
16 kHz audio (noise with quiet and loud stretches) in real time, connects a controller like
Home Assistant does (describe, run-satellite; no pings, so the satellite sends none), and
samples the satellite's CPU time and RSS from /proc for ``--seconds`` (default 60).

    python bench/satellite_bench.py [--seconds 60] [--words hey_jarvis ...] [--engine ...]
        [--gate on|off] [--talk]

Aims: <= 8 % of one core, <= 150 MB RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from wyoming.info import Info

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 16000
CHUNK_SECONDS = 0.08


TALK = "I was thinking we could go to the market on Saturday and buy some fresh bread."


def source(seconds: float, talk: bool) -> None:
    """The microphone: paced noise on stdout, in real time, forever; with ``talk``, every
    other 5 s stretch is someone talking (no wake word) instead of loud noise."""
    import numpy as np

    rng = np.random.default_rng(0)
    chunk = round(RATE * CHUNK_SECONDS)
    speech = np.zeros(0, dtype="<i2")
    if talk:
        from familiar_testkit.speech import speak

        speech = np.frombuffer(speak(TALK), dtype="<i2")
    out = sys.stdout.buffer
    start = time.monotonic()
    sent = 0
    while True:
        level = 0.01 if (sent // (RATE * 5)) % 2 == 0 else 0.1
        samples = (rng.normal(0, level, chunk) * 32767).clip(-32768, 32767).astype("<i2")
        if talk and level > 0.01:
            at = (sent % (RATE * 5)) % max(1, speech.size - chunk)
            samples = speech[at : at + chunk]
        out.write(samples.tobytes())
        out.flush()
        sent += chunk
        delay = start + sent / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _proc_times(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench(
    seconds: float, words: list[str], engine: str, gate: bool, talk: bool
) -> dict[str, object]:
    from wyoming.info import Describe
    from wyoming.satellite import RunSatellite

    from familiar.client import WyomingClient

    port = 10788
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "satellite.yaml"
        wake = "\n".join(f"    - {{model: {w}, engine: {engine}}}" for w in words)
        config.write_text(
            f"name: bench\nlisten: {{uri: 'tcp://127.0.0.1:{port}'}}\n"
            "zeroconf: {enabled: false}\n"
            f"mic: {{command: [{sys.executable}, {__file__}, --source"
            f"{', --talk' if talk else ''}]}}\n"
            "snd: {command: [sh, -c, 'cat > /dev/null']}\n"
            f"wake:\n  speech_gate: {'true' if gate else 'false'}\n  words:\n{wake}\n"
            "logging: {level: WARNING}\n",
            encoding="utf-8",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "familiar",
            "--log-level",
            "WARNING",
            "satellite",
            "-c",
            str(config),
            cwd=ROOT,
        )
        try:
            async with asyncio.timeout(60):
                while True:
                    try:
                        client = WyomingClient(f"tcp://127.0.0.1:{port}")
                        await client.__aenter__()
                        break
                    except Exception:
                        await asyncio.sleep(0.2)
            await client.send(Describe().event())
            await client.expect(Info, 5)
            await client.send(RunSatellite().event())
            await asyncio.sleep(3.0)  # settle: models loaded, mic running
            cpu0, t0 = _proc_times(proc.pid), time.monotonic()
            rss_peak = 0.0
            while time.monotonic() - t0 < seconds:
                rss_peak = max(rss_peak, _rss_mb(proc.pid))
                await asyncio.sleep(2.0)
            cpu1, t1 = _proc_times(proc.pid), time.monotonic()
            await client.aclose()
        finally:
            proc.terminate()
            await proc.wait()
    return {
        "seconds": round(t1 - t0, 1),
        "words": words,
        "engine": engine,
        "speech_gate": gate,
        "mic": "noise and talking" if talk else "noise",
        "load_average": round(os.getloadavg()[0], 1),
        "cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 2),
        "rss_mb_peak": round(rss_peak, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--words", nargs="+", default=["hey_jarvis"])
    parser.add_argument("--engine", default="openwakeword")
    parser.add_argument("--gate", choices=["on", "off"], default="on", help="wake.speech_gate")
    parser.add_argument("--talk", action="store_true", help="half the time someone talks")
    args = parser.parse_args()
    if args.source:
        source(args.seconds, args.talk)
        return 0
    result = bench(args.seconds, args.words, args.engine, args.gate == "on", args.talk)
    print(json.dumps(asyncio.run(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
