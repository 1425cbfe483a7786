"""Answers in the persona's voice, and style that never becomes a fact (pure logic and the
brain with scripted models)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from familiar_hub.brain.brain import Brain
from familiar_hub.brain.memory import Turn
from familiar_hub.brain.prompt import build_messages, is_decline
from familiar_hub.brain.smalltalk import SmallTalk, classify, strip_greeting
from familiar_hub.brain.speaking import (
    DECLINES,
    Voice,
    carries_answer,
    doer_for_you,
    echoes,
    first_person,
    names_herself,
    ungrounded,
    you_for_someone,
)
from familiar_hub.config import BrainConfig
from familiar_hub.persona.api import StyleProfile
from tests.brain.fakes import ListRetriever, ScriptedLlm, passage

CONFIG = BrainConfig(home={"enabled": False})

# A profile as learned from real-looking mail of a code-mixed writer, with the two example
# sentences that leaked into answers before (issue 9): a place and a date from other mails.
MEENA = StyleProfile(
    greetings=["Kanna,", "Divya ma,", "Ravi anna, vanakkam!"],
    sign_offs=["Seri, bye. Amma", "Anbudan, Meena"],
    mean_sentence_words=7.0,
    formality="casual",
    phrases=["grey folder", "budget review"],
    languages=["en", "ta"],
    examples=[
        "The old passport is in the grey folder in the study, second shelf.",
        "The budget review is next January.",
    ],
    mixed_words=["seri", "romba", "konjam"],
    address_terms=["Kanna"],
    greeting_words=["vanakkam"],
    farewells=["Seri, bye.", "Anbudan,"],
    signatures=["Amma", "Meena"],
    closers=["Simple. Done."],
    openers=["seri", "aama"],
)
HAROLD = StyleProfile(
    greetings=["Margaret,", "Dear Mr Okafor,"],
    sign_offs=["H.", "Regards, H. Voss"],
    mean_sentence_words=4.5,
    formality="formal",
    farewells=["Regards,"],
    signatures=["H.", "H. Voss"],
    closers=["Nothing further.", "That is all."],
)
BUDGET = passage(
    "The budget review for the residents association is on the agenda again. Bring the "
    "solar panel figures.",
    source="mail/9.eml",
)


# --- style never becomes a fact ---------------------------------------------------------------


def test_style_examples_and_phrases_never_reach_the_prompt() -> None:
    messages = build_messages("Meena", MEENA, [], [BUDGET], "When is the budget review?")
    everything = "\n".join(m.content for m in messages)
    assert "grey folder" not in everything
    assert "January" not in everything
    assert "Meena" in messages[0].content and "first person" in messages[0].content


async def test_a_copied_style_example_is_never_said_as_the_answer() -> None:
    """The Home Assistant case: "When is the budget review?" answered "next January" from a
    style example, although the retrieved passage has no date."""
    llm = ScriptedLlm(["The budget review is next January."])
    brain = Brain(CONFIG, llm, ListRetriever([BUDGET], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("When is the budget review?").text()
    assert "January" not in result.text
    assert result.kind == "declined"
    assert any(core in result.text for core in DECLINES)


async def test_an_invented_place_is_never_said_as_the_answer() -> None:
    """The 0.5B model answered an unanswerable question with "the grey folder in the study"."""
    llm = ScriptedLlm(["It's in the grey folder in the study, second shelf."])
    brain = Brain(CONFIG, llm, ListRetriever([BUDGET], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Where is my old passport?").text()
    assert "grey folder" not in result.text and result.kind == "declined"


async def test_an_amount_of_another_ingredient_is_not_said_for_the_one_asked() -> None:
    """The 0.5B answered "How much tamarind goes in your sambar?" with the dal's "1 cup"."""
    recipe = passage(SAMBAR, "notes/sambar.txt", kind="document", subject="sambar")
    llm = ScriptedLlm(["Tamarind goes in my sambar for 1 cup."])
    brain = Brain(CONFIG, llm, ListRetriever([recipe], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("How much tamarind goes in your sambar?").text()
    assert "cup" not in result.text and result.kind == "declined"


async def test_grounded_sentences_are_kept_and_unfounded_ones_dropped() -> None:
    key = passage("Selvam will come on Thursday at 10 am to fix the bathroom tap.", "mail/2.eml")
    llm = ScriptedLlm(["Selvam comes on Thursday at 10.", " He also fixes the roof on 3 May."])
    brain = Brain(CONFIG, llm, ListRetriever([key], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("When is the plumber coming?").text()
    assert "Thursday" in result.text and "Selvam" in result.text
    assert "May" not in result.text and "roof" not in result.text
    assert result.kind == "answer"


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("The budget review is next January.", "January"),
        ("It is on 14 June.", "14"),
        ("Ask Ramesh about it.", "Ramesh"),
        ("It is in the grey folder in the study, second shelf.", "grey"),
        # a Spanish answer's weekday (the demo persona's yoga is on Tuesdays)
        ("El yoga es el sábado.", "sábado"),
    ],
)
def test_ungrounded_details(sentence: str, problem: str) -> None:
    sources = ["The review is on the agenda. Bring the figures.", "When is the review?"]
    assert any(problem in found for found in ungrounded(sentence, sources))


DOSA = "Dosa maavu: 4 cups idli rice, 1 cup urad dal. Soak for 6 hours, grind, ferment overnight."


@pytest.mark.parametrize(
    ("sentence", "wrong"),
    [
        # the 0.5B's answer to "How long should the dosa batter soak?" (the cups' number)
        ("Kanna, 4 hours.", True),
        ("Soak it for six hours.", False),
        ("Soak for 6 hours, then grind.", False),
        ("Two cups of rice.", True),
        ("4 cups of rice, 1 cup of dal.", False),
        ("It ferments for 8 hours.", True),
    ],
)
def test_an_amount_of_a_unit_the_passage_counts_otherwise_is_unfounded(
    sentence: str, wrong: bool
) -> None:
    assert bool(ungrounded(sentence, [DOSA])) is wrong
    # a number a few words before its unit counts ("2 or 3 hours")
    assert ungrounded("Soak it 3 hours.", ["Soak 2 or 3 hours."]) == []
    # a unit the passage does not count is not judged
    assert ungrounded("It keeps 2 days.", ["It keeps for days, 2 of us eat it."]) == []


SAMBAR = """My sambar (for 4 people)
Toor dal one cup, cooked soft with turmeric.
Tamarind the size of a lemon, soaked in warm water.
Sugar: 2 spoons, only if the tomatoes are sour."""


@pytest.mark.parametrize(
    ("sentence", "wrong"),
    [
        # the 0.5B's answers to "How much tamarind goes in your sambar?" (the dal's amount)
        ("Sambar is 1 cup of tamarind.", True),
        ("I wrote 1 cup of sambar.", True),
        ("One cup of toor dal, cooked soft.", False),
        ("1 cup of the dal.", False),
        # the thing named before the amount, in the same sentence
        ("2 spoons of sugar.", False),
        ("2 spoons of tamarind.", True),
        # an amount no sentence counts in that unit is not this check's to judge
        ("3 cups of water.", False),
    ],
)
def test_an_amount_given_for_another_thing_is_unfounded(sentence: str, wrong: bool) -> None:
    found = ungrounded(sentence, [SAMBAR])
    assert any(" of " in f for f in found) is wrong, found


LEAVE = "Madam, I will not come to work on Tuesday, my daughter is unwell. Valli"


@pytest.mark.parametrize(
    ("sentence", "sources", "wrong"),
    [
        # the 1.5B's answer to "Is the maid coming on Tuesday?"
        ("Yes, the maid is coming on Tuesday.", [LEAVE], True),
        ("No, the maid is not coming on Tuesday.", [LEAVE], False),
        ("Her daughter is unwell.", [LEAVE], False),
        # what is denied in another clause is another matter
        (
            "I am coming on Tuesday.",
            ["I could not come last week, so I am coming on Tuesday."],
            False,
        ),
        ("The party is cancelled on Friday.", ["The party on Friday is not cancelled."], True),
        ("The party won't be cancelled.", ["The party on Friday is not cancelled."], False),
    ],
)
def test_what_the_sources_deny_is_not_said_as_so(
    sentence: str, sources: list[str], wrong: bool
) -> None:
    assert any(f.startswith("not ") for f in ungrounded(sentence, sources)) is wrong


@pytest.mark.parametrize(
    ("question", "sentence", "wrong"),
    [
        # the 0.5B's answer: the dal's amount said for the tamarind asked about
        ("How much tamarind goes in your sambar?", "Tamarind goes in my sambar for 1 cup.", True),
        ("How much toor dal goes in your sambar?", "One cup, cooked soft.", False),
        ("How much sugar do you add?", "2 spoons.", False),
        # not a thing: what follows "how much" is a verb or the unit itself
        ("How much does it need?", "1 cup.", False),
        ("How many cups of dal?", "One cup.", False),
        # a thing no source names (another word for it) is not judged
        ("How much jaggery goes in?", "1 cup.", False),
    ],
)
def test_an_amount_said_for_the_thing_asked_must_be_its_own(
    question: str, sentence: str, wrong: bool
) -> None:
    found = ungrounded(sentence, [SAMBAR, question], question)
    assert any("(" in f or " of " in f for f in found) is wrong, found


@pytest.mark.parametrize(
    ("sentence", "sources"),
    [
        ("It is on 3 July at the Fischereihafen.", ["Feier am 3. Juli im Fischereihafen"]),
        ("Dinner is on Saturday 14 June.", ["date: 2025-06-14", "dinner on Saturday"]),
        ("Murugan picks him up at 7:15.", ["Murugan will pick you up, I told him 7:15."]),
        ("I gave 5,001 rupees.", ["I have given 5001 rupees to the temple"]),
        ("Die Feier ist im Restaurant Fischereihafen.", ["Restaurant Fischereihafen", "Feier"]),
        ("El yoga es el martes.", ["Yoga is Tuesdays at 6 pm now, not Mondays."]),
    ],
)
def test_grounded_details(sentence: str, sources: list[str]) -> None:
    assert ungrounded(sentence, sources) == []


# --- first person -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (
            "When do you book the gas cylinder?",
            "You book it on the 1st of every month.",
            "I book it on the 1st of every month.",
        ),
        (
            "How much tamarind goes in your sambar?",
            "Your sambar needs tamarind the size of a lemon.",
            "My sambar needs tamarind the size of a lemon.",
        ),
        (
            "Which train are you taking to Madurai?",
            "You are taking the Vaigai Express.",
            "I am taking the Vaigai Express.",
        ),
        (
            "How much did you give the temple for annadhanam?",
            "Aama, you gave the temple 5001 rupees for annadhanam.",
            "Aama, I gave the temple 5001 rupees for annadhanam.",
        ),
        (
            "Where do you buy fertiliser?",
            "You bought it from Rajan nursery.",
            "I bought it from Rajan nursery.",
        ),
        (
            "When do you book the gas cylinder?",
            "You booked it on the 1st.",
            "I booked it on the 1st.",
        ),
        ("Where is the key?", "Meena's key is with Lakshmi.", "My key is with Lakshmi."),
        (
            "Where is the key?",
            "You can get it from Lakshmi.",
            "You can get it from Lakshmi.",  # "you" is the listener here: unchanged
        ),
    ],
)
def test_first_person(question: str, answer: str, expected: str) -> None:
    assert first_person(answer, question, ["Meena"]) == expected


