"""The web app served by uvicorn inside the hub's event loop (an async context manager).

The socket is bound before the server starts (port 0 works, the port is known at once); the
hub's own SIGTERM handling stays in charge (uvicorn's signal capture is switched off).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import uvicorn
from fastapi import FastAPI

from familiar_hub.config import WebConfig
from familiar_hub.web.app import WebContext, create_app
from familiar_hub.web.security import (
    Credentials,
    certificate_names,
    ensure_certificate,
    fingerprint,
)

if TYPE_CHECKING:
    from familiar_hub.brain.brain import Brain
    from familiar_hub.conductor.turn import TurnEngine
    from familiar_hub.persona.config import PersonaConfig
    from familiar_hub.web.phone import WakeListener
    from familiar_hub.web.wakeword import BrowserWake

_LOGGER = logging.getLogger(__name__)


def web_state_dir(config: WebConfig) -> Path:
    if config.state_dir:
        return Path(config.state_dir).expanduser()
    from familiar_hub.persona.config import data_dir

    return data_dir() / "web"


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the hub handles SIGTERM/SIGINT itself


def _make_wake(config: WebConfig) -> WakeListener:
    from familiar_hub.web.backends.listening import OpenWakeWordListener

    return OpenWakeWordListener(config.wake_words, config.wake_threshold)


def _browser_wake(config: WebConfig) -> BrowserWake:
    from familiar_hub.web.wakeword import BrowserWake, models_dir, runtime_dir

    return BrowserWake(
        config.wake_words,
        config.wake_threshold,
        runtime_dir() if config.browser_wake else None,
        models_dir(),
    )


class WebServer:
    """Serves the web app until the context exits."""

    def __init__(  # noqa: PLR0917
        self,
        config: WebConfig,
        turns: TurnEngine | None,
        brain: Brain | None,
        persona_config: str | None,
        hub_name: str = "familiar",
        speaker_check: bool = True,
    ) -> None:
        self.config = config
        self.turns = turns
        self.brain = brain
        self.persona_config = persona_config
        self.hub_name = hub_name
        self.speaker_check = speaker_check
        self.port = 0
        self.scheme = "https" if config.tls != "off" else "http"
        self.context: WebContext | None = None
        self.app: FastAPI | None = None
        self._stack = contextlib.AsyncExitStack()
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"{self.scheme}://{host}:{self.port}"

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        from familiar_hub.web.backends.listening import MicroVadListener
        from familiar_hub.web.persona import PersonaAdmin

        config = self.config
        state_dir = web_state_dir(config)
        credentials = await asyncio.to_thread(Credentials, state_dir, config.session_hours * 3600)
        initial = await asyncio.to_thread(credentials.ensure_password)
        if initial is not None:
            _LOGGER.warning(
                "web: first start; the admin password is in %s (read it, log in, then delete"
                " the file; change it with `familiar hub --web-password`)",
                initial,
            )
        ssl: dict[str, str] = {}
        fp: str | None = None
        if config.tls == "auto":
            names = certificate_names(config.host)
            cert = await asyncio.to_thread(ensure_certificate, state_dir, names)
            ssl = {"ssl_certfile": str(cert.cert_file), "ssl_keyfile": str(cert.key_file)}
            fp = cert.fingerprint
        elif config.tls == "files":
            assert config.cert_file is not None and config.key_file is not None
            ssl = {"ssl_certfile": config.cert_file, "ssl_keyfile": config.key_file}
            fp = fingerprint(await asyncio.to_thread(Path(config.cert_file).read_bytes))
        persona_cfg = None
        if self.persona_config is not None:
            persona_cfg = await asyncio.to_thread(_persona_config, self.persona_config)
        persona = await self._stack.enter_async_context(
            PersonaAdmin(persona_cfg, self.brain, self.speaker_check)
        )
        ctx = self.context = WebContext(
            config=config,
            credentials=credentials,
            turns=self.turns,
            persona=persona,
            make_wake=lambda: _make_wake(config),
            make_vad=MicroVadListener,
            fingerprint=fp,
            hub_name=self.hub_name,
            browser_wake=await asyncio.to_thread(_browser_wake, config),
        )
        if ctx.browser_wake is not None and ctx.browser_wake.missing is not None:
            _LOGGER.info("web: phones use the hub's wake word: %s", ctx.browser_wake.missing)
        self._stack.push_async_callback(ctx.executor.close)
        app = self.app = create_app(ctx)
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
        sock.listen(128)
        sock.setblocking(False)
        self._stack.callback(sock.close)
        self.port = int(sock.getsockname()[1])
        uv_config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,  # URLs are not logged: nothing secret can leak that way
            lifespan="off",
            proxy_headers=bool(config.trusted_proxies),
            forwarded_allow_ips=config.trusted_proxies or None,
            ws="wsproto",
            ws_max_size=1 << 20,
            timeout_graceful_shutdown=3,
            **ssl,  # type: ignore[arg-type]
        )
        server = self._server = _EmbeddedServer(uv_config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="web")
        while not server.started:
            if self._task.done():
                await self._task
                raise OSError("web server did not start")
            await asyncio.sleep(0.01)
        _LOGGER.info("web app at %s (phone page /phone, admin /admin)", self.url)
        if fp:
            _LOGGER.info("web certificate SHA-256 fingerprint %s", fp)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stack.aclose()


def _persona_config(path: str) -> PersonaConfig | None:
    from familiar.config import load_config
    from familiar_hub.persona.config import PersonaConfig

    file = Path(path).expanduser()
    if not file.exists():
        _LOGGER.warning("persona config %s does not exist: persona admin disabled", path)
        return None
    return load_config(PersonaConfig, file)
