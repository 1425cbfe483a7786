"""``familiar persona -c config/persona.yaml ingest|search|style|forget|voice ...``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from familiar.config import load_config
from familiar.errors import ConfigError
from familiar_hub.persona.config import PersonaConfig

if TYPE_CHECKING:
    from familiar_hub.persona.store import VoiceClipRecord


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    persona = subparsers.add_parser("persona", help="the persona's memory, style and voice")
    persona.add_argument(
        "-c", "--config", type=Path, help="persona YAML (default: config/persona.yaml)"
    )
    sub = persona.add_subparsers(dest="persona_command", required=True)

    ingest = sub.add_parser("ingest", help="read mail and documents into the store")
    ingest.add_argument("paths", nargs="*", type=Path, help="files/folders (default: sources)")
    ingest.set_defaults(func=cmd_ingest)

    search = sub.add_parser("search", help="show the best passages for a question")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many passages")
    search.add_argument("--mine", action="store_true", help="only the persona's own writing")
    search.add_argument("--kind", help="email, pdf, docx, text, markdown")
    search.set_defaults(func=cmd_search)

    style = sub.add_parser("style", help="show what was learned about how they write")
    style.set_defaults(func=cmd_style)

    forget = sub.add_parser("forget", help="remove a file, mailbox or folder completely")
    forget.add_argument("source", type=Path)
    forget.set_defaults(func=cmd_forget)

    status = sub.add_parser("status", help="what the store holds")
    status.set_defaults(func=cmd_status)

    voice = sub.add_parser("voice", help="reference recordings for the cloned voice")
    voice_sub = voice.add_subparsers(dest="voice_command", required=True)
    add = voice_sub.add_parser("add", help="check clips and enrol the good ones")
    add.add_argument("clips", nargs="+", type=Path)
    add.add_argument("--no-speaker-check", action="store_true", help="skip the torch model")
    add.set_defaults(func=cmd_voice_add)
    listing = voice_sub.add_parser("list", help="enrolled clips and readiness")
    listing.set_defaults(func=cmd_voice_list)
    remove = voice_sub.add_parser("remove", help="remove an enrolled clip (id or name)")
    remove.add_argument("clip")
    remove.set_defaults(func=cmd_voice_remove)


def _config(args: argparse.Namespace) -> PersonaConfig:
    path = args.config
    if path is None:
        default = Path("config/persona.yaml")
        path = default if default.exists() else None
    return load_config(PersonaConfig, path)


class ProgressBar:
    """One line redrawn in place on a terminal; a line per file otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int, outcome: object) -> None:
        from familiar_hub.persona.ingest import FileOutcome

        assert isinstance(outcome, FileOutcome)
        name = Path(outcome.path).name
        if outcome.status == "ingesting":  # within a big file, after each committed batch
            percent = f"{100 * (outcome.fraction or 0.0):.0f}%"
            chunks = f"{outcome.added + outcome.unchanged} chunks"
            if self.tty:
                self.stream.write(f"\r{done}/{total} {name[:40]} {percent:>4} ({chunks})".ljust(79))
            else:
                self.stream.write(f"[{done}/{total}] ingesting {name}: {percent}, {chunks}\n")
            self.stream.flush()
            return
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {name[:40]:<40}")
            if done == total:
                self.stream.write("\n")
        else:
            detail = outcome.reason or f"+{outcome.added} -{outcome.removed} ={outcome.unchanged}"
            self.stream.write(f"[{done}/{total}] {outcome.status:<9} {name}: {detail}\n")
        self.stream.flush()


def cmd_ingest(args: argparse.Namespace) -> int:
    config = _config(args)
    paths = list(args.paths) or list(config.sources)
    if not paths:
        raise ConfigError("persona", ["nothing to ingest: give paths or set `sources`"])
    return asyncio.run(_ingest(config, paths))


