"""Reading files into authored pieces of text: mail (``.eml .mbox .msg``) and documents
(``.pdf .docx .txt .md``). A mail's PDF/DOCX/text attachments become pieces of their own.

The parsing libraries (pypdf, python-docx, extract-msg) are imported lazily, inside the
reader that needs them. Everything here is synchronous and runs on a worker thread.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import html
import io
import logging
import mailbox
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

SUFFIX_KINDS = {
    ".eml": "email",
    ".mbox": "email",
    ".msg": "email",
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".md": "markdown",
}
"""File suffix -> the kind of source it is."""


class UnreadableFile(Exception):
    """A file that cannot be parsed (corrupt, encrypted, wrong format); it is skipped."""


@dataclass(frozen=True)
class Piece:
    """One authored piece of text from a file: a mail body, an attachment, a document."""

    text: str
    kind: str
    """``email``, ``pdf``, ``docx``, ``text``, ``markdown``."""
    source: str
    """Citation: the file path, plus ``#<message id>`` for mail and ``/<name>`` for attachments."""
    author: str | None = None
    """Display name (or address) of who wrote it, when known."""
    address: str | None = None
    """Sender address, lower case, for mail."""
    date: str | None = None
    """ISO 8601, when known."""
    subject: str | None = None
    message_id: str | None = None
    is_mail: bool = False
    """A mail body (cleaned of quotes, signatures and greetings) rather than a document."""
    relayed: bool = False
    """The message passed through a mail server (it has ``Received:`` headers): mail that
    arrived, not a copy of mail the owner sent (whatever its ``From:`` says)."""
    recipient: str | None = None
    """Who a mail went to: the ``To:`` and ``Cc:`` names (addresses where a name is missing)."""


def read_file(path: Path) -> Iterator[Piece]:
    """Every piece in ``path``; raises :class:`UnreadableFile` with the reason."""
    suffix = path.suffix.lower()
    kind = SUFFIX_KINDS.get(suffix)
    if kind is None:
        raise UnreadableFile(f"unsupported file type {suffix or '(none)'}")
    try:
        if suffix == ".eml":
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            _check_mail(message)
            yield from mail_pieces(message, str(path))
        elif suffix == ".mbox":
            yield from _mbox(path)
        elif suffix == ".msg":
            yield from _outlook(path)
        else:
            yield from document_pieces(path.read_bytes(), kind, str(path), path.name)
    except UnreadableFile:
        raise
    except OSError as err:
        raise UnreadableFile(f"cannot read: {err.strerror or err}") from err
    except Exception as err:  # a parser choking on a corrupt file: report and skip
        raise UnreadableFile(f"{type(err).__name__}: {err}") from err


# ---------------------------------------------------------------------------------- mail


def _check_mail(message: EmailMessage) -> None:
    if not any(message.get(h) for h in ("From", "Subject", "Date", "Message-ID")):
        raise UnreadableFile("no mail headers found")


