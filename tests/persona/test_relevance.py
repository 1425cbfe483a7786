"""The relevance decision: evidence (standing out from the store, keywords found by both
retrievers, a lead over the other candidates), not one cosine threshold."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from familiar_hub.persona.api import Passage
from familiar_hub.persona.relevance import RelevancePolicy, asked, focus, relevant, sure


def passage(text: str, **evidence: Any) -> Passage:
    fields: dict[str, Any] = {
        "source": f"mail/{text}.eml",
        "kind": "email",
        "author": None,
        "date": None,
        "subject": None,
        "score": 0.03,
        "by_persona": False,
    }
    fields.update(evidence)
    return Passage(text=text, **fields)


def kept(*passages: Passage) -> list[str]:
    return [p.text for p in relevant(list(passages))]


def old_rule(*passages: Passage) -> list[str]:
    return [p.text for p in passages if p.similarity is None or p.similarity >= 0.4]


def test_right_passage_below_the_old_cosine_cut_is_kept_on_its_keywords() -> None:
    # the case: cosine 0.31 (under 0.4) while the question's keywords matched exactly
    plumber = passage(
        "selvam",
        similarity=0.31,
        distinctiveness=2.7,
        vector_rank=1,
        keyword_rank=1,
        keyword_coverage=1.0,
    )
    other = passage("other", similarity=0.25, distinctiveness=2.1, vector_rank=2)
    assert old_rule(plumber, other) == []
    assert kept(plumber, other) == ["selvam"]


def test_unrelated_passage_with_a_high_cosine_is_declined() -> None:
    # the Hindi question: 0.455 against an unrelated mail that does not stand out
    unrelated = passage("budget", similarity=0.455, distinctiveness=1.7, vector_rank=1)
    runner_up = passage("tap", similarity=0.44, distinctiveness=1.5, vector_rank=2)
    assert old_rule(unrelated, runner_up) == ["budget", "tap"]
    assert kept(unrelated, runner_up) == []


def test_a_passage_standing_far_out_needs_no_keywords() -> None:
    # a paraphrase or another language: no shared words, but far above the rest of the store
    answer = passage("dosa", similarity=0.35, distinctiveness=3.4, vector_rank=1)
    assert kept(answer, passage("x", similarity=0.3, distinctiveness=2.9, vector_rank=2)) == [
        "dosa"
    ]


def test_middling_distinctiveness_needs_support() -> None:
    # one of the question's words, too few for keyword support
    leading = passage(
        "leads",
        similarity=0.4,
        distinctiveness=2.6,
        vector_rank=1,
        keyword_rank=3,
        keyword_coverage=0.1,
    )
    close = passage("close", similarity=0.38, distinctiveness=2.3, vector_rank=2)
    far = passage("far", similarity=0.2, distinctiveness=1.2, vector_rank=2)
    assert kept(leading, close) == []  # neither keywords nor a clear lead
    assert kept(leading, far) == ["leads"]  # a lead of 1.4 standard deviations
    # keywords found by the vector half too: support
    agreed = passage(
        "agreed", distinctiveness=2.5, vector_rank=1, keyword_rank=2, keyword_coverage=0.4
    )
    assert kept(agreed, close) == ["agreed"]
    # the same keywords, but only the keyword half found it: no agreement, no support
    alone = passage("alone", distinctiveness=2.5, keyword_rank=1, keyword_coverage=0.4)
    assert kept(alone, close) == []
    # too little standing out for partial keywords
    weak = passage("weak", distinctiveness=1.9, vector_rank=1, keyword_rank=1, keyword_coverage=0.5)
    assert kept(weak) == []


def test_small_stores_and_evidence_free_retrievers() -> None:
    # too few chunks to measure distinctiveness: the cosine decides
    assert kept(passage("a", similarity=0.45), passage("b", similarity=0.35)) == ["a"]
    strict = RelevancePolicy(fallback_similarity=0.5)
    assert relevant([passage("a", similarity=0.45)], strict) == []
    # found by keywords alone (no vector): most of the question's keyword weight is needed
    assert kept(passage("k", keyword_rank=1, keyword_coverage=0.8)) == ["k"]
    assert kept(passage("k", keyword_rank=1, keyword_coverage=0.3)) == []
    # a retriever that reports no evidence at all is trusted
    assert kept(passage("plain")) == ["plain"]


def test_all_the_questions_rare_words_found_by_both_retrievers_need_less_standing_out() -> None:
    lecture = passage(
        "lecture", distinctiveness=2.1, vector_rank=1, keyword_rank=1, keyword_coverage=1.0
    )
    other = passage("other", distinctiveness=1.5, vector_rank=2)
    assert kept(lecture, other) == ["lecture"]
    keywords_only = passage("kw", distinctiveness=2.1, keyword_rank=2, keyword_coverage=1.0)
    assert kept(keywords_only, other) == []  # the vector half did not find it: no agreement
    below = passage("low", distinctiveness=1.3, vector_rank=1, keyword_rank=2, keyword_coverage=1.0)
    assert kept(below, other) == []
    # the keyword half's first pick holding every keyword needs no more (see below)
    assert kept(replace(below, keyword_rank=1), other) == ["low"]


def test_a_passage_sharing_no_word_with_the_question_must_stand_out_far() -> None:
    # The persona sets' confident wrong picks: "When is your eye exam?" -> the dental
    # cleaning (2.59 standard deviations, a clear lead), "What colour is your car?" -> the
    # spare key (3.15). Neither shares a word with its question; every right passage did.
    eye_exam = passage("cleaning", similarity=0.34, distinctiveness=2.59, vector_rank=1)
    car = passage("spare key", similarity=0.33, distinctiveness=3.15, vector_rank=1)
    runner_up = passage("other", similarity=0.26, distinctiveness=1.5, vector_rank=2)
    assert kept(eye_exam, runner_up) == []
    assert kept(car, runner_up) == []
    # the same standing out with one of the question's words is evidence enough
    worded = passage(
        "worded", distinctiveness=2.59, vector_rank=1, keyword_rank=1, keyword_coverage=0.4
    )
    assert kept(worded, runner_up) == ["worded"]
    # a paraphrase with no shared word that stands out far still counts ("the pipe guy")
    pipe_guy = passage("plumber", similarity=0.3, distinctiveness=3.43, vector_rank=2)
    assert kept(pipe_guy, runner_up) == ["plumber"]


def test_questions_in_another_language_rest_on_the_keyword_halfs_first_pick() -> None:
    # "¿Qué día es el yoga?" with an English embedder: the yoga mail is the keyword half's
    # first pick (the question's other words are Spanish function words, not keywords), but
    # its vector evidence is noise
    yoga = passage(
        "yoga", distinctiveness=1.08, vector_rank=7, keyword_rank=1, keyword_coverage=0.5
    )
    noise = passage("saturday", distinctiveness=2.17, vector_rank=1, keyword_rank=2)
    assert [p.text for p in relevant([noise, yoga])] == []
    assert [p.text for p in relevant([noise, yoga], cross_language=True)] == ["yoga"]
    assert sure([yoga], cross_language=True)
    # a multilingual embedder places them: no shared word needed when it stands far out
    script = passage("madurai", distinctiveness=3.1, vector_rank=1)
    assert [p.text for p in relevant([script], cross_language=True)] == ["madurai"]
    assert [p.text for p in relevant([script])] == []


def test_a_question_in_another_script_needs_half_of_the_words_whose_meaning_is_seen() -> None:
    # "मेरी कार का बीमा कब है?" (my car insurance): "car" and "insurance" are known (sound,
    # lexicon), and a car trip's mail holds "car" alone; a Spanish question's words in no file
    # ("repuesto") count against it, so it needs less
    trip = passage(
        "car", distinctiveness=1.23, vector_rank=3, keyword_rank=1, keyword_coverage=0.42
    )
    hindi = "मेरी कार का बीमा कब है?"
    assert relevant([trip], cross_language=True, question=hindi) == []
    assert not sure([trip], cross_language=True, question=hindi)
    spanish = "¿Dónde está la llave de repuesto?"
    assert relevant([trip], cross_language=True, question=spanish) == [trip]
    assert sure([trip], cross_language=True, question=spanish)
    key = passage("key", distinctiveness=0.9, vector_rank=6, keyword_rank=1, keyword_coverage=1.0)
    assert relevant([key], cross_language=True, question="சாவி எங்கே?") == [key]


def test_in_another_language_the_keyword_halfs_second_pick_with_every_keyword_is_kept() -> None:
    # "கண் பரிசோதனை எப்போது?" (when is the eye check?): "how was the eye check?" is the keyword
    # half's first pick, the dated mail its second; both hold every keyword
    asked = passage(
        "how was it", distinctiveness=-0.1, vector_rank=21, keyword_rank=1, keyword_coverage=1.0
    )
    dated = passage(
        "18 October", distinctiveness=0.3, vector_rank=14, keyword_rank=2, keyword_coverage=1.0
    )
    partial = passage(
        "sugar check", distinctiveness=-0.3, vector_rank=26, keyword_rank=2, keyword_coverage=0.5
    )
    question = "கண் பரிசோதனை எப்போது?"
    kept = relevant([dated, asked], cross_language=True, question=question)
    assert [p.text for p in kept] == ["18 October", "how was it"]
    assert relevant([asked, partial], cross_language=True, question=question) == [asked]
    # nor beside a first pick holding only part of the keywords ("¿Qué día es el yoga?")
    yoga = passage(
        "yoga", distinctiveness=1.1, vector_rank=7, keyword_rank=1, keyword_coverage=0.42
    )
    other = passage(
        "ofrenda", distinctiveness=0.4, vector_rank=12, keyword_rank=2, keyword_coverage=0.58
    )
    assert relevant([yoga, other], cross_language=True, question="¿Qué día es el yoga?") == [yoga]
    # nothing beside a first pick that is not kept
    weak = passage("car", distinctiveness=1.2, vector_rank=3, keyword_rank=1, keyword_coverage=0.42)
    car = passage(
        "car trip", distinctiveness=0.4, vector_rank=5, keyword_rank=2, keyword_coverage=0.42
    )
    assert relevant([weak, car], cross_language=True, question="मेरी कार का बीमा कब है?") == []


def test_sure_when_a_relevant_passage_stands_out_with_the_questions_words() -> None:
    key = passage("key", distinctiveness=4.6, vector_rank=1, keyword_rank=1, keyword_coverage=0.5)
    paraphrase = passage("pipe", distinctiveness=3.43, vector_rank=1)
    few_words = passage(
        "few", distinctiveness=2.5, vector_rank=1, keyword_rank=1, keyword_coverage=0.2
    )
    assert sure([key])
    assert not sure([paraphrase])  # no shared word: the model may still say it doesn't know
    assert not sure([few_words])
    assert not sure([])


# --- focus: the part of a passage the model reads ------------------------------------------

RECIPE = (
    "My sambar (for 4 people)\n"
    "Toor dal one cup, cooked soft with turmeric.\n"
    "Two spoons of the powder, Aachi brand only.\n"
    "Vegetables: drumstick, shallots, brinjal.\n"
    "Salt to taste. Boil ten minutes.\n"
    "Tamarind the size of a lemon, soaked in warm water.\n"
    "Temper with mustard and curry leaves."
)


def test_focus_keeps_the_sentences_sharing_the_questions_words_and_the_next() -> None:
    assert focus(RECIPE, "How much tamarind goes in your sambar?", 450) == RECIPE  # it fits
    got = focus(RECIPE, "How much tamarind goes in your sambar?", 200)
    assert "Tamarind the size of a lemon" in got and "mustard" in got  # the hit and the next
    assert "Salt to taste" not in got and "Vegetables" not in got  # the rest is left out
    assert got.count("…") == 1  # the gap is marked


def test_focus_matches_forms_of_a_word_and_drops_the_distractor() -> None:
    mail = (
        "Paravala, I won't come. Murugan will pick you up at the airport in his car. "
        "He will wait near gate 2. Dosa maavu ready."
    )
    got = focus(mail, "Who is picking Karthik up from the airport?", 110)
    assert got.startswith("… Murugan will pick you up") and "Paravala" not in got
    meetings = "The club was founded in 1901. " * 5 + "Meetings continue on Thursdays."
    assert "Thursdays" in focus(meetings, "When do they meet?", 60)


def test_focus_without_a_shared_word_keeps_the_start_within_the_limit() -> None:
    text = "12 June suits. I shall meet the 14:10 at Waverley. The spare room is ready."
    start = focus(text, "When is Margaret arriving?", 40)
    assert start == "12 June suits. I shall meet the 14:10 …"
    long = " ".join(f"Sentence number {i} says nothing." for i in range(100))
    cut = focus(long, "Where is the key?", 120)
    assert len(cut) <= 122 and cut.endswith(" …") and cut.startswith("Sentence number 0")
    many_hits = " ".join(f"The key is in drawer {i}." for i in range(100))
    assert len(focus(many_hits, "Where is the key?", 120)) <= 122


def test_the_keyword_half_first_pick_holding_every_keyword_is_kept_whatever_the_vectors_say() -> (
    None
):
    # "When does the chess club meet?": the treasurer's report to the chess club says
    # "Meetings continue on Thursdays"; MiniLM ranked it 7th (z 0.63)
    report = passage(
        "report",
        similarity=0.23,
        distinctiveness=0.63,
        vector_rank=7,
        keyword_rank=1,
        keyword_coverage=1.0,
    )
    tournament = passage(
        "tournament",
        similarity=0.40,
        distinctiveness=2.34,
        vector_rank=2,
        keyword_rank=2,
        keyword_coverage=0.63,
    )
    assert "report" in kept(tournament, report)  # (the tournament beside it: same club)
    assert kept(tournament, replace(report, keyword_coverage=0.63)) == []


def test_a_passage_holding_the_kind_of_thing_asked_for_needs_less_standing_out() -> None:
    household = passage(
        "Car: Volvo V70, MOT each May. Window cleaner: every fourth Tuesday, £20.",
        similarity=0.27,
        distinctiveness=1.61,
        vector_rank=3,
        keyword_rank=1,
        keyword_coverage=0.43,
    )

    def decided(question: str, text: str | None = None) -> list[Passage]:
        chosen = household if text is None else replace(household, text=text)
        return relevant([chosen], question=question)

    assert asked("How much does the window cleaner charge?") == "number"
    assert asked("When does the chess club meet?") == "time"
    assert asked("What colour is your car?") == "colour" and asked("Who has the key?") is None
    assert decided("How much does the window cleaner charge?") == [household]
    assert decided("How much does it charge?", "Window cleaner: every fourth Tuesday.") == []
    assert decided("What colour is your car?") == []  # it names the car, not its colour
    assert relevant([household]) == []  # without the question: as before
    # another language: the English question words say nothing
    foreign = replace(household, keyword_rank=2)
    assert relevant([foreign], question="How much?", cross_language=True) == []


def test_a_passage_on_the_same_matter_is_kept_beside_a_relevant_one() -> None:
    # "Which book is overdue at the library?": his own "Book overdue. Returned today." stands
    # out, the library's notice naming the book comes second
    own = passage(
        "own",
        similarity=0.65,
        distinctiveness=4.12,
        vector_rank=1,
        keyword_rank=1,
        keyword_coverage=1.0,
    )
    notice = passage(
        "notice",
        similarity=0.45,
        distinctiveness=2.39,
        vector_rank=2,
        keyword_rank=2,
        keyword_coverage=0.61,
    )
    other = passage(
        "other",
        similarity=0.28,
        distinctiveness=0.92,
        vector_rank=3,
        keyword_rank=3,
        keyword_coverage=0.29,
    )
    assert kept(own, notice, other) == ["own", "notice"]
    alone = replace(own, distinctiveness=1.0, keyword_coverage=0.5)
    assert kept(alone, notice, other) == []  # nothing relevant to go beside
    # two already relevant: no third beside them
    reply = replace(notice, text="reply", distinctiveness=2.6, vector_rank=3, keyword_rank=3)
    assert kept(own, reply, notice) == ["own", "reply"]
