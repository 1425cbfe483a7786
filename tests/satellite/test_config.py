"""Satellite configuration, the wake gate, and the satellite-only install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar.extensions import follow_up_flag
from familiar_satellite.config import SatelliteConfig
from familiar_satellite.wake import WakeGate

ROOT = Path(__file__).resolve().parents[2]


def test_example_file_is_valid_and_matches_defaults() -> None:
    config = load_config(SatelliteConfig, ROOT / "config" / "satellite.yaml")
    assert config == SatelliteConfig()
    assert config.listen.port == 10700
    assert [w.id for w in config.wake.words] == ["hey_jarvis"]


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "satellite.yaml"
    path.write_text(
        "controller: alexa\n"
        "wake:\n  words:\n    - model: hey_siri\n    - model: okay_nabu\n      engine: micro\n"
        "snd:\n  format: {width: 4}\n"
        "sounds:\n  awake: /nope.wav\n"
        "surprise: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(SatelliteConfig, path)
    text = "\n".join(err.value.problems)
    for where in (
        "controller",
        "wake.words[0]",
        "wake.words[1].engine",
        "snd",
        "sounds.awake",
        "surprise",
    ):
        assert where in text, text


def test_commands_and_custom_models(tmp_path: Path) -> None:
    model = tmp_path / "hey_computer.tflite"
    model.write_bytes(b"\0")
    config = SatelliteConfig.model_validate(
        {
            "mic": {"command": "sh -c 'cat in.raw'"},
            "wake": {
                "words": [{"model": str(model)}, {"model": "alexa", "engine": "microwakeword"}]
            },
        }
    )
    assert config.mic.command == ["sh", "-c", "cat in.raw"]
    assert [w.id for w in config.wake.words] == ["hey_computer", "alexa"]
    assert config.wake.words[0].spoken == "hey computer"
    with pytest.raises(ValueError, match="once"):
        SatelliteConfig.model_validate({"wake": {"words": [{"model": "alexa"}] * 2}})


@pytest.mark.parametrize(
    ("level", "frames", "detections"),
    [
        (1, [1, 0, 1], [True, False, False]),  # second activation inside refractory time
        (3, [1, 1, 0, 1, 1, 1], [False, False, False, False, False, True]),
        (2, [1, 1] + [0] * 25 + [1, 1], [False, True] + [False] * 25 + [False, True]),
    ],
)
def test_wake_gate(level: int, frames: list[int], detections: list[bool]) -> None:
    gate = WakeGate(trigger_level=level, refractory_seconds=2.0)
    assert [gate.observe(bool(f), 0.08) for f in frames] == detections


@pytest.mark.parametrize(
    ("data", "flag"),
    [
        ({}, None),
        ({"continue_conversation": True}, True),
        ({"context": {"continue_conversation": False}}, False),
        ({"context": {"conversation_id": "x"}}, None),
        ({"continue_conversation": "yes"}, None),
    ],
)
def test_follow_up_flag(data: dict[str, object], flag: bool | None) -> None:
    assert follow_up_flag(data) is flag


def test_satellite_imports_no_hub_or_heavy_library() -> None:
    code = (
        "import sys, familiar_satellite.app, familiar_satellite.cli, "
        "familiar_satellite.backends.openwakeword, "
        "familiar_satellite.backends.microwakeword, familiar_satellite.backends.microvad\n"
        "bad = [m for m in ('familiar_hub', 'torch', 'llama_cpp', 'faster_whisper', 'piper', "
        "'ctranslate2', 'onnxruntime') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_satellite_extra_pulls_no_hub_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["satellite"]
    names = " ".join(deps).lower()
    for heavy in ("torch", "llama", "faster-whisper", "piper"):
        assert heavy not in names
    assert "pyopen-wakeword==1.1.0" in deps
    assert "pymicro-vad==2.1.0" in deps
