"""`python -m retrieval build|ask|add|remove|update|list`: the contract evaluators and scripts
rely on."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from retrieval.answer.assistant import (
    DEFAULT_RETRIEVER,
    Assistant,
    BadQuestion,
    validate_question,
)
from retrieval.corpus_cli import cluster, corpus_commands, fail
from retrieval.embedding.cluster_cli import cluster_flags
from retrieval.embedding.distributed import ClusterUnavailable
from retrieval.figures_cli import figures_command
from retrieval.indexing.build import FLAT_MAX, INDEX_TYPES, build
from retrieval.indexing.ivf import IVF_MIN, NPROBE
from retrieval.indexing.status import is_current
from retrieval.indexing.store import IndexUnusable
from retrieval.ingest.files import CorpusError
from retrieval.text.privacy import redact
from retrieval.types import Answer


def _print_answer(answer: Answer, out: TextIO) -> None:
    out.write(f"Spørgsmål: {answer.question}\n{answer.message}\n")
    label = "Svar" if answer.answered else "Måske relateret"
    for hit in answer.hits:
        p = hit.passage
        out.write(f"\n[{hit.rank}] {label} (score {hit.score:.3f}) – {p.citation}\n")
        out.write(f"    » {hit.highlight}\n")
        body = p.text.replace("\n", "\n      ")
        out.write(f"      {body}\n")
    out.write("\n")


def _questions(args: list[str], stdin: TextIO) -> Iterator[str]:
    """The questions, redacted: what is searched, echoed in the JSON and printed never holds a
    CPR number, phone number or e-mail address (SECURITY.md §2).

    '-' or nothing reads stdin, one question a line; unquoted words form one question, while
    several quoted questions (arguments with spaces) are answered one by one."""
    return map(redact, _typed(args, stdin))


def _typed(args: list[str], stdin: TextIO) -> Iterator[str]:
    if not args or args == ["-"]:
        for line in stdin:
            if line.strip():
                yield line.rstrip("\n")
    elif any(" " in a for a in args):
        yield from args
    else:
        yield " ".join(args)


def cmd_ask(ns: argparse.Namespace) -> int:
    if ns.question and ns.question != ["-"]:
        given = list(_questions(ns.question, sys.stdin))
        reasons = [_unusable(q) for q in given]
        if all(reasons):  # nothing to search: say so at once, without loading the model
            for question, reason in zip(given, reasons, strict=True):
                fail(reason, ns.json, question)
            return 1
    try:
        assistant = Assistant.load(ns.index, model=ns.model)
    except (IndexUnusable, CorpusError) as exc:
        return fail(str(exc), ns.json)
    if ns.compare:
        return _compare(assistant, ns)
    status = 0
    for question in _questions(ns.question, sys.stdin):
        try:
            answer = assistant.ask(question, k=ns.k, retriever=ns.retriever,
                                   municipality=ns.municipality, kind=ns.kind)
        except (BadQuestion, ValueError) as exc:
            status = 1
            fail(str(exc), ns.json, question)
            continue
        if ns.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer, sys.stdout)
            sys.stdout.flush()
    return status


def _compare(assistant: Assistant, ns: argparse.Namespace) -> int:
    """`ask --compare A,B,…`: each question once per town, one contract object per town."""
    from retrieval.answer.compare import compare, towns_in

    towns = towns_in(ns.compare)
    status = 0
    for question in _questions(ns.question, sys.stdin):
        try:
            columns = compare(assistant, question, towns, k=ns.k, retriever=ns.retriever,
                              kind=ns.kind)
        except (BadQuestion, ValueError) as exc:
            status = 1
            fail(str(exc), ns.json, question)
            continue
        for column in columns:
            if ns.json:
                print(json.dumps(column.to_json(), ensure_ascii=False), flush=True)
            else:
                sys.stdout.write(f"== {column.town} ==\n")
                _print_answer(column.answer, sys.stdout)
    return status


def _unusable(question: str) -> str:
    """Why a question cannot be searched, in Danish, or '' when it can."""
    try:
        validate_question(question)
    except BadQuestion as exc:
        return str(exc)
    return ""


def cmd_build(ns: argparse.Namespace) -> int:
    if ns.if_stale and is_current(ns.index, ns.corpus, ns.model):
        print(f"{ns.index}/ is up to date with {ns.corpus}/ and the model.", file=sys.stderr)
        return 0
    start = time.perf_counter()
    print(f"Building {ns.index}/ from {ns.corpus}/ …", file=sys.stderr)
    try:
        with cluster(ns) as embedder:
            manifest = build(ns.corpus, ns.index, ns.model, show_progress=not ns.quiet,
                             embedder=embedder, index_type=ns.index_type, nprobe=ns.nprobe)
    except (CorpusError, ClusterUnavailable) as exc:
        return fail(str(exc), False)
    print(
        f"Built {ns.index}/: {manifest['passages']} passages from {manifest['documents']} "
        f"documents, model {manifest['model']}, in {time.perf_counter() - start:.1f} s.",
        file=sys.stderr,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m retrieval", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="clean, chunk and embed corpus/ into index/")
    b.add_argument("--corpus", default="corpus")
    b.add_argument("--index", default="index")
    b.add_argument("--model", default=None, help="model folder or hub name (default: bundled e5)")
    b.add_argument("--if-stale", action="store_true", help="do nothing if index/ is current")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--index-type", choices=INDEX_TYPES, default=None,
                   help=f"FAISS index (default: by size; flat up to {FLAT_MAX:,} passages, IVF "
                        f"above {IVF_MIN:,}, HNSW between)")
    b.add_argument("--nprobe", type=_at_least_one, default=NPROBE,
                   help=f"IVF lists searched per query (default {NPROBE}; kept by updates)")
    cluster_flags(b)
    b.set_defaults(func=cmd_build)
    a = sub.add_parser("ask", help="answer questions with cited excerpts")
    a.add_argument("question", nargs="*", help="the question; '-' or none reads stdin")
    a.add_argument("--k", type=int, default=5, help="how many excerpts (default 5)")
    a.add_argument("--index", default="index")
    a.add_argument("--model", default=None)
    a.add_argument("--json", action="store_true", help="one JSON object per question per line")
    a.add_argument("--retriever", default=DEFAULT_RETRIEVER)
    a.add_argument("--municipality", default=None, help="only this municipality's documents")
    a.add_argument("--kind", default=None, help="only documents of this type (e.g. budget)")
    a.add_argument("--compare", default=None, metavar="A,B,…",
                   help="2-4 municipalities: the question answered once per town")
    a.set_defaults(func=cmd_ask)
    figures_command(sub)
    corpus_commands(sub)
    return ap


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def main(argv: Iterable[str] | None = None) -> int:
    ns = parser().parse_args(None if argv is None else list(argv))
    if getattr(ns, "k", 1) < 1:
        return fail(f"--k must be at least 1, got {ns.k}", getattr(ns, "json", False))
    return int(ns.func(ns))
