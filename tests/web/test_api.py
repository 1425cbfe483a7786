"""The web app over real HTTPS on 127.0.0.1: credentials, REST, persona admin, phone socket."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from familiar.audio import PcmFormat, wav_bytes
from familiar_hub.web.security import Credentials, check_password, hash_password
from tests.persona.corpus import write_corpus
from tests.web.conftest import PASSWORD, EchoResponder, Web


async def lines(response: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (await response.text()).splitlines() if line]


async def test_serves_tls_with_a_stable_certificate(web: Web) -> None:
    assert web.url.startswith("https://")
    ctx = web.server.context
    assert ctx is not None and ctx.fingerprint is not None
    assert len(ctx.fingerprint.split(":")) == 32
    cert = (web.tmp / "web" / "cert.pem").read_bytes()
    assert (web.tmp / "web" / "key.pem").stat().st_mode & 0o077 == 0
    # A restart keeps the certificate (a phone that accepted it once is not asked again).
    from familiar_hub.web.security import ensure_certificate

    assert ensure_certificate(web.tmp / "web", ["x"]).fingerprint == ctx.fingerprint
    assert (web.tmp / "web" / "cert.pem").read_bytes() == cert


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/persona"),
        ("POST", "/api/interact"),
        ("POST", "/api/interact/speech"),
        ("GET", "/api/tokens"),
        ("POST", "/api/tokens"),
        ("GET", "/api/admin/info"),
        ("DELETE", "/api/persona/voice/1"),
        ("POST", "/api/persona/documents"),
    ],
)
async def test_requests_without_credentials_are_refused(web: Web, method: str, path: str) -> None:
    async with web.session() as session, session.request(method, path, json={"text": "hi"}) as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"


async def test_health_needs_no_credentials_and_tells_nothing_else(web: Web) -> None:
    async with web.session() as session, session.get("/api/health") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok"}


async def test_admin_pages_need_a_login(web: Web) -> None:
    async with web.session() as session:
        async with session.get("/admin", allow_redirects=False) as r:
            assert r.status == 307 and r.headers["location"] == "/login"
        async with session.post("/api/login", json={"password": "wrong"}) as r:
            assert r.status == 401
        async with session.post("/api/login", json={"password": PASSWORD}) as r:
            assert r.status == 200
            cookie = r.cookies["familiar_session"]
            assert (
                cookie["httponly"] and cookie["secure"] and cookie["samesite"].lower() == "strict"
            )
        async with session.get("/admin", allow_redirects=False) as r:
            assert r.status == 200


async def test_unsafe_requests_with_the_cookie_need_the_csrf_token(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        async with session.post("/api/tokens", json={"kind": "api"}) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "csrf-failed"
        async with session.post("/api/tokens", json={"kind": "api"}, headers=csrf) as r:
            assert r.status == 200


async def test_api_token_works_wrong_token_is_logged_without_the_token(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    session, csrf = await web.admin()
    async with (
        session,
        session.post("/api/tokens", json={"kind": "api", "name": "ci"}, headers=csrf) as r,
    ):
        token = (await r.json())["token"]
    stored = (web.tmp / "web" / "tokens.json").read_text()
    assert token not in stored  # only its hash is kept
    async with web.session() as client:
        good = {"Authorization": f"Bearer {token}"}
        async with client.post(
            "/api/interact", json={"text": "hello", "speech": False}, headers=good
        ) as r:
            assert r.status == 200
        with caplog.at_level(logging.WARNING):
            bad = {"Authorization": "Bearer not-the-token-123"}
            async with client.get("/api/persona", headers=bad) as r:
                assert r.status == 401
    assert "wrong token" in caplog.text
    assert "not-the-token-123" not in caplog.text


async def test_interact_streams_text_and_speech_and_continues_the_conversation(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        async with session.post("/api/interact", json={"text": "hello"}, headers=csrf) as r:
            assert r.headers["content-type"].startswith("application/x-ndjson")
            got = await lines(r)
        types = [g["type"] for g in got]
        assert types[0] == "sentence" and types[-1] == "done"
        assert [g["text"] for g in got if g["type"] == "sentence"] == [
            "You said hello.",
            "Anything else?",
        ]
        # the audio of a sentence comes after its text and before the next sentence
        assert types.index("audio") < types.index("sentence", 1)
        audio = b"".join(base64.b64decode(g["pcm"]) for g in got if g["type"] == "audio")
        assert len(audio) > 0 and got[1]["rate"] == 22050
        done = got[-1]
        assert done["answer"] == "You said hello. Anything else?"
        body = {"text": "more", "conversation_id": done["conversation_id"], "speech": False}
        async with session.post("/api/interact", json=body, headers=csrf) as r:
            again = await lines(r)
        assert "audio" not in [g["type"] for g in again]
    assert web.responder.heard[1] == ("more", done["conversation_id"])


def spoken(seconds: float, fmt: PcmFormat) -> aiohttp.FormData:
    rng = np.random.default_rng(3)
    samples = rng.integers(-3000, 3000, int(seconds * fmt.rate) * fmt.channels, dtype="<i2")
    form = aiohttp.FormData()
    form.add_field("audio", wav_bytes(samples.tobytes(), fmt), filename="talk.wav")
    return form


async def test_interact_by_voice_hears_the_recording_and_answers_as_typed(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        # Stereo at 48 kHz (a browser's): heard as 16 kHz mono, like every satellite's audio.
        form = spoken(1.5, PcmFormat(48000, 2, 2))
        async with session.post("/api/interact/speech", data=form, headers=csrf) as r:
            assert r.status == 200 and r.headers["content-type"].startswith("application/x-ndjson")
            got = await lines(r)
        types = [g["type"] for g in got]
        assert types[0] == "transcript" and types[-1] == "done"
        heard = got[0]["text"]
        assert heard.endswith("bytes at 16000")  # the fake ASR says what it got
        assert int(heard.split()[0]) == pytest.approx(1.5 * 16000 * 2, abs=64)
        assert [g["text"] for g in got if g["type"] == "sentence"] == [
            f"You said {heard}.",
            "Anything else?",
        ]
        assert "audio" in types
        done = got[-1]
        # The next question (typed or spoken) continues the conversation; text only here.
        form = spoken(0.5, PcmFormat(16000, 2, 1))
        form.add_field("conversation_id", done["conversation_id"])
        form.add_field("speech", "false")
        async with session.post("/api/interact/speech", data=form, headers=csrf) as r:
            again = await lines(r)
        assert "audio" not in [g["type"] for g in again] and again[-1]["type"] == "done"
    assert web.responder.heard[1] == (again[0]["text"], done["conversation_id"])


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (b"RIFF not really", "not a PCM WAV file"),
        (b"", "not a PCM WAV file"),
        (wav_bytes(bytes(16000 * 2 * 16), PcmFormat(16000, 2, 1)), "longer than a request"),
        (wav_bytes(bytes(4000 * 2), PcmFormat(4000, 2, 1)), "sample rate 4000 Hz"),
    ],
)
async def test_interact_by_voice_refuses_what_is_not_a_recording_it_can_hear(
    web: Web, audio: bytes, message: str
) -> None:
    session, csrf = await web.admin()
    form = aiohttp.FormData()
    form.add_field("audio", audio, filename="talk.wav")
    async with session, session.post("/api/interact/speech", data=form, headers=csrf) as r:
        assert r.status == 422
        error = (await r.json())["error"]
    assert error["code"] == "invalid-request" and message in error["message"], error
    assert web.responder.heard == []


async def test_bad_requests_get_json_errors(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        async with session.post("/api/interact", json={"text": ""}, headers=csrf) as r:
            assert r.status == 422
            assert (await r.json())["error"]["code"] == "invalid-request"
        async with session.get("/api/nothing") as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "not-found"
        async with session.delete("/api/persona/voice/999", headers=csrf) as r:
            assert r.status == 404


async def test_upload_reports_each_file_and_the_new_chunk_count(web: Web, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    session, csrf = await web.admin()
    form = aiohttp.FormData()
    form.add_field("files", corpus["reply"].read_bytes(), filename="reply.eml")
    form.add_field("files", b"\x00\x01binary", filename="photo.jpg")
    form.add_field("files", b"", filename="../../empty.txt")
    async with session:
        async with session.post("/api/persona/documents", data=form, headers=csrf) as r:
            assert r.status == 200, await r.text()
            got = await lines(r)
        files = [g for g in got if g["type"] == "file"]
        assert [(f["name"], f["status"]) for f in files[:2]] == [
            ("reply.eml", "added"),
            ("photo.jpg", "skipped"),
        ]
        # a name trying to leave the upload folder is kept inside it
        assert files[2]["status"] == "skipped" and "/" not in files[2]["name"]
        assert files[2]["name"].endswith("empty.txt")
        assert "not a supported file" in files[1]["reason"]
        assert [f["done"] for f in files] == [1, 2, 3]
        done = got[-1]
        assert done["type"] == "done" and done["chunks"] > done["chunks_before"] == 0
        async with session.get("/api/persona") as r:
            overview = await r.json()
        assert overview["chunks"] == done["chunks"]
        assert [f["name"] for f in overview["files"]] == ["reply.eml"]
        assert overview["own_share"] > 0
        assert overview["style"] is not None and overview["style"]["evidence_texts"] >= 1
        stored = overview["files"][0]["path"]
        assert Path(stored).is_file()
        async with session.delete(
            "/api/persona/documents", params={"path": stored}, headers=csrf
        ) as r:
            assert r.status == 200
            assert (await r.json())["chunks"] == done["chunks"]
        assert not Path(stored).exists()
        async with session.get("/api/persona") as r:
            assert (await r.json())["chunks"] == 0


async def test_upload_of_a_big_file_reports_progress_within_it(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from familiar_hub.persona import ingest
    from familiar_testkit.corpus import write_big_text

    monkeypatch.setattr(ingest, "STREAM_BYTES", 64 << 10)
    monkeypatch.setattr(ingest, "STREAM_BLOCK", 16 << 10)
    monkeypatch.setattr(ingest, "STREAM_BATCH", 32)
    write_big_text(tmp_path / "book.txt", 0.2)
    session, csrf = await web.admin()
    form = aiohttp.FormData()
    form.add_field("files", (tmp_path / "book.txt").read_bytes(), filename="book.txt")
    async with session, session.post("/api/persona/documents", data=form, headers=csrf) as r:
        assert r.status == 200, await r.text()
        got = await lines(r)
    parts = [g for g in got if g["type"] == "part"]
    assert len(parts) >= 3 and {p["name"] for p in parts} == {"book.txt"}
    fractions = [p["fraction"] for p in parts]
    assert fractions == sorted(fractions) and fractions[0] < 1 and fractions[-1] == 1.0
    assert all(p["done"] == 0 and p["total"] == 1 for p in parts)
    assert got[-2]["type"] == "file" and got[-2]["status"] == "added"
    assert got[-2]["added"] == parts[-1]["chunks"] == got[-1]["chunks"]


def tone_clip(seconds: float, rate: int = 16000, level: float = 0.3) -> bytes:
    """A voiced, speech-like signal with pauses (harmonics, syllable rhythm, a little noise)."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(1)
    voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 700), 1))
    syllables = (np.sin(2 * np.pi * 3.5 * t) > -0.2).astype(float)
    pauses = ((t % 2.5) < 2.1).astype(float)
    signal = level * voice * syllables * pauses / 2 + rng.normal(0, 0.0005, t.size)
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    return wav_bytes(pcm, PcmFormat(rate, 2, 1))


