from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def qwen() -> Iterator[object]:
    """The packaged 0.5B model, loaded once for the whole session (tiny context, 2 threads)."""
    from familiar_hub.brain.backends.llama_cpp import LlamaCppLlm

    llm = LlamaCppLlm("qwen2.5-coder-0.5b-instruct", n_ctx=2048, n_threads=2)
    llm._load()  # sync on purpose: the fixture outlives each test's event loop
    yield llm
    llm._unload()
    llm.worker.shutdown(wait=True)
