"""Brain configuration: defaults valid, mistakes reported with their path; backend choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar_hub.brain import backends
from familiar_hub.config import BrainConfig, HomeConfig, HubConfig


def test_defaults_are_valid() -> None:
    config = HubConfig()
    assert config.brain.backend == "llama-cpp"
    assert config.brain.model == "qwen2.5-coder-0.5b-instruct"
    assert backends.choose_llm(config.brain) == "llama-cpp"
    assert backends.choose_executor(config.brain.home) is None


def test_choices() -> None:
    openai = BrainConfig(backend="openai", url="http://127.0.0.1:8080/v1", model="qwen")
    assert backends.choose_llm(openai) == "openai"
    ha = HomeConfig.model_validate({"home_assistant": {"url": "http://ha:8123", "token": "t"}})
    assert backends.choose_executor(ha) == "home-assistant"
    mqtt = HomeConfig.model_validate({"mqtt": {"topic_prefix": "home"}})
    assert backends.choose_executor(mqtt) == "mqtt"


def test_mqtt_commands_use_the_hubs_broker_section(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    secret.chmod(0o600)
    with pytest.raises(ValueError, match="top-level mqtt: section"):
        HomeConfig.model_validate({"mqtt": {"host": "broker", "password": "x"}})
    with pytest.raises(ValueError, match=r"brain\.home\.mqtt publishes through the hub's MQTT"):
        HubConfig.model_validate({"brain": {"home": {"mqtt": {}}}})
    config = HubConfig.model_validate(
        {
            "mqtt": {"host": "broker", "username": "u", "password_file": str(secret)},
            "brain": {"home": {"mqtt": {}}},
        }
    )
    assert config.brain.home.mqtt is not None and config.mqtt is not None


def test_problems_are_listed_by_path(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "hub.yaml"
    path.write_text(
        "brain:\n"
        "  backend: openai\n"
        "  temperature: 7\n"
        "  home:\n"
        "    entities:\n"
        "      - {entity_id: kitchen light, name: Kitchen}\n"
        "    colour: red\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(HubConfig, path)
    report = caught.value.report()
    assert "brain.temperature" in report
    assert "brain.home.entities[0].entity_id" in report
    assert "brain.home.colour: unknown key" in report


def test_openai_needs_a_url() -> None:
    with pytest.raises(ValueError, match="needs url"):
        BrainConfig(backend="openai")


def test_missing_model_file_is_an_error() -> None:
    with pytest.raises(ValueError, match="file not found"):
        BrainConfig(model="/nowhere/model.gguf")


def test_openai_request_body_json_modes() -> None:
    from familiar_hub.brain.backend import ChatMessage
    from familiar_hub.brain.backends.openai import OpenAiCompatibleLlm

    schema = {"type": "object"}
    messages = [ChatMessage("system", "s"), ChatMessage("user", "u")]
    llama = OpenAiCompatibleLlm("http://x/v1", "m").request_body(messages, 10, 0.0, schema)
    assert llama["response_format"] == {"type": "json_object", "schema": schema}
    assert llama["stream"] is True and llama["messages"][0] == {"role": "system", "content": "s"}
    vllm = OpenAiCompatibleLlm("http://x/v1", "m", json_mode="json_schema")
    body = vllm.request_body(messages, 10, 0.0, schema)
    assert body["response_format"]["json_schema"]["schema"] == schema