def _mbox(path: Path) -> Iterator[Piece]:
    def factory(file: Any) -> EmailMessage:
        parsed = email.message_from_binary_file(file, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    box = mailbox.mbox(path, factory=factory, create=False)  # type: ignore[arg-type]
    try:
        count = 0
        for index, message in enumerate(box):
            assert isinstance(message, EmailMessage)
            if not message.get("From") and not message.get("Message-ID"):
                _LOGGER.warning("%s: message %d has no headers (truncated?); skipped", path, index)
                continue
            count += 1
            yield from mail_pieces(message, str(path), fallback_id=f"msg-{index}")
        if count == 0:
            raise UnreadableFile("no messages found in mbox")
    finally:
        box.close()


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header
        return None
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    """``(display name or address, address)`` of the sender."""
    try:
        header = message["From"]
        addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    except (ValueError, IndexError, TypeError):
        addresses = ()
    if addresses:
        first = addresses[0]
        address = first.addr_spec.lower() if first.addr_spec and "@" in first.addr_spec else None
        return first.display_name or address, address
    raw = _header(message, "From")
    if not raw:
        return None, None
    pairs = getaddresses([raw])
    if pairs and pairs[0][1]:
        name, address = pairs[0]
        return name or address.lower(), address.lower()
    return raw, None


_RECIPIENTS_MAX = 8
_RECIPIENT_CHARS = 300


def recipients(*headers: str | None) -> str | None:
    """Display form of address headers: names, or the address where there is no name, at
    most :data:`_RECIPIENTS_MAX` of them ("Morningside Chess Club, a@example.org")."""
    names: list[str] = []
    for name, address in getaddresses([h for h in headers if h]):
        shown = " ".join(name.split()) or address.lower()
        if shown and shown not in names:
            names.append(shown)
    joined = ", ".join(names[:_RECIPIENTS_MAX])[:_RECIPIENT_CHARS]
    return joined or None


def mail_pieces(
    message: EmailMessage, path: str, fallback_id: str | None = None
) -> Iterator[Piece]:
    """The body of ``message`` and its readable attachments."""
    author, address = _sender(message)
    recipient = recipients(_header(message, "To"), _header(message, "Cc"))
    message_id = _header(message, "Message-ID")
    message_id = message_id.strip("<>") if message_id else fallback_id
    date = _iso_date(_header(message, "Date"))
    subject = _header(message, "Subject")
    source = f"{path}#{message_id}" if message_id else path
    body = _mail_body(message)
    if body.strip():
        yield Piece(
            text=body,
            kind="email",
            source=source,
            author=author,
            address=address,
            date=date,
            subject=subject,
            message_id=message_id,
            is_mail=True,
            relayed=bool(message.get_all("Received")),
            recipient=recipient,
        )
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        name = part.get_filename() or ""
        kind = SUFFIX_KINDS.get(Path(name).suffix.lower())
        if kind is None or kind == "email":
            continue
        try:
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            for piece in document_pieces(payload, kind, f"{source}/{name}", name):
                yield Piece(
                    text=piece.text,
                    kind=piece.kind,
                    source=piece.source,
                    author=piece.author or author,
                    address=address if piece.author is None else None,
                    date=piece.date or date,
                    subject=piece.subject or subject,
                    message_id=message_id,
                    recipient=recipient,
                )
        except Exception as err:  # a broken attachment does not lose the mail
            _LOGGER.warning("%s: attachment %r unreadable: %s", source, name, err)


def _mail_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content


_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|p|div|li|tr|blockquote)\b[^>]*>")
_DROP = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_TAG = re.compile(r"(?s)<[^>]+>")
_QUOTE_BLOCK = re.compile(r"(?is)<blockquote\b.*?</blockquote\s*>")
_GMAIL_QUOTE = re.compile(r'(?is)<div class="gmail_quote".*$')


def html_to_text(markup: str) -> str:
    """HTML mail -> plain text; quoted blocks (``blockquote``, Gmail quotes) are dropped."""
    markup = _DROP.sub(" ", markup)
    markup = _GMAIL_QUOTE.sub(" ", markup)
    markup = _QUOTE_BLOCK.sub("\n", markup)
    markup = _BLOCK_TAGS.sub("\n", markup)
    return html.unescape(_TAG.sub("", markup))


def _outlook(path: Path) -> Iterator[Piece]:
    import extract_msg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = extract_msg.openMsg(str(path))
    try:
        yield from outlook_pieces(message, str(path))
    finally:
        close = getattr(message, "close", None)
        if close is not None:
            close()


