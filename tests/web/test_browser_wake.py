"""The wake word in the browser scores as the hub's does: the page's worker (TFLite compiled to
WebAssembly, in real headless Chromium) and pyopen-wakeword (the hub's and the Pi's) on the
same audio give the same openWakeWord scores, frame by frame, and fire on the same frames."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from familiar_hub.conductor.turn import Services, TurnEngine
from familiar_hub.config import ConductorConfig
from familiar_hub.web.server import WebServer
from familiar_testkit.speech import speak
from tests.fakes import FakeAsr, FakeTts
from tests.web.browser import PHONE, chromium, needs_chromium
from tests.web.conftest import EchoResponder, web_config

pytestmark = needs_chromium

CHUNK = 1280
WORDS = ["hey_jarvis", "alexa"]

FEED = """
const [config, b64, rate, done] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const pcm = new Int16Array(bytes.buffer);
const worker = new Worker("/static/wake-worker.js");
const wakes = [];
let seq = 0;
worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === "failed") done({ failed: m.reason });
  else if (m.type === "loaded") {
    for (let i = 0; i < pcm.length; i += 1280)
      worker.postMessage({ type: "audio", seq: ++seq, pcm: pcm.slice(i, i + 1280) });
    worker.postMessage({ type: "scores" });
  } else if (m.type === "wake") wakes.push([m.name, m.seq]);
  else if (m.type === "scores") done({ scores: m.scores, wakes, chunks: m.chunks });
};
worker.postMessage({ type: "load", config, rate, collect: true });
"""


def browser_scores(
    url: str, config: dict[str, Any], pcm: bytes, rate: int = 16000
) -> dict[str, Any]:
    with chromium(None, PHONE) as driver:
        driver.get(url + "/phone")  # the page's origin and its policy
        driver.set_script_timeout(120)
        result: dict[str, Any] = driver.execute_async_script(
            FEED, config, base64.b64encode(pcm).decode(), rate
        )
        return result


def python_scores(pcm: bytes, threshold: float) -> tuple[dict[str, list[float]], list[Any]]:
    """pyopen-wakeword as the hub's OpenWakeWordListener drives it, every score kept."""
    from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

    features = OpenWakeWordFeatures.from_builtin()
    models = [(w, OpenWakeWord.from_builtin(Model(w))) for w in WORDS]
    scores: dict[str, list[float]] = {w: [] for w in WORDS}
    wakes: list[Any] = []
    quiet = 0.0
    try:
        for seq, start in enumerate(range(0, len(pcm), CHUNK * 2), 1):
            for embeddings in features.process_streaming(pcm[start : start + CHUNK * 2]):
                for word, model in models:
                    for p in model.process_streaming(embeddings):
                        scores[word].append(p)
                        if quiet > 0:
                            quiet = max(0.0, quiet - 0.08)
                        elif p > threshold:
                            quiet = 2.0
                            wakes.append([word, seq])
    finally:
        for _, model in models:
            model.close()
        features.close()
    return scores, wakes


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[WebServer]:
    services = Services(FakeAsr(), FakeTts(), EchoResponder(), ConductorConfig(discover=False))
    config = web_config(tmp_path, wake_words=WORDS)
    async with WebServer(config, TurnEngine(services), None, None) as server:
        yield server


def speech() -> bytes:
    return (
        bytes(16000)
        + speak("Hey Jarvis.")
        + bytes(32000)
        + speak("Turn on the kitchen light, Alexa.")
        + bytes(16000)
        + speak("Hey Jarvis, what time is it?")
        + bytes(16000)
    )


async def test_the_page_scores_the_wake_word_as_the_hub_does(server: WebServer) -> None:
    pcm = speech()
    assert server.context is not None and server.context.browser_wake is not None
    served = server.context.browser_wake
    assert served.available, f"the browser wake word is not set up: {served.missing}"
    got = await asyncio.to_thread(browser_scores, server.url, served.page_config(), pcm)
    assert "failed" not in got, got
    expected, expected_wakes = python_scores(pcm, served.threshold)
    for word in WORDS:
        page, hub = got["scores"][word], expected[word]
        assert len(page) == len(hub) > 100
        worst = max(abs(a - b) for a, b in zip(page, hub, strict=True))
        assert worst < 1e-4, (word, worst)
    assert got["wakes"] == expected_wakes
    assert [w for w, _ in expected_wakes].count("hey_jarvis") == 2  # it does fire, twice


async def test_a_microphone_at_48_khz_is_brought_to_16_khz_first(server: WebServer) -> None:
    """A browser that ignores the 16 kHz the page asks for: the worker resamples."""
    from familiar.audio import AudioConverter, PcmFormat

    pcm = AudioConverter(PcmFormat(48000, 2, 1)).convert(speech(), PcmFormat(16000, 2, 1))
    assert server.context is not None and server.context.browser_wake is not None
    config = server.context.browser_wake.page_config()
    got = await asyncio.to_thread(browser_scores, server.url, config, pcm, 48000)
    assert "failed" not in got, got
    assert [name for name, _ in got["wakes"]] == ["hey_jarvis", "alexa", "hey_jarvis"]
    assert len(got["scores"]["hey_jarvis"]) >= 160  # as many frames as at 16 kHz, near enough
