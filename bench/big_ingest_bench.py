"""Ingest one big generated text file (issue 14's 50 MB probe): time, peak RSS, progress.

Runs the ingest in a fresh interpreter so that its peak RSS (``ru_maxrss``) is the ingest's,
imports included. ``python bench/big_ingest_bench.py [--mb 50] [--embedder hashing]``; prints
one line to paste into docs/benchmarks.md (the hardening section)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "hub")]

from tests.persona.test_big_ingest import write_text  # noqa: E402

PROBE = """
import asyncio, json, resource, sys, time
from pathlib import Path
from familiar_hub.persona.backends import make_embedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.ingest import Ingestor
from familiar_hub.persona.store import PersonaStore

async def main(path, store, model):
    config = PersonaConfig.model_validate({"name": "P", "store": store,
        "voice_dir": store + ".voice", "embedder": {"model": model}, "max_file_mb": 1000})
    within = []
    async with (make_embedder(config.embedder) as embedder,
                PersonaStore(config.store_path, embedder.dim, embedder.name) as db,
                Ingestor(config, db, embedder) as ingestor):
        start = time.perf_counter()
        def progress(done, total, outcome):
            if outcome.status == "ingesting":
                within.append(outcome.fraction)
        report = await ingestor.ingest([Path(path)], progress)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "chunks": report.added, "progress": len(within),
                      "first_progress": within[0] if within else None,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--embedder", default="hashing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        write_text(path, args.mb)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "hub")])}
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(path), str(Path(tmp) / "p.db"), args.embedder],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        load = os.getloadavg()[0]
    print(
        f"**Big text ingest** ({args.mb:g} MB generated text, `{args.embedder}` embedder, load"
        f" {load:.1f} on 2 cores): {result['chunks']} chunks in {result['seconds']:.0f} s"
        f" ({result['chunks'] / result['seconds']:.0f} chunks/s, {args.mb / result['seconds']:.2f}"
        f" MB/s), peak RSS {result['peak_rss_mb']:.0f} MB; {result['progress']} progress reports"
        f" within the file, the first at {100 * (result['first_progress'] or 0):.1f} %."
    )


if __name__ == "__main__":
    main()
