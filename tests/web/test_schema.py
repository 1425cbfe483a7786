"""Schema-driven tests: every operation of the OpenAPI spec, fed generated requests (valid and
not) with credentials, over real HTTP; the hub never answers 500 and every error is JSON."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from familiar_hub.conductor.turn import Services, TurnEngine
from familiar_hub.config import ConductorConfig
from familiar_hub.web.server import WebServer
from tests.fakes import FakeAsr, FakeTts
from tests.web.conftest import PASSWORD, EchoResponder, persona_yaml, web_config


class ServerThread:
    """The web server on its own event loop in a thread (the schema tests are synchronous)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ready = threading.Event()
        self.server: WebServer | None = None
        self.token = ""
        self.cookie = ""
        self.csrf = ""
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        services = Services(FakeAsr(), FakeTts(), EchoResponder(), ConductorConfig(discover=False))
        server = WebServer(
            web_config(self.tmp, tls="off"),
            TurnEngine(services),
            None,
            str(persona_yaml(self.tmp)),
            speaker_check=False,
        )
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with server:
            assert server.context is not None
            creds = server.context.credentials
            creds.set_password(PASSWORD)
            _, self.token = creds.issue("api", "schemathesis")
            self.cookie, self.csrf = creds.new_session()
            self.server = server
            self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self.ready.wait(30), "web server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(tmp_path_factory.mktemp("schema")) as server:
        yield server


def fuzz(operation: Any, running: ServerThread) -> None:
    """Generated requests (valid and not) for one operation, with every credential."""
    assert running.server is not None
    url = running.server.url

    @given(operation.as_strategy())
    @settings(
        max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: Any) -> None:
        response = case.call(
            base_url=url,
            headers={"Authorization": f"Bearer {running.token}", "X-CSRF-Token": running.csrf},
            cookies={"familiar_session": running.cookie},
            timeout=20,
        )
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400:
            body = response.json()
            assert set(body["error"]) == {"code", "message"}, body

    run()


def test_no_generated_request_makes_the_hub_fail(running: ServerThread) -> None:
    assert running.server is not None and running.server.app is not None
    schema = schemathesis.openapi.from_dict(running.server.app.openapi())
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz(operation, running)
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/interact" in tested and "POST /api/persona/documents" in tested
    assert len(tested) >= 12, tested
