"""Persona fidelity: does the brain answer as the persona, and only from her files?

For each synthetic persona (bench/personas/*/ and the demo persona in
hub/familiar_hub/persona/sample/) a fresh persona store is built from her mails and notes,
then every question of her ``questions.yaml`` is asked through the real brain with a packaged
LLM. Reported per persona and model:

- facts right: answerable and near-threshold questions whose answer contains an expected string;
- invented: unanswerable questions answered instead of declined;
- second language: questions in her other language answered right;
- first person: answers that neither name her in the third person nor echo the question's
  "you"/"your" back at her;
- habits: answers with at least one of her habits (listed by hand in ``questions.yaml``,
  not taken from the learned profile, so a profile that misses them is measured too);
- stylometry: cosine similarity of character 2-4-gram profiles of the answers to her own
  writing, against the same answers without her habits (``ReplyResult.plain``: the neutral
  baseline);
- leaked: answers containing 5 words in a row of her own writing that the passages retrieved
  for that question do not contain (a style example said as a fact);
- latency: seconds to the first sentence and to the end.

Writes the ``## Persona fidelity`` section of docs/benchmarks.md.

    nice python bench/persona_fidelity.py [--models qwen2.5-coder-0.5b-instruct ...]
        [--personas meena harold rosa chennai] [--limit N] [--per-kind N] [--no-write]
        [--embedder multilingual-e5-small --no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hub"), str(ROOT / "satellite")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from familiar.config import load_config  # noqa: E402
from familiar_hub.brain.backends.llama_cpp import LlamaCppLlm  # noqa: E402
from familiar_hub.brain.brain import Brain, ReplyResult  # noqa: E402
from familiar_hub.config import BrainConfig  # noqa: E402
from familiar_hub.persona.cleaning import clean_document, clean_mail  # noqa: E402
from familiar_hub.persona.config import PersonaConfig  # noqa: E402
from familiar_hub.persona.ingest import Ingestor  # noqa: E402
from familiar_hub.persona.retriever import open_retriever  # noqa: E402
from familiar_hub.persona.sample import SAMPLE_DIR  # noqa: E402
from familiar_testkit.benchdoc import replace_section  # noqa: E402
from familiar_testkit.corpus import (  # noqa: E402
    load_recall_set,
    recall_persona_fields,
    write_recall_mails,
)

PERSONAS: dict[str, tuple[Path | None, Path | None]] = {
    "meena": (ROOT / "bench" / "personas" / "meena", None),
    "harold": (ROOT / "bench" / "personas" / "harold", None),
    "rosa": (SAMPLE_DIR, ROOT / "bench" / "personas" / "rosa-questions.yaml"),
    # Built from bench/data/recall_set.json (``recall_persona``), whose mails tuned retrieval
    # and relevance but never the brain's prompt or checks: a persona the answering was not
    # tuned on.
    "chennai": (None, None),
}
_RECALL_KINDS = {
    "direct": "answerable",
    "paraphrase": "near",
    "code-mixed": "second",
    "tamil": "second",
    "unanswerable": "unanswerable",
}  # "hindi": not a language she speaks (``languages: [en, ta]``); left out when answerable
_RECALL_HABITS = ["kanna", "seri", "simple. done.", "anbudan", "vanakkam", "konjam"]
_SMALL_TALK = [
    {"q": "Hello!", "kind": "smalltalk"},
    {"q": "Who are you?", "kind": "smalltalk"},
    {"q": "How are you?", "kind": "smalltalk"},
    {"q": "Thank you!", "kind": "smalltalk"},
    {"q": "What did I just ask you?", "kind": "memory", "expect": ["thank"]},
]


def recall_persona(folder: Path) -> dict[str, Any]:
    """The recall set's mails as a persona folder (``mail/``, empty ``notes/``,
    ``persona.yaml``) in ``folder``; its questions as a ``questions.yaml`` would give them."""
    data = load_recall_set()
    write_recall_mails(folder / "mail", data["mails"])
    (folder / "notes").mkdir(parents=True, exist_ok=True)
    fields = {**recall_persona_fields(data), "documents_by_persona": True}
    (folder / "persona.yaml").write_text(yaml.safe_dump(fields))
    questions = [
        {"q": q["q"], "kind": _RECALL_KINDS[q["kind"]], "expect": q.get("expect") or []}
        for q in data["questions"]
        if q["kind"] in _RECALL_KINDS
    ]
    return {"questions": questions + _SMALL_TALK, "habits": _RECALL_HABITS}


SECTION = "## Persona fidelity"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_SPAN = 5


@dataclass
class Asked:
    question: str
    kind: str
    expect: list[str]
    result: ReplyResult
    first: float
    total: float


@dataclass
class Persona:
    key: str
    config: PersonaConfig
    folder: Path
    questions: list[dict[str, Any]]
    habits: list[str]
    own_text: str = ""
    own_spans: set[tuple[str, ...]] = field(default_factory=set)


def load_persona(key: str, store: Path, embedder: str | None = None) -> Persona:
    folder, questions_file = PERSONAS[key]
    if folder is None:
        folder = store.parent / "files"
        data = recall_persona(folder)
    else:
        data = yaml.safe_load((questions_file or folder / "questions.yaml").read_text())
    config = load_config(PersonaConfig, folder / "persona.yaml")
    config = config.model_copy(
        update={
            "store": store,
            "sources": [folder / "mail", folder / "notes"],
            "embedder": config.embedder.model_copy(
                update={"model": embedder or config.embedder.model}
            ),
        }
    )
    persona = Persona(key, config, folder, data["questions"], data.get("habits", []))
    own = []
    for path in sorted((folder / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        sender = str(message["From"]).lower()
        if any(address in sender for address in config.addresses):
            body = message.get_body(("plain",))
            own.append(clean_mail(body.get_content() if body else "").body)  # type: ignore[union-attr]
    for path in sorted((folder / "notes").glob("*")):
        own.append(clean_document(path.read_text()))
    persona.own_text = "\n".join(own)
    words = [w.lower() for w in _WORD.findall(persona.own_text)]
    persona.own_spans = {tuple(words[i : i + _SPAN]) for i in range(len(words) - _SPAN + 1)}
    return persona


def grams(text: str) -> dict[str, float]:
    """Character 2-4-gram profile with sublinear counts (1 + log tf), as in authorship work."""
    text = " ".join(text.lower().split())
    counts: Counter[str] = Counter()
    for size in (2, 3, 4):
        counts.update(text[i : i + size] for i in range(len(text) - size + 1))
    return {gram: 1.0 + math.log(n) for gram, n in counts.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def right(answer: str, expect: list[str]) -> bool:
    lower = answer.lower()
    return any(str(e).lower() in lower for e in expect)


def first_person_ok(persona: Persona, question: str, answer: str) -> bool:
    names = {persona.config.name, *persona.config.names}
    for name in names:
        if re.search(rf"\b{re.escape(name)}('s| is| was| has| will| keeps| said)\b", answer):
            return False
    for match in re.finditer(r"\byour (\w+)", question, re.I):
        if re.search(rf"\byour {re.escape(match.group(1))}\b", answer, re.I):
            return False
    asked = re.finditer(r"\b(?:do|did|are|will|have) you (\w+)((?: \w+){0,2})", question, re.I)
    for match in asked:
        if re.search(rf"\byou (?:\w+ )?{re.escape(match.group(1))}\b", answer, re.I):
            return False
        # the verb in another form, known by what follows it: "did you give the temple?" ->
        # "you gave the temple"
        rest = match.group(2).strip()
        if rest and re.search(rf"\byou \w+ {re.escape(rest)}\b", answer, re.I):
            return False
    return True


def has_habit(persona: Persona, answer: str) -> bool:
    lower = f" {answer.lower()} "
    return any(re.search(rf"(?<!\w){re.escape(h.lower())}(?!\w)", lower) for h in persona.habits)


def leaked(persona: Persona, asked: Asked) -> bool:
    source = " ".join(p.text for p in asked.result.passages) + " " + asked.question
    allowed = [w.lower() for w in _WORD.findall(source)]
    allowed_spans = {tuple(allowed[i : i + _SPAN]) for i in range(len(allowed) - _SPAN + 1)}
    words = [w.lower() for w in _WORD.findall(asked.result.text)]
    for i in range(len(words) - _SPAN + 1):
        span = tuple(words[i : i + _SPAN])
        if span in persona.own_spans and span not in allowed_spans:
            return True
    return False


async def build_store(persona: Persona) -> None:
    async with open_retriever(persona.config) as retriever:
        ingestor = Ingestor(persona.config, retriever.store, retriever.embedder)
        async with ingestor:
            await ingestor.ingest(list(persona.config.sources))


async def ask(brain: Brain, text: str, conversation: str) -> tuple[ReplyResult, float, float]:
    start = time.perf_counter()
    first = None
    async with brain.respond(text, conversation) as reply:
        async for _sentence in reply:
            if first is None:
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    return reply.result, first if first is not None else total, total


def chosen(
    questions: list[dict[str, Any]], limit: int | None, per_kind: int | None
) -> list[dict[str, Any]]:
    """The first ``per_kind`` questions of each kind (in file order), at most ``limit``."""
    if per_kind is not None:
        seen: Counter[str] = Counter()
        picked = []
        for q in questions:
            seen[q["kind"]] += 1
            if seen[q["kind"]] <= per_kind or q["kind"] == "memory":
                picked.append(q)
        questions = picked
    return questions[:limit]


async def run_persona(
    persona: Persona, llm: LlamaCppLlm, limit: int | None, per_kind: int | None = None
) -> list[Asked]:
    config = BrainConfig(
        max_tokens=60,
        temperature=0.0,
        first_token_timeout=240,
        token_timeout=60,
        answer_timeout=300,
        home={"enabled": False},
    )
    out: list[Asked] = []
    async with (
        open_retriever(persona.config) as retriever,
        Brain(config, llm, retriever, persona_name=persona.config.name) as brain,
    ):
        previous = "warm-up"
        await ask(brain, "Hello!", previous)
        for index, q in enumerate(chosen(persona.questions, limit, per_kind)):
            conversation = previous if q["kind"] == "memory" else f"{persona.key}-{index}"
            result, first, total = await ask(brain, q["q"], conversation)
            out.append(Asked(q["q"], q["kind"], q.get("expect") or [], result, first, total))
            previous = conversation
            mark = (
                ("right " if right(result.text, q["expect"]) else "WRONG ")
                if q.get("expect")
                else ""
            )
            print(f"  [{q['kind']}] {mark}{q['q']} -> ({result.kind}) {result.text}", flush=True)
    return out


def summarise(persona: Persona, asked: list[Asked]) -> dict[str, str]:
    def rate(items: list[bool]) -> str:
        return f"{sum(items)}/{len(items)}" if items else "-"

    facts = [
        right(a.result.text, a.expect)
        for a in asked
        if a.kind in ("answerable", "near") and a.expect
    ]
    unanswerable = [
        a for a in asked if a.kind == "unanswerable" or (a.kind == "near" and not a.expect)
    ]
    invented = [a.result.kind == "answer" for a in unanswerable]
    second = [right(a.result.text, a.expect) for a in asked if a.kind == "second"]
    smalltalk = [a.result.kind == "smalltalk" for a in asked if a.kind == "smalltalk"]
    memory = [right(a.result.text, a.expect) for a in asked if a.kind == "memory"]
    spoken = [a for a in asked if a.result.text]
    first_person = [first_person_ok(persona, a.question, a.result.text) for a in spoken]
    habits = [has_habit(persona, a.result.text) for a in spoken]
    leaks = sum(leaked(persona, a) for a in spoken)
    own = grams(persona.own_text)
    styled = statistics.fmean(cosine(grams(a.result.text), own) for a in spoken)
    neutral = statistics.fmean(cosine(grams(a.result.plain or a.result.text), own) for a in spoken)
    llm_turns = [a for a in asked if a.kind not in ("smalltalk", "memory")]
    return {
        "facts": rate(facts),
        "invented": rate(invented),
        "second": rate(second),
        "smalltalk": rate(smalltalk + memory),
        "first_person": rate(first_person),
        "habits": rate(habits),
        "style": f"{styled:.3f} vs {neutral:.3f}",
        "leaked": str(leaks),
        "first_s": f"{statistics.median(a.first for a in llm_turns):.1f}" if llm_turns else "-",
        "total_s": f"{statistics.median(a.total for a in llm_turns):.1f}" if llm_turns else "-",
    }


def pct(cell: str) -> float | None:
    if "/" not in cell:
        return None
    a, b = cell.split("/")
    return int(a) / int(b) if int(b) else None


def total_row(rows: list[dict[str, str]], key: str) -> str:
    num = den = 0
    for row in rows:
        if "/" in row[key]:
            a, b = row[key].split("/")
            num, den = num + int(a), den + int(b)
    return f"{num}/{den} ({100 * num / den:.0f} %)" if den else "-"


async def main_async(args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        personas = []
        for key in args.personas:
            persona = load_persona(key, Path(tmp) / key / "persona.db", args.embedder)
            start = time.perf_counter()
            await build_store(persona)
            print(f"{key}: store built in {time.perf_counter() - start:.1f} s", flush=True)
            personas.append(persona)
        for model in args.models:
            rows: list[dict[str, str]] = []
            async with LlamaCppLlm(model, n_ctx=2048, n_threads=args.threads) as llm:
                for persona in personas:
                    print(f"== {model} / {persona.key}", flush=True)
                    asked = await run_persona(persona, llm, args.limit, args.per_kind)
                    row = summarise(persona, asked)
                    row["persona"], row["model"] = persona.key, model
                    rows.append(row)
                    print(row, flush=True)
            model_lines = []
            for row in rows:
                model_lines.append(
                    f"| {row['model']} | {row['persona']} | {row['facts']} | {row['invented']} | "
                    f"{row['second']} | {row['smalltalk']} | {row['first_person']} | "
                    f"{row['habits']} | {row['style']} | {row['leaked']} | {row['first_s']} / "
                    f"{row['total_s']} |"
                )
            model_lines.append(
                f"| **{model}** | **all** | {total_row(rows, 'facts')} | "
                f"{total_row(rows, 'invented')} | {total_row(rows, 'second')} | "
                f"{total_row(rows, 'smalltalk')} | {total_row(rows, 'first_person')} | "
                f"{total_row(rows, 'habits')} | | "
                f"{sum(int(r['leaked']) for r in rows)} | |"
            )
            print("\n".join(model_lines), flush=True)
            if not args.no_write:  # each model's rows as soon as they are measured
                write(model_lines, args.__class__(**{**vars(args), "models": [model]}))
            lines += model_lines
    return lines


def write(rows: list[str], args: argparse.Namespace) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    load = os.getloadavg()
    section = "\n".join(
        [
            SECTION,
            "",
            f"`python bench/persona_fidelity.py` on {platform.machine()}, {os.cpu_count()} "
            f"cores shared with other work (load average at the end {load[0]:.1f}), llama.cpp "
            f"{args.threads} threads, temperature 0, MiniLM embeddings. Four invented personas "
            "(bench/personas/README.md): Meena (Tamil-English, warm), Harold (formal, terse, "
            "writes to family in German), Rosa (the demo persona, Spanish-English), and "
            "Chennai, held out from the answering's tuning (the recall set's Meena: "
            "30 mails, bench/data/recall_set.json; Hindi-script questions left out, not her "
            "language). Each store "
            "is built fresh from her mails and notes; each question is a new conversation "
            "(the memory question follows the one before it). Rows of a model run with "
            "`--per-kind N` ask only the first N questions of each kind (a short run for the "
            "slower model on a busy machine).",
            "",
            "Columns: facts right (answerable and near-threshold questions), invented "
            "(unanswerable questions answered instead of declined), second-language questions "
            "right, small talk and memory answered without retrieval, answers in the first "
            "person, answers with one of her habits (listed by hand per persona), "
            "mean cosine similarity of each answer's character 2-4-gram profile (sublinear "
            "counts) to her own writing, vs. the same answers without her habits (neutral "
            "baseline), answers leaking 5+ words of her writing not in "
            "that question's passages, median seconds to the first sentence / to the end "
            "(LLM turns).",
            "",
            "| model | persona | facts | invented | 2nd language | small talk | first person "
            "| habits | style sim. (vs neutral) | leaked | latency (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Aims (both models): facts >= 90 %, invented <= 5 %, 0 leaked, first person >= 90 %, "
            "habits >= 50 %, second language >= 80 %.",
            "",
        ]
    )
    old = SECTION_PATTERN.search(path.read_text()) if path.exists() else None
    kept = []
    if old is not None:  # keep the rows of models not run this time
        kept = [
            line
            for line in old.group(0).splitlines()
            if line.startswith("| ")
            and not line.startswith("| model")
            and not any(f"| {m} |" in line or f"| **{m}** |" in line for m in args.models)
        ]
        section = section.replace(
            "|---|---|---|---|---|---|---|---|---|---|---|\n",
            "|---|---|---|---|---|---|---|---|---|---|---|\n"
            + "".join(f"{line}\n" for line in kept),
            1,
        )
    table = [line for line in section.splitlines() if line.startswith("| **")]
    replace_section(SECTION, section + "\n" + verdict(table) + "\n", path)


SECTION_PATTERN = re.compile(rf"(?:^|\n){re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.DOTALL)
AIMS = [  # column, label, share needed, at least (True) or at most (False)
    (2, "facts", 0.90, True),
    (3, "invented", 0.05, False),
    (4, "second language", 0.80, True),
    (6, "first person", 0.90, True),
    (7, "habits", 0.50, True),
]


def verdict(totals: list[str]) -> str:
    """Which aims each model's total row meets, from the table itself."""
    lines = ["Verdict (from the totals above):"]
    for row in totals:
        cells = [c.strip() for c in row.strip("|").split("|")]
        model = cells[0].strip("*")
        met, missed = [], []
        for column, label, share, at_least in AIMS:
            match = re.match(r"(\d+)/(\d+)", cells[column])
            if match is None or int(match.group(2)) == 0:
                continue
            value = int(match.group(1)) / int(match.group(2))
            ok = value >= share if at_least else value <= share
            (met if ok else missed).append(f"{label} {value:.0%}")
        leaked = cells[9] == "0"
        (met if leaked else missed).append(f"leaked {cells[9]}")
        shown = ", ".join(missed) or "none"
        lines.append(f"- {model}: met: {', '.join(met) or 'none'}; **not met**: {shown}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"],
    )
    parser.add_argument("--personas", nargs="+", default=list(PERSONAS), choices=list(PERSONAS))
    parser.add_argument("--limit", type=int, default=None, help="questions per persona")
    parser.add_argument(
        "--per-kind", type=int, default=None, help="only the first N questions of each kind"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--embedder",
        help="embedder.model for every persona (e.g. multilingual-e5-small); printed only",
    )
    args = parser.parse_args()
    if args.embedder and not args.no_write:
        parser.error("the table is for the default embedder: add --no-write")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
