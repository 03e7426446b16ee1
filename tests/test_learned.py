"""The learned layer: features, the model file, the numpy scorer, and the claims it adds."""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimtag import CLAIM_TYPES
from claimtag.classify import classify_document
from claimtag.cli import main
from claimtag.evaluate import evaluate, predict
from claimtag.learned import (
    FORMAT,
    METADATA_KEY,
    MIN_THRESHOLD,
    CharGrams,
    ModelError,
    TextModel,
    WordGrams,
    WordMeans,
    bundled_model,
    char_grams,
    features,
    load_model,
    tokens,
)
from claimtag.pipeline import RunContext
from claimtag.rules import compile_packs, default_rules, parse_pack
from claimtag.schemas import violations
from claimtag.segment import split_sentences
from claimtag.tagging import tag_text

ROOT = Path(__file__).resolve().parent.parent


def _train_module() -> Any:
    spec = importlib.util.spec_from_file_location("train_model", ROOT / "scripts/train_model.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_model", module)
    spec.loader.exec_module(module)
    return module


def write_model(
    path: Path,
    words: dict[str, tuple[float, float, float]],
    chars: dict[str, tuple[float, float, float]] | None = None,
    *,
    vectors: dict[str, tuple[float, float, float]] | None = None,
    intercepts: tuple[float, float, float] = (-5.0, -5.0, -5.0),
    thresholds: tuple[float, float, float] = (0.9, 0.9, 0.9),
    meta: dict[str, Any] | None = None,
) -> Path:
    """A hand-made model file: every idf 1, the given weights per claim type (``vectors``:
    the folded word-vector weights of block 2)."""
    chars = chars or {}
    vectors = vectors or {}
    grams = [*words, *chars, *vectors]
    weights = [*words.values(), *chars.values(), *vectors.values()]
    table = pa.table(
        {
            "block": pa.array([0] * len(words) + [1] * len(chars) + [2] * len(vectors), pa.int8()),
            "gram": pa.array(grams, pa.string()),
            "idf": pa.array([1.0] * len(grams), pa.float32()),
            **{
                f"w_{t}": pa.array([w[i] for w in weights], pa.float32())
                for i, t in enumerate(CLAIM_TYPES)
            },
        }
    )
    info = {
        "format": FORMAT,
        "name": "test",
        "version": "0.1.0",
        "types": list(CLAIM_TYPES),
        "intercepts": list(intercepts),
        "thresholds": list(thresholds),
        "training": {"split": "hand-made"},
    }
    info.update(meta or {})
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: json.dumps(info)}), path)
    return path


@pytest.fixture
def menace(tmp_path: Path) -> TextModel:
    """ "menace" weighs for threat, "pact" for alliance; nothing else counts."""
    return load_model(
        write_model(
            tmp_path / "menace.parquet",
            {"menace": (10.0, 0.0, 0.0), "pact": (0.0, 10.0, 0.0), "the": (-1.0, -1.0, -1.0)},
        )
    )


@pytest.mark.parametrize(
    ("text", "words", "some_chars"),
    [
        ("Nuclear weapons", ["nuclear", "weapons", "nuclear weapons"], [" n", "nu", "ons "]),
        ("U.S. sanctions", ["sanctions"], [" u.", "u.s.", "s. "]),
        ("a I x", [], [" a ", " i ", " x "]),
        ("Iran's oil", ["iran", "oil", "iran oil"], ["'s ", "an's"]),
        ("ÉTATS-UNIS", ["états", "unis", "états unis"], ["s-u"]),
        ("", [], []),
    ],
)
def test_features(text: str, words: list[str], some_chars: list[str]) -> None:
    got_words, got_chars = features(text)
    assert got_words == words
    for gram in some_chars:
        assert gram in got_chars


def test_char_grams_pad_each_word() -> None:
    assert char_grams("ab") == [" a", "ab", "b ", " ab", "ab ", " ab "]


def test_tokens_keep_spans_of_the_original_text() -> None:
    text = "  The İstanbul talks"
    for word, start, end in tokens(text):
        assert text[start:end].lower() == word


