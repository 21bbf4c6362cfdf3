"""`build --ray` (issue 17) on a real local Ray cluster: the real model in each worker, real FAISS.

Ray is in the `dev` extra, so `make test` has it: a missing Ray fails these tests (ImportError),
it never skips them. One local cluster serves the whole module (start-up is ~15-20 s here).
"""

from __future__ import annotations

import io
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evaluation.gold import load_gold
from retrieval.answer.assistant import Assistant
from retrieval.cli import main
from retrieval.embedding.distributed import CRASH_ENV, RayEmbedder, RayOptions
from retrieval.indexing.build import all_vectors, build, update
from retrieval.indexing.store import load_index, read_manifest
from tests.conftest import CORPUS, FIXTURE_CORPUS, ROOT

# The abstainer's threshold sits 1e-6 above the training unanswerable it is placed at (`fit`
# in retrieval/answer/abstain.py), so that question's decision turns on the last bit of a
# float: it is compared only when its score is further than this from the threshold.
BORDERLINE = 1e-5
SAME_MANIFEST = ("corpus_hash", "sources", "passages", "documents", "index_type", "model",
                 "dimension", "format_version", "skipped")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    import ray  # the dev extra installs it: missing, this fails

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, logging_level="WARNING")
    try:
        yield
    finally:
        ray.shutdown()


def assert_same_index(plain: Path, other: Path) -> None:
    """The same passages in the same order, vectors equal within float tolerance."""
    a, b = load_index(plain), load_index(other)
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert np.array_equal(a.keys, b.keys)
    assert np.allclose(all_vectors(a.id_map), all_vectors(b.id_map), atol=1e-5)
    for kind, rows in a.sentences.parts.items():
        theirs = b.sentences.parts[kind]
        assert np.array_equal(rows.starts, theirs.starts), kind
        assert np.allclose(np.asarray(rows.vectors, np.float32),
                           np.asarray(theirs.vectors, np.float32), atol=2e-3), kind
    ma, mb = read_manifest(plain), read_manifest(other)
    for m in (ma, mb):  # a copied corpus has other mtimes, recorded to skip re-hashing
        m["sources"] = {d: {k: v for k, v in r.items() if k != "stat"}
                        for d, r in m["sources"].items()}
    assert {k: ma.get(k) for k in SAME_MANIFEST} == {k: mb.get(k) for k in SAME_MANIFEST}
    assert set(ma["files"]) == set(mb["files"])


@pytest.mark.slow
def test_a_ray_build_answers_every_labelled_question_as_the_plain_build(
        full_index: Path, ray_cluster: None, tmp_path: Path) -> None:
    index = tmp_path / "index"
    log = io.StringIO()
    with RayEmbedder(options=RayOptions(workers=2), stream=log) as embedder:
        build(CORPUS, index, embedder=embedder)
        assert len({w["pid"] for w in embedder.workers}) == 2
        assert {w["code"] for w in embedder.workers} == {
            str(ROOT / "retrieval" / "__init__.py")}  # the workers ran this checkout
    assert_same_index(full_index, index)
    # Each stage ends with "done/total" at its total; passages count the index's passages.
    totals = dict((stage, int(n)) for n, stage in
                  re.findall(r"Ray: (\d+)/\1 (\w+) encoded", log.getvalue()))
    assert totals["passages"] == read_manifest(index)["passages"] > 32
    assert set(totals) == {"passages", "sentences", "windows"}
    assert "/s on 2 worker(s)" in log.getvalue()
    # What the dashboard's task view shows: one row per stage, every batch in it.
    import ray
    from ray.util.state import summarize_tasks

    ours = ray.get_runtime_context().gcs_address  # not whatever cluster `ray start` left behind
    rows = summarize_tasks(address=ours, raise_on_missing_output=False)["cluster"]["summary"]
    for stage, total in totals.items():
        batches = math.ceil(total / 32)  # sentence-transformers' batch size, one task each
        counts = rows[f"encode {stage} ({batches} batches)"]["state_counts"]
        assert sum(counts.values()) == batches, (stage, counts)

    plain = Assistant.load(full_index, corpus_dir=CORPUS)
    ray_built = Assistant.load(index, corpus_dir=CORPUS)
    for gold in load_gold():
        a, b = plain.ask(gold.question), ray_built.ask(gold.question)
        assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits], gold.id
        evidence = plain.evidence(gold.question)
        if evidence is None or abs(plain.abstainer.score(evidence)) > BORDERLINE:
            assert a.answered == b.answered and a.message == b.message, gold.id
        assert [h.highlight for h in a.hits] == [h.highlight for h in b.hits], gold.id
        for name in ("dense", "bm25", "hybrid"):
            ids_a = [h.passage.id for h in plain.retrievers[name].search(gold.question, 10)]
            ids_b = [h.passage.id for h in ray_built.retrievers[name].search(gold.question, 10)]
            assert ids_a == ids_b, (gold.id, name)


