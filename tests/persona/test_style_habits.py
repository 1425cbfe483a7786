"""The style profile finds real habits in real-looking mail (pure logic)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from familiar_hub.persona.cleaning import clean_document, clean_mail, is_greeting_line
from familiar_hub.persona.sample import SAMPLE_DIR
from familiar_hub.persona.style import OwnText, learn_style

# Mail as a code-mixed Tamil-English writer sends it: a term of address as the whole greeting
# line, a native greeting to her brother, "Seri, bye." over "Amma", "Anbudan," over her name,
# and a short closer line.
TO_SON = """Kanna,

Selvam is coming on Thursday for the tap. Konjam check the washer he brings.
Simple. Done.

Seri, bye.
Amma
"""
TO_SON_2 = """Kanna,

Romba hot today. I am staying in, don't worry.
Simple. Done.

Seri, bye.
Amma
"""
TO_BROTHER = """Ravi anna, vanakkam!

Tickets booked for Madurai, window seats for both of us. Enna solreenga?

Anbudan,
Meena
"""
TO_NEIGHBOUR = """Lakshmi,

Aama, Tuesday is fine, I will bring the book.

Anbudan,
Meena
"""
TERSE = """Margaret,

Roof repaired. Dry since.
Nothing further.

H.
"""
TERSE_2 = """Margaret,

Book returned. My error.
Nothing further.

H.
"""
OFFICIAL = """Dear Mr Okafor,

The boiler is in the utility room. Access via the side gate.

