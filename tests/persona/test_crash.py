"""A SIGKILL in the middle of an ingest, then a rerun, gives the same store as one clean run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from familiar_hub.persona.backend import Embedder
from familiar_hub.persona.ingest import Ingestor
from familiar_hub.persona.store import PersonaStore
from tests.persona.conftest import make_config
from tests.persona.corpus import FRIEND, PERSONA, mail

pytestmark = pytest.mark.models
ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["gardening", "cricket", "monsoon", "railways", "weddings", "temples", "filter coffee"]


def write_many(root: Path, count: int) -> None:
    from datetime import UTC, datetime

    root.mkdir(parents=True)
    for index in range(count):
        topic = TOPICS[index % len(TOPICS)]
        sentences = " ".join(
            f"Note {index}.{line} on {topic}: the {topic} plan changes every week, so we check"
            f" item {line * 7 + index} again before deciding anything final."
            for line in range(3)
        )
        sender = f"Priya <{PERSONA}>" if index % 2 else f"Arun <{FRIEND}>"
        message = mail(
            sender,
            "x@example.com",
            f"{topic} {index}",
            f"Hi,\n\n{sentences}\n\nCheers,\nP\n",
            f"m{index}@example.org",
            datetime(2020 + index % 5, 1, 1, tzinfo=UTC),
        )
        (root / f"{index:03d}.eml").write_bytes(message.as_bytes())


def snapshot(path: Path) -> dict[str, Any]:
    import pysqlite3.dbapi2 as sqlite
    import sqlite_vec

    db = sqlite.connect(str(path))
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    try:
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        chunks = sorted(
            db.execute(
                "SELECT f.path, c.hash, c.citation, c.author, c.by_persona, c.date, c.subject, "
                "c.seq, c.text FROM chunks c JOIN files f ON f.id = c.file_id"
            )
        )
        vectors = {
            h: np.frombuffer(v, dtype=np.float32)
            for h, v in db.execute(
                "SELECT c.hash, v.embedding FROM chunks c JOIN chunks_vec v ON v.chunk_id = c.id"
            )
        }
        return {
            "files": sorted(db.execute("SELECT path, sha256, size FROM files")),
            "chunks": chunks,
            "vectors": vectors,
            "vec_rows": db.execute("SELECT count(*) FROM chunks_vec").fetchone()[0],
            "own": sorted(
                db.execute(
                    "SELECT f.path, o.greeting, o.sign_off, o.body FROM own_texts o "
                    "JOIN files f ON f.id = o.file_id"
                )
            ),
            "style": json.loads(db.execute("SELECT profile FROM style").fetchone()[0]),
        }
    finally:
        db.close()


def committed_files(path: Path) -> int:
    import pysqlite3.dbapi2 as sqlite

    if not path.exists():
        return 0
    try:
        db = sqlite.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT count(*) FROM files").fetchone()[0])
        finally:
            db.close()
    except sqlite.OperationalError:  # schema not created yet
        return 0


def test_kill_during_ingest_then_rerun_equals_clean_run(tmp_path: Path, minilm: Embedder) -> None:
    corpus = tmp_path / "many"
    write_many(corpus, 40)
    killed = make_config(tmp_path / "killed")
    config_file = tmp_path / "persona.yaml"
    config_file.write_text(yaml.safe_dump(json.loads(killed.model_dump_json())))
    command = [
        sys.executable,
        "-m",
        "familiar",
        "persona",
        "-c",
        str(config_file),
        "ingest",
        str(corpus),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 240
        while committed_files(killed.store_path) < 5 and process.poll() is None:
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        returncode = process.wait(timeout=60)
    assert returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    partial = committed_files(killed.store_path)
    assert 5 <= partial < 40

    rerun = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400, check=False
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "files read: 40" in rerun.stdout

    clean = make_config(tmp_path / "clean")

    async def clean_run() -> None:
        async with (
            PersonaStore(clean.store_path, minilm.dim, minilm.name) as store,
            Ingestor(clean, store, minilm) as ingestor,
        ):
            await ingestor.ingest([corpus])

    asyncio.run(clean_run())

    after_kill, reference = snapshot(killed.store_path), snapshot(clean.store_path)
    assert after_kill["files"] == reference["files"]
    assert after_kill["chunks"] == reference["chunks"]
    assert after_kill["own"] == reference["own"]
    assert after_kill["style"] == reference["style"]
    assert after_kill["vec_rows"] == reference["vec_rows"] == len(reference["chunks"])
    assert after_kill["vectors"].keys() == reference["vectors"].keys()
    for digest, vector in reference["vectors"].items():  # batching may change the last bits
        assert float(np.dot(vector, after_kill["vectors"][digest])) > 0.9999
