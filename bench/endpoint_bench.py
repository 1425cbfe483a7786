"""End of speech -> first answer audio, ending the turn on meaning vs on silence; false cuts.

The hub runs in process with its defaults (Whisper base, Qwen2.5 0.5B, Piper), a 20-email
persona store and a kitchen light and bedroom lamp on a real Mosquitto. A satellite-shaped
Wyoming server plays the satellite the conductor drives: it streams the spoken request (Piper)
in real time, 80 ms chunks each sent when it would have been recorded, then silence; it sends
``audio-stop`` after 0.8 s of silence (its VAD), and stops streaming at once when the hub sends
``transcript`` first (as ``familiar satellite`` and rhasspy's wyoming-satellite do).

*End of speech* is the moment the last speech sample would have been spoken. Each run is
measured in three modes, alternating, so all see the same load: ``conductor.end_on_meaning``
on (the pause transcript is first a quick look: ``asr.quick_window_seconds``), on without the
quick look (``asr.quick_window_seconds: 0``), and off (only the silence ends the turn).

False cuts: commands spoken with a 0.5 s pause in the middle ("Turn on the ... kitchen
light"): the pause is longer than the hub's 0.3 s early start and shorter than the 0.8 s VAD
silence. A false cut is a turn the hub ended before the second half had been spoken.

    python bench/endpoint_bench.py [--runs 5] [--window 30]

Replaces ``## Endpointing`` (``## Endpointing, 10 s Whisper window`` with ``--window 10``) in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.event import Event  # noqa: E402
from wyoming.pipeline import PipelineStage, RunPipeline  # noqa: E402

from familiar.server import WyomingServer  # noqa: E402
from familiar_hub.app import running_hub  # noqa: E402
from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr  # noqa: E402
from familiar_hub.brain.brain import Brain  # noqa: E402
from familiar_hub.config import HubConfig  # noqa: E402
from familiar_testkit.benchdoc import replace_section  # noqa: E402
from familiar_testkit.benchhub import (  # noqa: E402
    BEDROOM_LAMP,
    KITCHEN_LIGHT,
    SatelliteStub,
    bench_hub_config,
    bench_web,
    build_persona,
)
from familiar_testkit.broker import Mosquitto  # noqa: E402
from familiar_testkit.ports import free_port  # noqa: E402
from familiar_testkit.speech import speak, words  # noqa: E402

RATE = 16000
CHUNK = 1280
"""Samples per microphone chunk (80 ms, the satellite's default)."""
VAD_SILENCE = 0.8
MID_PAUSE = 0.5

SCENARIOS = {
    "home command": ["Turn on the kitchen light."],
    "persona question": [
        "When is Tom's birthday dinner?",
        "When is my dental check-up?",
        "When is the Volvo's service?",
        "When does the rent go up?",
        "When is Biscuit's vaccination?",
        "When is sports day?",
        "Which book is overdue?",
    ],
}
"""Each turn asks the next of its request's texts: a question asked again right after itself
finds its whole prompt in llama.cpp's cache, which a new question never does."""
PAUSED = [
    ("Turn on the", "kitchen light."),
    ("Turn off the", "bedroom lamp."),
    ("Turn on the kitchen", "light."),
    ("Set a timer for", "five minutes."),
    ("When is Tom's", "birthday dinner?"),
    ("What did the plumber", "say about Friday?"),
    ("Turn off the bedroom", "lamp please."),
    ("When is", "the plumber coming?"),
]


def speech_samples(pcm: bytes) -> int:
    """Samples up to the end of the last 10 ms frame louder than background."""
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    frames = audio[: audio.size - audio.size % 160].reshape(-1, 160)
    loud = np.nonzero(np.abs(frames).max(axis=1) > 300)[0]
    return int((loud[-1] + 1) * 160) if loud.size else 0


@dataclass
class Turn:
    first_audio: float
    """Seconds from the end of speech to the answer's first audio."""
    ended: float
    """Seconds from the end of speech to the end of the request: ``audio-stop``, or the
    transcript when the hub ended the turn first."""
    after_stop: float | None
    """Seconds from ``audio-stop`` to the first audio (None: the hub ended the turn first)."""
    transcript: str
    cut: bool
    """The hub ended the turn before the last speech had been sent."""


class BenchSatellite(SatelliteStub):
    def __init__(self) -> None:
        super().__init__()
        self.transcript: tuple[float, str] | None = None
        self.first_audio: float | None = None
        self.got_audio = asyncio.Event()

    def observe(self, event: Event) -> None:
        if event.type == "transcript":
            self.transcript = (time.perf_counter(), str(event.data.get("text", "")))
        elif event.type == "audio-chunk" and self.first_audio is None:
            self.first_audio = time.perf_counter()
            self.got_audio.set()

    async def ask(self, parts: list[bytes]) -> Turn:
        """Speak ``parts`` with ``MID_PAUSE`` of silence between them, then the VAD's tail."""
        assert self.conn is not None
        self.transcript, self.first_audio = None, None
        self.got_audio.clear()
        self.done.clear()
        gap = bytes(int(MID_PAUSE * RATE) * 2)
        audio = gap.join(parts)
        speech_end = len(audio) // 2 - len(parts[-1]) // 2 + speech_samples(parts[-1])
        audio += bytes(int(VAD_SILENCE * RATE) * 2)
        await self.conn.send(
            RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event()
        )
        await self.conn.send(AudioStart(rate=RATE, width=2, channels=1).event())
        begin = time.perf_counter()
        spoken_end = begin + speech_end / RATE
        stopped: float | None = None
        for n, i in enumerate(range(0, len(audio), CHUNK * 2)):
            # a chunk leaves the microphone once it has been recorded
            await asyncio.sleep(max(0.0, begin + (n + 1) * CHUNK / RATE - time.perf_counter()))
            if self.transcript is not None:
                break  # the hub ended the turn: stop streaming
            await self.conn.send(
                AudioChunk(rate=RATE, width=2, channels=1, audio=audio[i : i + CHUNK * 2]).event()
            )
        else:
            stopped = time.perf_counter()
            await self.conn.send(AudioStop().event())
        await asyncio.wait_for(self.got_audio.wait(), 180)
        await asyncio.wait_for(self.done.wait(), 180)
        assert self.first_audio is not None and self.transcript is not None
        return Turn(
            first_audio=self.first_audio - spoken_end,
            ended=(stopped if stopped is not None else self.transcript[0]) - spoken_end,
            after_stop=None if stopped is None else self.first_audio - stopped,
            transcript=self.transcript[1],
            cut=self.transcript[0] < spoken_end,
        )


class Asker:
    """Asks its texts in turn through the bench satellite, in the mode it is given."""

    def __init__(
        self,
        satellite: BenchSatellite,
        services: Any,
        asr: FasterWhisperAsr,
        llm: Any,
        texts: list[str],
    ) -> None:
        self.satellite, self.services, self.asr, self.llm = satellite, services, asr, llm
        self.audios = [speak(text) for text in texts]
        self.asked = 0
        self.evaluated: list[int] = []
        """Prompt tokens the LLM evaluated for each turn (the rest was in its cache)."""

    async def ask(self, endpointer: Any, asr_config: Any) -> Turn:
        self.services.endpointer, self.asr.config = endpointer, asr_config
        turn = await self.satellite.ask([self.audios[self.asked % len(self.audios)]])
        self.asked += 1
        self.evaluated.append(self.llm.last_stats.prompt_tokens_evaluated or 0)
        return turn


async def false_cuts(satellite: BenchSatellite) -> tuple[int, int, int, list[str]]:
    """The commands spoken with a pause in the middle: how many the hub cut, how many ended
    at the final pause, how many were heard word for word, and a row for each."""
    cuts, ended_early, right = 0, 0, 0
    cut_rows = []
    for first, second in PAUSED:
        turn = await satellite.ask([speak(first), speak(second)])
        whole = words(f"{first} {second}")
        cuts += turn.cut
        ended_early += turn.after_stop is None
        right += words(turn.transcript) == whole
        heard = "cut" if turn.cut else "whole"
        cut_rows.append(
            f"| {first} … {second} | {turn.transcript} | {heard} "
            f"| {'pause' if turn.after_stop is None else 'silence'} "
            f"| {turn.first_audio:.2f} |"
        )
        print(cut_rows[-1], flush=True)
    return cuts, ended_early, right, cut_rows


def hub_config(
    persona: Path,
    satellite_ports: list[int],
    broker_port: int,
    llm: dict[str, Any] | None = None,
    window_seconds: float = 30.0,
) -> HubConfig:
    """The bench hub with two lights; ``llm`` replaces the brain's LLM settings."""
    config = bench_hub_config(
        persona,
        satellite_ports,
        broker_port,
        lights=[KITCHEN_LIGHT, BEDROOM_LAMP],
        name_satellites=True,
        llm=llm,
        asr={"window_seconds": window_seconds},
        web=bench_web(persona.parent / "web"),  # not the default port: another hub may hold it
    )
    # every question its own conversation: a question's own cost, not a growing history's
    conductor = config.conductor.model_copy(update={"conversation_seconds": 0.0})
    return config.model_copy(update={"conductor": conductor})


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


async def main(runs: int, window: float) -> list[str]:
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        persona = build_persona(Path(tmp))
        broker = Mosquitto(Path(tmp))
        broker.start()
        satellite = BenchSatellite()
        port = free_port()
        rows: list[str] = []
        try:
            config = hub_config(persona, [port], broker.port, window_seconds=window)
            async with WyomingServer(satellite, "127.0.0.1", port), running_hub(config) as hub:
                await asyncio.wait_for(satellite.ready.wait(), 60)
                assert hub.conductor is not None
                services = hub.conductor.services
                brain = services.endpointer
                responder = services.responder
                assert isinstance(responder, Brain) and responder.llm is not None
                llm = responder.llm
                asr = services.asr
                assert isinstance(asr, FasterWhisperAsr)
                quick = asr.config
                no_quick = quick.model_copy(update={"quick_window_seconds": 0.0})
                modes = {
                    "on meaning": (brain, quick),
                    "on meaning, no quick look": (brain, no_quick),
                    "on silence only": (None, quick),
                }
                lines = []
                medians: dict[tuple[str, str], tuple[float, float | None]] = {}
                evaluated: list[int] = []
                for name, texts in SCENARIOS.items():
                    asker = Asker(satellite, services, asr, llm, texts)
                    for endpointer, asr_config in modes.values():  # warm-up
                        await asker.ask(endpointer, asr_config)
                    asker.evaluated.clear()
                    turns: dict[str, list[Turn]] = {mode: [] for mode in modes}
                    for _ in range(runs):
                        for mode, (endpointer, asr_config) in modes.items():
                            turns[mode].append(await asker.ask(endpointer, asr_config))
                    if name == "persona question":
                        evaluated = asker.evaluated
                    for mode, done in turns.items():
                        firsts = [t.first_audio for t in done]
                        stops = [t.after_stop for t in done if t.after_stop is not None]
                        early = sum(t.after_stop is None for t in done)
                        medians[name, mode] = (
                            statistics.median(firsts),
                            statistics.median(stops) if stops else None,
                        )
                        lines.append(
                            f"| {name} | {mode} | {median(firsts)} | {max(firsts):.2f} "
                            f"| {median(stops)} | {early}/{len(done)} |"
                        )
                        print(lines[-1], flush=True)
                services.endpointer, asr.config = brain, quick
                cuts, ended_early, right, cut_rows = await false_cuts(satellite)
                rows = [
                    *lines,
                    "",
                    f"Persona questions: {len(SCENARIOS['persona question'])} questions in "
                    "turn, each its own conversation; prompt tokens the LLM evaluated per "
                    f"answer (the rest was in its cache): median {statistics.median(evaluated):.0f}"
                    f", {min(evaluated)}–{max(evaluated)}.",
                    "",
                    f"False cuts: **{cuts} of {len(PAUSED)}** commands spoken with a "
                    f"{MID_PAUSE} s pause in the middle; {ended_early} still ended at the "
                    f"final pause (before the VAD's silence); {right} transcripts word-exact.",
                    "",
                    "| spoken (… = 0.5 s pause) | transcript | turn | ended at | "
                    "end of speech → first audio (s) |",
                    "|---|---|---|---|---|",
                    *cut_rows,
                    "",
                    verdict(medians, cuts),
                ]
        finally:
            broker.stop()
    load_end = os.getloadavg()
    return [
        f"Load average (1/5/15 min) at the start {load_start[0]:.1f}/{load_start[1]:.1f}/"
        f"{load_start[2]:.1f}, at the end {load_end[0]:.1f}/{load_end[1]:.1f}/"
        f"{load_end[2]:.1f}, on {os.cpu_count()} cores; {runs} runs per mode after one "
        f"warm-up each, the modes alternating; `asr.window_seconds: {window:g}`.",
        "",
        "| request | turn ends | end of speech → first audio, median (s) | worst (s) "
        "| `audio-stop` → first audio, median (s) | ended at the pause |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def verdict(medians: dict[tuple[str, str], tuple[float, float | None]], cuts: int) -> str:
    """The aims against this run's medians; the quick look against none in the same run."""
    command = medians["home command", "on meaning"][0]
    without = medians["home command", "on meaning, no quick look"][0]
    silence = medians["home command", "on silence only"][0]
    question = medians["persona question", "on silence only"][1]
    met = "met" if command <= 0.6 else "not met"
    asked = "-" if question is None else f"{question:.2f} s"
    question_met = "met" if question is not None and question <= 2.0 else "not met"
    return (
        f"**Verdict (this run).** Home command, end of speech → first audio: {command:.2f} s"
        f" with the quick look, {without:.2f} s without it ({command / without:.2f}×, same"
        f" run), {silence:.2f} s when only the silence ends the turn; aim <= 0.6 s: {met}."
        f" Persona question, `audio-stop` → first audio (silence only): {asked}; aim <= 2.0 s:"
        f" {question_met}. False cuts: {cuts} of {len(PAUSED)}. Wall-clock figures follow the"
        " load average above: compare the modes, measured in turn."
    )


def write(rows: list[str], window: float) -> None:
    section = "\n".join(
        [
            "## Endpointing",
            "",
            "`python bench/endpoint_bench.py`: the hub in process with its defaults (Whisper "
            "base, Qwen2.5 0.5B, Piper), a 20-email persona store, two lights on a real "
            "Mosquitto; a satellite-shaped server streams Piper's spoken request in real time "
            "(80 ms chunks, each sent when it would have been recorded), then silence: "
            "`audio-stop` after 0.8 s (its VAD), or nothing more once the hub has sent "
            "`transcript` (the hub ended the turn on meaning). *End of speech* is when the last "
            "speech sample was spoken. Aims: home command <= 0.6 s from the end of speech; "
            "persona question <= 2.0 s from `audio-stop` (on meaning there is no `audio-stop`: "
            "the end of speech is earlier still).",
            "",
            *rows,
            "",
        ]
    )
    heading = "## Endpointing" if window >= 30 else f"## Endpointing, {window:g} s Whisper window"
    replace_section(heading, section.replace("## Endpointing", heading, 1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--window", type=float, default=30.0, help="asr.window_seconds (30: Whisper's own)"
    )
    args = parser.parse_args()
    write(asyncio.run(main(args.runs, args.window)), args.window)