async def _ingest(config: PersonaConfig, paths: list[Path]) -> int:
    from familiar_hub.persona.backends import make_embedder
    from familiar_hub.persona.ingest import Ingestor
    from familiar_hub.persona.store import PersonaStore

    async with (
        make_embedder(config.embedder) as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
        Ingestor(config, store, embedder) as ingestor,
    ):
        report = await ingestor.ingest(paths, ProgressBar())
    print(f"files read: {report.files_read}")
    print(f"skipped:    {len(report.skipped)}")
    for path, reason in report.skipped:
        print(f"  {path}: {reason}")
    print(f"chunks added: {report.added}, removed: {report.removed}, unchanged: {report.unchanged}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    config = _config(args)
    return asyncio.run(_search(config, args.query, args.k, args.mine, args.kind))


async def _search(config: PersonaConfig, query: str, k: int, mine: bool, kind: str | None) -> int:
    from familiar_hub.persona.retriever import open_retriever

    async with open_retriever(config) as retriever:
        passages = await retriever.search(query, k, by_persona=True if mine else None, kind=kind)
    if not passages:
        print("nothing found")
        return 1
    for rank, passage in enumerate(passages, start=1):
        similarity = f" sim {passage.similarity:.2f}" if passage.similarity is not None else ""
        who = passage.author or "?"
        mine_mark = " (their own)" if passage.by_persona else ""
        print(f"{rank}. score {passage.score:.4f}{similarity}  {passage.date or 'undated'}")
        print(f"   {passage.source}  [{passage.kind}, {who}{mine_mark}]")
        text = " ".join(passage.text.split())
        print(f"   {text[:400]}{'...' if len(text) > 400 else ''}")
    return 0


def cmd_style(args: argparse.Namespace) -> int:
    return asyncio.run(_style(_config(args)))


async def _style(config: PersonaConfig) -> int:
    from familiar_hub.persona.store import PersonaStore

    async with PersonaStore(config.store_path) as store:
        profile = await store.style()
    if profile is None:
        print(f"no style learned yet: ingest mail written from {config.addresses or '(addresses)'}")
        return 1
    print(f"{config.name} writes (from {profile.evidence_texts} of their own texts):")
    print(f"  greetings:   {', '.join(profile.greetings) or '-'}")
    print(f"  sign-offs:   {', '.join(profile.sign_offs) or '-'}")
    print(f"  sentences:   {profile.mean_sentence_words:g} words on average")
    print(f"  formality:   {profile.formality}")
    print(f"  languages:   {', '.join(profile.languages)}")
    if profile.mixed_words:
        print(f"  mixed words: {', '.join(profile.mixed_words)}")
    print(f"  phrases:     {'; '.join(profile.phrases) or '-'}")
    print("  examples:")
    for example in profile.examples:
        print(f"    - {example}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    source: Path = args.source
    target = str(source.expanduser().resolve()) if source.exists() else str(source)
    return asyncio.run(_forget(_config(args), source, target))


async def _forget(config: PersonaConfig, source: Path, target: str) -> int:
    from familiar_hub.persona.ingest import refresh_style
    from familiar_hub.persona.store import PersonaStore

    async with PersonaStore(config.store_path) as store:
        result = await store.forget(target)
        if result.files == 0 and target != str(source):
            result = await store.forget(str(source))
        await refresh_style(store)
    if result.files == 0:
        print(f"{source}: not in the store")
        return 1
    print(f"forgot {result.files} file(s), {result.chunks} chunk(s)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    return asyncio.run(_status(_config(args)))


async def _status(config: PersonaConfig) -> int:
    from familiar_hub.persona.store import PersonaStore

    async with PersonaStore(config.store_path) as store:
        stats = await store.stats()
    print(f"store: {config.store_path}")
    print(f"files: {stats.files}, chunks: {stats.chunks} ({stats.own_chunks} their own)")
    print(f"voice clips: {stats.voice_clips}")
    return 0


def cmd_voice_add(args: argparse.Namespace) -> int:
    return asyncio.run(_voice_add(_config(args), args.clips, not args.no_speaker_check))


async def _voice_add(config: PersonaConfig, clips: list[Path], speaker_check: bool) -> int:
    from contextlib import AsyncExitStack

    from familiar_hub.persona.store import PersonaStore
    from familiar_hub.persona.voice import VoiceLibrary

    async with AsyncExitStack() as stack:
        encoder = None
        if speaker_check:
            from familiar_hub.persona.backends.resemblyzer import ResemblyzerEncoder

            encoder = await stack.enter_async_context(ResemblyzerEncoder())
        store = await stack.enter_async_context(PersonaStore(config.store_path))
        library = await stack.enter_async_context(
            VoiceLibrary(store, config.voice_path, config.voice, encoder)
        )
        checks = await library.add(clips)
        records = await library.list()
    failed = 0
    for check in checks:
        verdict = "PASS" if check.passed else "FAIL"
        failed += 0 if check.passed else 1
        m = check.measures
        line = f"{verdict} {check.name}"
        if m is not None:
            line += (
                f": {m.seconds:.1f} s, {m.rate} Hz, loudness {m.loudness_dbfs:.0f} dBFS, "
                f"SNR {m.snr_db:.0f} dB, silence {m.silence_ratio:.0%}"
            )
        if check.speaker_similarity is not None:
            line += f", speaker {check.speaker_similarity:.2f}"
        if check.passed:
            line += f", score {check.score:.2f}"
        print(line)
        for problem in check.problems:
            print(f"    x {problem}")
        for note in check.notes:
            print(f"    - {note}")
    _print_readiness(config, records)
    return 1 if failed else 0


def _print_readiness(config: PersonaConfig, records: Sequence[VoiceClipRecord]) -> None:
    from familiar_hub.persona.voice import readiness

    ready = readiness(records, config.voice)
    print(f"readiness: {ready.score}/100 ({ready.clips} clips, {ready.seconds:.0f} s)")
    for note in ready.notes:
        print(f"  - {note}")


def cmd_voice_list(args: argparse.Namespace) -> int:
    return asyncio.run(_voice_list(_config(args)))


async def _voice_list(config: PersonaConfig) -> int:
    from familiar_hub.persona.store import PersonaStore

    async with PersonaStore(config.store_path) as store:
        records = await store.voice_clips()
    for record in records:
        print(f"{record.id:>3} {record.name}  {record.seconds:.1f} s  score {record.score:.2f}")
    _print_readiness(config, records)
    return 0


def cmd_voice_remove(args: argparse.Namespace) -> int:
    return asyncio.run(_voice_remove(_config(args), args.clip))


async def _voice_remove(config: PersonaConfig, key: str) -> int:
    from familiar_hub.persona.store import PersonaStore
    from familiar_hub.persona.voice import VoiceLibrary

    async with (
        PersonaStore(config.store_path) as store,
        VoiceLibrary(store, config.voice_path, config.voice, None) as library,
    ):
        record = await library.remove(key)
    if record is None:
        print(f"{key}: no such clip")
        return 1
    print(f"removed {record.name}")
    return 0