# --- small talk and memory --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hello!", SmallTalk.GREETING),
        ("good morning", SmallTalk.GREETING),
        ("Vanakkam", SmallTalk.GREETING),
        ("Hello, who are you?", SmallTalk.IDENTITY),
        ("What's your name?", SmallTalk.IDENTITY),
        ("How are you?", SmallTalk.WELLBEING),
        ("Thank you!", SmallTalk.THANKS),
        ("thanks a lot", SmallTalk.THANKS),
        ("Good night", SmallTalk.FAREWELL),
        ("What did I just ask you?", SmallTalk.RECALL_QUESTION),
        ("what was my last question", SmallTalk.RECALL_QUESTION),
        ("Say that again", SmallTalk.RECALL_ANSWER),
        ("When is the plumber coming?", None),
        ("Hi, where is the spare key?", None),
        ("How are you getting to Madurai?", None),
        ("Who are you meeting on Friday?", None),
    ],
)
def test_small_talk_is_recognised(text: str, kind: SmallTalk | None) -> None:
    assert classify(text) == kind


def test_a_greeting_before_a_question_is_left_out_of_the_question() -> None:
    assert strip_greeting("Hi, where is the spare key?") == "where is the spare key?"
    assert strip_greeting("Hiking boots: where are they?") == "Hiking boots: where are they?"


