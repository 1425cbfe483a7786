"""Secrets from files (issue 14): every secret, checked at load, warned about when exposed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar.mqtt import MqttConfig
from familiar_hub.config import BrainConfig, HomeAssistantApiConfig


def secret(tmp_path: Path, name: str, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_every_secret_can_come_from_a_file(tmp_path: Path) -> None:
    token = secret(tmp_path, "token", "abc.def\n")
    key = secret(tmp_path, "key", "sk-123\nignored\n")
    password = secret(tmp_path, "pw", "hunter2\n")
    ha = HomeAssistantApiConfig(url="http://ha:8123", token_file=token)
    assert ha.read_token() == "abc.def"
    brain = BrainConfig.model_validate(
        {"backend": "openai", "url": "http://127.0.0.1:1/v1", "api_key_file": str(key)}
    )
    assert brain.read_api_key() == "sk-123"
    mqtt = MqttConfig(username="u", password_file=password)
    assert mqtt.read_password() == "hunter2"
    assert HomeAssistantApiConfig(url="http://ha", token="inline").read_token() == "inline"


def test_a_missing_secret_file_is_a_config_error_with_its_path(tmp_path: Path) -> None:
    from familiar_hub.config import HubConfig

    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as caught:
        load_config(
            HubConfig,
            None,
            {
                "brain": {"home": {"home_assistant": {"url": "http://ha", "token_file": missing}}},
                "mqtt": {"username": "u", "password_file": missing, "tls": {"ca": missing}},
            },
        )
    problems = "\n".join(caught.value.problems)
    assert f"brain.home.home_assistant.token_file: token_file not found: {missing}" in problems
    assert f"mqtt.password_file: password_file not found: {missing}" in problems
    assert f"mqtt.tls.ca: certificate file not found: {missing}" in problems


def test_a_world_readable_secret_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    exposed = secret(tmp_path, "token", "abc\n", 0o644)
    HomeAssistantApiConfig(url="http://ha", token_file=exposed)
    assert any("readable by every user" in r.getMessage() for r in caplog.records)
    caplog.clear()
    HomeAssistantApiConfig(url="http://ha", token_file=secret(tmp_path, "ok", "abc\n"))
    assert not caplog.records


def test_inline_and_file_together_or_neither_are_errors(tmp_path: Path) -> None:
    token = secret(tmp_path, "token", "abc\n")
    with pytest.raises(ValueError, match="not both"):
        HomeAssistantApiConfig(url="http://ha", token="x", token_file=token)
    with pytest.raises(ValueError, match="token_file"):
        HomeAssistantApiConfig(url="http://ha")
