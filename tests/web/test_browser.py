"""The web app in real headless Chromium with a fake microphone playing a WAV file.

Fake ASR/TTS and an echoing responder stand in for the models here (the real wake word runs
in the page, or on the hub as the fallback, and the hub's real VAD ends the request);
``test_browser_models.py`` runs the same page against the real hub with its models and a real
Mosquitto.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from familiar.audio import PcmFormat, wav_bytes
from familiar_hub.brain.brain import Reply, ReplyResult
from familiar_testkit.speech import speak
from tests.persona.corpus import write_corpus
from tests.web.browser import (
    DESKTOP,
    PHONE,
    chromium,
    needs_chromium,
    page_state,
    screenshot,
    wait_until,
)
from tests.web.conftest import PASSWORD, EchoResponder, Web

pytestmark = needs_chromium
SHOTS = os.environ.get("FAMILIAR_SCREENSHOTS")
"""Set to a folder to keep screenshots of every page at phone and desktop sizes."""


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


def mic_file(path: Path, pcm: bytes) -> Path:
    path.write_bytes(wav_bytes(pcm, PcmFormat(16000, 2, 1)))
    return path


def shot(driver: Any, name: str, size: tuple[int, int]) -> None:
    if SHOTS:
        screenshot(driver, Path(SHOTS) / f"{name}.png", size)


def log_in(driver: Any, url: str) -> None:
    driver.get(url + "/admin")
    wait_until(driver, lambda d: d.current_url.endswith("/login"))
    driver.find_element("id", "password").send_keys(PASSWORD)
    driver.find_element("css selector", "button[type=submit]").click()
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.ready === '1'"))


def browse_phone_turn(url: str, mic: Path) -> dict[str, Any]:
    with chromium(mic, PHONE) as driver:
        # Without pairing the phone is refused.
        driver.get(url + "/phone")
        shot(driver, "phone-start", PHONE)
        driver.find_element("id", "talk").click()
        wait_until(driver, lambda d: "not paired" in d.find_element("id", "error").text)
        assert page_state(driver)["states"][-1] == "not paired"  # and it does not retry
        shot(driver, "phone-unpaired", PHONE)
        # The admin pairs it: the QR code's link carries the token.
        log_in(driver, url)
        driver.find_element("id", "phone-name").send_keys("test phone")
        driver.find_element("id", "pair").click()
        link = wait_until(driver, lambda d: d.find_element("id", "pair-link"))
        assert driver.find_element("css selector", "#qr svg")
        shot(driver, "admin-paired", DESKTOP)
        pair_url = link.get_attribute("href")
        # The page lists the new token next; a request of it still in flight once the cookies
        # are gone would send the page to /login, racing the navigation below.
        wait_until(
            driver,
            lambda d: (
                "test phone" in d.find_element("id", "token-table").text
                and d.execute_script("return window.familiarAdmin.pending === 0")
            ),
        )
        driver.delete_all_cookies()  # the phone is not the admin
        driver.get(pair_url)
        assert "#pair" not in driver.current_url or driver.execute_script(
            "return location.hash === ''"
        )
        driver.find_element("id", "talk").click()  # tap to start (audio needs a gesture)
        wait_until(driver, lambda d: page_state(d).get("connects", 0) >= 1)
        driver.find_element("id", "talk").click()  # tap: talk without the wake word
        wait_until(driver, lambda d: page_state(d).get("answers", 0) >= 1, 40)
        # the fake ASR's transcript: docs/web/phone.png comes from test_browser_models.py
        shot(driver, "phone-answered", PHONE)
        state = page_state(driver)
        state["said"] = driver.find_element("id", "answer").text
        return state


async def test_a_paired_phone_talks_and_hears_the_answer(web: Web, tmp_path: Path) -> None:
    mic = mic_file(
        tmp_path / "mic.wav",
        silence(3.0) + speak("Turn on the kitchen light.") + silence(3.0),
    )
    state = await asyncio.to_thread(browse_phone_turn, web.url, mic)
    # The hub heard audio from the fake microphone (the fake ASR reports its length) ...
    heard = web.responder.heard
    assert len(heard) == 1 and heard[0][0].endswith("bytes at 16000")
    assert int(heard[0][0].split()[0]) > 16000  # more than half a second of audio
    # ... and the page showed and played the answer.
    assert state["transcript"] == heard[0][0]
    assert state["said"] == f"You said {heard[0][0]}. Anything else?"
    assert state["playedSeconds"] > 0.1  # the fake voice: 100 samples per character
    assert "listening" in state["states"] and "speaking" in state["states"]


def wake_by_voice(url: str, mic: Path) -> dict[str, Any]:
    """Tap to start, then only the voice; the hub's session for the phone, as it was."""
    with chromium(mic, PHONE) as driver:
        driver.get(url)
        driver.find_element("id", "talk").click()
        wait_until(driver, lambda d: page_state(d).get("answers", 0) >= 1, 60)
        state = page_state(driver)
        state["wake-where"] = driver.find_element("id", "wake-where").text
        return state


