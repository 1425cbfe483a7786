"""A real ``familiar hub`` process for end-to-end tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from familiar_testkit.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the hub runs from here, importing this checkout)."""


@contextlib.contextmanager
def hub_process(
    tmp: Path, config: dict[str, Any], roles: list[str] | None = None, timeout: float = 120.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``familiar hub`` as a real process; yields its URI."""
    port = free_port()
    config = {
        "endpoint": {"uri": f"tcp://127.0.0.1:{port}"},
        "zeroconf": {"enabled": False},
        "web": {"port": 0, "state_dir": str(tmp / "web")},
        **config,
    }
    path = tmp / f"hub-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    log = (tmp / f"hub-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "familiar", "hub", *(roles or []), "-c", str(path)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for_port(port, proc, timeout)
        yield f"tcp://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