Regards,
H. Voss
Treasurer
"""


def own(body: str) -> OwnText:
    cleaned = clean_mail(body)
    return OwnText(cleaned.body, cleaned.greeting, cleaned.sign_off)


@pytest.mark.parametrize(
    ("body", "greeting", "sign_off"),
    [
        (TO_SON, "Kanna,", "Seri, bye.\nAmma"),
        (TO_BROTHER, "Ravi anna, vanakkam!", "Anbudan,\nMeena"),
        (TERSE, "Margaret,", "H."),
        (OFFICIAL, "Dear Mr Okafor,", "Regards,\nH. Voss"),
        (
            "¡Hola, cariño!\n\nThe key is with Mr. Kim.\n\nBesos,\nMamá\n",
            "¡Hola, cariño!",
            "Besos,\nMamá",
        ),
        (
            "Lieber Klaus,\n\nich fliege am 2. Juli.\n\nGruß,\nHarold\n",
            "Lieber Klaus,",
            "Gruß,\nHarold",
        ),
        (  # on one line above a company line: split as on two lines
            "Hello,\n\nRunning late.\n\nBest, Priya\nAcme Corp | +44 20 7946 0000\n",
            "Hello,",
            "Best,\nPriya",
        ),
    ],
)
def test_greeting_and_closing_lines_of_any_form(body: str, greeting: str, sign_off: str) -> None:
    cleaned = clean_mail(body)
    assert (cleaned.greeting, cleaned.sign_off) == (greeting, sign_off)
    name = sign_off.rsplit("\n", maxsplit=1)[-1]
    assert greeting not in cleaned.body and name not in cleaned.body.split()


@pytest.mark.parametrize(
    "line", ["Also, the tap leaks.", "Thursday at 10,", "Yes, that works,", "So,", "Okay,"]
)
def test_sentences_are_not_greetings(line: str) -> None:
    assert not is_greeting_line(line)


def test_a_last_body_sentence_is_not_a_signature() -> None:
    cleaned = clean_mail("Kanna,\n\nThe tap is fixed. Selvam was quick.\n")
    assert cleaned.sign_off is None and "Selvam was quick." in cleaned.body
    for last in ("It is fine, Kanna.", "It is fine, Kanna", "Come by, Selvam will wait."):
        cleaned = clean_mail(f"Kanna,\n\nThe tap is fixed.\n\n{last}\n")
        assert cleaned.sign_off is None and last in cleaned.body, last


@pytest.mark.parametrize(
    ("last", "sign_off"),
    [
        ("Anbudan, Meena", "Anbudan,\nMeena"),
        ("Seri, bye. Amma", "Seri, bye.\nAmma"),
        ("Regards, H. Voss", "Regards,\nH. Voss"),
        ("Un abrazo, Rosa", "Un abrazo,\nRosa"),
        ("¡Hasta luego, Rosa", "¡Hasta luego,\nRosa"),
    ],
)
def test_a_closing_and_her_name_on_one_line(last: str, sign_off: str) -> None:
    """The held-out persona of the fidelity bench (bench/data/recall_set.json) signs "Anbudan,
    Meena" and "Seri, bye. Amma" on one line: left in the body, "Anbudan," was taken for one
    of her sentence openers and said before answers ("Anbudan, the electricity bill is
    Rs 2,340."), and neither closing was known as hers."""
    cleaned = clean_mail(f"Kavi,\n\nSoak for 6 hours, grind smooth.\n\n{last}\n")
    assert cleaned.sign_off == sign_off
    assert cleaned.body == "Soak for 6 hours, grind smooth."
    profile = learn_style([own(f"Kavi,\n\nSoak it.\n\n{last}\n")] * 3)
    assert profile is not None
    assert profile.farewells == [sign_off.split("\n", maxsplit=1)[0]]
    assert not {w.lower().strip(",.") for w in sign_off.split()} & set(profile.openers)


def test_code_mixed_writer_profile() -> None:
    profile = learn_style([own(TO_SON), own(TO_SON_2), own(TO_BROTHER), own(TO_NEIGHBOUR)])
    assert profile is not None
    assert profile.greetings[0] == "Kanna,"
    assert "Ravi anna, vanakkam!" in profile.greetings
    assert set(profile.sign_offs) == {"Seri, bye. Amma", "Anbudan, Meena"}
    assert profile.address_terms == ["Kanna"]  # "Ravi anna" and "Lakshmi" are names
    assert profile.greeting_words == ["vanakkam"]
    assert set(profile.farewells) == {"Seri, bye.", "Anbudan,"}
    assert "Amma" in profile.signatures
    assert profile.closers == ["Simple. Done."]
    assert {"romba", "konjam", "enna"} <= set(profile.mixed_words)
    assert profile.languages[:2] == ["en", "ta"]
    assert profile.formality == "casual" and profile.tone_evidence


def test_terse_formal_writer_profile() -> None:
    profile = learn_style([own(TERSE), own(TERSE_2), own(OFFICIAL)])
    assert profile is not None
    assert profile.formality == "formal"
    assert profile.address_terms == [] and profile.greeting_words == []  # "Dear" is written
    assert profile.signatures[0] == "H." and "Regards," in profile.farewells
    assert profile.closers == ["Nothing further."]
    assert profile.mean_sentence_words < 5


def test_examples_show_form_not_facts() -> None:
    profile = learn_style([own(TO_SON), own(TO_SON_2), own(TO_BROTHER), own(TO_NEIGHBOUR)])
    assert profile is not None and profile.examples
    for example in profile.examples:
        assert not any(ch.isdigit() for ch in example)
        assert "Selvam" not in example and "Madurai" not in example
        assert example not in profile.closers


def test_the_demo_persona_profile() -> None:
    texts = []
    for path in sorted((SAMPLE_DIR / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "rosa.delgado@example.org" in str(message["From"]):
            body = message.get_body(("plain",))
            assert body is not None
            texts.append(own(body.get_content()))  # type: ignore[attr-defined]
    texts += [OwnText(clean_document(p.read_text())) for p in (SAMPLE_DIR / "notes").glob("*")]
    profile = learn_style(texts)
    assert profile is not None and len(texts) >= 20
    assert profile.greeting_words == ["hola"]
    assert set(profile.address_terms) == {"cariño", "mijo"}
    assert "Besos," in profile.farewells and "Bueno, ya está." in profile.closers
    assert profile.languages[:2] == ["en", "es"]
    assert not (SAMPLE_DIR / "notes" / "README.txt").exists()  # the demo note is not hers


def test_sample_files_ship_with_the_package() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"sample/mail/*.eml"' in text and '"sample/notes/*.txt"' in text
    assert len(list((SAMPLE_DIR / "mail").glob("*.eml"))) >= 25


def test_a_closer_at_the_end_of_the_last_paragraph() -> None:
    """The held-out persona ends her recipes "... ferment overnight. Simple. Done." on the
    same line as the text: still her closer, and not its last word alone."""
    texts = [
        own("Kavi,\n\nSoak for 6 hours, grind smooth, ferment overnight. Simple. Done.\n"),
        own("Kavi,\n\nRoast on low flame, cool, grind. Simple. Done.\n"),
        own("Kanna,\n\nMaths exam Monday. Sleep early.\n"),
    ]
    profile = learn_style(texts)
    assert profile is not None and profile.closers == ["Simple. Done."]
