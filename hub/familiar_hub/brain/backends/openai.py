"""Any OpenAI-compatible chat server (llama.cpp server, vLLM, Ollama) by URL, streamed (SSE).

The server keeps its own prompt cache; we send the same system prompt first on every request
so servers with prefix caching (llama.cpp ``cache_prompt``, vLLM prefix caching) reuse it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp

from familiar.errors import LlmFailed
from familiar_hub.brain.backend import ChatMessage, LlmStats

_LOGGER = logging.getLogger(__name__)
_MAX_LINE = 1 << 20


class OpenAiCompatibleLlm:
    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        json_mode: Literal["json_object", "json_schema"] = "json_object",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self._url = url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._json_mode = json_mode
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._stats = LlmStats()

    @property
    def name(self) -> str:
        return self._model

    @property
    def last_stats(self) -> LlmStats:
        return self._stats

    async def __aenter__(self) -> Self:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=self._timeout, read_bufsize=_MAX_LINE
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def request_body(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
            "cache_prompt": True,  # llama.cpp server; others ignore unknown fields
        }
        if json_schema is not None:
            if self._json_mode == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": json_schema, "strict": True},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": json_schema}
        return body

    async def prefill(self, messages: Sequence[ChatMessage]) -> None:
        """Nothing is sent ahead: the server keeps its own prefix cache, and a throwaway request
        would hold one of its slots while other homes are waiting."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        return self._stream(self.request_body(messages, max_tokens, temperature, json_schema))

    async def _stream(self, body: dict[str, Any]) -> AsyncIterator[str]:
        if self._session is None:
            raise LlmFailed("client is not open")
        stats = LlmStats()
        self._stats = stats
        try:
            async with self._session.post(self._url, json=body) as response:
                if response.status != 200:
                    detail = (await response.text())[:300]
                    raise LlmFailed(f"{self._url}: HTTP {response.status}: {detail}")
                async for raw in response.content:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError as err:
                        raise LlmFailed(f"{self._url}: bad stream chunk") from err
                    usage = chunk.get("usage")
                    if isinstance(usage, dict):
                        stats.prompt_tokens = usage.get("prompt_tokens")
                        stats.completion_tokens = usage.get("completion_tokens")
                        details = usage.get("prompt_tokens_details") or {}
                        cached = details.get("cached_tokens")
                        if isinstance(cached, int) and stats.prompt_tokens is not None:
                            stats.prompt_tokens_evaluated = stats.prompt_tokens - cached
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            yield str(text)
        except aiohttp.ClientError as err:
            raise LlmFailed(f"{self._url}: {err!r}") from err
