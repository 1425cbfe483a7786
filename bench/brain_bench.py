"""Brain latency: transcript -> first TTS audio, and -> end, for a home command and a RAG
question, per packaged LLM; generation speed. Appends/replaces ``## Brain`` in
docs/benchmarks.md.

    python bench/brain_bench.py [--runs 3]
        [--models qwen2.5-coder-0.5b-instruct qwen2.5-coder-1.5b-instruct]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from familiar.errors import FamiliarError  # noqa: E402
from familiar_hub import models  # noqa: E402
from familiar_hub.brain.backends.llama_cpp import LlamaCppLlm  # noqa: E402
from familiar_hub.brain.brain import Brain  # noqa: E402
from familiar_hub.brain.home import Entity, ServiceCall  # noqa: E402
from familiar_hub.config import BrainConfig, TtsConfig  # noqa: E402
from familiar_hub.tts.backends.piper import PiperTts  # noqa: E402
from familiar_testkit.corpus import EmailRetriever  # noqa: E402

SCENARIOS = {
    "home command": "turn on the kitchen light",
    "RAG question": "When is Tom's birthday dinner?",
}
ENTITIES = [
    Entity("light.kitchen", "Kitchen Light", "Kitchen"),
    Entity("cover.garage_door", "Garage Door", "Garage"),
    Entity("climate.thermostat", "Thermostat", "Living Room"),
]


class DryRunExecutor:
    name = "dry-run"

    async def entities(self) -> list[Entity]:
        return []

    async def call(self, call: ServiceCall) -> None:
        return None


async def one_turn(brain: Brain, tts: PiperTts, text: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    first_audio = None
    chunks = 0
    async with brain.respond(text) as reply:
        async for sentence in reply:
            async for _audio in tts.synthesize(sentence, None):
                chunks += 1
                if first_audio is None:
                    first_audio = time.perf_counter() - start
    end = time.perf_counter() - start
    return first_audio if first_audio is not None else end, end, chunks


async def bench_model(name: str, runs: int, threads: int) -> list[str]:
    llm = LlamaCppLlm(name, n_ctx=2048, n_threads=threads)
    rows = []
    config = BrainConfig(max_tokens=60, temperature=0.0)
    async with (
        llm,
        PiperTts(TtsConfig()) as tts,
        Brain(
            config,
            llm,
            EmailRetriever(),
            executor=DryRunExecutor(),
            entities=ENTITIES,
            persona_name="Anna",
        ) as brain,
    ):
        for label, text in SCENARIOS.items():
            await one_turn(brain, tts, text)  # warm-up: persona prefix into the KV cache
            firsts, ends = [], []
            for _ in range(runs):
                first, end, _chunks = await one_turn(brain, tts, text)
                firsts.append(first)
                ends.append(end)
            stats = llm.last_stats
            rows.append(
                f"| {name} | {label} | {statistics.median(firsts):.2f} | "
                f"{statistics.median(ends):.2f} | "
                f"{stats.prompt_tokens or '-'} / {stats.prompt_tokens_evaluated or '-'} |"
            )
        # generation speed, without TTS
        start = time.perf_counter()
        pieces = [
            p async for p in llm.stream([*brain_messages(brain)], max_tokens=64, temperature=0.0)
        ]
        elapsed = time.perf_counter() - start
        generated = llm.last_stats.completion_tokens or len(pieces)
        rows.append(f"| {name} | generation | {generated / elapsed:.1f} tok/s (incl. prompt) | | |")
    return rows


def brain_messages(brain: Brain) -> list[object]:
    from familiar_hub.brain.backend import ChatMessage

    return [
        ChatMessage("system", brain.system_prompt),
        ChatMessage("user", "Tell me a short story about a cat, in five sentences."),
    ]


def write(rows: list[str], runs: int, threads: int) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    load = os.getloadavg()
    section = "\n".join(
        [
            "## Brain",
            "",
            f"`python bench/brain_bench.py` on {platform.machine()}, {os.cpu_count()} cores "
            f"(llama.cpp {threads} threads, load average at the end {load[0]:.1f}: the cores "
            f"are shared), median of {runs} runs after one warm-up turn. Transcript in -> "
            "first Piper audio chunk out, and -> all audio synthesized. Home commands take the "
            "template path (no LLM); RAG questions retrieve from a 20-email test corpus.",
            "",
            "| model | turn | first audio (s) | end (s) | prompt tokens / evaluated |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Aims: home command <= 0.5 s to first audio; RAG <= 1.5 s with the 0.5B model.",
            "",
        ]
    )
    text = re.sub(r"\n## Brain\n.*?(?=\n## |\Z)", "\n", text, flags=re.DOTALL).rstrip() + "\n\n"
    path.write_text(text + section)
    print(section)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--models",
        nargs="+",
        default=["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"],
    )
    args = parser.parse_args()
    rows = []
    for name in args.models:
        try:
            models.resolve(name)
        except FamiliarError as err:
            print(f"{name}: skipped ({err})")
            continue
        rows += asyncio.run(bench_model(name, args.runs, args.threads))
    write(rows, args.runs, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
