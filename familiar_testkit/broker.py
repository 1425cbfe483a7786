"""A real Mosquitto broker on a free port of 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from familiar.mqtt import MqttConfig
from familiar_testkit.ports import free_port, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
WAIT = 10.0
"""Upper bound of every wait on the broker (never a timing assertion)."""


def require_mosquitto() -> str:
    """The broker's path; skips the test when it is not installed (fails under
    ``FAMILIAR_REQUIRE_MOSQUITTO``, which CI sets)."""
    import pytest

    if MOSQUITTO is None:
        if os.environ.get("FAMILIAR_REQUIRE_MOSQUITTO"):
            pytest.fail("FAMILIAR_REQUIRE_MOSQUITTO is set but mosquitto is not installed")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    return MOSQUITTO


class Mosquitto:
    """A broker subprocess with a temp config; ``stop``/``start`` keep the same port."""

    def __init__(self, workdir: Path, port: int | None = None, extra: str = "") -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = extra
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if MOSQUITTO is None:
            raise RuntimeError("mosquitto is not installed")
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{self.extra or 'allow_anonymous true'}\n"
            # Run as ourselves: as root, mosquitto would switch to its own user and lose
            # access to the test's temp files.
            f"user {getpass.getuser()}\n"
            "persistence false\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(self.port, self.process, WAIT)
        except (RuntimeError, TimeoutError) as err:
            process = self.process
            err_text = process.stderr.read().decode() if process.poll() and process.stderr else ""
            log = self.log.read_text() if self.log.exists() else ""
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {err} {err_text}{log}") from err

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=WAIT)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    async def restart(self) -> None:
        await asyncio.to_thread(self.stop)
        await asyncio.to_thread(self.start)

    def config(self, **overrides: Any) -> MqttConfig:
        """An ``mqtt:`` section for this broker, with fast reconnects."""
        fast = {"reconnect_min": 0.05, "reconnect_max": 0.5, "birth_delay_max": 0.2}
        return MqttConfig.model_validate(
            {"host": "127.0.0.1", "port": self.port, **fast, **overrides}
        )
