"""Is the transcript at the speaker's pause already the whole request? (pure, then the brain
with the real home-control templates)."""

from __future__ import annotations

import pytest

from familiar_hub.brain.brain import Brain
from familiar_hub.brain.completeness import (
    complete_command,
    complete_question,
    lacks_verb,
    may_continue_a_name,
    trails_off,
)
from familiar_hub.brain.home import HomeIntent
from familiar_hub.config import BrainConfig, HomeConfig
from tests.brain.fakes import ENTITIES, ListRetriever, ScriptedLlm, entity_config, passage

DINNER_TEXT = "Tom's birthday dinner is on Saturday 14 June at 7pm at Luigi's."
NAMES = ["Kitchen Light", "Kitchen", "Bedroom Lamp", "Bedroom Lamp Shade"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Turn on the kitchen light.", False),
        ("Turn on the...", True),
        ("Turn on the…", True),
        ("Turn on the kitchen light,", True),
        ("Turn on the kitchen light -", True),
        ("Turn on the", True),
        ("What did Tom say about", True),
        ("When is Tom's", True),
        ("Turn on the kitchen light please", False),
        ("", True),
    ],
)
def test_trailing_off(text: str, expected: bool) -> None:
    assert trails_off(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("turn on the kitchen", True),  # "Kitchen Light" may follow
        ("turn on the kitchen light", False),
        ("turn on the bedroom lamp", True),  # "Bedroom Lamp Shade"
        ("set the thermostat to twenty", True),
        ("set the thermostat to 21", True),
        ("set the thermostat to twenty one degrees", False),
    ],
)
def test_names_and_numbers_that_may_go_on(text: str, expected: bool) -> None:
    assert may_continue_a_name(text, NAMES) is expected


def test_only_template_commands_with_nothing_more_to_come_are_complete() -> None:
    on = HomeIntent("HassTurnOn")
    assert complete_command("Turn on the kitchen light.", on, NAMES)
    assert not complete_command("Turn on the kitchen light.", None, NAMES)
    assert not complete_command("Turn on the kitchen.", on, NAMES)
    assert not complete_command(
        "Turn on the kitchen light.", HomeIntent("HassTurnOn", source="llm"), NAMES
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("When is Tom's birthday dinner?", True),
        ("What did the plumber say?", True),
        ("When is Tom's birthday dinner", False),  # Whisper did not hear it end
        ("When is?", False),  # too short
        ("When is Tom's?", False),
        ("What did Tom say about the?", False),
        ("Tom's birthday dinner?", False),  # not shaped like a question
        # "What did the plumber … say about Friday?" cut at the pause (endpoint bench)
        ("What did the plumber?", False),
        ("What did the plumber say about Friday?", True),
    ],
)
def test_complete_questions(text: str, expected: bool) -> None:
    assert complete_question(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did the plumber?", True),
        ("What did the plumber say?", False),
        ("Did Tom?", True),
        ("Did Tom call?", False),
        ("When does Tom's wife?", True),
        ("When does Tom's wife arrive?", False),
        ("Why didn't the plumber?", True),
        ("Why didn't the plumber come?", False),
        ("What time will it?", True),
        ("What time will it be?", False),
        ("How much did it cost?", False),
        ("Who will win?", False),  # the question word is the subject
        ("Where is the plumber?", False),  # "be" needs no other verb
        ("When is the plumber coming?", False),
        ("Could you?", True),
        ("Tell me about Friday.", False),  # no auxiliary: nothing to say
    ],
)
def test_auxiliary_questions_need_a_verb_after_the_subject(text: str, expected: bool) -> None:
    assert lacks_verb(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Turn on the kitchen light.", True),
        ("Turn off the bedroom lamp.", True),
        ("Turn on the...", False),
        ("Turn on the kitchen", False),  # a room, or the start of "Kitchen Light"
        ("Set the living room blinds to", False),
        ("Open the garage door.", True),
        ("When is Tom's birthday dinner?", True),
        ("What did the plumber?", False),
        ("Tell me about the", False),
        ("I was thinking", False),
        ("Stop.", True),
    ],
)
async def test_brain_judges_with_the_real_templates(text: str, expected: bool) -> None:
    config = BrainConfig(home=HomeConfig.model_validate({"entities": entity_config()}))
    async with Brain(config, ScriptedLlm(["Hi."]), ListRetriever(), entities=ENTITIES) as brain:
        assert await brain.complete(text) is expected


async def test_work_started_at_the_pause_is_reused_for_the_same_words() -> None:
    llm = ScriptedLlm(["On Saturday."])
    retriever = ListRetriever([passage(DINNER_TEXT)])
    config = BrainConfig(home=HomeConfig(enabled=False))
    async with Brain(config, llm, retriever) as brain:
        question = "When is Tom's birthday dinner"
        brain.anticipate(question, "c1")
        result = await brain.respond(question, "c1").text()
    assert result.kind == "answer"
    assert retriever.queries == [question]  # retrieved once, at the pause
    # the persona prefix at start, then the whole prompt at the pause: the request that
    # followed was exactly that prompt, so the model found it all in its cache
    assert [m.role for m in llm.prefilled[0]] == ["system"]
    assert llm.prefilled[1] == llm.calls[0]


async def test_other_final_words_discard_the_work_started_at_the_pause() -> None:
    llm = ScriptedLlm(["On Saturday."])
    retriever = ListRetriever([passage(DINNER_TEXT)])
    config = BrainConfig(home=HomeConfig(enabled=False))
    async with Brain(config, llm, retriever) as brain:
        brain.anticipate("When is Tom's", "c1")
        result = await brain.respond("When is Tom's birthday dinner?", "c1").text()
    assert result.kind == "answer"
    assert retriever.queries[-1] == "When is Tom's birthday dinner?"
    assert "birthday dinner?" in llm.calls[0][-1].content
