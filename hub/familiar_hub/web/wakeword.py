"""The wake word in the phone's browser: the runtime and the models the page loads.

The page runs the very TFLite files the Pi satellite and the hub use (``pyopen-wakeword``'s
melspectrogram, embedding and per-word models) with TensorFlow Lite compiled to WebAssembly,
the TFLite Web API that ships in the npm package ``@tensorflow/tfjs-tflite`` (no tfjs-core: the
page drives the interpreter directly). ``setup.sh`` fetches that package with npm into the
model cache (``python -m familiar_hub.web.wakeword``); the hub serves its files under
``/wakeword/runtime/`` and the models under ``/wakeword/models/``. Without them the page falls
back to the hub's wake word and says so.

The TFLite Web API cannot resize an input, and the melspectrogram model is stored with a
``[1, 1]`` input that ``pyopen-wakeword`` resizes to ``[1, 1760]`` at load time; the hub serves
that model with the input shape written into the file instead (:func:`with_input_shape`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import shutil
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from familiar_hub.models import cache_dir

_LOGGER = logging.getLogger(__name__)

RUNTIME_PACKAGE = "@tensorflow/tfjs-tflite"
RUNTIME_VERSION = "0.0.1-alpha.10"
RUNTIME_FILES = (
    "tflite_web_api_client.js",
    "tflite_web_api_cc.js",
    "tflite_web_api_cc.wasm",
    "tflite_web_api_cc_simd.js",
    "tflite_web_api_cc_simd.wasm",
)
"""The single-threaded builds (with and without SIMD): the page is not cross-origin isolated,
so the threaded ones would never be picked."""

MEL_SAMPLES = 1760
"""Audio per melspectrogram call (``pyopen_wakeword.openwakeword.MEL_SAMPLES``)."""
FEATURE_MODELS = ("melspectrogram", "embedding_model")
_COMPLETE = ".complete"


def runtime_dir() -> Path:
    """Where ``setup.sh`` puts the runtime: ``<cache>/web-wakeword/tfjs-tflite-<version>``."""
    return cache_dir() / "web-wakeword" / f"tfjs-tflite-{RUNTIME_VERSION}"


def models_dir() -> Path | None:
    """``pyopen-wakeword``'s models folder, found without importing it (no native library)."""
    spec = importlib.util.find_spec("pyopen_wakeword")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models"


# --- TFLite flatbuffers (the few fields needed to find a model's input shape) ----------------

_MODEL_SUBGRAPHS = 2
_SUBGRAPH_TENSORS, _SUBGRAPH_INPUTS = 0, 1
_TENSOR_SHAPE = 0


def _read(fmt: str, data: bytes | bytearray, at: int) -> int:
    if not 0 <= at <= len(data) - struct.calcsize(fmt):
        raise ValueError("not a TFLite model (offset outside the file)")
    return int(struct.unpack_from(fmt, data, at)[0])


def _u32(data: bytes | bytearray, at: int) -> int:
    return _read("<I", data, at)


def _field(data: bytes | bytearray, table: int, index: int) -> int:
    vtable = table - _read("<i", data, table)
    size = _read("<H", data, vtable)
    offset = _read("<H", data, vtable + 4 + 2 * index) if 4 + 2 * index < size else 0
    if not offset:
        raise ValueError(f"not a TFLite model (field {index} missing)")
    return table + offset


def _vector(data: bytes | bytearray, at: int) -> tuple[int, int]:
    start = at + _u32(data, at)
    length = _u32(data, start)
    if start + 4 + 4 * length > len(data):
        raise ValueError("not a TFLite model (vector outside the file)")
    return start + 4, length


