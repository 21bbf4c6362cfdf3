"""`python -m retrieval build|ask|prepare`: the contract evaluators and scripts rely on."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from retrieval.assistant import DEFAULT_RETRIEVER, Assistant, BadQuestion, build, is_current
from retrieval.corpus import CorpusError
from retrieval.index_store import IndexUnusable
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
    """'-' or nothing reads stdin, one question a line; unquoted words form one question,
    while several quoted questions (arguments with spaces) are answered one by one."""
    if not args or args == ["-"]:
        for line in stdin:
            if line.strip():
                yield line.rstrip("\n")
    elif any(" " in a for a in args):
        yield from args
    else:
        yield " ".join(args)


def cmd_ask(ns: argparse.Namespace) -> int:
    try:
        assistant = Assistant.load(ns.index, model=ns.model)
    except (IndexUnusable, CorpusError) as exc:
        return _fail(str(exc), ns.json)
    status = 0
    for question in _questions(ns.question, sys.stdin):
        try:
            answer = assistant.ask(question, k=ns.k, retriever=ns.retriever,
                                   municipality=ns.municipality)
        except (BadQuestion, ValueError) as exc:
            status = 1
            _fail(str(exc), ns.json, question)
            continue
        if ns.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer, sys.stdout)
            sys.stdout.flush()
    return status


def _fail(reason: str, as_json: bool, question: str | None = None) -> int:
    if as_json:
        record = {"error": reason} if question is None else {"question": question, "error": reason}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        print(f"error: {reason}", file=sys.stderr)
    return 1


def cmd_build(ns: argparse.Namespace) -> int:
    if ns.if_stale and is_current(ns.index, ns.corpus, ns.model):
        print(f"{ns.index}/ is up to date with {ns.corpus}/ and the model.", file=sys.stderr)
        return 0
    start = time.perf_counter()
    print(f"Building {ns.index}/ from {ns.corpus}/ …", file=sys.stderr)
    try:
        manifest = build(ns.corpus, ns.index, ns.model, show_progress=not ns.quiet)
    except CorpusError as exc:
        return _fail(str(exc), False)
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
    b.set_defaults(func=cmd_build)
    a = sub.add_parser("ask", help="answer questions with cited excerpts")
    a.add_argument("question", nargs="*", help="the question; '-' or none reads stdin")
    a.add_argument("--k", type=int, default=5, help="how many excerpts (default 5)")
    a.add_argument("--index", default="index")
    a.add_argument("--model", default=None)
    a.add_argument("--json", action="store_true", help="one JSON object per question per line")
    a.add_argument("--retriever", default=DEFAULT_RETRIEVER)
    a.add_argument("--municipality", default=None, help="only this municipality's documents")
    a.set_defaults(func=cmd_ask)
    return ap


def main(argv: Iterable[str] | None = None) -> int:
    ns = parser().parse_args(None if argv is None else list(argv))
    if getattr(ns, "k", 1) < 1:
        return _fail(f"--k must be at least 1, got {ns.k}", getattr(ns, "json", False))
    return int(ns.func(ns))