def outlook_pieces(message: Any, path: str) -> Iterator[Piece]:
    """Pieces of an ``extract_msg`` message (sender and date may be missing)."""
    sender = getattr(message, "sender", None) or None
    author: str | None = None
    address: str | None = None
    if sender:
        pairs = getaddresses([str(sender)])
        if pairs and "@" in pairs[0][1]:
            author, address = pairs[0][0] or pairs[0][1].lower(), pairs[0][1].lower()
        else:
            author = str(sender)
    date_value = getattr(message, "date", None)
    date = None
    if isinstance(date_value, datetime):
        if date_value.tzinfo is None:
            date_value = date_value.replace(tzinfo=UTC)
        date = date_value.isoformat()
    elif isinstance(date_value, str):
        date = _iso_date(date_value)
    message_id = getattr(message, "messageId", None)
    message_id = str(message_id).strip("<>") if message_id else None
    subject = getattr(message, "subject", None) or None
    recipient = recipients(
        str(getattr(message, "to", None) or ""), str(getattr(message, "cc", None) or "")
    )
    source = f"{path}#{message_id}" if message_id else path
    body = getattr(message, "body", None) or ""
    if not body:
        html_body = getattr(message, "htmlBody", None)
        if isinstance(html_body, bytes):
            body = html_to_text(html_body.decode("utf-8", "replace"))
    if isinstance(body, str) and body.strip():
        yield Piece(
            body,
            "email",
            source,
            author,
            address,
            date,
            subject,
            message_id,
            True,
            recipient=recipient,
        )
    for attachment in getattr(message, "attachments", []) or []:
        name = getattr(attachment, "longFilename", None) or getattr(attachment, "name", "") or ""
        kind = SUFFIX_KINDS.get(Path(str(name)).suffix.lower())
        data = getattr(attachment, "data", None)
        if kind is None or kind == "email" or not isinstance(data, bytes):
            continue
        try:
            for piece in document_pieces(data, kind, f"{source}/{name}", str(name)):
                yield Piece(
                    piece.text,
                    piece.kind,
                    piece.source,
                    piece.author or author,
                    address if piece.author is None else None,
                    piece.date or date,
                    piece.subject or subject,
                    message_id,
                    recipient=recipient,
                )
        except Exception as err:
            _LOGGER.warning("%s: attachment %r unreadable: %s", source, name, err)


# ----------------------------------------------------------------------------- documents


def document_pieces(data: bytes, kind: str, source: str, name: str) -> Iterator[Piece]:
    """A PDF, DOCX, text or Markdown document from its bytes."""
    if kind == "pdf":
        yield _pdf(data, source)
    elif kind == "docx":
        yield _docx(data, source)
    elif kind in ("text", "markdown"):
        text = decode_text(data)
        if kind == "markdown":
            text = markdown_to_text(text)
        yield Piece(text=text, kind=kind, source=source, subject=Path(name).stem)
    else:
        raise UnreadableFile(f"unsupported document kind {kind}")


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ():
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"(?m)^\s{0,3}#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_RULE = re.compile(r"(?m)^\s{0,3}([-*_]\s*){3,}$")
_MD_BULLET = re.compile(r"(?m)^\s*(?:[-*+]|\d+[.)])\s+")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def markdown_to_text(text: str, front_matter: bool = True) -> str:
    """Plain text of Markdown; ``front_matter=False`` for a later part of a streamed file."""
    if front_matter:
        text = _FRONT_MATTER.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_RULE.sub("", text)
    text = _MD_BULLET.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def _pdf_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.isoformat())
    return None


def _pdf(data: bytes, source: str) -> Piece:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a corrupt file is reported once, by us

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UnreadableFile("encrypted PDF")
            pages = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata
            author = (info.author if info else None) or None
            title = (info.title if info else None) or None
            try:
                date = _pdf_date(info.creation_date) if info else None
            except (ValueError, TypeError):
                date = None
    except PdfReadError as err:
        raise UnreadableFile(f"corrupt PDF: {err}") from err
    text = "\n\n".join(pages)
    if not text.strip():
        raise UnreadableFile("PDF has no text layer (scanned? OCR it first)")
    return Piece(text=text, kind="pdf", source=source, author=author, date=date, subject=title)


def _docx(data: bytes, source: str) -> Piece:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as err:
        raise UnreadableFile(f"corrupt DOCX: {err}") from err
    blocks: list[str] = []
    seen_edges: set[str] = set()
    for section in document.sections:
        for part in (section.header, section.first_page_header):
            text = _docx_blocks(part)
            if text and text not in seen_edges:
                seen_edges.add(text)
                blocks.append(text)
    blocks.append(_docx_blocks(document))
    for section in document.sections:
        for footer in (section.footer, section.first_page_footer):
            text = _docx_blocks(footer)
            if text and text not in seen_edges:
                seen_edges.add(text)
                blocks.append(text)
    core = document.core_properties
    date = _pdf_date(core.created)
    return Piece(
        text="\n\n".join(b for b in blocks if b),
        kind="docx",
        source=source,
        author=core.author or None,
        date=date,
        subject=core.title or None,
    )