async def test_voice_clip_is_scored_kept_listened_to_and_deleted(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        form = aiohttp.FormData()
        form.add_field("clip", tone_clip(1.0), filename="short.wav")
        async with session.post("/api/persona/voice", data=form, headers=csrf) as r:
            short = await r.json()
        assert short["passed"] is False
        assert any("short" in p for p in short["problems"]), short["problems"]
        form = aiohttp.FormData()
        form.add_field("clip", tone_clip(12.0), filename="good.wav")
        async with session.post("/api/persona/voice", data=form, headers=csrf) as r:
            good = await r.json()
        assert good["passed"], good["problems"]
        assert good["measures"]["seconds"] == pytest.approx(12.0, abs=0.1)
        clip_id = good["clip"]["id"]
        async with session.get(f"/api/persona/voice/{clip_id}/audio") as r:
            assert r.status == 200 and r.headers["content-type"] == "audio/wav"
            assert (await r.read())[:4] == b"RIFF"
        async with session.get("/api/persona") as r:
            assert [c["id"] for c in (await r.json())["voice"]["clips"]] == [clip_id]
        async with session.delete(f"/api/persona/voice/{clip_id}", headers=csrf) as r:
            assert r.status == 200
        async with session.get("/api/persona") as r:
            assert (await r.json())["voice"]["clips"] == []


async def test_pairing_gives_a_qr_code_and_a_phone_token(web: Web) -> None:
    session, csrf = await web.admin()
    async with session:
        body = {"kind": "phone", "name": "Anna's phone"}
        async with session.post("/api/tokens", json=body, headers=csrf) as r:
            pairing = await r.json()
        assert pairing["qr_svg"].startswith("<svg")
        assert pairing["url"].endswith(f"/phone#pair={pairing['token']}")
        async with session.get("/api/tokens") as r:
            listed = await r.json()
        assert [(t["kind"], t["name"]) for t in listed] == [("phone", "Anna's phone")]
        assert "token" not in listed[0]
        async with session.delete(f"/api/tokens/{pairing['id']}", headers=csrf) as r:
            assert r.status == 200
        async with session.get("/api/tokens") as r:
            assert await r.json() == []


async def phone(web: Web, token: str, **hello: Any) -> aiohttp.ClientWebSocketResponse:
    session = web.session()
    ws = await session.ws_connect("/ws/phone")
    await ws.send_str(json.dumps({"type": "hello", "token": token, "rate": 16000, **hello}))
    ws._familiar_session = session  # type: ignore[attr-defined]
    return ws


async def test_phone_without_a_paired_token_is_refused(web: Web) -> None:
    ws = await phone(web, "guess")
    async with ws._familiar_session:  # type: ignore[attr-defined]
        message = await ws.receive_json(timeout=5)
        assert message == {"type": "error", "code": "unauthorized"}
        closed = await ws.receive(timeout=5)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_phone_push_to_talk_turn(web: Web) -> None:
    session, csrf = await web.admin()
    async with session, session.post("/api/tokens", json={"kind": "phone"}, headers=csrf) as r:
        token = (await r.json())["token"]
    ws = await phone(web, token)
    async with ws._familiar_session:  # type: ignore[attr-defined]
        assert (await ws.receive_json(timeout=10))["type"] == "ready"
        await ws.send_str(json.dumps({"type": "listen"}))
        await ws.send_bytes(b"\x00\x10" * 1600)  # 0.1 s
        await ws.send_str(json.dumps({"type": "end"}))
        seen: list[str] = []
        audio = 0
        async with asyncio.timeout(10):
            while True:
                message = await ws.receive()
                if message.type == aiohttp.WSMsgType.BINARY:
                    audio += len(message.data)
                    continue
                data = json.loads(message.data)
                seen.append(data["type"] + ":" + str(data.get("state") or data.get("text") or ""))
                if data["type"] == "audio-stop":
                    await ws.send_str(json.dumps({"type": "played"}))
                if data.get("state") == "idle" and "audio-stop:" in seen:
                    break
        await ws.close()
    assert "state:listening" in seen
    assert "transcript:3200 bytes at 16000" in seen
    assert "sentence:You said 3200 bytes at 16000." in seen
    assert seen.index("state:thinking") < seen.index("state:speaking")
    assert seen[-1] == "state:idle"
    assert audio > 0


def test_password_hash_round_trip_and_file_modes(tmp_path: Path) -> None:
    stored = hash_password("s3cret")
    assert check_password("s3cret", stored) and not check_password("other", stored)
    assert "s3cret" not in stored
    creds = Credentials(tmp_path / "w", 60)
    initial = creds.ensure_password()
    assert initial is not None and creds.login(initial.read_text().strip())
    assert creds.ensure_password() is None  # only on first start
    for name in ("admin.passwd", "secret", "initial-password"):
        assert (tmp_path / "w" / name).stat().st_mode & 0o077 == 0
    cookie, csrf = creds.new_session()
    assert creds.session(cookie) == csrf
    assert creds.session(cookie[:-2] + "xx") is None
    assert (
        Credentials(tmp_path / "w", -1).session(Credentials(tmp_path / "w", -1).new_session()[0])
        is None
    )


async def test_clients_outside_the_allow_list_are_refused(tmp_path: Path) -> None:
    from familiar_hub.conductor.turn import Services, TurnEngine
    from familiar_hub.config import ConductorConfig
    from familiar_hub.web.server import WebServer
    from tests.fakes import FakeAsr, FakeTts
    from tests.web.conftest import EchoResponder, web_config

    services = Services(FakeAsr(), FakeTts(), EchoResponder(), ConductorConfig(discover=False))
    server = WebServer(web_config(tmp_path, allow=["10.0.0.0/8"]), TurnEngine(services), None, None)
    async with server:
        web = Web(server, EchoResponder(), tmp_path)
        async with web.session() as session:
            for path in ("/api/health", "/phone", "/api/persona"):
                async with session.get(path) as r:
                    assert r.status == 403
                    assert (await r.json())["error"]["code"] == "forbidden"
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect("/ws/phone")


async def test_pages_are_an_installable_app_with_a_strict_policy(web: Web) -> None:
    async with web.session() as session:
        async with session.get("/phone") as r:
            page = await r.text()
            policy = r.headers["content-security-policy"]
        assert 'rel="manifest"' in page and "default-src 'self'" in policy
        async with session.get("/manifest.webmanifest") as r:
            manifest = await r.json(content_type=None)
        assert manifest["start_url"] == "/phone" and manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            async with session.get(icon["src"]) as r:
                assert r.status == 200, icon
        async with session.get("/sw.js") as r:
            assert r.status == 200 and "javascript" in r.headers["content-type"]
            worker = await r.text()
        for path in ("/static/phone.js", "/static/mic-worklet.js", "/static/style.css"):
            assert f'"{path}"' in worker
            async with session.get(path) as r:
                assert r.status == 200, path
        async with session.get("/static/..%2Fapp.py") as r:
            assert r.status == 404


async def test_an_upload_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from familiar_hub.web.server import WebServer
    from tests.web.conftest import web_config

    server = WebServer(web_config(tmp_path, max_upload_mb=0.01), None, None, None)
    async with server:
        assert server.context is not None
        server.context.credentials.set_password(PASSWORD)
        web = Web(server, EchoResponder(), tmp_path)
        session, csrf = await web.admin()
        async with session:
            form = aiohttp.FormData()
            form.add_field("files", b"x" * 200_000, filename="big.txt")
            async with session.post("/api/persona/documents", data=form, headers=csrf) as r:
                assert r.status == 413
                assert (await r.json())["error"]["code"] == "too-large"

            async def chunked() -> Any:
                yield b"--x--"

            headers = {**csrf, "Content-Type": "multipart/form-data; boundary=x"}
            async with session.post("/api/persona/voice", data=chunked(), headers=headers) as r:
                assert r.status == 422  # no length: refused


async def next_state(ws: aiohttp.ClientWebSocketResponse, wanted: str) -> list[str]:
    """Read until the hub says it is in ``wanted``; the message types seen on the way."""
    seen = []
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            seen.append(data["type"])
            if data["type"] == "audio-stop":
                await ws.send_str(json.dumps({"type": "played"}))
            if data.get("state") == wanted:
                return seen


async def test_phone_follow_up_listens_without_the_wake_word_and_stop_barges_in(web: Web) -> None:
    web.responder.ask_back = True
    session, csrf = await web.admin()
    async with session, session.post("/api/tokens", json={"kind": "phone"}, headers=csrf) as r:
        token = (await r.json())["token"]
    ws = await phone(web, token)
    async with ws._familiar_session:  # type: ignore[attr-defined]
        assert (await ws.receive_json(timeout=10))["type"] == "ready"
        await ws.send_str(json.dumps({"type": "listen"}))
        await ws.send_bytes(b"\x00\x10" * 800)
        await ws.send_str(json.dumps({"type": "end"}))
        await next_state(ws, "speaking")
        # the answer asked something back: after playing, the hub listens again by itself
        assert "audio-stop" in await next_state(ws, "listening")
        web.responder.ask_back = False
        await ws.send_bytes(b"\x00\x10" * 1600)
        await ws.send_str(json.dumps({"type": "end"}))
        await next_state(ws, "speaking")
        await ws.send_str(json.dumps({"type": "stop"}))  # barge-in: stop the answer
        assert "stop-audio" in await next_state(ws, "idle")
        await ws.close()
    assert [text for text, _ in web.responder.heard] == [
        "1600 bytes at 16000",
        "3200 bytes at 16000",
    ]
    assert web.responder.heard[0][1] == web.responder.heard[1][1]  # one conversation


async def phone_token(web: Web) -> str:
    session, csrf = await web.admin()
    async with session, session.post("/api/tokens", json={"kind": "phone"}, headers=csrf) as r:
        return str((await r.json())["token"])


async def test_a_page_that_hears_the_wake_word_sends_only_the_request(web: Web) -> None:
    made: list[object] = []
    ctx = web.server.context
    assert ctx is not None
    ctx.make_wake = lambda: made.append(1)  # type: ignore[assignment,func-returns-value]
    ws = await phone(web, await phone_token(web), wake="page")
    async with ws._familiar_session:  # type: ignore[attr-defined]
        assert await ws.receive_json(timeout=10) == {"type": "ready", "wake": "page"}
        assert await ws.receive_json(timeout=10) == {"type": "state", "state": "idle"}
        (session,) = ctx.phones.values()
        await ws.send_bytes(b"\x00\x10" * 800)  # stray audio while idle: not heard
        await ws.send_str(json.dumps({"type": "wake", "name": "alexa"}))  # not this hub's
        assert (await ws.receive_json(timeout=10))["code"] == "bad-message"
        await ws.send_str(json.dumps({"type": "wake", "name": "hey_jarvis"}))
        assert await ws.receive_json(timeout=10) == {"type": "wake", "name": "hey_jarvis"}
        await ws.send_bytes(b"\x00\x10" * 2400)  # the pre-roll and the request
        await ws.send_str(json.dumps({"type": "end"}))
        await next_state(ws, "speaking")
        # barge-in by wake word while the answer plays
        await ws.send_str(json.dumps({"type": "wake", "name": "hey_jarvis"}))
        seen = await next_state(ws, "listening")
        assert "stop-audio" in seen and "wake" in seen
        await ws.send_bytes(b"\x00\x10" * 1000)
        await ws.send_str(json.dumps({"type": "end"}))
        await next_state(ws, "idle")
        await ws.close()
    assert [text for text, _ in web.responder.heard] == [
        "4800 bytes at 16000",
        "2000 bytes at 16000",
    ]
    assert made == [] and session.hub_wake_chunks == 0  # the hub never ran its wake word
    assert session.page_wakes == ["hey_jarvis", "hey_jarvis"]
    assert session.idle_audio_bytes == 1600


async def test_the_hub_runs_the_wake_word_for_a_page_that_cannot(web: Web) -> None:
    ws = await phone(web, await phone_token(web))  # no "wake" in hello: an older page
    async with ws._familiar_session:  # type: ignore[attr-defined]
        assert await ws.receive_json(timeout=10) == {"type": "ready", "wake": "hub"}
        assert await ws.receive_json(timeout=10) == {"type": "state", "state": "idle"}
        ctx = web.server.context
        assert ctx is not None
        (session,) = ctx.phones.values()
        await ws.send_bytes(b"\x00\x10" * 2560)  # quiet: through the hub's wake word
        # only the hub says when the wake word was heard (messages are handled in order)
        await ws.send_str(json.dumps({"type": "wake", "name": "hey_jarvis"}))
        assert (await ws.receive_json(timeout=10))["code"] == "bad-message"
        await ws.close()
    assert session.hub_wake_chunks == 1 and session.page_wakes == []
    assert web.responder.heard == []


async def test_a_hello_with_an_unknown_wake_place_is_refused(web: Web) -> None:
    ws = await phone(web, await phone_token(web), wake="cloud")
    async with ws._familiar_session:  # type: ignore[attr-defined]
        assert await ws.receive_json(timeout=5) == {"type": "error", "code": "unauthorized"}


async def test_the_wake_word_files_are_served_to_the_page(web: Web) -> None:
    from familiar_hub.web.wakeword import MEL_SAMPLES, input_shape

    ctx = web.server.context
    assert ctx is not None and ctx.browser_wake is not None
    async with web.session() as session:
        async with session.get("/wakeword/config.json") as r:
            config = await r.json()
        assert config == ctx.browser_wake.page_config()
        if not config["available"]:
            pytest.fail(f"the browser wake word runtime is missing: {config['reason']}")
        assert config["words"] == ["hey_jarvis"] and config["threshold"] == 0.5
        async with session.get("/wakeword/models/melspectrogram.tflite") as r:
            assert r.status == 200
            assert input_shape(await r.read()) == [1, MEL_SAMPLES]
        async with session.get("/wakeword/models/hey_jarvis.tflite") as r:
            assert r.status == 200
            etag = r.headers["etag"]
        headers = {"If-None-Match": etag}
        async with session.get("/wakeword/models/hey_jarvis.tflite", headers=headers) as r:
            assert r.status == 304  # the page's cached copy is still good
        async with session.get("/wakeword/runtime/tflite_web_api_cc_simd.wasm") as r:
            assert r.status == 200 and r.headers["content-type"] == "application/wasm"
        for path in (
            "/wakeword/models/alexa.tflite",  # not a configured word
            "/wakeword/runtime/tflite_web_api_cc_threaded.wasm",
            "/wakeword/runtime/..%2F..%2Fweb%2Fkey.pem",
        ):
            async with session.get(path) as r:
                assert r.status == 404, path
                assert (await r.json())["error"]["code"] == "not-found"
        async with session.get("/static/wake-worker.js") as r:
            assert "'wasm-unsafe-eval'" in r.headers["content-security-policy"]
        async with session.get("/phone") as r:
            assert "eval" not in r.headers["content-security-policy"]  # the page stays strict


async def test_wrong_passwords_from_one_address_are_held_back(web: Web) -> None:
    async with web.session() as session:
        for _ in range(5):
            async with session.post("/api/login", json={"password": "guess"}) as r:
                assert r.status == 401
        # the sixth try is refused before the password is looked at, even the right one
        async with session.post("/api/login", json={"password": PASSWORD}) as r:
            assert r.status == 429
            assert 55 <= int(r.headers["retry-after"]) <= 60
            error = (await r.json())["error"]
        assert error["code"] == "too-many-attempts" and "try again in" in error["message"]
    # (a minute later it may try once more: tests/web/test_login_throttle.py, with a clock)