async def test_small_talk_needs_no_retrieval_and_no_llm() -> None:
    llm = ScriptedLlm(["should not be used"])
    retriever = ListRetriever([BUDGET], MEENA)
    brain = Brain(CONFIG, llm, retriever, persona_name="Meena")
    async with brain:
        hello = await brain.respond("Hello, who are you?", "c").text()
        how = await brain.respond("How are you?", "c").text()
        thanks = await brain.respond("Thank you!", "c").text()
    assert retriever.queries == [] and llm.calls == []
    assert hello.kind == "smalltalk" and "Meena" in hello.text
    assert "I don't know" not in hello.text + how.text + thanks.text
    assert {hello.kind, how.kind, thanks.kind} == {"smalltalk"}


async def test_what_did_i_just_ask_comes_from_the_conversation() -> None:
    key = passage("The spare key is with Lakshmi next door.", "mail/1.eml")
    llm = ScriptedLlm(["Lakshmi has the spare key."])
    brain = Brain(CONFIG, llm, ListRetriever([key], MEENA), persona_name="Meena")
    async with brain:
        await brain.respond("Where is the spare key?", "c").text()
        asked = await brain.respond("What did I just ask you?", "c").text()
        again = await brain.respond("Say that again", "c").text()
        still = await brain.respond("What did I ask you?", "c").text()
        fresh = await brain.respond("What did I just ask you?", "other").text()
    assert "Where is the spare key" in asked.text and asked.kind == "smalltalk"
    assert again.text == asked.text  # the last thing said, again
    assert "Where is the spare key" in still.text  # questions about the talk are skipped
    assert "haven't asked" in fresh.text
    assert len(llm.calls) == 1


# --- her habits -------------------------------------------------------------------------------


def test_greeting_and_identity_use_her_own_words() -> None:
    meena = Voice("Meena", MEENA)
    assert meena.greeting("k")[0] == "Kanna, vanakkam!"
    assert "Meena" in " ".join(meena.identity("k"))
    assert meena.farewell("k") == ["Seri, bye."]
    harold = Voice("Harold", HAROLD)
    assert harold.greeting("k")[0] == "Hello."  # no term of address, nothing written-only
    assert harold.farewell("k") == ["Goodbye."]  # "Regards" is written, never said


def test_declines_vary_and_carry_her_habits() -> None:
    meena = Voice("Meena", MEENA)
    declines = {" ".join(meena.decline(f"question {n}")) for n in range(30)}
    assert len(declines) >= 5
    habits = ("Kanna", "Seri", "Aama", "Simple. Done.")
    with_habit = [d for d in declines if any(h in d for h in habits)]
    assert len(with_habit) >= len(declines) // 2
    assert all(any(core.rstrip(".")[1:] in d for core in DECLINES) for d in declines)


def test_answers_are_dressed_in_her_habits_often_but_not_always() -> None:
    meena = Voice("Meena", MEENA)
    dressed = [" ".join(meena.dress(["Lakshmi has the spare key."], f"q{n}")) for n in range(40)]
    habits = ("Kanna", "Seri,", "Aama,", "Simple. Done.")
    share = sum(any(h in d for h in habits) for d in dressed) / len(dressed)
    assert 0.5 <= share < 1.0
    assert all(
        "Lakshmi has the spare key" in d or "lakshmi has the spare key" in d for d in dressed
    )
    harold = Voice("Harold", HAROLD)
    formal = [
        " ".join(harold.dress(["The key is with Mrs Henderson."], f"q{n}")) for n in range(20)
    ]
    assert not any("Kanna" in d or "Seri" in d for d in formal)
    assert any("Nothing further." in d or "That is all." in d for d in formal)


