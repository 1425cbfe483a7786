"""Several satellites asking at once: end of speech -> first answer audio against how many.

One hub (in process, its defaults: Whisper base, Piper, the brain) drives N satellites, each
its own process: a satellite-shaped Wyoming server that, when told "go", streams the spoken
request in real time like a microphone, then silence (``audio-stop`` after 0.8 s unless the hub
ends the turn on meaning first), and reports the seconds from the end of its speech to the
answer's first audio. Rounds of 1, 2, 4 and 8 satellites speaking at the same moment.

``--split`` runs the LLM in its own process, a real ``python -m llama_cpp.server`` with the
packaged 0.5B GGUF, reached through the OpenAI-compatible backend: the split deployment
(speech on the hub, the LLM on a server) on one box.

    python bench/load_bench.py [--request command|question] [--split] [--rounds 2] [--turns 8]
        [--label before]

Each level runs ``--rounds`` rounds, and more where that makes fewer than ``--turns`` turns (one
alone: 8 rounds), so that the "one alone" every ratio is taken against is a median of 8 too.

Adds its rows to ``## Load`` in docs/benchmarks.md and draws docs/load.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from endpoint_bench import BenchSatellite, hub_config  # noqa: E402

from familiar.server import WyomingServer  # noqa: E402
from familiar_testkit.benchdoc import read_section, replace_rows, replace_section  # noqa: E402
from familiar_testkit.benchhub import build_persona  # noqa: E402
from familiar_testkit.ports import free_port, wait_for_port  # noqa: E402

LEVELS = (1, 2, 4, 8)
REQUESTS = {"command": "Turn on the kitchen light.", "question": "When is Tom's birthday dinner?"}
RESULTS = ROOT / "bench" / "out" / "load.json"


# --- one satellite process ------------------------------------------------------------------


async def satellite_main(port: int, audio_path: Path) -> None:
    """Serve one satellite; on each "go" line on stdin, ask and print the result as JSON."""
    audio = await asyncio.to_thread(audio_path.read_bytes)
    satellite = BenchSatellite()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with WyomingServer(satellite, "127.0.0.1", port):
        await asyncio.wait_for(satellite.ready.wait(), 600)
        print(json.dumps({"ready": True}), flush=True)
        while line := await reader.readline():
            if line.strip() != b"go":
                continue
            try:
                turn = await asyncio.wait_for(satellite.ask([audio]), 300)
                result: dict[str, Any] = {
                    "first_audio": turn.first_audio,
                    "transcript": turn.transcript,
                    "ended_on_meaning": turn.after_stop is None,
                }
            except Exception as err:  # reported, counted as an error by the parent
                result = {"error": repr(err)}
            print(json.dumps(result), flush=True)


# --- the parent -----------------------------------------------------------------------------


class FailedAnswers(logging.Handler):
    """Counts turns the hub logs as failed or ended with an error code (an LLM timeout is
    spoken as an apology: the satellite cannot tell it from an answer)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith(("answer ended with", "turn failed")):
            self.count += 1


class SatelliteProcess:
    def __init__(self, port: int, audio: Path) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--satellite", str(port), "--audio", str(audio)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    async def line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        raw = await asyncio.to_thread(self.proc.stdout.readline)
        if not raw:
            raise RuntimeError(f"satellite on {self.port} exited")
        result: dict[str, Any] = json.loads(raw)
        return result

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_llm_server(port: int) -> subprocess.Popen[bytes]:
    from familiar_hub import models

    gguf = models.resolve("qwen2.5-0.5b-instruct")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"),
            *("--model_alias", "qwen"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, 300)
    return proc


