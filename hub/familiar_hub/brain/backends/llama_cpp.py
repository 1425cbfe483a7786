"""llama.cpp in process (llama-cpp-python): one loaded GGUF on one worker thread.

The persona's system prompt is the same at the start of every request, so llama.cpp's prefix
match keeps it in the KV cache and each turn only evaluates what is new; ``last_stats`` reports
how many prompt tokens were really evaluated (llama.cpp's own performance counters).

``prefill`` evaluates a prompt ahead of the request (the persona prefix at start, the likely
prompt while the speaker is still pausing): it renders the prompt with the model's own chat
template exactly as ``create_chat_completion`` does, so the request that follows finds every
token already in the cache. It works in batches and stops between them when cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing
from typing import Any

from familiar.errors import LlmFailed
from familiar.threads import ThreadedModel
from familiar_hub import models
from familiar_hub.brain.backend import ChatMessage, LlmStats

_LOGGER = logging.getLogger(__name__)


PREFILL_BATCH = 64
"""Tokens per batch while prefilling: how soon a cancelled prefill hands the model back."""


def _chat_formatter(llama: Any) -> Any:
    """The formatter ``create_chat_completion`` uses for a GGUF's own chat template; None when
    the model uses another chat handler (prefill is then skipped)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if template is None or llama.chat_format != "chat_template.default" or llama.chat_handler:
        return None

    def text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8") if token != -1 else ""

    return Jinja2ChatFormatter(
        template=template,
        eos_token=text(llama.token_eos()),
        bos_token=text(llama.token_bos()),
        stop_token_ids=[llama.token_eos()],
    )


class LlamaCppLlm(ThreadedModel):
    def __init__(
        self,
        model: str,
        *,
        n_ctx: int = 4096,
        n_threads: int = 0,
        n_gpu_layers: int = 0,
        seed: int = 0,
    ) -> None:
        # One thread: the model is used by one request at a time, and never from the loop.
        super().__init__("llm")
        self._model = model
        self._n_ctx = n_ctx
        self._n_threads = n_threads or (os.cpu_count() or 1)
        self._n_gpu_layers = n_gpu_layers
        self._seed = seed
        self._llama: Any = None
        self._formatter: Any = None
        self._stats = LlmStats()

    @property
    def name(self) -> str:
        return os.path.basename(self._model)

    @property
    def last_stats(self) -> LlmStats:
        return self._stats

    def _load(self) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as err:  # pragma: no cover - depends on the install
            raise LlmFailed("llama-cpp-python is not installed (pip install .[hub])") from err
        path = models.resolve(self._model)
        _LOGGER.info("loading %s (n_gpu_layers=%d)", path, self._n_gpu_layers)
        self._llama = Llama(
            model_path=str(path),
            n_ctx=self._n_ctx,
            n_threads=self._n_threads,
            n_gpu_layers=self._n_gpu_layers,
            seed=self._seed,
            verbose=False,
        )
        self._formatter = _chat_formatter(self._llama)

    def _unload(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    async def prefill(self, messages: Sequence[ChatMessage]) -> None:
        if self._llama is None or self._formatter is None:
            return
        stop = threading.Event()
        try:
            await self.worker.run(self._prefill, list(messages), stop)
        except asyncio.CancelledError:
            stop.set()  # the worker stops at its next batch
            raise

    def _prompt_tokens(self, messages: list[ChatMessage]) -> list[int]:
        """The prompt's tokens as ``create_chat_completion`` makes them (same template, same
        tokenizer call)."""
        chat = [{"role": m.role, "content": m.content} for m in messages]
        rendered = self._formatter(messages=chat)
        return list(
            self._llama.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        )

    def _prefill(self, messages: list[ChatMessage], stop: threading.Event) -> None:
        import llama_cpp

        llama = self._llama
        tokens = self._prompt_tokens(messages)
        if len(tokens) >= self._n_ctx:
            return
        cached = 0
        for have, want in zip(llama.input_ids[: llama.n_tokens], tokens, strict=False):
            if have != want:
                break
            cached += 1
        llama.n_tokens = cached  # what follows in the cache belongs to another prompt
        for start in range(cached, len(tokens), PREFILL_BATCH):
            if stop.is_set():
                return
            llama.eval(tokens[start : start + PREFILL_BATCH])
        # Settle the work (and llama.cpp's counters) here, not inside the next request.
        llama_cpp.llama_synchronize(llama.ctx)
        _LOGGER.debug("prefilled %d tokens (%d were cached)", len(tokens) - cached, cached)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        return self._stream(list(messages), max_tokens, temperature, json_schema)

    async def _stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
    ) -> AsyncIterator[str]:
        if self._llama is None:
            raise LlmFailed("model is not loaded")

        def make() -> Iterator[str]:
            return self._generate(messages, max_tokens, temperature, json_schema)

        async with aclosing(self.worker.iterate(make, maxsize=64)) as pieces:
            async for piece in pieces:
                yield piece

    def _generate(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
    ) -> Iterator[str]:
        import llama_cpp

        llama = self._llama
        kwargs: dict[str, Any] = {}
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        llama_cpp.llama_perf_context_reset(llama.ctx)
        stats = LlmStats()
        self._stats = stats
        chunks = llama.create_chat_completion(
            [{"role": m.role, "content": m.content} for m in messages],
            stream=True,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=self._seed,
            **kwargs,
        )
        try:
            for chunk in chunks:
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    yield delta
        finally:
            chunks.close()
            perf = llama_cpp.llama_perf_context(llama.ctx)
            stats.prompt_tokens = int(llama.n_tokens) - int(perf.n_eval)
            stats.prompt_tokens_evaluated = int(perf.n_p_eval)
            stats.completion_tokens = int(perf.n_eval)