def test_no_profile_means_plain_answers() -> None:
    plain = Voice("Familiar")
    assert plain.dress(["It is on Friday."], "k") == ["It is on Friday."]
    assert plain.decline("k")[0] in DECLINES


def test_memory_turns_feed_recall() -> None:
    voice = Voice("Meena", MEENA)
    history = [Turn("When is Anu's recital?", "On 15 December.")]
    assert "When is Anu's recital" in " ".join(
        voice.small_talk(SmallTalk.RECALL_QUESTION, history, "k")
    )
    assert voice.small_talk(SmallTalk.RECALL_ANSWER, history, "k") == ["On 15 December."]
    # after a thank-you, the question before it is what was asked
    thanked = [*history, Turn("Thank you!", "You're welcome.")]
    recalled = " ".join(voice.small_talk(SmallTalk.RECALL_QUESTION, thanked, "k"))
    assert "Thank you" in recalled and "you asked: When is Anu's recital" in recalled


def test_closers_that_ask_for_something_stay_in_letters() -> None:
    voice = Voice("Harold", StyleProfile(formality="formal", closers=["Please confirm.", "Noted."]))
    said = {" ".join(voice.decline(f"q{n}")) for n in range(30)}
    assert not any("Please confirm" in s for s in said)
    assert any(s.endswith("Noted.") for s in said)


def test_an_opener_is_not_repeated_by_the_closer() -> None:
    rosa = Voice(
        "Rosa",
        StyleProfile(openers=["bueno"], closers=["Bueno, ya está."], address_terms=["cariño"]),
    )
    for n in range(40):
        said = " ".join(rosa.dress(["That I don't know."], f"q{n}"))
        assert said.count("Bueno") <= 1, said
        assert "Cariño" not in said[1:]  # her term keeps her case inside a sentence


def test_an_answer_begun_with_her_opener_gets_no_second_one() -> None:
    meena = Voice("Meena", MEENA)
    for n in range(40):
        said = meena.lead("Aama, it is in the brass pot.", f"q{n}")
        assert said == "Aama, it is in the brass pot.", said


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is Mateo's girlfriend called?", "Mateo's girlfriend is María."),
    ],
)
def test_names_outside_ascii_are_checked_too(question: str, answer: str) -> None:
    sources = [question, "The car goes in for service at Martinez Auto. Mateo is coming."]
    assert ungrounded(answer, sources)


# --- how sure retrieval is, and the question's language ---------------------------------------

KEY = passage(
    "Spare key for the house is with Lakshmi aunty next door, in the brass pot.",
    "mail/1.eml",
    distinctiveness=4.6,
    vector_rank=1,
    keyword_rank=1,
    keyword_coverage=0.5,
)
PARAPHRASE = passage(
    "Selvam plumber 98400 12345", "notes/phone.txt", distinctiveness=3.4, vector_rank=1
)


async def test_the_model_is_told_the_answer_is_there_only_when_retrieval_is_sure() -> None:
    """The 0.5B model answered "Who has the extra key to our home?" with "You don't know"
    while its one passage held the answer; told the answer is there, it reads it."""
    for found, told_sure in ((KEY, True), (PARAPHRASE, False)):
        llm = ScriptedLlm(["Lakshmi aunty has it."])
        brain = Brain(CONFIG, llm, ListRetriever([found], MEENA), persona_name="Meena")
        async with brain:
            await brain.respond("Who has the extra key to our home?").text()
        system = llm.calls[0][0].content
        assert ("The answer is in the documents" in system) is told_sure
        assert ("say only that you don't know" in system) is not told_sure
        # only the last line differs, so the rest of the persona's prefix stays cached
        assert system.rsplit("\n", 1)[0] == brain.system_prompt.rsplit("\n", 1)[0]