async def phone_url(web: Web) -> str:
    session, csrf = await web.admin()
    async with session, session.post("/api/tokens", json={"kind": "phone"}, headers=csrf) as r:
        return f"{web.url}/phone#pair={(await r.json())['token']}"


async def test_hey_jarvis_is_heard_in_the_page_which_sends_only_the_request(
    web: Web, tmp_path: Path
) -> None:
    ctx = web.server.context
    assert ctx is not None and ctx.browser_wake is not None
    assert ctx.browser_wake.available, ctx.browser_wake.missing
    hub_wake = ctx.make_wake
    made: list[object] = []
    sessions: list[Any] = []

    def make_wake() -> Any:
        made.append(hub_wake())
        return made[-1]

    ctx.make_wake = make_wake
    phones = ctx.phones
    ctx.phones = _Recording(phones, sessions)
    mic = mic_file(
        tmp_path / "mic.wav",
        silence(4.0)
        + speak("Hey Jarvis.")
        + silence(0.8)
        + speak("Turn on the kitchen light.")
        + silence(3.0),
    )
    state = await asyncio.to_thread(wake_by_voice, await phone_url(web), mic)
    (session,) = sessions
    # The page heard the wake word and told the hub which; the hub never ran its own.
    assert state["wakeWhere"] == "page" and "on this phone" in state["wake-where"]
    assert state["localWakes"] == ["hey_jarvis"] and state["wakes"] == ["hey_jarvis"]
    assert session.wake_where == "page" and session.page_wakes == ["hey_jarvis"]
    assert made == [] and session.hub_wake_chunks == 0
    # Nothing went up before the wake word; then the request (with its pre-roll).
    assert state["sentBytesBeforeWake"] == 0
    heard = web.responder.heard
    assert len(heard) == 1 and heard[0][0].endswith("bytes at 16000")
    request_bytes = int(heard[0][0].split()[0])
    assert request_bytes >= 2 * 16000 * 1.2  # "Turn on the kitchen light." is longer than 1.2 s
    assert request_bytes < 2 * 16000 * 5  # not the 10 s the microphone played
    assert session.audio_bytes < 2 * 16000 * 6
    assert state["playedSeconds"] > 0.1


class LongFirstAnswer(EchoResponder):
    """Its first answer plays for about 20 s (fake speech: 100 samples per character)."""

    def respond(self, text: str, conversation_id: str | None = None) -> Reply:
        self.heard.append((text, conversation_id))
        result = ReplyResult(conversation_id or "c-" + str(len(self.heard)))
        long = len(self.heard) == 1

        async def sentences() -> AsyncGenerator[str, None]:
            yield f"You said {text}."
            if long:
                yield "la " * 1470 + "la."
            result.kind, result.text = "answer", f"You said {text}."

        return Reply(sentences(), result)


def wake_twice(url: str, mic: Path) -> dict[str, Any]:
    with chromium(mic, PHONE) as driver:
        driver.get(url)
        driver.find_element("id", "talk").click()
        wait_until(driver, lambda d: page_state(d).get("answers", 0) >= 1, 60)
        return page_state(driver)


async def test_hey_jarvis_while_the_answer_plays_stops_it_and_is_heard(
    web: Web, tmp_path: Path
) -> None:
    responder = LongFirstAnswer()
    web.server.turns.services.responder = responder  # type: ignore[union-attr]
    mic = mic_file(
        tmp_path / "mic.wav",
        silence(3.0)
        + speak("Hey Jarvis.")
        + silence(0.8)
        + speak("Turn on the kitchen light.")
        + silence(4.0)  # the answer is playing
        + speak("Hey Jarvis.")
        + silence(0.8)
        + speak("Turn it off.")
        + silence(3.0),
    )
    state = await asyncio.to_thread(wake_twice, await phone_url(web), mic)
    assert state["localWakes"] == ["hey_jarvis", "hey_jarvis"]
    assert state["stopped"] == 1  # the first answer, cut short ...
    assert len(responder.heard) == 2  # ... by the second request, which was answered
    assert state["answers"] == 1 and state["playedSeconds"] > 19  # both answers arrived
    said = [s for s in state["states"] if s in ("listening", "speaking")]
    assert said == ["listening", "speaking", "listening", "speaking"]


