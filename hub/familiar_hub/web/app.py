"""The hub's web app (FastAPI): phone page, admin pages, REST API with OpenAPI, phone WebSocket.

Who gets in (``security.py``): the admin by password (a signed, HttpOnly, SameSite=Strict
session cookie; unsafe requests must echo the session's CSRF token in ``X-CSRF-Token``),
phones by a paired token (sent in the WebSocket's first message, never in a URL), REST clients
by an API token (``Authorization: Bearer``). Every request is checked against the allow-list.
Errors are JSON ``{"error": {"code", "message"}}`` with the codes of ``docs/errors.md``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.responses import StreamingResponse as _Streaming
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocketDisconnect

from familiar.audio import PcmFormat, float_to_pcm16, pcm_to_float, read_wav, resample
from familiar.errors import (
    Busy,
    CsrfFailed,
    FamiliarError,
    Forbidden,
    InvalidRequest,
    NotFound,
    PersonaNotConfigured,
    TooLarge,
    TooManyAttempts,
    Unauthorized,
    WebError,
)
from familiar.threads import Worker
from familiar_hub.conductor.turn import Channel, TurnEngine, TurnOutcome, Utterance
from familiar_hub.config import WebConfig
from familiar_hub.web.persona import VOICE_SUFFIXES, PersonaAdmin, safe_name
from familiar_hub.web.phone import (
    HELLO_TIMEOUT,
    PhoneSession,
    VoiceListener,
    WakeListener,
    WakeWhere,
)
from familiar_hub.web.security import AllowList, Credentials, LoginThrottle, TokenKind
from familiar_hub.web.wakeword import BrowserWake

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "familiar_session"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UPLOADS = ("/api/persona/", "/api/interact/speech")
"""POSTs whose size is checked before the body is read."""
SPEECH_RATE = 16000
"""Spoken requests are resampled to this (the microphone format of every satellite)."""
SPEECH_CHUNK_SECONDS = 0.1
CONVERSATION_ID = r"^[A-Za-z0-9_-]+$"
_STATUS = {
    cls.code: cls.status
    for cls in (
        Unauthorized,
        Forbidden,
        CsrfFailed,
        NotFound,
        PersonaNotConfigured,
        TooLarge,
        InvalidRequest,
        TooManyAttempts,
        Busy,
    )
}


def _status(code: str) -> int:
    if code in _STATUS:
        return _STATUS[code]
    return 503 if code.endswith(("-failed", "-timeout", "-unavailable")) else 500


def error_response(code: str, message: str, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status or _status(code)
    )


# --- request and response bodies ----------------------------------------------------------


class LoginBody(BaseModel):
    password: str = Field(max_length=1024)


class SessionInfo(BaseModel):
    csrf: str
    """Echo this in ``X-CSRF-Token`` on every POST/DELETE made with the session cookie."""


class InteractBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    """What the user says (typed)."""
    conversation_id: str | None = Field(default=None, max_length=64, pattern=CONVERSATION_ID)
    """From a previous answer's ``done`` line, to continue the conversation."""
    speech: bool = True
    """Also stream the answer's audio (base64 PCM lines)."""


class TokenBody(BaseModel):
    kind: Literal["phone", "api"]
    name: str = Field(default="", max_length=60)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]


class StreamingResponse(_Streaming):
    media_type = "application/x-ndjson"


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "no or wrong credentials"},
    403: {"model": ErrorResponse, "description": "not allowed (network, CSRF)"},
    422: {"model": ErrorResponse, "description": "invalid request"},
}


@dataclass
class WebContext:
    """What the web app serves from; built by the hub."""

    config: WebConfig
    credentials: Credentials
    turns: TurnEngine | None
    persona: PersonaAdmin
    make_wake: Callable[[], WakeListener]
    make_vad: Callable[[], VoiceListener]
    fingerprint: str | None = None
    phones: dict[str, PhoneSession] = field(default_factory=dict)
    hub_name: str = "familiar"
    executor: Worker = field(default_factory=lambda: Worker("phone-wake", threads=4))
    """Wake word detection of the phone sessions (closed by the server)."""
    browser_wake: BrowserWake | None = None
    """The runtime and models for phones that run the wake word themselves."""
    logins: LoginThrottle = field(default_factory=LoginThrottle)
    """Failed admin logins per address."""


def _static(name: str) -> Path:
    return Path(str(resources.files("familiar_hub.web") / "static" / name))


