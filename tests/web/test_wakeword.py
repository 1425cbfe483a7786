"""The browser wake word's server side: the model input patch, what is served, the npm fetch."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from familiar_hub.web.wakeword import (
    MEL_SAMPLES,
    RUNTIME_FILES,
    RUNTIME_PACKAGE,
    RUNTIME_VERSION,
    BrowserWake,
    fetch_runtime,
    input_shape,
    models_dir,
    with_input_shape,
)

MODELS = models_dir()
assert MODELS is not None, "pyopen-wakeword is a hub dependency"
MEL = (MODELS / "melspectrogram.tflite").read_bytes()


def test_the_melspectrogram_input_is_written_into_the_model() -> None:
    assert input_shape(MEL) == [1, 1]  # pyopen-wakeword resizes it at load time
    patched = with_input_shape(MEL, (1, MEL_SAMPLES))
    assert input_shape(patched) == [1, MEL_SAMPLES]
    assert len(patched) == len(MEL)
    assert sum(a != b for a, b in zip(patched, MEL, strict=True)) <= 4  # one int32 changed
    assert input_shape((MODELS / "hey_jarvis.tflite").read_bytes()) == [1, 16, 96]


def test_a_wrong_rank_or_a_non_model_is_refused() -> None:
    with pytest.raises(ValueError, match="rank 2, not 3"):
        with_input_shape(MEL, (1, 1, MEL_SAMPLES))
    with pytest.raises(ValueError, match="TFL3"):
        input_shape(b"GIF89a" + bytes(100))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(MEL) - 1), st.binary(min_size=1, max_size=8))
def test_damaged_models_give_a_clear_error_only(at: int, garbage: bytes) -> None:
    damaged = MEL[:at] + garbage + MEL[at + len(garbage) :]
    for data in (damaged, MEL[: at + 8]):
        try:
            input_shape(data)
        except ValueError as err:
            assert "TFLite" in str(err)


def runtime(tmp: Path) -> Path:
    folder = tmp / "runtime"
    folder.mkdir()
    for name in RUNTIME_FILES:
        (folder / name).write_text("x")
    (folder / ".complete").touch()
    return folder


def test_serves_the_configured_words_and_the_patched_melspectrogram(tmp_path: Path) -> None:
    wake = BrowserWake(["hey_jarvis"], 0.6, runtime(tmp_path), MODELS)
    assert wake.available
    config = wake.page_config()
    assert config["words"] == ["hey_jarvis"] and config["threshold"] == 0.6
    mel = wake.model("melspectrogram")
    assert mel is not None and input_shape(mel[0]) == [1, MEL_SAMPLES]
    jarvis = wake.model("hey_jarvis")
    assert jarvis is not None and jarvis[0] == (MODELS / "hey_jarvis.tflite").read_bytes()
    assert jarvis[1] != mel[1] and jarvis[1].startswith('"')
    assert wake.model("alexa") is None  # not a configured word
    assert wake.model("../../etc/passwd") is None
    assert wake.runtime_file("tflite_web_api_cc_simd.wasm") is not None
    assert wake.runtime_file("tflite_web_api_cc_threaded.wasm") is None


def test_says_why_the_page_cannot_run_the_wake_word(tmp_path: Path) -> None:
    off = BrowserWake(["hey_jarvis"], 0.5, None, MODELS)
    assert not off.available and "switched off" in str(off.missing)
    absent = BrowserWake(["hey_jarvis"], 0.5, tmp_path / "nothing", MODELS)
    assert "setup.sh" in str(absent.missing)
    assert absent.page_config() == {"available": False, "reason": absent.missing}
    assert absent.model("hey_jarvis") is None and absent.runtime_file(RUNTIME_FILES[0]) is None
    unknown = BrowserWake(["hey_nobody"], 0.5, runtime(tmp_path), MODELS)
    assert "hey_nobody" in str(unknown.missing)


def fake_npm(tmp: Path, members: tuple[str, ...]) -> Path:
    """An ``npm`` that packs a tarball shaped like the real package (and counts its calls)."""
    tgz = tmp / "package.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        for name in members:
            data = f"contents of {name}".encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    npm = tmp / "npm"
    npm.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp}/calls\n'
        f'[ "$1 $3" = "pack {RUNTIME_PACKAGE}@{RUNTIME_VERSION}" ] || exit 2\n'
        f"cp {tgz} ./tensorflow-tfjs-tflite-{RUNTIME_VERSION}.tgz\n"
    )
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    return npm


def test_fetch_keeps_the_runtime_files_once(tmp_path: Path) -> None:
    npm = fake_npm(tmp_path, (*(f"wasm/{n}" for n in RUNTIME_FILES), "README.md"))
    dest = tmp_path / "cache" / "runtime"
    assert fetch_runtime(dest, str(npm)) == dest
    assert (dest / "tflite_web_api_cc_simd.wasm").read_text() == (
        "contents of wasm/tflite_web_api_cc_simd.wasm"
    )
    assert BrowserWake(["hey_jarvis"], 0.5, dest, MODELS).available
    fetch_runtime(dest, str(npm))  # already there: npm is not asked again
    assert len((tmp_path / "calls").read_text().splitlines()) == 1


def test_an_incomplete_package_leaves_nothing_behind(tmp_path: Path) -> None:
    npm = fake_npm(tmp_path, ("wasm/tflite_web_api_client.js",))
    dest = tmp_path / "cache" / "runtime"
    with pytest.raises(FileNotFoundError, match=r"tflite_web_api_cc\.js is not in"):
        fetch_runtime(dest, str(npm))
    assert not dest.exists()
    assert os.listdir(dest.parent) == []
    with pytest.raises(FileNotFoundError, match="not installed"):
        fetch_runtime(dest, str(tmp_path / "no-npm"))
