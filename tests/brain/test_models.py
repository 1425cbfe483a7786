"""End to end with the real packaged 0.5B model: grounded answers from a small email corpus,
the KV-cached persona prefix, and the OpenAI-compatible backend against a real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from familiar_hub import models
from familiar_hub.brain.backends.openai import OpenAiCompatibleLlm
from familiar_hub.brain.brain import Brain
from familiar_hub.brain.retrieval import open_retriever
from familiar_hub.brain.speaking import DECLINES
from familiar_hub.config import BrainConfig
from familiar_hub.persona.api import Retriever
from familiar_testkit.corpus import write_eml_corpus

pytestmark = pytest.mark.models

# The machine is shared: generous model deadlines (speed is measured in bench/, not here).
CONFIG = BrainConfig(
    max_tokens=40,
    temperature=0.0,
    first_token_timeout=240,
    token_timeout=60,
    answer_timeout=280,
    home={"enabled": False},
)


@pytest.fixture(scope="module")
def persona_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test corpus as .eml files, ingested into a real persona store by the real CLI."""
    root = tmp_path_factory.mktemp("persona")
    config = write_eml_corpus(root)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "familiar",
            "persona",
            "-c",
            str(config),
            "ingest",
            str(root / "mail"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return config


@pytest.fixture
async def retriever(persona_yaml: Path) -> AsyncIterator[Retriever]:
    async with open_retriever(str(persona_yaml)) as opened:
        yield opened


ANSWERABLE = [
    ("When is Tom's birthday dinner?", ["14 june", "saturday"]),
    ("When is the plumber coming?", ["friday"]),
]
UNANSWERABLE = ["When does my passport expire?", "What is my brother's phone number?"]


async def test_grounded_answers_and_declines(qwen: object, retriever: Retriever) -> None:
    async with Brain(CONFIG, qwen, retriever) as brain:  # type: ignore[arg-type]
        stats = []
        for question, facts in ANSWERABLE:
            result = await brain.respond(question).text()
            assert result.kind == "answer", result
            assert result.passages, question
            assert any(fact in result.text.lower() for fact in facts), (question, result.text)
            stats.append(brain.llm.last_stats if brain.llm else None)
        for question in UNANSWERABLE:
            result = await brain.respond(question).text()
            assert result.kind == "declined", (question, result.text)
            assert any(core.rstrip(".")[1:] in result.text for core in DECLINES), result.text
    # The persona prefix stayed in llama.cpp's KV cache: the second answer evaluated only what
    # was new (measured by llama.cpp's own counters).
    second = stats[1]
    assert second is not None
    assert second.prompt_tokens is not None and second.prompt_tokens_evaluated is not None
    prefix = len(brain.system_prompt) // 8  # a safe lower bound of its token count
    assert second.prompt_tokens_evaluated <= second.prompt_tokens - prefix, second


async def test_prompt_prepared_at_the_pause_is_all_in_the_cache(
    qwen: object, retriever: Retriever
) -> None:
    """The brain starts on the words heard at the speaker's pause; when the final words are
    the same, the model has nothing left to evaluate but the last token (llama.cpp's counters)."""
    async with Brain(CONFIG, qwen, retriever) as brain:  # type: ignore[arg-type]
        question = "When is the plumber coming?"
        brain.anticipate(question, "pause")
        result = await brain.respond(question, "pause").text()
        assert brain.llm is not None
        stats = brain.llm.last_stats
    assert result.kind == "answer" and "friday" in result.text.lower(), result.text
    assert stats.prompt_tokens is not None and stats.prompt_tokens > 100, stats
    assert stats.prompt_tokens_evaluated is not None and stats.prompt_tokens_evaluated <= 1, stats


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    gguf = models.resolve("qwen2.5-coder-0.5b-instruct")
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "2",
                "--model_alias",
                "qwen",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("llama_cpp.server did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_openai_compatible_backend_against_real_server(
    llama_server: str, retriever: Retriever
) -> None:
    config = CONFIG.model_copy(update={"backend": "openai", "url": llama_server, "model": "qwen"})
    async with (
        OpenAiCompatibleLlm(llama_server, "qwen", read_timeout=240) as llm,
        Brain(config, llm, retriever) as brain,
    ):
        sentences = []
        async with brain.respond("When is the plumber coming?") as reply:
            async for sentence in reply:
                sentences.append(sentence)
        result = reply.result
    assert result.kind == "answer" and result.error_code is None, result
    assert sentences and "friday" in result.text.lower(), result.text
