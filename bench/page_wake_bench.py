"""The phone's wake word: its cost in the browser against the hub's, on the same speech.

The hub's web server runs in process (no voice loop: only its pages and the wake word files).
Real headless Chromium loads the phone page's wake word worker (``static/wake-worker.js``:
pyopen-wakeword's TFLite models on the TFLite Web API in WebAssembly) and is fed Piper speech
in the page's 80 ms blocks, as fast as it takes them; the hub's ``OpenWakeWordListener``
(pyopen-wakeword, what a phone costs the hub in the fallback) gets the same blocks. Reports
the load time, the first block (it fills 8 s of silence, as pyopen-wakeword does), the mean
of the blocks after it, and the share of a core that means in real time. Replaces
``## Phone wake word`` in docs/benchmarks.md.

    python bench/page_wake_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from familiar_hub.config import WebConfig
from familiar_hub.web.server import WebServer
from familiar_testkit.benchdoc import replace_section
from familiar_testkit.benchhub import bench_web
from familiar_testkit.browser import PHONE, chromium
from familiar_testkit.speech import speak

BLOCK = 1280
TEXT = (
    "Hey Jarvis, turn on the kitchen light. The rainbow is a division of white light into "
    "many beautiful colours. These take the shape of a long round arch, with its path high "
    "above, and its two ends apparently beyond the horizon."
)

FEED = """
const [config, b64, done] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const pcm = new Int16Array(bytes.buffer);
const worker = new Worker("/static/wake-worker.js");
const began = performance.now();
let loadMs = 0, wakes = 0;
worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === "failed") done({ failed: m.reason });
  else if (m.type === "loaded") {
    loadMs = performance.now() - began;
    for (let i = 0; i < pcm.length; i += 1280)
      worker.postMessage({ type: "audio", seq: i, pcm: pcm.slice(i, i + 1280) });
    worker.postMessage({ type: "scores" });
  } else if (m.type === "wake") wakes++;
  else if (m.type === "scores")
    done({ loadMs, wakes, chunks: m.chunks, firstMs: m.firstMs, busyMs: m.busyMs });
};
worker.postMessage({ type: "load", config, rate: 16000 });
"""


def in_browser(url: str, config: dict[str, Any], pcm: bytes) -> dict[str, Any]:
    with chromium(None, PHONE) as driver:
        driver.get(url + "/phone")
        driver.set_script_timeout(300)
        result: dict[str, Any] = driver.execute_async_script(
            FEED, config, base64.b64encode(pcm).decode()
        )
    if "failed" in result:
        raise RuntimeError(result["failed"])
    return result


def on_the_hub(pcm: bytes, words: list[str], threshold: float) -> dict[str, float]:
    from familiar_hub.web.backends.listening import OpenWakeWordListener

    began = time.perf_counter()
    listener = OpenWakeWordListener(words, threshold)
    load = time.perf_counter() - began
    try:
        blocks = [pcm[i : i + BLOCK * 2] for i in range(0, len(pcm), BLOCK * 2)]
        began = time.perf_counter()
        wakes = len(listener.process(blocks[0]))
        first = time.perf_counter() - began
        began = time.perf_counter()
        for block in blocks[1:]:
            wakes += len(listener.process(block))
        rest = time.perf_counter() - began
    finally:
        listener.close()
    return {
        "loadMs": load * 1000,
        "firstMs": first * 1000,
        "blockMs": rest * 1000 / (len(blocks) - 1),
        "wakes": wakes,
    }


async def main(runs: int) -> tuple[list[str], float]:
    pcm = speak(TEXT)
    seconds = len(pcm) / 32000
    with tempfile.TemporaryDirectory() as tmp:
        config = WebConfig.model_validate(bench_web(Path(tmp) / "web"))
        async with WebServer(config, None, None, None) as server:
            assert server.context is not None and server.context.browser_wake is not None
            wake = server.context.browser_wake
            if not wake.available:
                raise SystemExit(f"no browser wake word: {wake.missing}")
            page, hub = [], []
            for _ in range(runs):
                got = await asyncio.to_thread(in_browser, server.url, wake.page_config(), pcm)
                got["blockMs"] = got["busyMs"] / (got["chunks"] - 1)
                page.append(got)
                hub.append(await asyncio.to_thread(on_the_hub, pcm, wake.words, wake.threshold))
    rows = []
    blocks = []
    for name, results in (("phone page (WebAssembly)", page), ("hub (pyopen-wakeword)", hub)):
        load = statistics.median(r["loadMs"] for r in results)
        first = statistics.median(r["firstMs"] for r in results)
        block = statistics.median(r["blockMs"] for r in results)
        blocks.append(block)
        rows.append(
            f"| {name} | {load:.0f} | {first:.0f} | {block:.2f} | {100 * block / 80:.1f} % "
            f"| {results[0]['wakes']} |"
        )
        print(rows[-1], flush=True)
    rows.append("")
    rows.append(
        f"Verdict: the page spends {blocks[0]:.1f} ms of the phone's time per 80 ms block, "
        f"{blocks[0] / blocks[1]:.0%} of what the same detection costs the hub per phone in "
        "the fallback; with the wake word in the page the hub spends nothing on an idle phone "
        "and receives nothing from it (docs/web.md). The scores are the same "
        "(tests/web/test_browser_wake.py)."
    )
    return rows, seconds


def write(rows: list[str], runs: int, seconds: float) -> None:
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "## Phone wake word",
            "",
            "`python bench/page_wake_bench.py`: the phone page's wake word worker in headless "
            "Chromium (pyopen-wakeword's TFLite models on the TFLite Web API in WebAssembly, "
            "single thread) against the hub's `OpenWakeWordListener` (pyopen-wakeword) on the "
            f"same {seconds:.0f} s of Piper speech in 80 ms blocks (`hey_jarvis`). Load: worker "
            "start to models ready (runtime and models from the hub on loopback) or listener "
            "made; first block: it also fills 8 s of silence; then the mean block and the share "
            f"of one core it takes in real time. Median of {runs}. Load average {load:.1f} on "
            f"{os.cpu_count()} cores.",
            "",
            "| where | load (ms) | first block (ms) | per 80 ms block (ms) | of a core | wakes |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    replace_section(section.split("\n", 1)[0], section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows, seconds = asyncio.run(main(args.runs))
    write(rows, args.runs, seconds)
