"""A real hub web server on 127.0.0.1 (real uvicorn, TLS, persona store with the hashing
embedder) over fake ASR/TTS and a scripted responder; clients talk HTTP(S) to it."""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from familiar_hub.brain.brain import Reply, ReplyResult
from familiar_hub.conductor.turn import Services, TurnEngine
from familiar_hub.config import ConductorConfig, WebConfig
from familiar_hub.web.server import WebServer
from tests.fakes import FakeAsr, FakeTts
from tests.persona.corpus import PERSONA

PASSWORD = "correct horse battery"


class EchoResponder:
    """Says back what it heard."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str | None]] = []
        self.ask_back = False
        """End with a question: the phone listens again without the wake word."""

    def respond(self, text: str, conversation_id: str | None = None) -> Reply:
        self.heard.append((text, conversation_id))
        result = ReplyResult(conversation_id or "c-" + str(len(self.heard)))

        async def sentences() -> AsyncGenerator[str, None]:
            yield f"You said {text}."
            yield "Anything else?"
            result.kind, result.text = "answer", f"You said {text}. Anything else?"
            result.continue_conversation = self.ask_back

        return Reply(sentences(), result)


def persona_yaml(tmp: Path, embedder: str = "hashing") -> Path:
    path = tmp / "persona.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "Priya",
                "addresses": [PERSONA],
                "names": ["Priya Raman", "Priya"],
                "store": str(tmp / "data" / "persona.db"),
                "voice_dir": str(tmp / "data" / "voice"),
                "embedder": {"model": embedder},
            }
        )
    )
    return path


@dataclass
class Web:
    server: WebServer
    responder: EchoResponder
    tmp: Path

    @property
    def url(self) -> str:
        return self.server.url

    def session(self, **kwargs: Any) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            self.url,
            connector=aiohttp.TCPConnector(ssl=_insecure()),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            **kwargs,
        )

    async def admin(self) -> tuple[aiohttp.ClientSession, dict[str, str]]:
        """A logged-in session and the CSRF header its unsafe requests need."""
        session = self.session()
        async with session.post("/api/login", json={"password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
            csrf = (await response.json())["csrf"]
        return session, {"X-CSRF-Token": csrf}


def _insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def web_config(tmp: Path, **extra: Any) -> WebConfig:
    return WebConfig.model_validate(
        {"host": "127.0.0.1", "port": 0, "state_dir": str(tmp / "web"), **extra}
    )


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    responder = EchoResponder()
    services = Services(FakeAsr(), FakeTts(), responder, ConductorConfig(discover=False))
    config = web_config(tmp_path)
    server = WebServer(
        config,
        TurnEngine(services),
        None,
        str(persona_yaml(tmp_path)),
        speaker_check=False,
    )
    async with server:
        assert server.context is not None
        server.context.credentials.set_password(PASSWORD)
        yield Web(server, responder, tmp_path)