def test_scores_of_a_hand_made_model(menace: TextModel) -> None:
    probs = menace.probabilities(["A menace grows.", "A pact holds.", "Nothing here.", ""])
    # "menace" is the only known word of the first sentence: unit length, z = -5 + 10
    assert probs[0, 0] == pytest.approx(1 / (1 + np.exp(-5.0)))
    assert probs[1, 1] == pytest.approx(1 / (1 + np.exp(-5.0)))
    assert probs[2].tolist() == pytest.approx([1 / (1 + np.exp(5.0))] * 3)
    assert probs[3].tolist() == pytest.approx([1 / (1 + np.exp(5.0))] * 3)
    # two known words share the unit length: "the" pulls "menace" down
    both = menace.probabilities(["The menace"])[0, 0]
    assert both == pytest.approx(1 / (1 + np.exp(-(-5.0 + (10.0 - 1.0) / np.sqrt(2)))))


@pytest.mark.parametrize(
    ("text", "min_words", "z_threat"),
    [
        # the mean over all of a sentence's words: "siege" adds 6, "the" has no vector
        ("The siege", 1, -5.0 + 6.0 / 2),
        ("siege siege blockade", 1, -5.0 + (6.0 + 6.0 + 3.0) / 3),
        ("Nothing known here", 1, -5.0),
        ("", 1, -5.0),
        # n-gram and vector parts add up: "menace" alone is the word block's unit vector
        ("menace siege", 1, -5.0 + 10.0 + 6.0 / 2),
        # a sentence shorter than min_words is divided by min_words instead
        ("The siege", 4, -5.0 + 6.0 / 4),
        ("siege siege blockade", 2, -5.0 + (6.0 + 6.0 + 3.0) / 3),
        ("the siege of the port city", 4, -5.0 + 6.0 / 6),
    ],
)
def test_word_vector_weights_add_their_mean(
    tmp_path: Path, text: str, min_words: int, z_threat: float
) -> None:
    path = write_model(
        tmp_path / "vectors.parquet",
        {"menace": (10.0, 0.0, 0.0)},
        vectors={"siege": (6.0, 0.0, -2.0), "blockade": (3.0, 0.0, 4.0)},
        meta={"word_vector_min_words": min_words},
    )
    model = load_model(path)
    assert len(model.vectors) == 2
    assert model.probabilities([text])[0, 0] == pytest.approx(1 / (1 + np.exp(-z_threat)))


def test_a_format_1_model_loads_without_word_vectors(tmp_path: Path) -> None:
    """Models up to core-text@1.9.1 are format 1: n-grams only."""
    path = write_model(tmp_path / "old.parquet", {"menace": (10.0, 0.0, 0.0)}, meta={"format": 1})
    model = load_model(path)
    assert len(model.vectors) == 0
    assert model.probabilities(["siege menace"])[0, 0] == pytest.approx(1 / (1 + np.exp(-5.0)))


def test_batch_scores_equal_one_by_one(menace: TextModel) -> None:
    texts = ["A menace grows.", "The pact, the menace.", "Nothing.", "menace menace pact"]
    together = menace.probabilities(texts)
    alone = np.vstack([menace.probabilities([t]) for t in texts])
    assert np.allclose(together, alone)


def test_bundled_model_reproduces_the_training_probabilities() -> None:
    """scripts/train_model.py stored scikit-learn's probabilities for the pack's example
    sentences; the numpy scorer gives the same (weights are stored as float32)."""
    model = bundled_model()
    table = pq.read_table(model.source)
    checks = json.loads(table.schema.metadata[METADATA_KEY])["checks"]
    assert len(checks["texts"]) > 1000
    got = model.probabilities(checks["texts"])
    assert np.abs(got - np.asarray(checks["probabilities"])).max() < 1e-4
    if model.network is not None:  # format 3: the n-gram part alone is scikit-learn's too
        ngrams = model.ngram_probabilities(checks["texts"])
        assert np.abs(ngrams - np.asarray(checks["ngram_probabilities"])).max() < 1e-4


def test_bundled_model_records_its_training() -> None:
    model = bundled_model()
    assert model.label.startswith("core-text@")
    assert model.lineage["split"] == "development"
    heldout = (ROOT / "gold/splits-heldout.txt").read_text().split()
    assert not set(model.lineage["gold_files"]) & set(heldout)
    # a threshold of 1.0 means the model adds no claims of the type
    assert all(MIN_THRESHOLD <= t <= 1 for t in model.thresholds)
    assert any(t < 1 for t in model.thresholds)


