"""Fixtures every layer may use: a real Mosquitto broker on a free port."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from familiar_testkit.broker import Mosquitto, require_mosquitto

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests never write into the user's data dir (persona stores, the demo persona, web state);
# hubs started as processes inherit it.
if "FAMILIAR_DATA" not in os.environ:
    _DATA = tempfile.mkdtemp(prefix="familiar-test-data-")
    os.environ["FAMILIAR_DATA"] = _DATA
    atexit.register(shutil.rmtree, _DATA, True)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real broker for this test (anonymous), stopped after it."""
    require_mosquitto()
    server = Mosquitto(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[[str], Mosquitto]]:
    """Brokers with extra config lines (credentials, TLS...); ``{dir}`` is the broker's folder."""
    require_mosquitto()
    started: list[Mosquitto] = []

    def make(extra: str) -> Mosquitto:
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        server = Mosquitto(workdir, extra=extra.format(dir=workdir))
        started.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
