"""The configuration reference and the error table are generated from the code and current."""

from __future__ import annotations

from pathlib import Path

from familiar.cli import main, render_docs
from familiar.docgen import ErrorCode, collect_error_codes, config_rows, errors_markdown, stale
from familiar_hub.config import HubConfig
from familiar_testkit.processes import ROOT


def test_committed_docs_are_what_the_code_says() -> None:
    behind = stale(ROOT / "docs", render_docs())
    assert behind == [], f"stale: {behind}; run `familiar docs` and commit the result"


def test_check_fails_on_a_stale_copy_and_writing_fixes_it(tmp_path: Path) -> None:
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 1
    assert main(["docs", "--out", str(tmp_path)]) == 0
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "errors.md").write_text("hand edited\n")
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 1


def test_every_key_of_the_hub_config_is_documented() -> None:
    rows = {row.key: row for row in config_rows(HubConfig)}
    for key in (
        "asr.cpu_threads",
        "tts.samples_per_chunk",
        "tts.xtts.voice_name",
        "conductor.language",
        "brain.retrieval_k",
        "brain.home.entities[].entity_id",
        "mqtt.tls.ca",
    ):
        assert key in rows, key
    undocumented = sorted(key for key, row in rows.items() if not row.meaning)
    assert undocumented == [], "fields without a docstring under them"


def test_error_codes_come_from_classes_and_documented_constants() -> None:
    codes = {
        c.code: c for c in collect_error_codes(["familiar", "familiar_hub", "familiar_satellite"])
    }
    assert codes["config-invalid"].where == "familiar.errors.ConfigError"
    assert codes["mqtt-unavailable"].where == "familiar.mqtt.config.MqttError"
    assert "pairing-not-configured" in codes
    undocumented = sorted(code for code, c in codes.items() if not c.meaning)
    assert undocumented == []
    table = errors_markdown([ErrorCode("x-y", "a | b", "m.C")])
    assert "| `x-y` | a \\| b | `m.C` |" in table