def test_the_trainer_chooses_only_thresholds_a_model_may_carry() -> None:
    """Every threshold scripts/train_model.py may choose loads (0.4, for a model trained
    without class weights, once could not)."""
    train = _train_module()
    assert min(train.THRESHOLDS) >= MIN_THRESHOLD


@pytest.mark.parametrize(("threshold", "added"), [(0.4, {"threat"}), (0.6, set())])
def test_a_model_with_a_threshold_below_one_half_loads_and_adds(
    tmp_path: Path, threshold: float, added: set[str]
) -> None:
    """No rule fires on "menace"; the model gives threat 0.5 (intercept -4, weight 4)."""
    path = tmp_path / "low.parquet"
    write_model(
        path,
        {"menace": (4.0, 0.0, 0.0)},
        intercepts=(-4.0, -5.0, -5.0),
        thresholds=(threshold, 0.9, 0.9),
    )
    model = load_model(path)
    assert model.thresholds.tolist() == [threshold, 0.9, 0.9]
    assert predict(default_rules(), "A menace.", model=model).labels == added


def _scored(train: Any) -> Any:
    """Validation sentences where a veto helps threat (its low-probability rule claims are
    wrong) and hurts alliance (its low-probability rule claims are right); the model adds
    economic leverage where no rule fired."""
    gold: list[set[str]] = []
    ruled: list[frozenset[str]] = []
    probs: dict[str, list[float]] = {t: [] for t in CLAIM_TYPES}
    cases = [
        *[({"threat"}, {"threat"}, 0.9, "threat")] * 10,
        *[(set(), {"threat"}, 0.03, "threat")] * 5,
        *[({"alliance"}, {"alliance"}, 0.9, "alliance")] * 10,
        *[({"alliance"}, {"alliance"}, 0.03, "alliance")] * 5,
        *[({"economic_leverage"}, set(), 0.99, "economic_leverage")] * 5,
        *[(set(), set(), 0.0, "threat")] * 20,
    ]
    for labels, fired, p, t in cases:
        gold.append(labels)
        ruled.append(frozenset(fired))
        for u in CLAIM_TYPES:
            probs[u].append(p if u == t else 0.0)
    one = train.Scored(gold, ruled, {t: np.array(v) for t, v in probs.items()})
    return {"written": one, "corpus": one, "banded": one}


@pytest.mark.parametrize(
    ("per_type", "vetoes"),
    [(True, [0.05, 0.0, 0.0]), (False, [0.0, 0.0, 0.0])],
)
def test_levels_are_chosen_per_type(per_type: bool, vetoes: list[float]) -> None:
    """A type's F1 depends on its own levels alone: per type, threat gets the veto that
    removes its wrong rule claims and alliance none; one shared level must take neither."""
    train = _train_module()
    thresholds, got, chosen = train.choose_levels(_scored(train), per_type)
    assert got == vetoes
    assert thresholds[2] < 1.0  # the model adds the economic-leverage claims
    macro = chosen["macro_f1"]
    assert macro == pytest.approx(1.0 if per_type else (0.8 + 1.0 + 1.0) / 3, abs=1e-4)


