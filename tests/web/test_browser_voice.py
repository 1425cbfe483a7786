"""Voice clips on the admin page in real headless Chromium: the live meter while recording
(level, clipping, loudness, SNR, silence, length) measures as the hub measures after Stop,
with the hub's own limits (served, not copied), and follows the fake microphone."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import yaml

from familiar.audio import pcm_to_float
from familiar_hub.conductor.turn import Services, TurnEngine
from familiar_hub.config import ConductorConfig
from familiar_hub.persona.config import VoiceCheckConfig
from familiar_hub.persona.voice import judge, live_check, measure
from familiar_hub.web.server import WebServer
from familiar_testkit.speech import speak
from tests.fakes import FakeAsr, FakeTts
from tests.web.browser import DESKTOP, chromium, needs_chromium, wait_until
from tests.web.conftest import PASSWORD, EchoResponder, Web, persona_yaml, web_config
from tests.web.test_browser import log_in, mic_file, silence

pytestmark = needs_chromium

LIMITS = {  # none of them the default: the page must have them from the hub
    "min_seconds": 4.0,
    "max_seconds": 30.0,
    "max_clipped_fraction": 0.002,
    "min_loudness_dbfs": -45.0,
    "min_snr_db": 12.0,
    "max_silence_ratio": 0.6,
}


@pytest.fixture
async def voice_web(tmp_path: Path) -> AsyncIterator[Web]:
    persona = persona_yaml(tmp_path)
    config = yaml.safe_load(persona.read_text())
    config["voice"] = LIMITS
    persona.write_text(yaml.safe_dump(config))
    responder = EchoResponder()
    services = Services(FakeAsr(), FakeTts(), responder, ConductorConfig(discover=False))
    server = WebServer(
        web_config(tmp_path), TurnEngine(services), None, str(persona), speaker_check=False
    )
    async with server:
        assert server.context is not None
        server.context.credentials.set_password(PASSWORD)
        yield Web(server, responder, tmp_path)


def hub_limits(web: Web) -> VoiceCheckConfig:
    ctx = web.server.context
    assert ctx is not None and ctx.persona.config is not None
    return ctx.persona.config.voice


def _width(driver: Any) -> float:
    width = driver.execute_script("return document.getElementById('level').style.width")
    return float(width.rstrip("%") or 0)


def record_with_live_meter(url: str, mic: Path) -> dict[str, Any]:
    live = "return window.familiarAdmin.live"
    with chromium(mic, DESKTOP) as driver:
        log_in(driver, url)
        driver.find_element("id", "record").click()
        first = wait_until(
            driver,
            lambda d: (d.execute_script(live) or {}).get("measures") and d.execute_script(live),
        )
        wait_until(driver, lambda d: d.execute_script(live)["measures"]["seconds"] >= 1.0)
        early = driver.execute_script(live)
        # The meter moves with the speech.
        wait_until(driver, lambda d: _width(d) > 20)
        wait_until(driver, lambda d: d.execute_script(live)["measures"]["seconds"] >= 6.0, 30)
        later = driver.execute_script(live)
        pills = driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('#live-checks li')]"
            ".map((li) => [li.dataset.check, li.textContent]))"
        )
        time_text = driver.find_element("id", "record-time").text
        driver.find_element("id", "record").click()
        wait_until(
            driver, lambda d: d.execute_script("return window.familiarAdmin.voice.length") == 1, 60
        )
        return {
            "first": first,
            "early": early,
            "later": later,
            "pills": pills,
            "time": time_text,
            "checks": driver.execute_script("return window.familiarAdmin.checks"),
            "final": driver.execute_script(live)["final"],
            "hub": driver.execute_script("return window.familiarAdmin.voice[0]"),
        }


async def test_the_live_meter_follows_the_microphone_with_the_hubs_limits(
    voice_web: Web, tmp_path: Path
) -> None:
    speech = speak(
        "The rainbow is a division of white light into many beautiful colours. These take "
        "the shape of a long round arch, with its path high above."
    )
    mic = mic_file(tmp_path / "mic.wav", silence(0.5) + speech + silence(1.0))
    got = await asyncio.to_thread(record_with_live_meter, voice_web.url, mic)
    # The page judges with the hub's numbers (this hub's, none of them the defaults).
    assert got["checks"] == live_check(hub_limits(voice_web))
    assert got["checks"]["min_seconds"] == 4.0 and got["checks"]["min_snr_db"] == 12.0
    # It reacts to the microphone (the meter moved: waited for above), the time advances ...
    assert got["later"]["measures"]["peak_dbfs"] > -20
    assert got["first"]["measures"]["seconds"] < got["early"]["measures"]["seconds"] < 6.0
    assert got["later"]["measures"]["seconds"] >= 6.0
    assert got["time"].endswith("s of 4–30 s"), got["time"]
    # ... too short at first (by the hub's minimum), long enough later, and the speech passes.
    first_length = next(v for v in got["first"]["verdict"] if v["check"] == "length")
    assert not first_length["ok"] and "at least 4 s" in first_length["text"]
    assert all(v["ok"] for v in got["later"]["verdict"]), got["later"]["verdict"]
    assert got["later"]["measures"]["loudness_dbfs"] > -40
    assert set(got["pills"]) == {"length", "clipping", "loudness", "snr", "silence"}
    # At Stop the page's own measures of the whole clip are the hub's (which still decides).
    hub = got["hub"]
    assert hub["passed"], hub["problems"]
    final, measured = got["final"], hub["measures"]
    assert final["seconds"] == pytest.approx(measured["seconds"], abs=0.01)
    assert final["loudness_dbfs"] == pytest.approx(measured["loudness_dbfs"], abs=0.1)
    assert final["snr_db"] == pytest.approx(measured["snr_db"], abs=0.5)
    assert final["silence_ratio"] == pytest.approx(measured["silence_ratio"], abs=0.01)


def clips() -> dict[str, npt.NDArray[np.float32]]:
    """Clips the hub accepts and rejects, each for another reason."""
    speech = pcm_to_float(
        bytes(8000 * 2)
        + speak(
            "Good morning! I hope you slept well. Shall we have coffee on the terrace before "
            "the day gets busy?"
        ),
        2,
        1,
    )
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 0.05, speech.size).astype(np.float32)
    return {
        "good": speech,
        "clipped": np.clip(speech * 12, -1.0, 1.0).astype(np.float32),
        "quiet": (speech * 0.004).astype(np.float32),
        "noisy": (speech + noise).astype(np.float32),
        "short": speech[: 16000 * 2],
        "tiny": speech[:100],
        "empty-ish": np.zeros(16000 * 5, dtype=np.float32),
    }


def page_measures(url: str, samples: dict[str, str]) -> dict[str, Any]:
    with chromium(None, DESKTOP) as driver:
        log_in(driver, url)
        return driver.execute_script(  # type: ignore[no-any-return]
            """
            const [clips, checks] = arguments, out = {};
            for (const [name, b64] of Object.entries(clips)) {
              const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
              const all = new Float32Array(bytes.buffer);
              const live = new LiveClipCheck(checks, 16000);
              for (let i = 0; i < all.length; i += 1280) live.feed(all.subarray(i, i + 1280));
              const m = live.measures();
              out[name] = { measures: m, verdict: live.verdict(m) };
            }
            return out;
            """,
            samples,
            live_check(VoiceCheckConfig.model_validate(LIMITS)),
        )


_PROBLEM_CHECK = {
    "too short": "length",
    "too long": "length",
    "clipped": "clipping",
    "too quiet": "loudness",
    "noisy": "snr",
    "mostly silence": "silence",
    "sample rate": "rate",
}


async def test_the_page_measures_and_judges_a_clip_as_the_hub_does(voice_web: Web) -> None:
    limits = VoiceCheckConfig.model_validate(LIMITS)
    table = clips()
    encoded = {k: base64.b64encode(v.astype("<f4").tobytes()).decode() for k, v in table.items()}
    got = await asyncio.to_thread(page_measures, voice_web.url, encoded)
    verdicts: dict[str, set[str]] = {}
    for name, samples in table.items():
        hub = measure(samples, 16000, 1)
        page = got[name]["measures"]
        assert page["seconds"] == pytest.approx(hub.seconds, abs=0.001), name
        assert page["peak_dbfs"] == pytest.approx(hub.peak_dbfs, abs=0.01), name
        assert page["clipped_fraction"] == pytest.approx(hub.clipped_fraction, abs=1e-9), name
        assert page["loudness_dbfs"] == pytest.approx(hub.loudness_dbfs, abs=0.01), name
        assert page["snr_db"] == pytest.approx(hub.snr_db, abs=0.01), name
        assert page["silence_ratio"] == pytest.approx(hub.silence_ratio, abs=0.001), name
        # The same problems as the hub's judgement (the page names them by check).
        problems = judge(name, hub, limits).problems
        hub_checks = {
            check
            for p in problems
            for start, check in _PROBLEM_CHECK.items()
            if p.startswith(start)
        }
        assert len(hub_checks) == len(problems), problems
        page_checks = {v["check"] for v in got[name]["verdict"] if not v["ok"]}
        assert page_checks == hub_checks, (name, problems, got[name]["verdict"])
        verdicts[name] = hub_checks
    # The table covers each way to fail, and a pass.
    assert verdicts["good"] == set()
    assert verdicts["clipped"] >= {"clipping"} and verdicts["quiet"] >= {"loudness"}
    assert "snr" in verdicts["noisy"] and verdicts["short"] == {"length"}
    assert "silence" in verdicts["empty-ish"] or "loudness" in verdicts["empty-ish"]
