"""The benchmarks' one way to write their figures into ``docs/benchmarks.md``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _span(text: str, heading: str) -> tuple[int, int] | None:
    """Where the section of that exact heading stands in ``text``: its start, and the start
    of the next ``## `` section (or the end)."""
    if text.startswith(heading + "\n"):
        start = 0
    elif (found := text.find("\n" + heading + "\n")) >= 0:
        start = found + 1
    else:
        return None
    end = text.find("\n## ", start + 1)
    return start, (end + 1 if end >= 0 else len(text))


def replace_section(heading: str, section: str, path: Path = BENCHMARKS) -> Path:
    """Put ``section`` (which starts with the ``## heading`` line) where the section of that
    exact heading stands, up to the next ``## ``; append it when there is none yet."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = section.strip("\n") + "\n"
    span = _span(text, heading)
    if span is not None:
        start, end = span
        rest = text[end:]
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_section(heading: str, path: Path = BENCHMARKS) -> str | None:
    """The section of that exact heading, up to the next ``## ``; None when there is none."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    span = _span(text, heading)
    return None if span is None else text[span[0] : span[1]]


def replace_rows(section: str, owned: Callable[[str], bool], rows: list[str]) -> str:
    """``section`` with its table rows for which ``owned`` is true (and the "↳" note rows right
    under them) replaced by ``rows``, where the first of them stood, or at the top of the
    first table; every other line (other runs' rows, text written by hand) stays."""
    lines = section.splitlines()
    kept: list[str] = []
    at: int | None = None
    dropping = False
    for line in lines:
        if line.startswith("| ↳") and dropping:
            continue
        dropping = line.startswith("|") and owned(line)
        if dropping:
            at = len(kept) if at is None else at
            continue
        kept.append(line)
    if at is None:  # under the first table's header separator
        at = next((i + 1 for i, line in enumerate(kept) if line.startswith("|---")), len(kept))
    return "\n".join(kept[:at] + rows + kept[at:]) + "\n"