class _Recording(dict[str, Any]):
    """The web context's live phones, keeping every session that came (to look at after)."""

    def __init__(self, live: dict[str, Any], seen: list[Any]) -> None:
        super().__init__(live)
        self._seen = seen

    def __setitem__(self, key: str, value: Any) -> None:
        self._seen.append(value)
        super().__setitem__(key, value)


@pytest.mark.parametrize("runtime", ["missing", "broken"])
async def test_without_a_working_runtime_the_page_says_so_and_the_hub_hears_the_wake_word(
    web: Web, tmp_path: Path, runtime: str
) -> None:
    from familiar_hub.web.wakeword import RUNTIME_FILES, BrowserWake, models_dir

    folder = tmp_path / "runtime"
    if runtime == "broken":  # the files are there but are not the runtime
        folder.mkdir()
        for name in RUNTIME_FILES:
            (folder / name).write_text("not the runtime")
        (folder / ".complete").touch()
    ctx = web.server.context
    assert ctx is not None
    ctx.browser_wake = BrowserWake(["hey_jarvis"], 0.5, folder, models_dir())
    mic = mic_file(
        tmp_path / "mic.wav",
        silence(3.0)
        + speak("Hey Jarvis.")
        + silence(0.8)
        + speak("Turn on the kitchen light.")
        + silence(3.0),
    )
    state = await asyncio.to_thread(wake_by_voice, await phone_url(web), mic)
    assert state["wakeWhere"] == "hub" and "heard by the hub" in state["wake-where"]
    assert ("setup.sh" if runtime == "missing" else "importScripts") in state["wakeReason"]
    assert state["localWakes"] == [] and state["wakes"] == ["hey_jarvis"]
    assert state["sentBytes"] > 2 * 16000 * 3  # the fallback streams all the time
    assert len(web.responder.heard) == 1


def browse_admin(url: str, mic: Path, corpus: dict[str, Path]) -> dict[str, Any]:
    with chromium(mic, DESKTOP) as driver:
        log_in(driver, url)
        shot(driver, "admin-empty", DESKTOP)
        driver.find_element("id", "files").send_keys(
            "\n".join(str(corpus[name]) for name in ("reply", "incoming"))
        )
        wait_until(
            driver, lambda d: "store now holds" in d.find_element("id", "upload-summary").text
        )
        summary = driver.find_element("id", "upload-summary").text
        rows = [r.text for r in driver.find_elements("css selector", "#upload-results tbody tr")]
        wait_until(driver, lambda d: d.find_elements("css selector", "#files-table tbody button"))
        uploads = driver.execute_script("return window.familiarAdmin.uploads")
        # Record a voice clip from the microphone, then stop: it is checked and scored.
        driver.find_element("id", "record").click()
        wait_until(
            driver,
            lambda d: float((d.find_element("id", "record-time").text or "0 s").split()[0]) >= 9,
            30,
        )
        if SHOTS:  # the live checks while it records
            card = driver.find_element("id", "voice")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
            card.screenshot(str(Path(SHOTS) / "admin-recording.png"))
        driver.find_element("id", "record").click()
        wait_until(
            driver, lambda d: d.execute_script("return window.familiarAdmin.voice.length") == 1, 60
        )
        voice = driver.execute_script("return window.familiarAdmin.voice[0]")
        wait_until(driver, lambda d: "clip" in d.find_element("id", "readiness").text)
        # Chat test: the answer streams in as text.
        driver.find_element("id", "chat-speech").click()  # text only here
        driver.find_element("id", "chat-text").send_keys("hello there\n")
        wait_until(driver, lambda d: "Anything else?" in d.find_element("id", "chat-log").text)
        chat = driver.find_element("id", "chat-log").text
        shot(driver, "admin-desktop", DESKTOP)
        shot(driver, "admin-phone", PHONE)
        return {"summary": summary, "rows": rows, "uploads": uploads, "voice": voice, "chat": chat}


