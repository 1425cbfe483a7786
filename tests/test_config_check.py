"""``familiar config check`` (issue 14): referenced files, every entry, lines, kinds by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from familiar.cli import main


def check(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["config", "check", str(path), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_missing_referenced_files_and_every_bad_cidr_with_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        "endpoint:\n"
        "  allow:\n"
        "    - 10.0.0.0/8\n"
        "    - 10.0.0.0/33\n"
        "    - bogus\n"
        "tts:\n"
        "  voice: /nowhere/voice.onnx\n"
        "mqtt:\n"
        "  username: u\n"
        "  password_file: /nowhere/pw\n"
        "  tls:\n"
        "    ca: /nowhere/ca.pem\n",
        encoding="utf-8",
    )
    code, out = check(path, capsys)
    assert code == 2
    assert "line 2: endpoint.allow:" in out and "10.0.0.0/33" in out and "bogus" in out
    assert "line 7: tts.voice: file not found: /nowhere/voice.onnx" in out
    assert "line 10: mqtt.password_file: password_file not found: /nowhere/pw" in out
    assert "line 12: mqtt.tls.ca: certificate file not found: /nowhere/ca.pem" in out


def test_a_file_s_kind_is_told_by_its_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = tmp_path / "kitchen.yaml"
    hub.write_text("brain:\n  max_tokens: 80\n", encoding="utf-8")
    code, out = check(hub, capsys)
    assert code == 0 and "valid hub configuration" in out
    satellite = tmp_path / "pi.yaml"
    satellite.write_text("listen:\n  uri: tcp://0.0.0.0:10700\n", encoding="utf-8")
    code, out = check(satellite, capsys)
    assert code == 0 and "valid satellite configuration" in out
    vague = tmp_path / "x.yaml"
    vague.write_text("name: x\n", encoding="utf-8")
    code, out = check(vague, capsys)
    assert code == 2 and "--kind" in out


def test_non_utf8_yaml_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hub.yaml"
    path.write_bytes(b"name: kitchen\n# caf\xe9\n")
    code, out = check(path, capsys)
    assert code == 2
    assert "line 2: not UTF-8 text (byte 0xe9)" in out
    assert "Traceback" not in out