def _input_shape_at(data: bytes | bytearray) -> tuple[int, int]:
    """Offset and length of the first subgraph's first input's shape vector."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ValueError("not a TFLite model (no TFL3 identifier)")
    model = _u32(data, 0)
    subgraphs, count = _vector(data, _field(data, model, _MODEL_SUBGRAPHS))
    if count < 1:
        raise ValueError("TFLite model without a subgraph")
    subgraph = subgraphs + _u32(data, subgraphs)
    tensors, n_tensors = _vector(data, _field(data, subgraph, _SUBGRAPH_TENSORS))
    inputs, n_inputs = _vector(data, _field(data, subgraph, _SUBGRAPH_INPUTS))
    if n_inputs < 1:
        raise ValueError("TFLite model without an input")
    index = _u32(data, inputs)
    if index >= n_tensors:
        raise ValueError("not a TFLite model (input tensor out of range)")
    tensor_at = tensors + 4 * index
    tensor = tensor_at + _u32(data, tensor_at)
    return _vector(data, _field(data, tensor, _TENSOR_SHAPE))


def input_shape(model: bytes) -> list[int]:
    at, length = _input_shape_at(model)
    return [_read("<i", model, at + 4 * i) for i in range(length)]


def with_input_shape(model: bytes, shape: Sequence[int]) -> bytes:
    """The model with its first input's stored shape replaced by ``shape`` (same rank).

    What ``TfLiteInterpreterResizeInputTensor`` does at load time, written into the file, for
    runtimes that cannot resize (the TFLite Web API)."""
    data = bytearray(model)
    at, length = _input_shape_at(data)
    if length != len(shape):
        raise ValueError(f"the model's input has rank {length}, not {len(shape)}")
    for i, dim in enumerate(shape):
        struct.pack_into("<i", data, at + 4 * i, dim)
    return bytes(data)


# --- what the hub serves -------------------------------------------------------------------


class BrowserWake:
    """The runtime and models for phones that run the wake word themselves."""

    def __init__(
        self,
        words: list[str],
        threshold: float,
        runtime: Path | None,
        models: Path | None,
        refractory_seconds: float = 2.0,
    ) -> None:
        self.words = list(words)
        self.threshold = threshold
        self.refractory_seconds = refractory_seconds
        self.runtime = runtime
        self.models = models
        self._cache: dict[str, tuple[bytes, str]] = {}
        self.missing = self._check()
        """Why phones cannot run the wake word themselves (``None``: they can)."""

    def _check(self) -> str | None:
        if self.runtime is None:
            return "the in-browser wake word is switched off (web.browser_wake)"
        if not (self.runtime / _COMPLETE).exists() or not all(
            (self.runtime / name).is_file() for name in RUNTIME_FILES
        ):
            return (
                f"the in-browser wake word runtime ({RUNTIME_PACKAGE} {RUNTIME_VERSION}) is not"
                f" in {self.runtime}; setup.sh fetches it with npm"
            )
        if self.models is None or not self.models.is_dir():
            return "pyopen-wakeword (the wake word models) is not installed"
        for name in (*FEATURE_MODELS, *self.words):
            if not (self.models / f"{name}.tflite").is_file():
                return f"no wake word model {name!r} in pyopen-wakeword"
        return None

    @property
    def available(self) -> bool:
        return self.missing is None

    def page_config(self) -> dict[str, Any]:
        """What the page needs to load the wake word (``GET /wakeword/config.json``)."""
        if self.missing is not None:
            return {"available": False, "reason": self.missing}
        return {
            "available": True,
            "runtime": "/wakeword/runtime/",
            "models": "/wakeword/models/",
            "features": list(FEATURE_MODELS),
            "words": self.words,
            "threshold": self.threshold,
            "refractory_seconds": self.refractory_seconds,
        }

    def runtime_file(self, name: str) -> Path | None:
        if self.missing is not None or name not in RUNTIME_FILES:
            return None
        assert self.runtime is not None
        return self.runtime / name

    def model(self, name: str) -> tuple[bytes, str] | None:
        """A model file and its ETag; the melspectrogram one with its input shape written in."""
        if self.missing is not None or name not in (*FEATURE_MODELS, *self.words):
            return None
        cached = self._cache.get(name)
        if cached is None:
            assert self.models is not None
            data = (self.models / f"{name}.tflite").read_bytes()
            if name == "melspectrogram":
                data = with_input_shape(data, (1, MEL_SAMPLES))
            cached = self._cache[name] = (data, f'"{hashlib.sha256(data).hexdigest()[:32]}"')
        return cached


# --- fetching the runtime (setup.sh) --------------------------------------------------------


def fetch_runtime(dest: Path, npm: str = "npm") -> Path:
    """``npm pack`` the runtime package and keep the files the page needs in ``dest``.

    npm checks the tarball against the registry's integrity hash. Files land in a temporary
    folder first; ``.complete`` is written last, so an interrupted fetch is redone."""
    if (dest / _COMPLETE).exists() and all((dest / n).is_file() for n in RUNTIME_FILES):
        return dest
    if shutil.which(npm) is None:
        raise FileNotFoundError(f"{npm} is not installed (apt-get install npm)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        work = Path(tmp)
        subprocess.run(
            [npm, "pack", "--silent", f"{RUNTIME_PACKAGE}@{RUNTIME_VERSION}"],
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = work.glob("*.tgz")
        staged = work / "runtime"
        staged.mkdir()
        with tarfile.open(tarball) as archive:
            for name in (*RUNTIME_FILES, "README.md"):
                member = f"package/{'wasm/' if name != 'README.md' else ''}{name}"
                try:
                    source = archive.extractfile(member)
                except KeyError:
                    source = None
                if source is None:
                    raise FileNotFoundError(f"{member} is not in {tarball.name}")
                (staged / name).write_bytes(source.read())
        (staged / "VERSION").write_text(f"{RUNTIME_PACKAGE}@{RUNTIME_VERSION}\n")
        if dest.exists():
            shutil.rmtree(dest)
        staged.rename(dest)
    (dest / _COMPLETE).touch()
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m familiar_hub.web.wakeword",
        description="Fetch the in-browser wake word runtime into the model cache.",
    )
    parser.add_argument("--dest", type=Path, default=None, help="default: the model cache")
    args = parser.parse_args(argv)
    dest = fetch_runtime(args.dest or runtime_dir())
    print(dest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