async def test_admin_uploads_records_a_voice_clip_and_chats(web: Web, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    speech = speak(
        "The rainbow is a division of white light into many beautiful colours. These take "
        "the shape of a long round arch, with its path high above, and its two ends apparently "
        "beyond the horizon."
    )
    mic = mic_file(tmp_path / "mic.wav", silence(0.5) + speech + silence(1.0))
    got = await asyncio.to_thread(browse_admin, web.url, mic, corpus)
    files = [u for u in got["uploads"] if u["type"] == "file"]
    assert [(f["name"], f["status"], f["done"], f["total"]) for f in files] == [
        ("reply.eml", "added", 1, 2),
        ("incoming.eml", "added", 2, 2),
    ]
    done = got["uploads"][-1]
    assert done["type"] == "done" and done["chunks"] > 0
    assert f"the store now holds {done['chunks']}" in got["summary"]
    assert len(got["rows"]) == 2
    voice = got["voice"]
    assert voice["measures"]["seconds"] >= 8
    assert voice["passed"], voice["problems"]
    assert voice["clip"]["score"] > 0
    assert "You said hello there." in got["chat"]


@pytest.mark.skipif(not SHOTS, reason="set FAMILIAR_SCREENSHOTS=folder to take them")
async def test_screenshots_of_the_login_page(web: Web) -> None:
    def take() -> None:
        with chromium(None, PHONE) as driver:
            driver.get(web.url + "/login")
            shot(driver, "login-phone", PHONE)
            shot(driver, "login-desktop", DESKTOP)

    await asyncio.to_thread(take)


async def test_the_phone_page_reconnects_when_the_hub_restarts(web: Web, tmp_path: Path) -> None:
    from familiar_hub.web.server import WebServer
    from tests.web.conftest import web_config

    mic = mic_file(tmp_path / "mic.wav", silence(1.0))
    with chromium(mic, PHONE) as driver:

        def open_phone() -> None:
            log_in(driver, web.url)  # the admin's own browser may use the phone page
            driver.get(web.url + "/phone")
            driver.find_element("id", "talk").click()
            wait_until(driver, lambda d: page_state(d).get("connects", 0) == 1)

        await asyncio.to_thread(open_phone)
        port = web.server.port
        turns = web.server.turns
        await web.server.__aexit__(None, None, None)  # the hub goes away ...
        await asyncio.to_thread(
            wait_until, driver, lambda d: page_state(d)["states"][-1] == "reconnecting"
        )
        again = WebServer(web_config(web.tmp, port=port), turns, None, None)
        async with again:  # ... and comes back on the same port
            await asyncio.to_thread(
                wait_until,
                driver,
                lambda d: page_state(d)["connects"] == 2 and page_state(d)["states"][-1] == "idle",
                30,
            )


PRESS = """
const talk = document.getElementById("talk");
const down = new PointerEvent("pointerdown", { bubbles: true });
const up = new PointerEvent("pointerup", { bubbles: true });  // stamped now: a quick release
window.released = false;
talk.dispatchEvent(down);
window.heldRelease = () => talk.dispatchEvent(new PointerEvent("pointerup", { bubbles: true }));
if (arguments[0]) {
  // A quick release handled 600 ms late (the page was busy, as when starting the
  // microphone): after a 400 ms timer would have fired.
  setTimeout(() => { talk.dispatchEvent(up); window.released = true; }, 600);
}
"""


def tap_then_hold(url: str, mic: Path) -> dict[str, Any]:
    with chromium(mic, PHONE) as driver:
        driver.get(url)
        driver.find_element("id", "talk").click()  # tap to start (audio needs a gesture)
        wait_until(driver, lambda d: page_state(d).get("connects", 0) >= 1)
        driver.execute_script(PRESS, True)  # a tap, its release handled late
        wait_until(driver, lambda d: d.execute_script("return window.released"))
        after_tap = list(page_state(driver)["commands"])
        wait_until(driver, lambda d: page_state(d)["states"][-1] == "listening")
        driver.execute_script(PRESS, False)  # pressed ...
        time.sleep(0.6)  # ... and held (a real hold: the user's time, not a sync)
        driver.execute_script("window.heldRelease()")
        return {"after_tap": after_tap, "after_hold": page_state(driver)["commands"]}


async def test_a_tap_handled_late_is_a_tap_and_a_held_press_is_push_to_talk(
    web: Web, tmp_path: Path
) -> None:
    mic = mic_file(tmp_path / "mic.wav", silence(8.0))
    got = await asyncio.to_thread(tap_then_hold, await phone_url(web), mic)
    assert got["after_tap"] == ["listen"]  # a tap: listening until the VAD ends it
    assert got["after_hold"] == ["listen", "end"]  # the release of a held press ends it