#: whitespace str.split() splits on but " " is not, case changes that change length, one-
#: letter words, runs of spaces, characters outside the Basic Multilingual Plane
TRICKY = [
    "a\u3000b\x1cc\u2029d\x85e",
    "İSTANBUL ΟΔΟΣ ǅemal ß",
    "x  y\t\tz \n",
    "𝔘𝔑 council 😀 talks",
    "",
    "   ",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_training_features_equal_scoring_features(texts: list[str]) -> None:
    """The trainer's TF-IDF rows times the weights give the scorer's logits, on any text."""
    train = _train_module()
    corpus = [*texts, *TRICKY, "the menace of war", "a pact of allies", "oil embargo on the menace"]
    vectors = _vectors(train, corpus)
    vec = train.Vectoriser(corpus + corpus, vectors, 3.0, 5)  # every gram seen twice: min_df
    rng = np.random.default_rng(0)
    size = len(vec.words) + len(vec.chars)
    dims = vectors.vectors.shape[1]
    weights = rng.normal(size=(size + dims, 3))
    folded = 3.0 * vectors.vectors @ weights[size:]
    model = TextModel(
        name="prop",
        version="0.0.1",
        types=CLAIM_TYPES,
        intercepts=np.array([0.1, -0.2, 0.3]),
        thresholds=np.array([0.9, 0.9, 0.9]),
        vetoes=np.zeros(3),
        word_index=vec.index,
        char_index=vec.char_index,
        idf=vec.idf,
        weights=weights[:size],
        source="(memory)",
        lineage={},
        words=WordGrams(vec.index),
        chars=CharGrams(vec.char_index),
        vectors=WordMeans(vectors.words, folded, 5),
    )
    # the trainer's features (its TF-IDF rows, then the mean word vector) times the weights
    rows = vec.rows(corpus)
    ngrams = np.array(
        [[sum(v * weights[c, k] for c, v in r.items()) for k in range(3)] for r in rows]
    )
    dense = 3.0 * vectors.mean(corpus, 5) @ weights[size:]
    logits = ngrams + dense + model.intercepts
    assert np.allclose(model.probabilities(corpus), 1 / (1 + np.exp(-logits)))


def test_word_vectors_blank_out_every_gold_corpus_sentence() -> None:
    """scripts/word_vectors.py learns from the corpus text less every sentence of every gold
    file, held-out and validation included: no scored sentence shapes the vectors."""
    _train_module()  # puts scripts/ on the path
    from word_vectors import gold_spans

    spans = gold_spans(ROOT / "gold")
    refs = 0
    for path in sorted((ROOT / "gold").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ref = json.loads(line)
            if "doc_id" in ref:
                refs += 1
                assert (ref["start"], ref["end"]) in spans[(ref["corpus"], ref["doc_id"])], path
    assert refs > 15_000


def test_word_vectors_leave_in_keeps_only_the_named_gold_files(tmp_path: Path) -> None:
    """``--leave-in`` (to make a bundled model's vectors again) leaves exactly the named gold
    files' sentences in the text; a name with no gold file is refused."""
    _train_module()
    from word_vectors import gold_spans

    def ref(doc: str, start: int) -> str:
        return json.dumps({"corpus": "c", "doc_id": doc, "start": start, "end": start + 5})

    (tmp_path / "old.jsonl").write_text(ref("d1", 0) + "\n" + ref("d2", 7) + "\n")
    (tmp_path / "new.jsonl").write_text(ref("d1", 20) + "\n")
    (tmp_path / "written.jsonl").write_text(json.dumps({"id": "w", "text": "x"}) + "\n")
    every = gold_spans(tmp_path)
    assert every == {("c", "d1"): [(20, 25), (0, 5)], ("c", "d2"): [(7, 12)]}
    assert gold_spans(tmp_path, frozenset({"new"})) == {
        ("c", "d1"): [(0, 5)],
        ("c", "d2"): [(7, 12)],
    }
    with pytest.raises(ValueError, match="no gold file newer"):
        gold_spans(tmp_path, frozenset({"newer"}))


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_word_vectors_gold_as_of_leaves_in_the_files_made_after(tmp_path: Path) -> None:
    """``--gold-as-of REV`` leaves in exactly the gold files that revision REV did not have,
    committed later or not at all; an unknown revision is refused with a message."""
    _train_module()
    from word_vectors import gold_files_made_after

    gold = tmp_path / "gold"
    gold.mkdir()
    _git(tmp_path, "init", "-q")
    (gold / "old.jsonl").write_text("{}\n")
    (gold / "notes.md").write_text("x\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "old")
    then = _git(tmp_path, "rev-parse", "--short", "HEAD")
    (gold / "new.jsonl").write_text("{}\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "new")
    (gold / "newer.jsonl").write_text("{}\n")
    assert gold_files_made_after(then, gold) == {"new", "newer"}
    assert gold_files_made_after("HEAD", gold) == {"newer"}
    with pytest.raises(ValueError, match="git knows no revision nosuchrev"):
        gold_files_made_after("nosuchrev", gold)


def test_word_vectors_gold_as_of_the_bundled_revision() -> None:
    """The revision the bundled vectors were learned at (README) had none of the corpus gold
    files of rounds 42 on, and every development file."""
    _train_module()
    from word_vectors import gold_files_made_after

    try:
        after = gold_files_made_after("9ff44a2")
    except ValueError as e:  # a shallow clone lacks the revision
        pytest.skip(str(e))
    assert {"heldout42", "agreement_heldout42", "heldout43", "heldout46"} <= after
    assert not after & {"dev", "dev24", "active31", "validation35", "heldout41"}


def _vectors(train: Any, texts: list[str]) -> Any:
    """Random unit word vectors for some of the words of ``texts`` (4 dimensions)."""
    from word_vectors import WordVectors

    words = sorted({w for t in texts for w in features(t)[0] if " " not in w})[::2]
    rng = np.random.default_rng(1)
    v = rng.normal(size=(len(words), 4))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return WordVectors(words, v, {})


def test_model_pickles_as_its_file(menace: TextModel) -> None:
    again = pickle.loads(pickle.dumps(menace))
    assert again.source == menace.source
    assert np.array_equal(again.weights, menace.weights)


def test_bundled_model_pickles_as_the_workers_own_bundled_model() -> None:
    """A Dask worker may have claimtag installed at another path: it loads its own copy."""
    func, args = bundled_model().__reduce__()
    assert (func, args) == (bundled_model, ())
    assert len(pickle.dumps(bundled_model())) < 1000


# --- the claims it adds ---------------------------------------------------------------------


def _claims(text: str, model: TextModel | None) -> dict[str, Any]:
    pack = default_rules()
    found = classify_document(pack, text, split_sentences(text), model=model)
    return {c.claim_type: c for claims in found.values() for c in claims}


def test_learned_claim_where_no_rule_fired(menace: TextModel) -> None:
    text = "Heading\n\nWe see the menace in the east. It may be a menace."
    assert "threat" not in _claims(text, None)
    claim = _claims(text, menace)["threat"]
    assert claim.rule_ids == ["learned.threat"]
    assert [(m.text, text[m.start : m.end]) for m in claim.matches] == [("menace", "menace")]
    assert 0.9 <= claim.confidence <= 1


def test_learned_claims_carry_negation_and_hedging(menace: TextModel) -> None:
    claim = _claims("It is not a menace to us.", menace)["threat"]
    assert (claim.negated, claim.negation_cue) == (True, "not")
    claim = _claims("It may yet become a menace.", menace)["threat"]
    assert claim.hedged
    assert not claim.negated


def test_no_learned_claim_where_a_rule_of_the_type_fired(menace: TextModel) -> None:
    text = "The missile strike on the capital is a menace."
    rules_only = _claims(text, None)["threat"]
    assert not any(r.startswith("learned.") for r in rules_only.rule_ids)
    assert _claims(text, menace)["threat"] == rules_only


def test_no_learned_claim_below_the_threshold(tmp_path: Path) -> None:
    model = load_model(
        write_model(tmp_path / "m.parquet", {"menace": (10.0, 0, 0)}, thresholds=(0.999,) * 3)
    )
    assert _claims("A menace grows.", model) == {}


#: rules fire threat ("missile strike") and alliance ("mutual defence treaty") here
BOTH = "The missile strike came as the two states signed a mutual defence treaty."


@pytest.mark.parametrize(
    ("vetoes", "kept"),
    [
        (None, {"threat", "alliance"}),  # models before core-text@1.6.0 carry no vetoes
        ((0.0, 0.0, 0.0), {"threat", "alliance"}),
        ((0.1, 0.1, 0.1), {"threat"}),  # alliance p = 0.0067 < 0.1; threat p = 0.9933
        ((0.0, 0.005, 0.0), {"threat", "alliance"}),
        ((0.5, 0.5, 0.5), {"threat"}),
    ],
)
def test_model_vetoes_rule_claims_below_its_level(
    tmp_path: Path, vetoes: tuple[float, ...] | None, kept: set[str]
) -> None:
    meta = {} if vetoes is None else {"vetoes": list(vetoes)}
    model = load_model(write_model(tmp_path / "m.parquet", {}, intercepts=(5, -5, -5), meta=meta))
    assert set(_claims(BOTH, None)) == {"threat", "alliance"}
    claims = _claims(BOTH, model)
    assert set(claims) == kept
    assert all(not any(r.startswith("learned.") for r in c.rule_ids) for c in claims.values())
    assert predict(default_rules(), BOTH, model=model).labels == kept


#: only an alliance rule fires here
ALLIANCE_ONLY = "The two states signed a mutual defence treaty."


def test_a_run_drops_a_sentence_whose_every_rule_claim_is_vetoed(tmp_path: Path) -> None:
    meta = {"vetoes": [0.1, 0.1, 0.1]}  # every probability is 0.0067: no claim added either
    model = load_model(write_model(tmp_path / "m.parquet", {}, meta=meta))
    assert set(_claims(ALLIANCE_ONLY, None)) == {"alliance"}
    assert _claims(ALLIANCE_ONLY, model) == {}
    assert predict(default_rules(), ALLIANCE_ONLY, model=model).labels == frozenset()
    ctx = RunContext(run_id="t", rules=default_rules(), model=model)
    assert tag_text(ALLIANCE_ONLY, "d", ctx)["claims"] == []


def test_a_run_counts_the_rule_claims_the_model_vetoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The claims are not written, but the manifest and the summary say how many there were."""
    model = write_model(tmp_path / "m.parquet", {}, meta={"vetoes": [0.1, 0.1, 0.1]})
    doc = tmp_path / "in" / "d.txt"
    doc.parent.mkdir()
    doc.write_text(f"{BOTH} {ALLIANCE_ONLY} The weather was fine.", encoding="utf-8")
    for extra, claims, vetoed in (
        (["--no-model"], {"threat": 1, "alliance": 2}, {}),
        (["--model", str(model)], {}, {"threat": 1, "alliance": 2}),
    ):
        out = tmp_path / f"out{len(extra)}"
        args = ["run", str(doc.parent), "--out", str(out), "--no-prefect", *extra]
        assert main(args) == 0
        summary = capsys.readouterr().out
        manifest = json.loads(next((out / "runs").glob("*.json")).read_text(encoding="utf-8"))
        counts = manifest["counts"]
        assert {t: n for t, n in counts["claims_by_type"].items() if n} == claims
        assert {t: n for t, n in counts["claims_vetoed_by_type"].items() if n} == vetoed
        assert manifest["summary_table"]["claims_vetoed"] == sum(vetoed.values())
        said = f"{sum(vetoed.values())} rule claim(s) dropped by the learned model"
        assert (said in summary) == bool(vetoed)


def test_headings_get_no_learned_claims(menace: TextModel) -> None:
    assert _claims("The menace\n\nText.", menace) == {}


def test_learned_records_are_schema_valid_and_name_the_model(menace: TextModel) -> None:
    ctx = RunContext(run_id="t", rules=default_rules(), model=menace)
    out = tag_text("We see a menace. A pact was signed by the allies.", "d", ctx)
    assert out["labels"] == ["alliance", "threat"]
    for record in out["claims"]:
        assert violations("claim", record) == []
        assert record["rule_pack_version"] == f"{default_rules().version}+test@0.1.0"
    threat = next(r for r in out["claims"] if r["claim_type"] == "threat")
    assert threat["rule_ids"] == ["learned.threat"]
    assert threat["evidence"][0]["text"] == "menace"


def test_evaluate_scores_the_model_and_reports_it_as_rules(menace: TextModel) -> None:
    gold = [
        {"id": "1", "text": "A menace grows.", "labels": ["threat"]},
        {"id": "2", "text": "The weather is fine.", "labels": []},
    ]
    without = evaluate(default_rules(), gold)
    result = evaluate(default_rules(), gold, model=menace)
    assert without["rules"]["per_type"]["threat"]["tp"] == 0
    assert result["rules"]["per_type"]["threat"]["tp"] == 1
    assert result["model"] == "test@0.1.0"
    rows = {r["rule_id"]: r for r in result["rule_diagnostics"]}
    assert rows["learned.threat"]["hits"] == 1
    assert rows["learned.threat"]["precision"] == 1.0
    assert rows["learned.alliance"]["hits"] == 0


def test_predict_with_and_without_model(menace: TextModel) -> None:
    assert predict(default_rules(), "A menace grows.").labels == frozenset()
    assert predict(default_rules(), "A menace grows.", model=menace).labels == {"threat"}


def test_rule_packs_may_not_use_the_learned_prefix() -> None:
    text = """
name: mine
version: 0.1.0
rules:
  - id: learned.threat
    claim_type: threat
    weight: 0.5
    patterns: ['\\bmenace\\b']
    examples: {positive: ['a menace'], negative: ['a friend']}
"""
    from claimtag.errors import RulePackError

    with pytest.raises(RulePackError, match="name the learned model's claims"):
        compile_packs([parse_pack(text, "mine.yaml", use_cache=False)])


# --- bad model files ------------------------------------------------------------------------


def _bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.parquet"
    good = {"menace": (1.0, 0.0, 0.0)}
    if kind == "not parquet":
        path.write_text("hello")
    elif kind == "plain table":
        pq.write_table(pa.table({"a": [1]}), path)
    elif kind == "format":
        write_model(path, good, meta={"format": 99})
    elif kind == "vectors in format 1":
        write_model(path, good, vectors={"siege": (1.0, 0.0, 0.0)}, meta={"format": 1})
    elif kind == "min words":
        write_model(path, good, meta={"word_vector_min_words": 0})
    elif kind == "vector phrase":
        write_model(path, good, vectors={"the siege": (1.0, 0.0, 0.0)})
    elif kind == "vectors before characters":
        write_model(path, good, {"me": (1, 0, 0)}, vectors={"siege": (1.0, 0.0, 0.0)})
        table = pq.read_table(path)
        table = table.set_column(0, "block", pa.array([0, 2, 1], pa.int8()))
        pq.write_table(table, path)
    elif kind == "threshold":
        write_model(path, good, thresholds=(0.9, 1.5, 0.9))
    elif kind == "low threshold":
        write_model(path, good, thresholds=(0.9, 0.05, 0.9))
    elif kind == "veto":
        write_model(path, good, meta={"vetoes": [0.1, 0.7, 0.1]})
    elif kind == "types":
        write_model(path, good, meta={"types": ["threat", "weather", "alliance"]})
    elif kind == "name":
        write_model(path, good, meta={"name": "Bad Name"})
    elif kind == "duplicate":
        write_model(path, {"menace": (1.0, 0.0, 0.0)}, {"me": (1, 0, 0), "en": (1, 0, 0)})
        table = pq.read_table(path)
        grams = table.column("gram").to_pylist()
        grams[2] = "me"
        table = table.set_column(1, "gram", pa.array(grams))
        pq.write_table(table, path)
    elif kind == "nan":
        write_model(path, {"menace": (float("nan"), 0.0, 0.0)})
    elif kind == "missing column":
        write_model(path, good)
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["w_alliance"]), path)
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not parquet", "not a Parquet file"),
        ("plain table", "not a claimtag model"),
        ("format", "model format 99 is not one of 1, 2"),
        ("vectors in format 1", "word vector rows (block 2) need model format 2"),
        ("vector phrase", "word vector rows must be single lower-case words"),
        ("vectors before characters", "then word vector rows (block 2)"),
        ("min words", "word_vector_min_words must be a whole number from 1 to 1000"),
        ("threshold", "thresholds must be 3 number"),
        ("low threshold", "thresholds must be 3 number(s) in [0.1, 1.0]"),
        ("veto", "vetoes must be 3 number(s) in [0.0, 0.5]"),
        ("types", "types must be distinct claim types"),
        ("name", "name must be lower-case"),
        ("duplicate", "each n-gram or word once"),
        ("nan", "must be finite"),
        ("missing column", "missing column(s): w_alliance"),
    ],
)
def test_bad_model_files_are_refused(tmp_path: Path, kind: str, message: str) -> None:
    with pytest.raises(ModelError, match=re_escape(message)):
        load_model(_bad(tmp_path, kind))


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "missing.parquet"], "invalid model missing.parquet"),
        (["--model", "BAD"], "not a Parquet file"),
        (["--model", "m.parquet", "--no-model"], "--model and --no-model exclude each other"),
        (["--fast-model", "--no-model"], "--fast-model and --no-model exclude each other"),
    ],
)
def test_cli_refuses_bad_models_with_a_message(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "BAD").write_text("not a model")
    write_model(tmp_path / "m.parquet", {"menace": (1.0, 0, 0)})
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("A menace.\n"))
    assert main(["tag", "-", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_tag_with_a_model_and_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_model(tmp_path / "m.parquet", {"menace": (10.0, 0, 0)})
    for args, labels in ((["--model", str(path)], ["threat"]), (["--no-model"], [])):
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO("A menace grows.\n"))
        assert main(["tag", "-", *args]) == 0
        assert json.loads(capsys.readouterr().out)["labels"] == labels


def test_documents_scored_together_give_what_each_alone_gives(
    menace: TextModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run holds documents to score their sentences in one call; the records, document
    rows and their order are those of tagging each document on its own."""
    from claimtag import pipeline
    from claimtag.ingest import Outcome
    from claimtag.types import Document

    monkeypatch.setattr(pipeline, "SCORE_CHARS", 60)  # a flush every few documents
    ctx = RunContext(run_id="t", rules=default_rules(), model=menace)
    texts = [
        "A menace grows in the east.",
        "Heading\n\nThe pact holds. A menace remains.",
        "Nothing to see here at all.",
        "Troops massed on the border, a menace to the region.",
        "A pact was signed.",
    ]
    docs = [Document(f"d{i}", t, "test", f"{i:064x}") for i, t in enumerate(texts)]
    items: list[Document | Outcome] = [*docs[:2], Outcome("bad", "test", "failed", "x"), *docs[2:]]
    together = pipeline.process_items(items, ctx)
    alone = [pipeline.extract_records(d, ctx)[1] for d in docs]
    assert together.rejects == []
    assert together.claims == [r for records in alone for r in records]
    assert any(r["rule_ids"] == ["learned.threat"] for r in together.claims)
    assert [d["doc_id"] for d in together.documents] == ["d0", "d1", "bad", "d2", "d3", "d4"]


def test_many_sentences_are_scored_in_chunks_with_the_same_result(menace: TextModel) -> None:
    texts = [f"Sentence {i} names a menace." if i % 3 else f"A pact {i}." for i in range(5000)]
    assert np.array_equal(
        menace.probabilities(texts),
        np.vstack([menace.probabilities(texts[:1]), menace.probabilities(texts[1:])]),
    )


def test_cli_model_shows_the_bundled_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{bundled_model().label} (")
    assert "trained on the development split" in out
    assert main(["model", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["thresholds"] == dict(
        zip(CLAIM_TYPES, bundled_model().thresholds.tolist(), strict=True)
    )
    assert info["vetoes"] == dict(zip(CLAIM_TYPES, bundled_model().vetoes.tolist(), strict=True))
    assert info["training"]["labels_sha256"]


@pytest.mark.parametrize("kind", ["not parquet", "nan", "missing column"])
def test_cli_model_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    assert main(["model", str(_bad(tmp_path, kind))]) == 2
    err = capsys.readouterr().err
    assert "invalid model" in err
    assert "Traceback" not in err


def test_cli_model_of_a_hand_made_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_model(tmp_path / "m.parquet", {"menace": (1.0, 0, 0)}, thresholds=(0.9, 1.0, 0.8))
    assert main(["model", str(path)]) == 0
    out = capsys.readouterr().out
    assert "threat 0.90, alliance (never), economic_leverage 0.80" in out
    assert "1 word n-grams, 0 character n-grams\n" in out
    assert "drops a rule claim" not in out


def test_cli_model_shows_word_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_model(
        tmp_path / "m.parquet", {"menace": (1.0, 0, 0)}, vectors={"siege": (1.0, 0, 0)}
    )
    assert main(["model", str(path)]) == 0
    assert "1 word n-grams, 0 character n-grams, the mean vector of 1 words" in (
        capsys.readouterr().out
    )
    assert main(["model", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["features"]["word_vectors"] == 1


def test_cli_model_shows_vetoes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = {"vetoes": [0.05, 0.1, 0.0]}
    path = write_model(tmp_path / "m.parquet", {"menace": (1.0, 0, 0)}, meta=meta)
    assert main(["model", str(path)]) == 0
    out = capsys.readouterr().out
    assert "below threat 0.05, alliance 0.10, economic_leverage 0.00" in out


def test_prefect_dumps_a_run_context_without_copying_the_model() -> None:
    """Prefect serialises a flow's parameters with pydantic, which copies a dataclass field
    by field: the model must stay one object (pickled as a reference to its file), or every
    Dask task would carry all its arrays (24 MiB with the network)."""
    pydantic = pytest.importorskip("pydantic")
    from claimtag.pipeline import RunContext
    from claimtag.rules import default_rules

    ctx = RunContext(run_id="x", rules=default_rules(), model=bundled_model())
    dumped = pydantic.TypeAdapter(Any).dump_python({"ctx": ctx})
    assert dumped["ctx"]["model"] is ctx.model
    assert dumped["ctx"]["model"].network is ctx.model.network
    assert len(pickle.dumps(dumped)) < 2 * len(pickle.dumps(ctx))
