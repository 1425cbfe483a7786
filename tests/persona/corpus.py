"""Test documents made by the tests: mails with quotes, signatures and disclaimers, an mbox,
a hand-made PDF, a DOCX with a table, header and footer, and broken files."""

from __future__ import annotations

import io
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

PERSONA = "priya@example.org"
FRIEND = "arun@example.com"

REPLY_BY_PERSONA = """Hi Arun,

Seri, let's plan the Kodaikanal trip for the second week of May. The homestay near the
lake was lovely last time and honestly the food was romba nalla. I think we should book
the zorblefrax boat tour early because it fills up fast.

Cheers,
Priya
Senior Architect | Example Org
+44 20 7946 0958

On Tue, 3 Mar 2024 at 10:12, Arun Kumar <arun@example.com> wrote:
> Shall we go to Kodaikanal again this year?
> The QUOTEDSECRET homestay was nice.

--
Sent with love from Priya's laptop

This email and any attachments are confidential and intended solely for the
addressee. If you have received this email in error please notify the sender.
"""

MAIL_TO_PERSONA = """Dear Priya,

The quarterly budget review moved to Thursday. Please bring the figures for the solar
panel installation on the community hall roof; the council wants the payback period.

Best regards,
Meena Iyer
Treasurer, Residents Association
meena@example.net

-----Original Message-----
From: Priya <priya@example.org>
Sent: Monday, March 4, 2024 9:00 AM
To: Meena Iyer
Subject: budget

Can we move the review? OUTLOOKQUOTED
"""

FORWARD_BY_PERSONA = """Hey all,

Sharing this for the weekend, enna solreenga? I'm gonna bring the tent anyway.

Thanks,
Priya

---------- Forwarded message ---------
From: Park Office <office@park.example>
Date: Fri, 1 Mar 2024
Subject: Camping rules

FORWARDEDBODY campfires are banned this season.
"""


def mail(  # noqa: PLR0917
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    attachments: list[tuple[str, bytes, str, str]] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(body)
    for name, data, maintype, subtype in attachments or []:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def make_pdf(lines: list[str], author: str | None = None, title: str | None = None) -> bytes:
    """A minimal, valid one-page PDF whose text layer is ``lines`` (Helvetica)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        ops.append(f"({escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    info = []
    if author:
        info.append(f"/Author ({escape(author)})")
    if title:
        info.append(f"/Title ({escape(title)})")
    info.append("/CreationDate (D:20230615120000Z)")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ("<< " + " ".join(info) + " >>").encode("latin-1"),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def make_docx(author: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.author = author or ""
    document.core_properties.title = "Allotment plan"
    section = document.sections[0]
    section.header.paragraphs[0].text = "HEADERMARK Allotment committee"
    section.footer.paragraphs[0].text = "FOOTERMARK page one"
    document.add_paragraph("The allotment plan for spring assigns the raised beds by lottery.")
    table = document.add_table(rows=3, cols=2)
    for row, (crop, bed) in enumerate(
        [("Crop", "Bed"), ("Brinjal", "Bed seven"), ("Quillwort tomatoes", "Bed nine")]
    ):
        table.cell(row, 0).text = crop
        table.cell(row, 1).text = bed
    document.add_paragraph("Watering duty rotates every Sunday after the meeting.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_corpus(root: Path) -> dict[str, Path]:
    """The standard corpus under ``root``; returns the interesting paths by name."""
    root.mkdir(parents=True, exist_ok=True)
    mail_dir = root / "mail"
    docs = root / "docs"
    mail_dir.mkdir(exist_ok=True)
    docs.mkdir(exist_ok=True)
    when = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    paths: dict[str, Path] = {}

    reply = mail(
        f"Priya Raman <{PERSONA}>",
        FRIEND,
        "Re: Kodaikanal",
        REPLY_BY_PERSONA,
        "reply-1@example.org",
        when,
        attachments=[
            (
                "itinerary.pdf",
                make_pdf(["Day one: drive to the lake.", "Day two: the glimmerwick trail."]),
                "application",
                "pdf",
            )
        ],
    )
    paths["reply"] = mail_dir / "reply.eml"
    paths["reply"].write_bytes(reply.as_bytes())

    incoming = mail(
        "Meena Iyer <meena@example.net>",
        PERSONA,
        "Budget review",
        MAIL_TO_PERSONA,
        "budget-1@example.net",
        datetime(2023, 11, 2, 8, 0, tzinfo=UTC),
    )
    paths["incoming"] = mail_dir / "incoming.eml"
    paths["incoming"].write_bytes(incoming.as_bytes())

    box_path = mail_dir / "archive.mbox"
    box = mailbox.mbox(box_path)
    try:
        box.add(
            mail(
                f"Priya <{PERSONA}>",
                "friends@example.com",
                "Weekend",
                FORWARD_BY_PERSONA,
                "fwd-1@example.org",
                datetime(2024, 2, 29, 18, 0, tzinfo=UTC),
            ).as_bytes()
        )
        box.add(
            mail(
                f"Arun Kumar <{FRIEND}>",
                PERSONA,
                "Bike",
                "Hi Priya,\n\nThe bicycle repair shop on Mill Road fixed the gears for twelve"
                " pounds. They also sell second hand panniers.\n\nCheers,\nArun\n",
                "bike-1@example.com",
                datetime(2022, 6, 1, 12, 0, tzinfo=UTC),
            ).as_bytes()
        )
        box.flush()
    finally:
        box.close()
    paths["mbox"] = box_path

    paths["pdf"] = docs / "solar.pdf"
    paths["pdf"].write_bytes(
        make_pdf(
            [
                "Community solar report.",
                "The photovoltaic array on the hall roof produces eleven kilowatts at peak.",
                "Maintenance of the inverter is due every two years.",
            ],
            author="Priya Raman",
            title="Solar report",
        )
    )
    paths["docx"] = docs / "allotment.docx"
    paths["docx"].write_bytes(make_docx(author="Committee"))
    paths["notes"] = docs / "notes.md"
    paths["notes"].write_text(
        "# Recipes\n\nAmma's **rasam** needs tamarind, tomato, pepper and a pinch of asafoetida."
        " Boil it gently and never let it roll.\n",
        encoding="utf-8",
    )
    return paths


def write_broken(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    corrupt = root / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage \x00\x01\x02 trailer")
    full = root / "full.mbox"
    box = mailbox.mbox(full)
    try:
        for index in range(3):
            box.add(
                mail(
                    f"Arun Kumar <{FRIEND}>",
                    PERSONA,
                    f"Note {index}",
                    f"Message number {index} about the marmalade festival.\n" * 5,
                    f"note-{index}@example.com",
                    datetime(2021, 1, index + 1, tzinfo=UTC),
                ).as_bytes()
            )
        box.flush()
    finally:
        box.close()
    data = full.read_bytes()
    truncated = root / "truncated.mbox"
    truncated.write_bytes(data[: len(data) - 150])
    full.unlink()
    return {"corrupt": corrupt, "truncated": truncated}