@pytest.mark.slow
def test_a_worker_killed_during_the_build_loses_and_duplicates_no_passage(
        mini_index: Path, ray_cluster: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On the small fixture corpus (the kill, not the size, is what is tested)."""
    flag = tmp_path / "crash-once"
    flag.touch()
    monkeypatch.setenv(CRASH_ENV, str(flag))  # the first worker to encode a batch dies
    index = tmp_path / "index"
    with RayEmbedder(options=RayOptions(workers=2), stream=io.StringIO()) as embedder:
        build(FIXTURE_CORPUS, index, embedder=embedder)
        started = {w["pid"] for w in embedder.workers}
    killed = [int(x) for x in Path(f"{flag}.killed").read_text().split()]
    assert not flag.exists() and len(killed) == 1 and killed[0] in started
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that worker process is really gone
    assert_same_index(mini_index, index)  # its batch was run again, once


@pytest.mark.slow
def test_update_with_ray_equals_a_plain_update(ray_cluster: None, tmp_path: Path) -> None:
    corpora = [tmp_path / "plain" / "corpus", tmp_path / "ray" / "corpus"]
    for corpus in corpora:
        shutil.copytree(FIXTURE_CORPUS, corpus)
        build(corpus, corpus.parent / "index", show_progress=False)
        doc = corpus / "oelund-plan.txt"
        doc.write_text(doc.read_text("utf-8") + "\nØlund opretter 20 nye botilbudspladser.\n",
                       "utf-8")
    report = update(corpora[0], corpora[0].parent / "index")
    assert report.changed == ("oelund-plan-2023-2026",)
    assert main(["update", "--ray", "--workers", "2", "--corpus", str(corpora[1]),
                 "--index", str(corpora[1].parent / "index")]) == 0
    assert_same_index(corpora[0].parent / "index", corpora[1].parent / "index")
    assert main(["update", "--ray", "--corpus", str(corpora[1]),  # nothing to do: no Ray
                 "--index", str(corpora[1].parent / "index")]) == 0


class Interrupted(Exception):
    pass


class InterruptWhileEncoding(io.StringIO):
    """The console of a driver stopped (Ctrl-C, a lost node) at its first progress line, a
    tenth of the way through the passages."""

    def write(self, text: str) -> int:
        if "passages encoded" in text:
            raise Interrupted(text)
        return super().write(text)


@pytest.mark.slow
def test_an_interrupted_ray_build_leaves_the_previous_index_loadable(
        ray_cluster: None, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build(FIXTURE_CORPUS, index, show_progress=False)
    before = read_manifest(index)
    with pytest.raises(Interrupted), RayEmbedder(
            options=RayOptions(workers=1), stream=InterruptWhileEncoding()) as embedder:
        build(CORPUS, index, embedder=embedder)
    assert load_index(index).manifest == before
    assert not list(tmp_path.glob(".index-tmp-*"))


def test_without_ray_the_build_says_which_extra_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without the extra
    assert main(["build", "--ray", "--index", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == ("error: --ray needs Ray, which is not installed: pip install -e "
                       "'.[cluster]' (the optional 'cluster' extra)")
    assert not (tmp_path / "index").exists()
    assert main(["build", "--address", "x:6379", "--index", str(tmp_path / "index")]) == 1
    assert "add --ray" in capsys.readouterr().err


def test_the_plain_build_and_the_app_code_never_import_ray() -> None:
    code = ("import sys, retrieval.cli, retrieval.indexing.build, ui.app_support; "
            "sys.exit('ray' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env).returncode == 0


def test_an_address_where_no_cluster_listens_is_refused_with_the_fix(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Ray itself retried 127.0.0.1:1 for over 5 minutes; the build checks the port first.
    assert main(["build", "--ray", "--address", "127.0.0.1:1",
                 "--index", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err
    assert "nothing answers at --address '127.0.0.1:1'" in err and "--address HOST:6379" in err
    assert not (tmp_path / "index").exists()


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running cluster to join, as `ray start --head` leaves one: its own token (token
    authentication on, as Ray 2.60 does when a token exists), 1 CPU, on a free port. Returns
    its address and the environment of a machine that holds its token.

    Stopped by ending its own `ray start --block` process (which stops the node it started),
    not by `ray stop`, which would stop every Ray cluster on the machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
               RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))  # the same code on every node
    log = tmp_path_factory.mktemp("ray-head") / "head.log"
    ray_cli = Path(sys.executable).with_name("ray")
    with log.open("wb") as out:
        head = subprocess.Popen(
            [str(ray_cli), "start", "--head", f"--port={port}", "--num-cpus=1",
             "--include-dashboard=false", "--disable-usage-stats", "--block"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text(errors="replace"):
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


@pytest.mark.slow
def test_a_build_joins_a_running_cluster_at_its_address(
        ray_head: tuple[str, dict[str, str]], mini_index: Path, tmp_path: Path) -> None:
    address, env = ray_head
    cmd = [sys.executable, "-m", "retrieval", "build", "--ray", "--address", address,
           "--corpus", str(FIXTURE_CORPUS)]
    run = subprocess.run([*cmd, "--index", str(tmp_path / "index")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    # One worker per CPU of the cluster joined: the head's one, not this machine's CPUs.
    assert "Ray: 1 worker(s) ready" in run.stderr, run.stderr
    assert_same_index(mini_index, tmp_path / "index")

    # Without the cluster's token, refused at once with the fix, and no index written.
    no_token = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    for auth, why in (({}, "it needs a token and RAY_AUTH_MODE is not set"),
                      ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "not-the-token"},
                       "the token this machine has is not the cluster's")):
        start = time.monotonic()
        run = subprocess.run([*cmd, "--index", str(tmp_path / "refused")], cwd=ROOT,
                             env={**no_token, **auth}, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 1
        assert run.stderr.splitlines()[-1] == (
            f"error: the Ray cluster at '{address}' refused this machine ({why}): set "
            "RAY_AUTH_MODE=token and the cluster's token in RAY_AUTH_TOKEN (or in a file named "
            "by RAY_AUTH_TOKEN_PATH); `ray get-auth-token` on the head prints it "
            "(docs/scaling.md)")
        assert time.monotonic() - start < 60  # Ray alone retries for ~20 s, then says less
        assert not (tmp_path / "refused").exists()
