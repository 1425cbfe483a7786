"""What the brain needs from an LLM and from whatever carries out home commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from familiar_hub.brain.home import Entity, ServiceCall


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class LlmStats:
    """Counts for the last request, as the backend reports them (None when it cannot)."""

    prompt_tokens: int | None = None
    """Tokens in the whole prompt."""
    prompt_tokens_evaluated: int | None = None
    """Prompt tokens actually processed; the rest came from the KV cache (the fixed prefix)."""
    completion_tokens: int | None = None


class Llm(Protocol):
    """A chat model that streams text. One instance serves every conversation."""

    @property
    def name(self) -> str: ...

    @property
    def last_stats(self) -> LlmStats: ...

    async def prefill(self, messages: Sequence[ChatMessage]) -> None:
        """Process this prompt now, so a request starting with it later pays only for the
        rest (no-op where the backend cannot). Cancelling it stops it soon."""
        ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        """Text as it is generated; with ``json_schema`` the output is constrained to it."""
        ...


class HomeExecutor(Protocol):
    """Carries out service calls (Home Assistant REST API, MQTT) and knows the devices."""

    @property
    def name(self) -> str: ...

    async def entities(self) -> list[Entity]:
        """Devices it knows about (may be empty: then the YAML list is used)."""
        ...

    async def call(self, call: ServiceCall) -> None:
        """Carry out one call; raises ``HomeControlFailed``."""
        ...
