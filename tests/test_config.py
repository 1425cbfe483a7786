"""Configuration: every problem reported with its path; bad files start nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar_hub.config import HubConfig
from familiar_testkit.ports import free_port
from familiar_testkit.processes import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    return path


def test_shipped_example_is_valid() -> None:
    config = load_config(HubConfig, ROOT / "config" / "hub.yaml")
    assert config.endpoint.port == 10300
    assert config.asr.resolved_compute_type == "int8"


def test_defaults_run_on_cpu() -> None:
    config = load_config(HubConfig, None)
    assert config.asr.device == "cpu"
    assert config.asr.model == "whisper-base"
    assert config.tts.voice == "en_US-joe-medium"


def test_cuda_defaults_to_float16() -> None:
    config = load_config(HubConfig, None, {"asr": {"device": "cuda"}})
    assert config.asr.resolved_compute_type == "float16"


def test_bad_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "asr:\n  model: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, path)
    assert "invalid YAML" in info.value.problems[0]
    assert "line " in info.value.problems[0]


def test_every_problem_is_listed_with_its_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "asr:\n  model: /nowhere/model\n  beam_size: 0\n  colour: red\n"
        "endpoint:\n  uri: http://x:1\ntts:\n  workers: many\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, path)
    problems = "\n".join(info.value.problems)
    assert "asr.colour: unknown key" in problems
    assert "asr.beam_size:" in problems
    assert "endpoint.uri: expected tcp://host:port" in problems
    assert "tts.workers:" in problems
    assert len(info.value.problems) >= 4


def test_missing_model_file(tmp_path: Path) -> None:
    path = write(tmp_path, "asr:\n  model: /nowhere/whisper\n")
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, path)
    assert info.value.problems == [
        "line 2: asr.model: file not found: /nowhere/whisper (and not a packaged model: "
        "all-minilm-l6-v2, all-minilm-l6-v2-int8, en_US-joe-medium, multilingual-e5-small, "
        "qwen2.5-coder-0.5b-instruct, qwen2.5-coder-1.5b-instruct, whisper-base, whisper-tiny.en)"
    ]


def test_remote_role_needs_no_model(tmp_path: Path) -> None:
    path = write(tmp_path, "asr:\n  uri: tcp://10.0.0.2:10300\n  model: /nowhere\n")
    assert load_config(HubConfig, path).asr.uri == "tcp://10.0.0.2:10300"


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(HubConfig, write(tmp_path, "- a\n- b\n"))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "familiar", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_check_command(tmp_path: Path) -> None:
    ok = run_cli("config", "check", str(ROOT / "config" / "hub.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert "valid hub configuration" in ok.stdout

    bad = run_cli("config", "check", str(write(tmp_path, "asr:\n  nonsense: 1\n")))
    assert bad.returncode == 2
    assert "asr.nonsense: unknown key" in bad.stderr


def test_hub_with_bad_config_starts_nothing(tmp_path: Path) -> None:
    port = free_port()
    path = write(tmp_path, f"endpoint:\n  uri: tcp://127.0.0.1:{port}\nasr:\n  model: /nope\n")
    result = run_cli("hub", "-c", str(path))
    assert result.returncode == 2
    assert "line 4: asr.model: file not found: /nope" in result.stderr
    import socket

    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        pass
