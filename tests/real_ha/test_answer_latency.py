"""A persona answer through Home Assistant's conversation agent (Wyoming ``handle``) and straight
from the hub, on the same question: the same answer either way. The times are printed for
docs/home-assistant.md (``pytest -s``): HA returns only the whole answer, the hub's own
stream has its first sentence much earlier. Nothing here asserts on time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.handle import Handled, HandledChunk

from familiar.client import WyomingClient
from familiar_testkit.processes import hub_process
from tests.real_ha.conftest import RealHa

pytestmark = [pytest.mark.real_ha, pytest.mark.models]

QUESTIONS = [  # the sample persona (Rosa) knows these
    "What is the secret of your paella?",
    "Where is the spare key?",
    "Where do you work?",
    "When are you flying to Sevilla?",
]


@pytest.fixture(scope="module")
def hub_with_brain(real_ha: RealHa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if real_ha.major_minor < (2025, 1):
        pytest.skip(f"HA {real_ha.version} has no Wyoming handle (conversation agent)")
    tmp = Path(tmp_path_factory.mktemp("brain"))
    with hub_process(tmp, {"name": "Answer Hub"}, roles=["brain"], timeout=600) as (uri, _):
        host, port = uri.removeprefix("tcp://").split(":")
        flows = "/api/config/config_entries/flow"
        status, flow = real_ha.rest("POST", flows, {"handler": "wyoming"})
        assert status == 200, (status, flow)
        status, flow = real_ha.rest(
            "POST", f"{flows}/{flow['flow_id']}", {"host": host, "port": int(port)}
        )
        assert flow.get("type") == "create_entry", flow
        yield uri


async def direct(uri: str, text: str) -> tuple[float, float, str]:
    start = time.monotonic()
    first = None
    async with WyomingClient(uri) as client:
        await client.send(Transcript(text=text, context={"conversation_id": f"d{start}"}).event())
        while True:
            event = await client.read(300)
            assert event is not None
            if HandledChunk.is_type(event.type) and first is None:
                first = time.monotonic() - start
            if Handled.is_type(event.type):
                answer = Handled.from_event(event).text or ""
                break
    total = time.monotonic() - start
    return first if first is not None else total, total, answer


def through_ha(real_ha: RealHa, text: str) -> tuple[float, str]:
    start = time.monotonic()
    status, body = real_ha.rest(
        "POST",
        "/api/conversation/process",
        {"text": text, "agent_id": "conversation.answer_hub", "language": "en"},
    )
    assert status == 200, (status, body)
    speech = body["response"]["speech"]["plain"]["speech"]
    return time.monotonic() - start, str(speech)


async def test_answers_through_ha_and_straight(real_ha: RealHa, hub_with_brain: str) -> None:
    await direct(hub_with_brain, "Hello!")  # warm up (model pages, caches)
    rows = []
    for index, question in enumerate(QUESTIONS):
        if index % 2:  # alternate which path goes first (either may warm the other)
            ha_seconds, ha_answer = await asyncio.to_thread(through_ha, real_ha, question)
            first, whole, answer = await direct(hub_with_brain, question)
        else:
            first, whole, answer = await direct(hub_with_brain, question)
            ha_seconds, ha_answer = await asyncio.to_thread(through_ha, real_ha, question)
        assert answer.strip() and ha_answer.strip()
        rows.append((question, first, whole, ha_seconds, len(answer)))
    print(f"\nHA {real_ha.version}: question | hub first sentence | hub whole | via HA | chars")
    for question, first, whole, ha_seconds, chars in rows:
        print(f"{question} | {first:.2f} s | {whole:.2f} s | {ha_seconds:.2f} s | {chars}")
