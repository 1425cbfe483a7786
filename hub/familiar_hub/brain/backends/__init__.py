"""Brain backends; the only place an LLM, HTTP or MQTT library is imported."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING

from familiar.errors import ConfigError

if TYPE_CHECKING:
    from familiar.mqtt import Publisher
    from familiar_hub.brain.backend import HomeExecutor, Llm
    from familiar_hub.config import BrainConfig, HomeConfig


def choose_llm(config: BrainConfig) -> str:
    """Which LLM backend a config asks for (pure)."""
    return "openai" if config.backend == "openai" else "llama-cpp"


def create_llm(config: BrainConfig) -> AbstractAsyncContextManager[Llm]:
    if choose_llm(config) == "openai":
        from familiar_hub.brain.backends.openai import OpenAiCompatibleLlm

        assert config.url is not None
        return OpenAiCompatibleLlm(
            config.url,
            config.model,
            api_key=config.read_api_key(),
            json_mode=config.json_mode,
            read_timeout=max(config.first_token_timeout, config.token_timeout),
        )
    from familiar_hub.brain.backends.llama_cpp import LlamaCppLlm

    return LlamaCppLlm(
        config.model,
        n_ctx=config.n_ctx,
        n_threads=config.n_threads,
        n_gpu_layers=config.n_gpu_layers,
    )


def choose_executor(config: HomeConfig) -> str | None:
    """``home-assistant``, ``mqtt`` or None (no way to carry commands out)."""
    if config.home_assistant is not None:
        return "home-assistant"
    if config.mqtt is not None:
        return "mqtt"
    return None


def create_executor(
    config: HomeConfig, mqtt: Publisher | None = None
) -> AbstractAsyncContextManager[HomeExecutor | None]:
    """``mqtt`` is the process's one MQTT connection (the hub's link), needed by ``home.mqtt``."""
    kind = choose_executor(config)
    if kind == "home-assistant":
        from familiar_hub.brain.backends.home_assistant import HomeAssistantRest

        assert config.home_assistant is not None
        return HomeAssistantRest(config.home_assistant)
    if kind == "mqtt":
        from familiar_hub.brain.backends.mqtt import MqttCommands

        assert config.mqtt is not None
        if mqtt is None:
            raise ConfigError(
                "brain.home.mqtt",
                ["publishes through the hub's MQTT connection: configure the top-level mqtt:"],
            )
        return MqttCommands(config.mqtt, mqtt)
    return nullcontext(None)
