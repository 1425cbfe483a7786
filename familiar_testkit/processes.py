"""A real ``familiar hub`` process for end-to-end tests and benchmarks, and a script run in a
fresh interpreter."""

from __future__ import annotations

import contextlib
import json
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


def run_json_script(script: str, *args: str, timeout: float | None = None) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter importing this checkout; its last line, as JSON.

    A fresh process, so that what it measures (peak memory, imports) is the script's alone.
    """
    paths = [str(ROOT), str(ROOT / "hub"), os.environ.get("PYTHONPATH", "")]
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)},
    )
    if done.returncode != 0:
        raise RuntimeError(f"script exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


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
