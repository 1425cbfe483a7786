"""The benches write their rows into docs/benchmarks.md without losing anyone else's."""

from __future__ import annotations

from pathlib import Path

from familiar_testkit.benchdoc import read_section, replace_rows, replace_section

SECTION = """## Load

Intro.

| run | x | median |
|---|---|---|
| before | 1 | 0.68 |
| before | 8 | 4.32 |
| ↳ load average 4.6 | | |
| after | 1 | 0.59 |
| ↳ load average 5.9 | | |

**Verdict (by hand).** Kept.
"""


def first_cell(name: str):  # type: ignore[no-untyped-def]
    return lambda row: row.strip("| ").split(" |")[0].strip() == name


def test_a_runs_rows_are_replaced_in_place_and_the_rest_stays() -> None:
    out = replace_rows(SECTION, first_cell("before"), ["| before | 1 | 0.50 |", "| ↳ new | | |"])
    assert "4.32" not in out and "load average 4.6" not in out  # its old rows and note
    assert out.index("| before | 1 | 0.50 |") < out.index("| after | 1 | 0.59 |")
    assert "| ↳ load average 5.9 | | |" in out and "**Verdict (by hand).** Kept." in out
    assert "Intro." in out


def test_a_new_run_goes_to_the_top_of_the_table() -> None:
    out = replace_rows(SECTION, first_cell("quiet"), ["| quiet | 1 | 0.44 |"])
    lines = out.splitlines()
    assert lines[lines.index("|---|---|---|") + 1] == "| quiet | 1 | 0.44 |"
    assert out.count("|") == SECTION.count("|") + 4 and "Kept." in out


def test_sections_are_read_and_replaced_by_heading(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n" + SECTION + "\n## Next\n\nOther.\n")
    section = read_section("## Load", doc)
    assert section is not None and section.startswith("## Load") and "Other." not in section
    assert read_section("## Missing", doc) is None
    replace_section("## Load", replace_rows(section, first_cell("after"), []), doc)
    text = doc.read_text()
    assert "0.59" not in text and "Kept." in text and "## Next\n\nOther." in text