def _docx_blocks(container: Any) -> str:
    """Paragraphs and tables of a document body, header or footer, in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        items = list(container.iter_inner_content())
    except AttributeError:
        return ""
    lines: list[str] = []
    for item in items:
        if isinstance(item, Paragraph):
            if item.text.strip():
                lines.append(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
    return "\n".join(lines)


# ---------------------------------------------------------------------- streamed reading

STREAM_BLOCK = 1 << 20
"""Characters of a streamed text file handled at once (a part is cut at a blank line)."""

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def streams(path: Path) -> bool:
    """Whether ``path`` can be read part by part (text, Markdown, mbox)."""
    return path.suffix.lower() in (".txt", ".md", ".markdown", ".mbox")


def stream_pieces(path: Path, block: int = STREAM_BLOCK) -> Iterator[tuple[Piece, float]]:
    """The pieces of a text, Markdown or mbox file one at a time, each with the fraction of
    the file read so far: a big file is never held whole. Text is cut into parts of about
    ``block`` characters at blank lines. Raises :class:`UnreadableFile` with the reason."""
    suffix = path.suffix.lower()
    kind = SUFFIX_KINDS.get(suffix)
    if kind is None or not streams(path):
        raise UnreadableFile(f"cannot stream a {suffix or '(none)'} file")
    try:
        if suffix == ".mbox":
            yield from _mbox_stream(path)
        else:
            yield from _text_stream(path, kind, block)
    except UnreadableFile:
        raise
    except OSError as err:
        raise UnreadableFile(f"cannot read: {err.strerror or err}") from err
    except Exception as err:  # a parser choking on a corrupt file: report and skip
        raise UnreadableFile(f"{type(err).__name__}: {err}") from err


def _mbox_stream(path: Path) -> Iterator[tuple[Piece, float]]:
    def factory(file: Any) -> EmailMessage:
        parsed = email.message_from_binary_file(file, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    box = mailbox.mbox(path, factory=factory, create=False)  # type: ignore[arg-type]
    try:
        keys = box.keys()  # scans the file once for message offsets; holds no message
        count = 0
        for index, key in enumerate(keys):
            message = box[key]
            assert isinstance(message, EmailMessage)
            if not message.get("From") and not message.get("Message-ID"):
                _LOGGER.warning("%s: message %d has no headers (truncated?); skipped", path, index)
                continue
            count += 1
            done = (index + 1) / len(keys)
            for piece in mail_pieces(message, str(path), fallback_id=f"msg-{index}"):
                yield piece, done
        if count == 0:
            raise UnreadableFile("no messages found in mbox")
    finally:
        box.close()


def _text_encoding(path: Path) -> str:
    """The encoding :func:`decode_text` would choose, found without holding the file."""
    with path.open("rb") as file:
        head = file.read(2)
        if head in (b"\xff\xfe", b"\xfe\xff"):
            return "utf-16"
        file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            while block := file.read(STREAM_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _text_stream(path: Path, kind: str, block: int) -> Iterator[tuple[Piece, float]]:
    encoding = _text_encoding(path)
    size = max(path.stat().st_size, 1)
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    subject = path.stem
    first = True
    buffer = ""
    read = 0

    def piece(text: str) -> Piece:
        nonlocal first
        if kind == "markdown":
            text = markdown_to_text(text, front_matter=first)
        first = False
        return Piece(text=text, kind=kind, source=str(path), subject=subject)

    with path.open("rb") as file:
        while True:
            data = file.read(block)
            read += len(data)
            buffer += decoder.decode(data, final=not data)
            while len(buffer) >= block or (not data and buffer):
                cut = _cut(buffer, block) if data else len(buffer)
                yield piece(buffer[:cut]), min(read / size, 1.0)
                buffer = buffer[cut:]
            if not data:
                return


def _cut(text: str, block: int) -> int:
    """Where to end a part of ``text``: the last blank line, else the last line or space
    (a file without paragraphs), else ``block``."""
    ends = [match.end() for match in _BLANK_LINE.finditer(text)]
    if ends and ends[-1] > block // 4:
        return ends[-1]
    for mark in ("\n", " "):
        at = text.rfind(mark, block // 4)
        if at > 0:
            return at + 1
    return block