def rounds_for(level: int, rounds: int, turns: int) -> int:
    """Rounds at ``level`` satellites at once: ``rounds``, or enough for ``turns`` turns."""
    return max(rounds, -(-turns // level))


def without_tts_cache(config: Any, keep: bool) -> Any:
    """The hub's config with Piper's phrase cache off unless ``keep``: every answer is then
    synthesised, as if it had never been said before."""
    if keep:
        return config
    return config.model_copy(update={"tts": config.tts.model_copy(update={"cache_chars": 0})})


async def run(
    request: str, split: bool, rounds: int, turns: int, tts_cache: bool = True
) -> dict[str, Any]:
    from familiar_hub.app import running_hub
    from familiar_testkit.broker import Mosquitto
    from familiar_testkit.speech import speak, words

    load_start = os.getloadavg()
    text = REQUESTS[request]
    failed = FailedAnswers()
    logging.getLogger("familiar_hub").addHandler(failed)
    levels: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        persona = build_persona(root)
        audio = root / "request.raw"
        audio.write_bytes(speak(text))
        broker = Mosquitto(root)
        broker.start()
        server = None
        satellites: list[SatelliteProcess] = []
        try:
            llm_port = free_port()
            if split:
                server = start_llm_server(llm_port)
            ports = [free_port() for _ in range(max(LEVELS))]
            llm = None
            if split:
                url = f"http://127.0.0.1:{llm_port}/v1"
                llm = {"backend": "openai", "url": url, "model": "qwen"}
            config = without_tts_cache(hub_config(persona, ports, broker.port, llm), tts_cache)
            satellites = [SatelliteProcess(port, audio) for port in ports]
            async with running_hub(config):
                for satellite in satellites:
                    assert (await satellite.line()).get("ready")
                # a warm-up turn on every satellite, one after the other
                for satellite in satellites:
                    satellite.go()
                    await satellite.line()
                for level in LEVELS:
                    firsts: list[float] = []
                    failed.count = 0
                    errors = 0
                    for _ in range(rounds_for(level, rounds, turns)):
                        chosen = satellites[:level]
                        for satellite in chosen:
                            satellite.go()
                        for result in await asyncio.gather(*(s.line() for s in chosen)):
                            if "error" in result or words(result["transcript"]) != words(text):
                                errors += 1
                            if "first_audio" in result:
                                firsts.append(result["first_audio"])
                    levels[level] = {
                        "median": statistics.median(firsts) if firsts else None,
                        "worst": max(firsts) if firsts else None,
                        "turns": len(firsts),
                        "errors": errors + failed.count,
                    }
                    print(level, levels[level], flush=True)
        finally:
            for satellite in satellites:
                satellite.stop()
            if server is not None:
                server.send_signal(signal.SIGINT)
                server.wait(30)
            broker.stop()
    return {
        "request": request,
        "split": split,
        "rounds": rounds,
        "min_turns": turns,
        "levels": levels,
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "cores": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def label(run: dict[str, Any]) -> str:
    what = "home command" if run["request"] == "command" else "persona question"
    where = "LLM on llama_cpp.server" if run["split"] else "all in the hub"
    return f"{what}, {where}" + (f", {run['label']}" if run.get("label") else "")


_INTRO = (
    "`python bench/load_bench.py --request command|question [--split]`: one hub drives "
    "8 satellites, each its own process streaming Piper's spoken request in real time; "
    "rounds of 1, 2, 4 and 8 of them speaking at the same moment (after one warm-up turn "
    "each), at least `--turns` (8) turns a level, so one alone is a median of 8 too. "
    "`--split` puts the LLM in a real `python -m llama_cpp.server` process "
    "reached through the OpenAI-compatible backend. An error is a wrong transcript, a "
    "lost turn, or a turn the hub logged as failed (e.g. an LLM timeout, spoken as an "
    "apology). Aim: 8 at once, median <= 2.5× one alone, no errors."
)


def run_rows(run: dict[str, Any]) -> list[str]:
    levels = {int(k): v for k, v in run["levels"].items()}
    single = levels[1]["median"]
    rows = []
    for x in sorted(levels):
        ratio = levels[x]["median"] / single if single else float("nan")
        rows.append(
            f"| {label(run)} | {x} | {levels[x]['median']:.2f} | {levels[x]['worst']:.2f} "
            f"| {ratio:.1f}× | {levels[x]['errors']} of {levels[x]['turns']} |"
        )
    rows.append(
        f"| ↳ load average {run['load_start'][0]:.1f} → {run['load_end'][0]:.1f} on "
        f"{run['cores']} cores, {run['when']}, {run['rounds']} rounds per level"
        + (f", at least {run['min_turns']} turns" if run.get("min_turns") else "")
        + " | | | | | |"
    )
    return rows


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table_medians(section: str) -> dict[str, dict[int, float]]:
    """Every run in the section's table (its own and earlier ones, from any machine): the
    median per number of satellites, by the run's name."""
    out: dict[str, dict[int, float]] = {}
    for line in section.splitlines():
        cells = _cells(line)
        if len(cells) == 6 and cells[1].isdigit():
            try:
                out.setdefault(cells[0], {})[int(cells[1])] = float(cells[2])
            except ValueError:
                continue
    return out


def write(run: dict[str, Any]) -> None:
    """This run's rows into ``## Load`` in place of its earlier ones (same request,
    deployment and label); the other runs' rows and the text written by hand stay. The plot
    is drawn from the whole table."""
    name = label(run)
    section = read_section("## Load") or "\n".join(
        [
            "## Load",
            "",
            _INTRO,
            "",
            "![latency against satellites](load.png)",
            "",
            "| request, deployment | satellites at once | end of speech → first audio, median (s) "
            "| worst (s) | × one alone | errors |",
            "|---|---|---|---|---|---|",
            "",
        ]
    )
    section = replace_rows(section, lambda row: _cells(row)[0] == name, run_rows(run))
    draw(section)
    replace_section("## Load", section)


def draw(section: str) -> None:
    """docs/load.png from every run in the section's table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = table_medians(section)
    kinds = [
        k for k in ("home command", "persona question") if any(n.startswith(k) for n in series)
    ]
    figure, panels = plt.subplots(1, len(kinds), figsize=(6.4 * len(kinds), 5.0), squeeze=False)
    for axes, kind in zip(panels[0], kinds, strict=True):  # seconds apart: one panel each
        for shown, medians in series.items():
            if shown.startswith(kind):
                xs = sorted(medians)
                axes.plot(xs, [medians[x] for x in xs], marker="o", label=shown)
        axes.set_title(kind + "s", fontsize=10)
        axes.set_xlabel("satellites asking at the same moment")
        axes.set_ylabel("end of speech → first audio, median (s)")
        axes.set_xticks(list(LEVELS))
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=6, loc="upper left")
    figure.tight_layout()
    figure.savefig(ROOT / "docs" / "load.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--request", choices=sorted(REQUESTS), default="command")
    parser.add_argument("--split", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--turns", type=int, default=8, help="at least this many turns a level")
    parser.add_argument(
        "--label",
        default="",
        help="names this run in the table and the plot (e.g. 'before'); it replaces only the "
        "earlier run of the same request, deployment and label",
    )
    parser.add_argument(
        "--no-tts-cache",
        action="store_true",
        help="Piper without its phrase cache: every answer synthesised (the bench repeats one "
        "request, so with the cache every answer after the warm-up is replayed)",
    )
    parser.add_argument("--satellite", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.satellite:
        asyncio.run(satellite_main(args.satellite, args.audio))
        return
    result = asyncio.run(
        run(args.request, args.split, args.rounds, args.turns, not args.no_tts_cache)
    )
    result["label"] = args.label
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))  # this run's raw figures
    write(result)


if __name__ == "__main__":
    main()
