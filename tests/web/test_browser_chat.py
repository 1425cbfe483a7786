"""The admin page's chat test, spoken, in real headless Chromium: the fake microphone plays a
question, the page records it (tap to talk and tap to send, or hold while talking), the hub
hears it through the same turn as a phone's and the page shows the transcript, streams the
answer and plays it. Fake ASR/TTS and an echoing responder here; ``test_browser_models.py``
asks a persona question this way against the real hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from familiar_hub.brain.brain import Reply, ReplyResult
from familiar_testkit.speech import speak
from tests.fakes import FakeTts
from tests.web.browser import DESKTOP, chromium, needs_chromium, wait_until
from tests.web.conftest import EchoResponder, Web
from tests.web.test_browser import log_in, mic_file, silence

pytestmark = needs_chromium
ADMIN = "return window.familiarAdmin"


def talk_twice(url: str, mic: Path, first_seconds: float) -> dict[str, Any]:
    from selenium.webdriver.common.action_chains import ActionChains

    with chromium(mic, DESKTOP) as driver:
        log_in(driver, url)
        talk = wait_until(
            driver,
            lambda d: (
                d.find_element("id", "chat-talk").is_displayed()
                and d.find_element("id", "chat-talk")
            ),
        )
        # Tap, speak, tap again.
        talk.click()
        wait_until(
            driver, lambda d: d.execute_script(ADMIN)["talk"]["seconds"] >= first_seconds, 30
        )
        talk.click()
        wait_until(driver, lambda d: d.execute_script(ADMIN)["chat"].count("done") == 1, 30)
        first = driver.execute_script(ADMIN)
        me = [b.text for b in driver.find_elements("css selector", "#chat-log .bubble.me.spoken")]
        it = [b.text for b in driver.find_elements("css selector", "#chat-log .bubble.it")]
        # Hold while speaking; let go to send.
        ActionChains(driver).click_and_hold(talk).perform()
        wait_until(driver, lambda d: d.execute_script(ADMIN)["talk"]["seconds"] >= 1.5, 30)
        ActionChains(driver).release(talk).perform()
        wait_until(driver, lambda d: d.execute_script(ADMIN)["chat"].count("done") == 2, 30)
        return {
            "first": first,
            "me": me,
            "it": it,
            "typed": driver.find_element("id", "chat-text").get_attribute("value"),
            "last": driver.execute_script(ADMIN),
        }


async def test_a_spoken_question_is_heard_answered_and_played(web: Web, tmp_path: Path) -> None:
    question = speak("What did the plumber say about the boiler?")
    mic = mic_file(tmp_path / "mic.wav", silence(0.3) + question + silence(8.0))
    first_seconds = 0.3 + len(question) / 32000 + 0.5
    got = await asyncio.to_thread(talk_twice, web.url, mic, first_seconds)
    first, last = got["first"], got["last"]
    heard = web.responder.heard
    assert len(heard) == 2
    # The hub heard what the page recorded (the fake ASR says how much) ...
    (transcript,) = first["transcripts"]
    assert transcript == heard[0][0] and transcript.endswith("bytes at 16000")
    (recorded, held) = last["talk"]["sentSeconds"]
    assert recorded >= first_seconds and held >= 1.5
    assert int(transcript.split()[0]) == pytest.approx(2 * 16000 * recorded, abs=4)
    # ... the page showed the transcript as the question (nothing was typed), streamed the
    # answer and played it.
    assert got["me"] == [transcript] and got["typed"] == ""
    assert got["it"] == [f"You said {transcript}. Anything else?"]
    assert first["chat"][:2] == ["transcript", "sentence"] and "audio" in first["chat"]
    assert first["playedSeconds"] > 0.1  # the fake voice: 100 samples per character
    # Held and released: heard too, and it continues the same conversation.
    assert heard[1][0] == last["transcripts"][1]
    assert heard[0][1] is None and heard[1][1] == "c-1"  # the echo's id for the first answer
    assert last["playedSeconds"] > first["playedSeconds"]


def late_tap(url: str, mic: Path) -> dict[str, Any]:
    with chromium(mic, DESKTOP) as driver:
        log_in(driver, url)
        wait_until(driver, lambda d: d.find_element("id", "chat-talk").is_displayed())
        # A tap whose release is handled 600 ms late (the page was busy starting the
        # microphone): the events' own times say it was a tap.
        driver.execute_script(
            """
            const talk = document.getElementById("chat-talk");
            const down = new PointerEvent("pointerdown", { bubbles: true });
            const up = new PointerEvent("pointerup", { bubbles: true });
            talk.dispatchEvent(down);
            const until = performance.now() + 600;
            while (performance.now() < until) { /* busy */ }
            talk.dispatchEvent(up);
            """
        )

        def recorded_or_sent(d: Any) -> dict[str, Any] | None:
            talk: dict[str, Any] = d.execute_script(ADMIN)["talk"]
            return talk if talk["seconds"] >= 1.0 or talk["sent"] else None

        still = wait_until(driver, recorded_or_sent, 30)["sent"]
        driver.find_element("id", "chat-talk").click()  # the second tap sends
        wait_until(driver, lambda d: "done" in d.execute_script(ADMIN)["chat"], 30)
        return {"sent_before": still, "last": driver.execute_script(ADMIN)}


async def test_a_tap_handled_late_is_still_a_tap(web: Web, tmp_path: Path) -> None:
    mic = mic_file(tmp_path / "mic.wav", silence(0.3) + speak("Hello there.") + silence(3.0))
    got = await asyncio.to_thread(late_tap, web.url, mic)
    assert got["sent_before"] == 0  # still recording after the late release
    (recorded,) = got["last"]["talk"]["sentSeconds"]
    assert recorded >= 1.0
    assert len(web.responder.heard) == 1


LONG_CLAUSE = "and that is a story I could tell you for a very long while" + " indeed" * 40


class LongAnswer(EchoResponder):
    """Answers at length: about 20 s of (fake) speech, streamed slowly by a slow TTS."""

    def respond(self, text: str, conversation_id: str | None = None) -> Reply:
        self.heard.append((text, conversation_id))
        result = ReplyResult(conversation_id or "c-" + str(len(self.heard)))

        async def sentences() -> AsyncGenerator[str, None]:
            # a first sentence that takes the slow TTS seconds to make: the page is talked
            # over while it plays, before the hub moves on to the next one (a 6-word one left
            # a loaded machine 0.3 s, and the long sentence was begun)
            yield f"You said {text}, {LONG_CLAUSE}."
            yield "la " * 1470 + "la."
            result.kind, result.text = "answer", f"You said {text}."

        return Reply(sentences(), result)


def talk_over(url: str, mic: Path) -> dict[str, Any]:
    with chromium(mic, DESKTOP) as driver:
        log_in(driver, url)
        wait_until(driver, lambda d: d.find_element("id", "chat-talk").is_displayed())
        driver.find_element("id", "chat-text").send_keys("tell me a long story\n")
        wait_until(driver, lambda d: d.execute_script(ADMIN + ".playing()") > 0, 30)
        driver.find_element("id", "chat-talk").click()  # talk over the answer
        stopped = driver.execute_script(
            "const a = window.familiarAdmin; return {stopped: a.stopped, playing: a.playing()}"
        )
        wait_until(
            driver, lambda d: "(stopped)" in d.find_element("css selector", ".bubble.it").text
        )
        wait_until(driver, lambda d: d.execute_script(ADMIN)["talk"]["seconds"] >= 1.0, 30)
        driver.find_element("id", "chat-talk").click()
        wait_until(driver, lambda d: "transcript" in d.execute_script(ADMIN)["chat"], 30)
        return {"stopped": stopped, "first": driver.find_element("css selector", ".bubble.it").text}


async def test_talking_over_an_answer_stops_it(web: Web, tmp_path: Path) -> None:
    assert web.server.turns is not None
    web.server.turns.services.responder = responder = LongAnswer()
    web.server.turns.services.tts = tts = FakeTts(delay=0.05)  # 73 s to stream it all
    mic = mic_file(tmp_path / "mic.wav", silence(0.3) + speak("Stop, please.") + silence(3.0))
    got = await asyncio.to_thread(talk_over, web.url, mic)
    # The page stopped what it was playing and the stream it was reading ...
    assert got["stopped"] == {"stopped": 1, "playing": 0}
    assert got["first"].startswith("You said tell me a long story, and that is")
    assert got["first"].endswith("(stopped)")
    # ... the hub heard the spoken question that followed ...
    assert responder.heard[0][0] == "tell me a long story"
    assert len(responder.heard) == 2 and responder.heard[1][0].endswith("bytes at 16000")
    # ... and a stream the page stopped reading stops its turn on the hub: the first answer's
    # long sentence was never made (the next thing spoken is the second answer) and no stream
    # is left open once the browser has gone (long before the 73 s of speech).
    assert tts.spoken[0] == f"You said tell me a long story, {LONG_CLAUSE}."
    assert tts.spoken[1].startswith("You said") and "bytes at 16000," in tts.spoken[1]
    for _ in range(200):
        if tts.open_streams == 0:
            break
        await asyncio.sleep(0.05)
    assert tts.open_streams == 0
