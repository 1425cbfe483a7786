"""Cleaning, chunking and style: pure logic."""

from __future__ import annotations

import itertools

from familiar_hub.persona.chunking import chunk_text, count_tokens, split_sentences
from familiar_hub.persona.cleaning import clean_document, clean_mail, normalise
from familiar_hub.persona.style import OwnText, learn_style
from tests.persona.corpus import FORWARD_BY_PERSONA, MAIL_TO_PERSONA, REPLY_BY_PERSONA


def test_reply_keeps_new_text_and_strips_quote_signature_disclaimer() -> None:
    cleaned = clean_mail(REPLY_BY_PERSONA)
    assert cleaned.body.startswith("Seri, let's plan the Kodaikanal trip")
    assert "zorblefrax boat tour" in cleaned.body
    for gone in ("QUOTEDSECRET", "wrote:", "Arun Kumar", "Sent with love", "confidential"):
        assert gone not in cleaned.body
    assert "+44" not in cleaned.body and "Senior Architect" not in cleaned.body
    assert cleaned.greeting == "Hi Arun,"
    assert cleaned.sign_off == "Cheers,\nPriya"
    assert "quote" in cleaned.removed and "greeting" in cleaned.removed


def test_outlook_original_message_block_is_stripped() -> None:
    cleaned = clean_mail(MAIL_TO_PERSONA)
    assert "quarterly budget review moved to Thursday" in cleaned.body
    assert "OUTLOOKQUOTED" not in cleaned.body
    assert "Original Message" not in cleaned.body
    assert "meena@example.net" not in cleaned.body and "Treasurer" not in cleaned.body
    assert (cleaned.greeting, cleaned.sign_off) == ("Dear Priya,", "Best regards,\nMeena Iyer")


def test_forwarded_block_is_stripped() -> None:
    cleaned = clean_mail(FORWARD_BY_PERSONA)
    assert "enna solreenga" in cleaned.body
    assert "FORWARDEDBODY" not in cleaned.body and "Park Office" not in cleaned.body
    assert (cleaned.greeting, cleaned.sign_off) == ("Hey all,", "Thanks,\nPriya")
    assert "forward" in cleaned.removed


def test_wrapped_gmail_header_and_inline_quotes() -> None:
    body = (
        "Sounds good to me.\n\n> are you coming?\nYes, at six.\n\n"
        "On Mon, 1 Jan 2024 at 09:00, Somebody With A Long Name\n<long.name@example.com>\n"
        "wrote:\n> old stuff\n"
    )
    cleaned = clean_mail(body)
    assert cleaned.body == "Sounds good to me.\n\nYes, at six."


def test_body_lines_that_look_like_greetings_or_sign_offs_are_kept() -> None:
    body = (
        "Hi-fi systems from the seventies are worth repairing, I think.\n\n"
        "Thanks for the update on the amplifier.\n"
    )
    cleaned = clean_mail(body)
    assert cleaned.greeting is None and cleaned.sign_off is None
    assert "Hi-fi systems" in cleaned.body and "Thanks for the update" in cleaned.body


def test_mobile_signature_and_sign_off_with_name_on_same_line() -> None:
    cleaned = clean_mail(
        "Hello,\n\nRunning ten minutes late.\n\nBest, Priya\n\nSent from my iPhone"
    )
    assert cleaned.body == "Running ten minutes late."
    # the closing and the name, as when they are on two lines
    assert (cleaned.greeting, cleaned.sign_off) == ("Hello,", "Best,\nPriya")


def test_normalise_quotes_spaces_and_keeps_tamil_joiners() -> None:
    text = "\u201cQuoted\u201d  it\u2019s\u00a0here\u200b\r\n\n\n\nநன்றி\u200d"
    assert normalise(text) == '"Quoted" it\'s here\n\nநன்றி\u200d'


def test_document_footer_boilerplate_is_dropped() -> None:
    text = "Real content here.\n\nPlease consider the environment before printing this e-mail."
    assert clean_document(text) == "Real content here."


def test_sentences_respect_abbreviations() -> None:
    assert split_sentences("Dr. Rao came. He left! Did he? Yes") == [
        "Dr. Rao came.",
        "He left!",
        "Did he?",
        "Yes",
    ]


def test_chunks_are_bounded_overlap_and_cover_everything() -> None:
    sentences = [f"Sentence number {i} talks about topic {i} in some detail." for i in range(200)]
    chunks = chunk_text(" ".join(sentences), target_tokens=120, overlap_tokens=25)
    assert len(chunks) > 5
    assert all(count_tokens(c) <= 120 for c in chunks)
    for sentence in sentences:
        assert any(sentence in c for c in chunks)
    for before, after in itertools.pairwise(chunks):
        first = split_sentences(after)[0]
        assert first in before  # each chunk starts with the end of the previous one


def test_an_overlong_sentence_is_cut_by_words() -> None:
    chunks = chunk_text("word " * 1000, target_tokens=100, overlap_tokens=0)
    assert len(chunks) == 10


def test_style_profile_from_own_writing() -> None:
    own = [
        OwnText("Seri, let's meet at the station. Sounds like a plan, machan!", "Hi", "Cheers"),
        OwnText("Sounds like a plan. I'll bring the romba nalla murukku.", "Hi", "Cheers"),
        OwnText(
            "Can't make it today, sorry. Sounds like a plan for Sunday though!", "Hey", "Thanks"
        ),
    ]
    profile = learn_style(own)
    assert profile is not None
    assert profile.greetings[0] == "Hi" and profile.sign_offs[0] == "Cheers"
    assert "sounds like a plan" in profile.phrases
    assert profile.languages[:2] == ["en", "ta"]
    assert {"seri", "romba", "nalla"} <= set(profile.mixed_words)
    assert profile.formality == "casual"
    assert profile.examples and all(e in " ".join(o.body for o in own) for e in profile.examples)
    assert 3 < profile.mean_sentence_words < 12
    assert profile.evidence_texts == 3


def test_formal_writing_is_recognised() -> None:
    own = [
        OwnText(
            "I am writing to confirm the arrangements for the annual general meeting. "
            "Please find attached the agenda and the minutes of the previous meeting.",
            "Dear",
            "Yours sincerely",
        ),
        OwnText(
            "Further to our conversation, I would like to propose a revised schedule. "
            "Kindly confirm at your earliest convenience.",
            "Dear",
            "Kind regards",
        ),
    ]
    profile = learn_style(own)
    assert profile is not None and profile.formality == "formal"
    assert profile.languages == ["en"]


def test_no_own_writing_gives_no_profile() -> None:
    assert learn_style([]) is None