async def test_the_answer_never_claims_to_have_worked_a_device() -> None:
    """The answer path controls nothing (the home path does): "I've unlocked the front
    door" from the LLM would be a lie about the most sensitive device in the house."""
    llm = ScriptedLlm(["I've unlocked the front door for you."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Can you let Lakshmi in with the spare key?").text()
    assert "unlocked" not in result.text


async def test_the_question_said_back_is_left_out() -> None:
    """The 0.5B model starts answers with the question ("When is your dental cleaning? 24
    June at 11 am."), which the first-person repair then garbled ("When are I flying...")."""
    cleaning = passage("Dental cleaning on 24 June at 11 am.", "mail/3.eml")
    llm = ScriptedLlm(["When is your dental cleaning?", " 24 June at 11 am."])
    brain = Brain(CONFIG, llm, ListRetriever([cleaning], None), persona_name="Rosa")
    async with brain:
        result = await brain.respond("When is your dental cleaning?").text()
    assert result.text == "24 June at 11 am."
    assert echoes("When are you flying to Sevilla?", "When are you flying to Sevilla?")
    assert not echoes("Friday instead, sí?", "When are you flying to Sevilla?")
    assert not echoes("On 2 May.", "When are you flying to Sevilla?")


async def test_a_recited_instruction_is_a_decline_not_an_answer() -> None:
    """The 0.5B model answered "Who has a copy of the house key?" with the prompt's own "The
    answer is in the documents.", which left only her closer ("Bueno, ya está.") to say."""
    llm = ScriptedLlm(["The answer is in the documents."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Who has a copy of the house key?").text()
    assert result.kind == "declined"
    assert "documents" not in result.text
    assert any(core.lower()[:-1] in result.text.lower() for core in DECLINES)


@pytest.mark.parametrize(
    ("sentence", "declined"),
    [
        # the 1.5B, asked "சாம்பாருக்கு எவ்வளவு புளி போடணும்?" (how much tamarind?)
        ("Aama, I need to know how much sambar powder I should use.", True),
        ("Could you tell me which sambar you mean?", True),
        ("Please specify the recipe.", True),
        ("I don't know that one.", True),
        ("I need to pick Karthik up at 6 pm.", False),
        ("You need two spoons of sambar powder.", False),
        ("Tell me when you reach, I said to Ravi.", False),
    ],
)
def test_asking_back_is_a_decline(sentence: str, declined: bool) -> None:
    assert is_decline(sentence) is declined


async def test_after_a_recited_instruction_the_answer_goes_on() -> None:
    """The 0.5B model began "When is your dental cleaning?" with "The answer is in the
    documents." and the whole answer was declined; the recital alone is left out."""
    llm = ScriptedLlm(["The answer is in the documents. ", "Lakshmi aunty has the key."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Who has a copy of the house key?").text()
    assert result.kind == "answer"
    assert "documents" not in result.text and "Lakshmi aunty has the key" in result.text


class TwoAnswersLlm(ScriptedLlm):
    """The first call streams ``pieces``, every later one ``then``."""

    def __init__(self, pieces: list[str], then: list[str]) -> None:
        super().__init__(pieces)
        self.then = then

    async def _stream(self) -> AsyncIterator[str]:
        for piece in self.pieces if len(self.calls) == 1 else self.then:
            yield piece


@pytest.mark.parametrize(
    "first",
    [
        # said on every run to "When is your dental cleaning?"
        ["The answer is in the documents."],
        # "...check-up, which is 2025-02-20.": the mail's own date, found nowhere in its text
        ["It is with Mrs Brown."],
        # "You is coming to service the boiler."
        ["You is keeping the key."],
    ],
)
async def test_an_answer_with_nothing_to_say_is_asked_again_without_being_told_sure(
    first: list[str],
) -> None:
    """The 0.5B model, told "The answer is in the documents.", sometimes says just that, or a
    sentence that may not be said (unfounded, or "you" for someone else), and nothing is left.
    Asked once more without that line it reads the passage; asked again with it, it said the
    same again."""
    llm = TwoAnswersLlm(first, ["Lakshmi aunty has the key."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Who has a copy of the house key?").text()
    assert result.kind == "answer" and "Lakshmi aunty has the key" in result.text
    assert "Brown" not in result.text and "You is" not in result.text
    assert len(llm.calls) == 2
    first_prompt, second_prompt = (call[0].content for call in llm.calls)
    assert "The answer is in the documents" in first_prompt
    assert "The answer is in the documents" not in second_prompt
    assert llm.calls[0][1:] == llm.calls[1][1:]  # the same documents and question


@pytest.mark.parametrize(
    "first",
    [
        "Yes, Lakshmi aunty has it since Friday.",  # no Friday in the mail
        "Kanna, the key is with Ravi.",  # nor Ravi
        "Okay, the key is with Ravi now.",
        "Yes, ",  # and nothing more: not said before the second answer either
    ],
)
async def test_a_short_first_clause_is_said_only_with_the_rest_of_its_sentence(
    first: str,
) -> None:
    """The first clause of an answer goes to the voice before the sentence ends. One too
    short to check ("Yes,", "Kanna,") waits for the rest: when that is dropped as unfounded,
    "yes" alone must not stand as the answer."""
    llm = TwoAnswersLlm([first], ["Lakshmi aunty has the key."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Does Lakshmi aunty have the spare key?").text()
    assert result.kind == "answer"
    assert "Lakshmi aunty has the key" in result.text, result.text
    assert "yes" not in result.text.lower() and "Ravi" not in result.text
    assert result.text.count("Kanna") <= 1 and "okay" not in result.text.lower()
    # a clause that holds something is said at once, the rest checked on its own
    llm = ScriptedLlm(["Lakshmi aunty has the key, since Friday."])
    brain = Brain(CONFIG, llm, ListRetriever([KEY], MEENA), persona_name="Meena")
    async with brain:
        pieces = [piece async for piece in brain.respond("Who has the spare key?")]
    assert "Lakshmi aunty has the key," in pieces[0] and "Friday" not in " ".join(pieces)


async def test_an_answer_given_declined_unsafe_or_not_told_sure_is_not_asked_again() -> None:
    for pieces, found in (
        (["The answer is in the documents. ", "Lakshmi aunty has the key."], KEY),
        (["The answer is in the documents. ", "I don't know."], KEY),
        (['{"name": "unlock", "entity": "lock.front_door"}'], KEY),
        (["I have unlocked the front door for you."], KEY),
        (["The answer is in the documents."], PARAPHRASE),
    ):
        llm = TwoAnswersLlm(pieces, ["Lakshmi aunty has the key."])
        brain = Brain(CONFIG, llm, ListRetriever([found], MEENA), persona_name="Meena")
        async with brain:
            await brain.respond("Who has a copy of the house key?").text()
        assert len(llm.calls) == 1, pieces


async def test_an_answer_the_model_did_not_end_is_a_sentence_before_her_closer() -> None:
    """The 1.5B answered "Who's our plumber?" with just "Selvam Plumbing Works", and her closer
    ran into it in the text: "Kanna, Selvam Plumbing Works Yaarukkum sollaadhe."."""
    plumber = passage("Selvam Plumbing Works fixed the kitchen tap.", "mail/9.eml")
    for question in ("Who is our plumber?", "Who fixed the tap?", "Which plumber came?"):
        llm = ScriptedLlm(["Selvam Plumbing Works"])
        brain = Brain(CONFIG, llm, ListRetriever([plumber], MEENA), persona_name="Meena")
        async with brain:
            result = await brain.respond(question).text()
        assert result.kind == "answer"
        assert "Selvam Plumbing Works." in result.text, result.text


@pytest.mark.parametrize(
    "first",
    [
        "Amma tablets enga irukku.",
        "Amma tablets where is.",  # said back from the English copy
        "Amma tablets where.",
    ],
)
async def test_the_question_said_back_as_a_statement_is_no_answer(first: str) -> None:
    """The 1.5B answered the held-out persona's "Amma tablets enga irukku?" ("where are
    Amma's tablets?") with "Amma tablets enga irukku.": nothing of it is said, and asked once
    more, with a copy whose question words are in English, it reads the passage. A
    yes-or-no question may be answered in its own words."""
    tablets = passage(
        "Amma-voda BP tablets are in the steel box on top of the fridge.",
        "mail/18.eml",
        distinctiveness=4.6,
        vector_rank=1,
        keyword_rank=1,
        keyword_coverage=0.6,
    )
    llm = TwoAnswersLlm([first], ["In the steel box on the fridge."])
    brain = Brain(CONFIG, llm, ListRetriever([tablets], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Amma tablets enga irukku?").text()
    assert "irukku" not in result.text and "steel box" in result.text, result.text
    assert "where" not in result.text
    first_ask, second_ask = (call[-1].content for call in llm.calls)
    assert first_ask.endswith("Amma tablets enga irukku? (enga: where; irukku: is there)")
    assert second_ask.endswith(
        "Amma tablets enga irukku? (in English: Amma tablets where is there?)"
    )
    assert echoes("Where is the key? ", "Where is the key?")
    assert echoes("The spare key is where", "Where is the spare key?")
    assert not echoes("Selvam is coming.", "Is Selvam coming?")
    assert not echoes("Selvam varuvaar.", "Selvam varuvaar?")  # "will Selvam come?"
    assert not echoes("I fixed the kitchen tap.", "Who fixed the kitchen tap?")
    assert not echoes("The key is with Lakshmi.", "Where is the key?")


async def test_a_date_copied_from_the_passages_is_said_as_people_say_it() -> None:
    """The 0.5B answered "When is your diabetes check-up?" with "2025-02-20", a mail's date,
    which Piper reads digit by digit; it is said "20 February 2025" (and still grounded)."""
    check_up = passage("Your check-up is booked.", "mail/5.eml", date="2025-02-20")
    llm = ScriptedLlm(["It is on 2025-02-20."])
    brain = Brain(CONFIG, llm, ListRetriever([check_up], None), persona_name="Meena")
    async with brain:
        result = await brain.respond("When is the check-up?").text()
    assert result.kind == "answer" and "20 February 2025" in result.text
    assert "2025-02-20" not in result.text


async def test_her_own_name_is_never_the_answer_about_someone_else() -> None:
    """The 1.5B model answered "What is Mateo's girlfriend called?" with "Mateo's girlfriend
    is called Rosa." (her own name, from her signature) and "Who is coming to service the
    boiler?" with "Harold Voss is coming": she speaks as "I", so her name left in an answer
    puts her where someone else belongs."""
    car = passage("Mateo says the car needs new tyres before the trip.", "mail/4.eml")
    llm = ScriptedLlm(["Mateo's girlfriend is called Rosa."])
    rosa = StyleProfile(formality="casual", signatures=["Rosa"])
    brain = Brain(CONFIG, llm, ListRetriever([car], rosa), persona_name="Rosa")
    async with brain:
        result = await brain.respond("What is Mateo's girlfriend called?").text()
    assert "Rosa" not in result.text and result.kind == "declined"
    assert names_herself("Harold Voss is coming.", ["Harold", "H. Voss"])
    assert not names_herself("Okafor is coming.", ["Harold", "H. Voss"])
    assert not names_herself(
        "Yes, Rosa's cake is on Friday.", ["Rosa"], "Is Rosa's cake on Friday?"
    )


def test_you_with_a_third_persons_verb_is_someone_else() -> None:
    """The 0.5B read "from: you" in the passage and answered "Who is coming to service the
    boiler?" with "You is coming to service the boiler."."""
    assert you_for_someone("You is coming to service the boiler.")
    assert you_for_someone("Well, you has the key.")
    assert not you_for_someone("You are welcome.")
    assert not you_for_someone("The one who has the key is Lakshmi; you can ask her.")


# --- an answer says what was asked ------------------------------------------------------------


def test_an_answer_to_when_or_how_much_names_a_time_or_an_amount() -> None:
    assert not carries_answer("Pension statements attached.", "What is your pension income?")
    assert carries_answer("It pays £900 a month.", "What is your pension income?")
    assert carries_answer("Twenty pounds, cash.", "How much does the window cleaner charge?")
    assert not carries_answer("The plumber is coming.", "When is the plumber coming?")
    # asked who: "you" is no answer (the hub does not know who speaks) unless someone is named
    who = "Who is picking Karthik up from the airport?"
    assert not carries_answer("You are picking Karthik up from the airport.", who)
    assert not carries_answer("Kanna, you'll pick Karthik up.", who)
    assert not carries_answer("You are picking him up on Monday.", who)
    assert carries_answer("Murugan is picking you up.", who)
    assert carries_answer("You have my spare key with Mrs Henderson.", "Who has your spare key?")
    assert not carries_answer("You have a copy of the house key.", "Who has a copy of the key?")
    assert carries_answer("You are meeting Dr Rao.", "Who am I meeting?")
    assert carries_answer("You are.", "Are you coming?")
    for said in ("On Thursday.", "Tomorrow morning.", "At 7:15.", "Every fourth Tuesday."):
        assert carries_answer(said, "When is the plumber coming?")
    # other questions, and amounts that are not money, are left to the model
    assert carries_answer("The size of a lemon.", "How much tamarind goes in your sambar?")
    assert carries_answer("Mrs Henderson has it.", "Who has your spare key?")
    assert carries_answer("Sí, el martes.", "¿Cuándo es el yoga?")


@pytest.mark.parametrize(
    ("sentence", "question", "copy", "carries"),
    [
        # asked which day, a clock time alone is no answer (the 0.5B, from "Yoga is Tuesdays
        # at 6 pm now")
        ("El yoga es el día 6 pm.", "¿Qué día es el yoga?", None, False),
        ("Yoga is Tuesdays at 6 pm.", "¿Qué día es el yoga?", None, True),
        ("At 6 pm.", "What day is yoga?", None, False),
        ("On the 11th.", "What day is the electrician coming?", None, True),
        ("Every day at 6.", "Which day is the walk?", None, True),
        ("Dienstags um 18 Uhr.", "An welchem Tag ist Yoga?", None, True),
        ("Tomorrow.", "What day is the party?", None, True),
        # asked when in Spanish, German or French: a time, in any of them
        ("El electricista viene.", "¿Cuándo viene el electricista?", None, False),
        ("A las seis.", "¿Cuándo es el yoga?", None, True),
        ("Der Klempner kommt.", "Wann kommt der Klempner?", None, False),
        ("Morgen früh.", "Wann kommt der Klempner?", None, True),
        ("Demain.", "Quand vient le plombier ?", None, True),
        # asked in Tamil or Hindi: the English copy says what is asked
        ("Selvam will come.", "plumber eppo varuvaar?", "plumber when will come?", False),
        ("Selvam comes on Thursday.", "plumber eppo varuvaar?", "plumber when will come?", True),
        ("வியாழன் வருவார்.", "plumber eppo varuvaar?", "plumber when will come?", True),
        ("It was booked.", "Madurai train endha thethi?", "Madurai train which date?", False),
        ("On 3 May.", "Madurai train endha thethi?", "Madurai train which date?", True),
    ],
)
def test_an_answer_to_when_or_which_day_names_one_in_any_language(
    sentence: str, question: str, copy: str | None, carries: bool
) -> None:
    assert carries_answer(sentence, question, copy) is carries


async def test_a_clock_time_for_which_day_is_asked_again_then_declined() -> None:
    """The 0.5B answered "¿Qué día es el yoga?" with "El yoga es el día 6 pm." (the mail:
    "Yoga is Tuesdays at 6 pm now"): not said; asked again, a day is."""
    yoga = passage(
        "Yoga is Tuesdays at 6 pm now, not Mondays.",
        "mail/07.eml",
        distinctiveness=4.6,
        vector_rank=1,
        keyword_rank=1,
        keyword_coverage=0.6,
    )
    for second, said in (
        (["El yoga es el día 6 pm."], None),
        (["El yoga es los martes a las 6 pm."], "martes"),
    ):
        llm = TwoAnswersLlm(["El yoga es el día 6 pm."], second)
        brain = Brain(CONFIG, llm, ListRetriever([yoga], None), persona_name="Rosa")
        async with brain:
            result = await brain.respond("¿Qué día es el yoga?").text()
        assert "día 6 pm" not in result.text, result.text
        if said is None:
            assert result.kind == "declined", result.text
        else:
            assert result.kind == "answer" and said in result.text, result.text


async def test_her_name_asked_in_her_script_may_be_said() -> None:
    """ "அம்மாவின் மாத்திரைகள் எங்கே இருக்கின்றன?" (where are Amma's tablets?) asks about
    her as "Amma", one of her signatures: the answer may name her so, as it may when asked
    "Amma tablets enga irukku?" in Latin letters (the question's English copy has "amma")."""
    tablets = passage("Amma-voda BP tablets are in the steel box.", "mail/18.eml")
    llm = ScriptedLlm(["Amma-voda BP tablets are in the steel box."])
    brain = Brain(CONFIG, llm, ListRetriever([tablets], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("அம்மாவின் மாத்திரைகள் எங்கே இருக்கின்றன?").text()
    assert result.kind == "answer" and "steel box" in result.text, result.text


async def test_the_question_words_are_not_said_back_as_a_name() -> None:
    plumber = passage("Selvam will come on Thursday at 10 am to fix the tap.", "mail/03.eml")
    llm = ScriptedLlm(["Kanna, Plumber Eppo Varuvaar will come on Thursday at 10 am."])
    brain = Brain(CONFIG, llm, ListRetriever([plumber], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("plumber eppo varuvaar?").text()
    assert result.kind == "answer", result.text
    assert "Thursday" in result.text and "Eppo" not in result.text, result.text
    assert "Varuvaar" not in result.text


async def test_a_sentence_that_is_not_what_was_asked_is_not_said() -> None:
    pension = passage("Pension statements attached. It pays £900 a month.", source="m/18.eml")
    for script, said in (
        (["Pension statements attached."], None),
        (["Pension statements attached. It pays £900 a month."], "It pays £900 a month."),
    ):
        brain = Brain(CONFIG, ScriptedLlm(script), ListRetriever([pension], None))
        async with brain:
            result = await brain.respond("What is your pension income?").text()
        if said is None:
            assert result.kind == "declined" and "attached" not in result.text
        else:
            assert result.kind == "answer" and said in result.text
            assert "attached" not in result.text


def test_what_her_mail_calls_yours_is_hers() -> None:
    dentist = "Your check-up with Dr Fraser is on 9 September at 10:40."
    assert (
        first_person("Your check-up with Dr Fraser is on 9 September.", "When?", [], dentist)
        == "My check-up with Dr Fraser is on 9 September."
    )
    garage = "Your Volvo V70 is due its MOT on 18 May."
    assert first_person("The MOT for your Volvo is due.", "When is the MOT?", [], garage) == (
        "The MOT for my Volvo is due."
    )
    # a "your" her mail does not say, or the listener asking about their own, stays
    assert first_person("Your tea is ready.", "Is tea ready?", [], dentist) == "Your tea is ready."
    assert first_person("Your check-up is on Friday.", "When is my check-up?", [], dentist) == (
        "Your check-up is on Friday."
    )


AIRPORT = (
    "Paravala, I won't come. Murugan will pick you up at the airport in his car, I have told "
    "him 7:15. He will wait near gate 2."
)
HOUSE_KEY = "The house key is with Mr. Kim across the street, under the blue flowerpot."


BOOKING = (
    "Dear Mr Voss,\nYour annual boiler service is booked for Friday 3 October at 8:00. Our "
    "engineer, Mr Okafor, will attend.\nCaledonia Heating"
)
REPLY = "3 October at 8:00 is acceptable. The boiler is in the utility room. Please confirm."


@pytest.mark.parametrize(
    ("sentence", "question", "documents", "expected"),
    [
        # asked who is coming: the one the passage names as coming or attending
        (
            "You is coming to service the boiler.",
            "Who is coming to service the boiler?",
            [BOOKING, REPLY],
            "Mr Okafor is coming to service the boiler.",
        ),
        # not in a passage that shares the answer's words; not two who come
        (
            "You are coming to service the boiler.",
            "Who is coming to service the boiler?",
            ["Mr Okafor will attend on Friday.", REPLY],
            None,
        ),
        (
            "You are coming to service the boiler.",
            "Who is coming to service the boiler?",
            [BOOKING + " Mr Adams will visit too."],
            None,
        ),
        # another verb than coming: the passage's comer is not its doer
        (
            "You are servicing the boiler.",
            "Who is servicing the boiler?",
            [BOOKING],
            None,
        ),
    ],
)
def test_asked_who_is_coming_you_is_the_one_who_attends(
    sentence: str, question: str, documents: list[str], expected: str | None
) -> None:
    assert doer_for_you(sentence, question, documents, ["Harold", "H. Voss"]) == expected


@pytest.mark.parametrize(
    ("sentence", "question", "documents", "expected"),
    [
        # the 0.5B's answers: "you" from the mail's "pick you up" / the key "with Mr. Kim"
        (
            "You are picking Karthik up from the airport.",
            "Who is picking Karthik up from the airport?",
            AIRPORT,
            "Murugan is picking Karthik up from the airport.",
        ),
        (
            "Ay, you have a copy of the house key.",
            "Who has a copy of the house key?",
            HOUSE_KEY,
            "Ay, Mr. Kim has a copy of the house key.",
        ),
        # not asked who; someone else named already; the question's own name is no doer
        ("You are picking Karthik up.", "When is Karthik coming?", AIRPORT, None),
        (
            "You have the house key with Mr. Kim.",
            "Who has a copy of the house key?",
            HOUSE_KEY,
            None,
        ),
        ("You are picking Murugan up.", "Who is picking Murugan up?", AIRPORT, None),
        # a sentence sharing one word only, or naming two people, or only her
        ("You are coming to the airport.", "Who is coming?", AIRPORT, None),
        (
            "You are picking Karthik up from the airport.",
            "Who is picking Karthik up from the airport?",
            "Murugan or Selvam will pick you up at the airport.",
            None,
        ),
        (
            "You are picking Karthik up from the airport.",
            "Who is picking Karthik up from the airport?",
            "Meena will pick you up at the airport.",
            None,
        ),
    ],
)
def test_asked_who_you_is_the_one_the_passage_names(
    sentence: str, question: str, documents: str, expected: str | None
) -> None:
    assert doer_for_you(sentence, question, [documents], ["Meena"]) == expected


async def test_asked_who_the_doer_of_the_passage_is_said_instead_of_you() -> None:
    mail = passage(AIRPORT, "mail/14.eml", by_persona=True, subject="Re: Coming home Friday")
    llm = ScriptedLlm(["You are picking Karthik up from the airport."])
    brain = Brain(CONFIG, llm, ListRetriever([mail], MEENA), persona_name="Meena")
    async with brain:
        result = await brain.respond("Who is picking Karthik up from the airport?").text()
    assert result.text.startswith("Murugan is picking Karthik up") and result.kind == "answer"
