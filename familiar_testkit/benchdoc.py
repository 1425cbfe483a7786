"""The benchmarks' one way to write their figures into ``docs/benchmarks.md``."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def replace_section(heading: str, section: str, path: Path = BENCHMARKS) -> Path:
    """Put ``section`` (which starts with the ``## heading`` line) where the section of that
    exact heading stands, up to the next ``## ``; append it when there is none yet."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = section.strip("\n") + "\n"
    start = 0 if text.startswith(heading + "\n") else text.find("\n" + heading + "\n") + 1
    if start > 0 or text.startswith(heading + "\n"):
        end = text.find("\n## ", start + 1)
        rest = text[end + 1 :] if end >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