def _page(name: str) -> FileResponse:
    return FileResponse(
        _static(name),
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
                "style-src 'self'; script-src 'self'; connect-src 'self' wss:; "
                "frame-ancestors 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def create_app(ctx: WebContext) -> FastAPI:  # noqa: PLR0915 (one place lists every route)
    app = FastAPI(
        title="Familiar hub",
        version="1",
        description="Talk to the persona, manage what it knows. Authenticate with "
        "`Authorization: Bearer <API token>` (made on the admin page).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        responses=_ERRORS,
    )
    allow = AllowList(ctx.config.allow)
    creds = ctx.credentials
    executor = ctx.executor
    app.state.max_upload_bytes = int(ctx.config.max_upload_mb * (1 << 20)) + (64 << 10)
    phone_slots = asyncio.Semaphore(ctx.config.max_phones)

    # --- errors

    @app.exception_handler(FamiliarError)
    async def _familiar(_: Request, err: FamiliarError) -> JSONResponse:
        if not isinstance(err, WebError):
            _LOGGER.warning("request failed (%s): %s", err.code, err)
        response = error_response(err.code, str(err))
        if isinstance(err, TooManyAttempts):
            response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in err.errors()
        )
        return error_response(InvalidRequest.code, problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            err.status_code, "http-error"
        )
        return error_response(code, str(err.detail), err.status_code)

    # --- the allow-list, before anything else

    @app.middleware("http")
    async def _allow_list(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        host = request.client.host if request.client else None
        if not allow.allows(host):
            _LOGGER.warning("web: refused %s (not in allow list)", host)
            return error_response(Forbidden.code, "your network is not allowed")
        if request.method == "POST" and request.url.path.startswith(_UPLOADS):
            # Refused before the body is read (the form parser would spool it to disk first).
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                return error_response(InvalidRequest.code, "uploads need a Content-Length")
            if int(length) > app.state.max_upload_bytes:
                return error_response(TooLarge.code, "upload too large")
        response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    # --- credentials

    def _admin(request: Request) -> bool:
        csrf = creds.session(request.cookies.get(SESSION_COOKIE))
        if csrf is None:
            return False
        if request.method in _UNSAFE and request.headers.get(CSRF_HEADER) != csrf:
            raise CsrfFailed("missing or wrong CSRF token")
        return True

    def _bearer(request: Request, kinds: tuple[TokenKind, ...]) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return False
        if creds.check_token(header[7:].strip(), kinds) is None:
            host = request.client.host if request.client else "?"
            _LOGGER.warning("web: wrong token from %s for %s", host, request.url.path)
            return False
        return True

    def require_admin(request: Request) -> None:
        if not _admin(request):
            raise Unauthorized("log in first")

    def require_api(request: Request) -> None:
        if _bearer(request, ("api",)) or _admin(request):
            return
        raise Unauthorized("an API token or an admin login is needed")

    admin_only = [Depends(require_admin)]
    api_access = [Depends(require_api)]

    def secure(request: Request) -> bool:
        return request.url.scheme == "https"

    # --- pages

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/phone")

    @app.get("/phone", include_in_schema=False)
    async def phone_page() -> FileResponse:
        return _page("phone.html")

    @app.get("/admin", include_in_schema=False)
    async def admin_page(request: Request) -> Response:
        if creds.session(request.cookies.get(SESSION_COOKIE)) is None:
            return RedirectResponse("/login")
        return _page("admin.html")

    @app.get("/login", include_in_schema=False)
    async def login_page() -> FileResponse:
        return _page("login.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        path = _static(safe_name(name))
        if not path.is_file() or name != path.name:
            raise NotFound("no such file")
        headers = {"Cache-Control": "no-cache"}
        if name == "wake-worker.js":
            # The worker's own policy: the TFLite runtime compiles WebAssembly and its
            # Emscripten glue builds functions at run time; the pages keep the strict one.
            headers["Content-Security-Policy"] = (
                "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'"
            )
        return FileResponse(path, headers=headers)

    # --- the wake word in the browser (docs/web.md)

    @app.get("/wakeword/config.json", include_in_schema=False)
    async def wake_config() -> JSONResponse:
        bw = ctx.browser_wake
        body = bw.page_config() if bw else {"available": False, "reason": "not set up"}
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    @app.get("/wakeword/runtime/{name}", include_in_schema=False)
    async def wake_runtime(name: str) -> FileResponse:
        path = ctx.browser_wake.runtime_file(name) if ctx.browser_wake else None
        if path is None:
            raise NotFound("no such file")
        media = "application/wasm" if name.endswith(".wasm") else "text/javascript"
        return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})

    @app.get("/wakeword/models/{name}.tflite", include_in_schema=False)
    async def wake_model(request: Request, name: str) -> Response:
        bw = ctx.browser_wake
        found = await asyncio.to_thread(bw.model, name) if bw else None
        if found is None:
            raise NotFound("no such model")
        data, etag = found
        headers = {"Cache-Control": "no-cache", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)  # the page has it already
        return Response(data, media_type="application/octet-stream", headers=headers)

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> FileResponse:
        return FileResponse(
            _static("sw.js"), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/manifest.webmanifest", include_in_schema=False)
    async def manifest() -> FileResponse:
        return FileResponse(_static("manifest.webmanifest"), media_type="application/manifest+json")

    # --- session

    @app.get("/api/health", tags=["hub"])
    async def health() -> Health:
        """Whether the hub is up (no credentials needed, nothing else told)."""
        return Health(status="ok")

    @app.post(
        "/api/login",
        tags=["admin"],
        responses={
            429: {"model": ErrorResponse, "description": "too many wrong passwords (Retry-After)"}
        },
    )
    async def login(request: Request, body: LoginBody) -> JSONResponse:
        """Log in as the admin: sets the session cookie; returns the CSRF token. After 5 wrong
        passwords from one address it gets one more try a minute (429 with Retry-After)."""
        host = request.client.host if request.client else None
        wait = ctx.logins.retry_after(host)
        if wait > 0:
            seconds = math.ceil(wait)
            _LOGGER.warning("web: admin login from %s refused (too many attempts)", host)
            raise TooManyAttempts(
                f"too many wrong passwords; try again in {seconds} s", retry_after=seconds
            )
        ok = await asyncio.to_thread(creds.login, body.password)
        if not ok:
            ctx.logins.failed(host)
            _LOGGER.warning("web: failed admin login from %s", host)
            raise Unauthorized("wrong password")
        ctx.logins.succeeded(host)
        cookie, csrf = creds.new_session()
        response = JSONResponse(SessionInfo(csrf=csrf).model_dump())
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(creds.session_seconds),
            httponly=True,
            secure=secure(request),
            samesite="strict",
            path="/",
        )
        return response

    @app.post("/api/logout", tags=["admin"], dependencies=admin_only)
    async def logout(request: Request) -> JSONResponse:
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/api/session", tags=["admin"])
    async def session(request: Request) -> SessionInfo:
        """The CSRF token of the current admin session."""
        csrf = creds.session(request.cookies.get(SESSION_COOKIE))
        if csrf is None:
            raise Unauthorized("log in first")
        return SessionInfo(csrf=csrf)

    @app.get("/api/admin/info", tags=["admin"], dependencies=admin_only)
    async def admin_info(request: Request) -> dict[str, Any]:
        """Certificate fingerprint, connected phones, store size."""
        return {
            "hub": ctx.hub_name,
            "fingerprint": ctx.fingerprint,
            "phones": sorted(ctx.phones),
            "voice": ctx.turns is not None,
            "max_request_seconds": ctx.turns.config.max_utterance_seconds if ctx.turns else None,
        }

    # --- tokens and pairing

    @app.get("/api/tokens", tags=["admin"], dependencies=admin_only)
    async def list_tokens(request: Request) -> list[dict[str, str]]:
        """Paired phones and API tokens (never the tokens themselves)."""
        return [
            {"id": t.id, "kind": t.kind, "name": t.name, "created": t.created}
            for t in creds.tokens()
        ]

    @app.post("/api/tokens", tags=["admin"], dependencies=admin_only)
    async def new_token(request: Request, body: TokenBody) -> dict[str, Any]:
        """A new phone pairing or API token; the token is shown only in this answer."""
        record, token = creds.issue(body.kind, body.name)
        out: dict[str, Any] = {"id": record.id, "kind": record.kind, "name": record.name}
        out["token"] = token
        if body.kind == "phone":
            url = f"{request.base_url}phone#pair={token}"
            out["url"] = url
            out["qr_svg"] = _qr_svg(url)
        return out

    @app.delete("/api/tokens/{token_id}", tags=["admin"], dependencies=admin_only)
    async def revoke_token(request: Request, token_id: str) -> dict[str, bool]:
        if not creds.revoke(token_id):
            raise NotFound("no such token")
        return {"ok": True}

    # --- talking

    @app.post(
        "/api/interact",
        tags=["talk"],
        response_class=StreamingResponse,
        dependencies=api_access,
    )
    async def interact(request: Request, body: InteractBody) -> StreamingResponse:
        """Ask the persona. Streams NDJSON lines as the answer is made: ``sentence{text}``,
        ``audio{rate,width,channels,pcm}`` (base64 16-bit PCM, when ``speech``), then
        ``done{conversation_id, kind, follow_up, answer}`` or ``error{code,message}``."""
        if ctx.turns is None:
            raise Busy("this hub has no brain/TTS loaded")
        turns = ctx.turns if body.speech else _text_only(ctx.turns)
        return StreamingResponse(
            _turn_lines(
                body.speech,
                lambda ch: turns.answer_text(ch, body.text, body.conversation_id),
            ),
            media_type="application/x-ndjson",
        )

    @app.post(
        "/api/interact/speech",
        tags=["talk"],
        response_class=StreamingResponse,
        dependencies=api_access,
    )
    async def interact_speech(
        request: Request,
        audio: Annotated[UploadFile, File(description="the spoken request: a PCM WAV file")],
        conversation_id: Annotated[str | None, Form(max_length=64, pattern=CONVERSATION_ID)] = None,
        speech: Annotated[bool, Form()] = True,
    ) -> StreamingResponse:
        """Ask the persona by voice: a recording of the request (PCM WAV, any rate, mono or
        stereo, at most ``conductor.max_utterance_seconds`` long) goes through the same turn
        as a satellite's. Streams NDJSON: ``transcript{text}`` (what was heard), then the
        lines of ``/api/interact``; nothing heard is ``error{code: stt-no-text-recognized}``."""
        if ctx.turns is None:
            raise Busy("this hub has no ASR/brain/TTS loaded")
        limit = ctx.turns.config.max_utterance_seconds
        data = await _read(audio, int(ctx.config.max_upload_mb * (1 << 20)))
        pcm = await asyncio.to_thread(_speech_pcm, data, limit)
        turns = ctx.turns if speech else _text_only(ctx.turns)
        return StreamingResponse(
            _turn_lines(
                speech, lambda ch: turns.listen_and_answer(ch, _utterance(pcm), conversation_id)
            ),
            media_type="application/x-ndjson",
        )

    # --- persona

    @app.get("/api/persona", tags=["persona"], dependencies=api_access)
    async def persona(request: Request) -> dict[str, Any]:
        """The store: files, chunks, own-writing share, style profile, voice clips."""
        return await ctx.persona.overview()

    @app.post(
        "/api/persona/documents",
        tags=["persona"],
        response_class=StreamingResponse,
        dependencies=api_access,
    )
    async def upload_documents(
        request: Request, files: Annotated[list[UploadFile], File()]
    ) -> StreamingResponse:
        """Upload mail exports and documents; streams one NDJSON line per file as it is
        ingested (status, reason when skipped, chunks added), then ``done`` with the totals."""
        if not files:
            raise InvalidRequest("no files")
        if ctx.persona.config is None:
            await ctx.persona.overview()  # raises persona-not-configured
        saved: list[tuple[str, Path]] = []
        budget = int(ctx.config.max_upload_mb * (1 << 20))
        for upload in files:
            name = safe_name(upload.filename or "upload")
            path = ctx.persona.new_upload_path(name)
            budget -= await _save(upload, path, budget)
            saved.append((name, path))

        async def lines() -> AsyncIterator[bytes]:
            try:
                async for record in ctx.persona.ingest(saved):
                    yield (json.dumps(record) + "\n").encode()
            except FamiliarError as err:
                yield _error_line(err.code, str(err))

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.delete("/api/persona/documents", tags=["persona"], dependencies=api_access)
    async def forget_document(
        request: Request, path: Annotated[str, Query(max_length=4096)]
    ) -> dict[str, int]:
        """Forget a file completely (its chunks, its style evidence, the uploaded copy)."""
        return await ctx.persona.forget(path)

    @app.post("/api/persona/voice", tags=["persona"], dependencies=api_access)
    async def add_voice(request: Request, clip: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """Check a recorded clip (length, clipping, loudness, SNR, silence, same speaker) and
        keep it when it passes."""
        name = safe_name(clip.filename or "clip.wav")
        if not name.lower().endswith(VOICE_SUFFIXES):
            name += ".wav"
        folder = ctx.persona.new_upload_path(name)
        try:
            await _save(clip, folder, int(ctx.config.max_upload_mb * (1 << 20)))
            return await ctx.persona.add_voice(name, folder)
        finally:
            folder.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()

    @app.get(
        "/api/persona/voice/{clip_id}/audio",
        tags=["persona"],
        response_class=FileResponse,
        responses={200: {"content": {"audio/wav": {}}}},
        dependencies=api_access,
    )
    async def voice_audio(request: Request, clip_id: int) -> FileResponse:
        """The stored clip, to listen back."""
        return FileResponse(await ctx.persona.voice_file(clip_id), media_type="audio/wav")

    @app.delete("/api/persona/voice/{clip_id}", tags=["persona"], dependencies=api_access)
    async def remove_voice(request: Request, clip_id: int) -> dict[str, bool]:
        await ctx.persona.remove_voice(clip_id)
        return {"ok": True}

    # --- the phone's WebSocket

    @app.websocket("/ws/phone")
    async def phone_socket(websocket: WebSocket) -> None:
        host = websocket.client.host if websocket.client else None
        if not allow.allows(host):
            _LOGGER.warning("web: refused phone %s (not in allow list)", host)
            await websocket.close(code=1008)
            return
        await websocket.accept()
        hello = await _hello(websocket, creds)
        if hello is None:
            _LOGGER.warning("web: phone from %s refused (no valid token)", host)
            await websocket.send_text(json.dumps({"type": "error", "code": "unauthorized"}))
            await websocket.close(code=4401)
            return
        name, rate, wake = hello
        if ctx.turns is None or phone_slots.locked():
            await websocket.send_text(json.dumps({"type": "error", "code": "busy"}))
            await websocket.close(code=1013)
            return
        async with phone_slots:
            session = PhoneSession(
                f"{name}@{host}",
                websocket,
                ctx.turns,
                ctx.make_wake,
                ctx.make_vad,
                ctx.config.end_silence_seconds,
                executor,
                ctx.config.wake_words,
            )
            ctx.phones[session.name] = session
            _LOGGER.info("phone %s connected (wake word in the %s)", session.name, wake.value)
            try:
                await session.serve(rate, wake)
            except WebSocketDisconnect:
                pass
            finally:
                ctx.phones.pop(session.name, None)
                _LOGGER.info("phone %s disconnected", session.name)

    return app


# --- helpers ------------------------------------------------------------------------------------


async def _save(upload: UploadFile, path: Path, budget: int) -> int:
    """Copy an upload to ``path`` within ``budget`` bytes; the bytes written."""
    written = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if written > budget:
                break
            await asyncio.to_thread(out.write, chunk)
    if written > budget:
        await asyncio.to_thread(path.unlink, True)
        raise TooLarge("upload too large")
    return written


def _qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return str(image.to_string(encoding="unicode"))


def _error_line(code: str, message: str) -> bytes:
    return (json.dumps({"type": "error", "code": code, "message": message}) + "\n").encode()


async def _hello(websocket: WebSocket, creds: Credentials) -> tuple[str, int, WakeWhere] | None:
    """The page's first message: ``hello{token, rate, wake}`` (``wake``: ``page`` where the
    browser runs the wake word, ``hub`` by default); an admin's own session works too
    (checked against the Origin, so no other site can use it)."""
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            text = await websocket.receive_text()
        message = json.loads(text)
        rate = int(message.get("rate", 16000))
        wake = WakeWhere(message.get("wake", "hub"))
    except (TimeoutError, ValueError, TypeError, KeyError, WebSocketDisconnect, AttributeError):
        return None
    if not 8000 <= rate <= 96000 or message.get("type") != "hello":
        return None
    record = creds.check_token(message.get("token"), ("phone",))
    if record is not None:
        return record.name, rate, wake
    origin = websocket.headers.get("origin", "")
    own = f"{websocket.url.scheme.replace('ws', 'http')}://{websocket.url.netloc}"
    if origin == own and creds.session(websocket.cookies.get(SESSION_COOKIE)) is not None:
        return "admin", rate, wake
    return None


class _LinesChannel:
    """A turn's Channel for REST: every step becomes an NDJSON line in a bounded queue."""

    def __init__(self, speech: bool) -> None:
        self.speech = speech
        self.lines: asyncio.Queue[bytes | None] = asyncio.Queue(64)

    async def _put(self, record: dict[str, Any]) -> None:
        await self.lines.put((json.dumps(record) + "\n").encode())

    async def transcribing(self) -> None:
        pass

    async def transcript(self, text: str) -> None:
        await self._put({"type": "transcript", "text": text})

    async def sentence(self, text: str) -> None:
        await self._put({"type": "sentence", "text": text})

    async def audio_start(self, fmt: PcmFormat) -> None:
        pass

    async def audio(self, pcm: bytes, fmt: PcmFormat) -> None:
        await self._put(
            {
                "type": "audio",
                "rate": fmt.rate,
                "width": fmt.width,
                "channels": fmt.channels,
                "pcm": base64.b64encode(pcm).decode(),
            }
        )

    async def audio_stop(self, follow_up: bool) -> None:
        pass

    async def wait_played(self, timeout: float) -> None:
        pass

    async def error(self, code: str, text: str) -> None:
        await self._put({"type": "error", "code": code, "message": text})


async def _turn_lines(
    speech: bool, turn: Callable[[Channel], Awaitable[TurnOutcome]]
) -> AsyncIterator[bytes]:
    """A turn's steps as NDJSON lines as they happen, then ``done`` (unless it failed with
    nothing said)."""
    channel = _LinesChannel(speech)

    async def run() -> None:
        try:
            outcome = await turn(channel)
            if outcome.error_code is None or outcome.answer:
                await channel._put(
                    {
                        "type": "done",
                        "conversation_id": outcome.conversation_id,
                        "kind": outcome.kind,
                        "follow_up": outcome.follow_up,
                        "answer": outcome.answer,
                        "error_code": outcome.error_code,
                    }
                )
        finally:
            await channel.lines.put(None)

    task = asyncio.create_task(run(), name="interact")
    try:
        while (line := await channel.lines.get()) is not None:
            yield line
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _read(upload: UploadFile, budget: int) -> bytes:
    """An upload's bytes, at most ``budget``."""
    data = await upload.read(budget + 1)
    if len(data) > budget:
        raise TooLarge("upload too large")
    return data


def _speech_pcm(data: bytes, max_seconds: float) -> bytes:
    """A recorded request (PCM WAV) as 16-bit mono at :data:`SPEECH_RATE`; bad input is an
    :class:`InvalidRequest` that says what is wrong."""
    try:
        frames, fmt = read_wav(data)
        samples = pcm_to_float(frames, fmt.width, max(fmt.channels, 1))
    except (wave.Error, EOFError, ValueError) as err:
        raise InvalidRequest(f"audio: not a PCM WAV file ({err})") from err
    if not 8000 <= fmt.rate <= 192000:
        raise InvalidRequest(f"audio: sample rate {fmt.rate} Hz (8000 to 192000 Hz)")
    seconds = samples.size / fmt.rate
    if seconds > max_seconds:
        raise InvalidRequest(
            f"audio: {seconds:.1f} s is longer than a request may be ({max_seconds:g} s,"
            " conductor.max_utterance_seconds)"
        )
    return float_to_pcm16(resample(samples, fmt.rate, SPEECH_RATE))


def _utterance(pcm: bytes) -> Utterance:
    """A whole recording as an utterance that has ended (in satellite-sized chunks)."""
    fmt = PcmFormat(SPEECH_RATE, 2, 1)
    size = int(fmt.bytes_per_second * SPEECH_CHUNK_SECONDS)
    chunks = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    utterance = Utterance(maxsize=len(chunks) + 1)
    for chunk in chunks:
        utterance.feed(chunk, fmt)
    utterance.end()
    return utterance


def _text_only(turns: TurnEngine) -> TurnEngine:
    from dataclasses import replace

    from familiar_hub.tts.backend import SpeechAudio

    class Silent:
        def program(self) -> Any:
            return turns.services.tts.program()

        async def synthesize(self, text: str, voice: str | None) -> AsyncIterator[SpeechAudio]:
            return
            yield

    return TurnEngine(replace(turns.services, tts=Silent()))  # type: ignore[arg-type]
