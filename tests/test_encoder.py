"""The bundled model's encoder: BERT's tokeniser and a numpy forward pass, the model without
it (``--fast-model``), and what a broken encoder file or metadata gives."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from claimtag.encoder import WordPieces, basic_words
from claimtag.learned import (
    METADATA_KEY,
    ModelError,
    bundled_model,
    bundled_model_path,
    choose_model,
    load_model,
)

GOLDEN = Path(__file__).resolve().parent / "golden" / "word_pieces.jsonl"
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def model() -> Any:
    return bundled_model()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Moscow's troops.", ["moscow", "'", "s", "troops", "."]),
        ("Café NAÏVE", ["cafe", "naive"]),
        ("中文 ok", ["中", "文", "ok"]),
        ("a\x00b\tc\u00a0d", ["ab", "c", "d"]),
        ("U.S.-led", ["u", ".", "s", ".", "-", "led"]),
        ("", []),
    ],
)
def test_basic_words(text: str, words: list[str]) -> None:
    assert basic_words(text) == words


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:30] or "empty" for c in CASES])
def test_word_pieces_are_bert_tokenizers(model: Any, case: dict[str, Any]) -> None:
    """The ids Hugging Face's ``tokenizers`` gave for all-MiniLM-L6-v2's tokenizer.json
    (truncated at 128 pieces, no padding), kept in tests/golden/word_pieces.jsonl."""
    assert model.encoder.pieces.encode(case["text"]) == case["ids"]


def test_word_pieces_need_the_special_pieces() -> None:
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        WordPieces(["[PAD]", "[CLS]", "[SEP]", "a"], 16)


def test_probabilities_do_not_depend_on_the_batch(model: Any) -> None:
    texts = [c["text"] for c in CASES]
    together = model.encoder.probabilities(texts)
    alone = np.vstack([model.encoder.probabilities([t]) for t in texts])
    assert together.shape == (len(texts), len(model.types))
    assert np.allclose(together, alone, atol=1e-5)
    assert model.encoder.probabilities([]).shape == (0, len(model.types))


def test_encoder_moves_the_probabilities(model: Any) -> None:
    texts = ["Moscow has massed troops along the border.", "GDP grew 2% last year."]
    before = model.probabilities_before_encoder(texts)
    after = model.probabilities(texts)
    shares = model.encoder_shares
    assert np.allclose(after, shares * before + (1 - shares) * model.encoder.probabilities(texts))
    assert after[0, 0] > 0.5 > after[1, 0]


def test_the_model_without_its_encoder_is_the_one_before(model: Any) -> None:
    fast = model.without_encoder()
    assert fast.encoder is None
    assert fast.label != model.label
    assert fast.version == model.fast["version"]
    assert list(fast.thresholds) == model.fast["thresholds"]
    assert list(fast.vetoes) == model.fast["vetoes"]
    texts = [c["text"] for c in CASES]
    assert np.array_equal(fast.probabilities(texts), model.probabilities_before_encoder(texts))
    assert fast.without_encoder() is fast
    assert choose_model(fast=True).label == fast.label
    assert choose_model(fast=True, enabled=False) is None


def test_pickles_keep_the_encoder_or_its_absence(model: Any) -> None:
    assert pickle.loads(pickle.dumps(model)).label == model.label
    fast = pickle.loads(pickle.dumps(model.without_encoder()))
    assert fast.label == model.without_encoder().label
    assert fast.encoder is None


def _copy_model(tmp_path: Path, change: Any) -> Path:
    """The bundled model's files copied to ``tmp_path``, its metadata changed by ``change``."""
    source = bundled_model_path()
    for other in source.parent.glob("core-text.*.npz"):
        shutil.copy(other, tmp_path / other.name)
    table = pq.read_table(source)
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    change(meta)
    out = tmp_path / source.name
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: json.dumps(meta)}), out)
    return out


def _set(key: str, value: Any) -> Any:
    def change(meta: dict[str, Any]) -> None:
        meta["encoder"][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("sha256", "0" * 64), "SHA-256"),
        (_set("file", "missing.npz"), "No such file"),
        (_set("file", "../elsewhere.npz"), "must name a .npz file"),
        (_set("shares", [0.5, 2.0, 0.5]), "encoder shares"),
        (_set("without", {"version": "1.0"}), "encoder.without"),
        (lambda meta: meta.update(format=3), "needs model format 4"),
    ],
)
def test_broken_encoder_metadata_is_a_clear_error(
    tmp_path: Path, change: Any, message: str
) -> None:
    path = _copy_model(tmp_path, change)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_an_encoder_file_that_is_not_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    import hashlib

    def change(meta: dict[str, Any]) -> None:
        junk = tmp_path / "junk.npz"
        junk.write_bytes(b"not an archive")
        meta["encoder"].update(file=junk.name, sha256=hashlib.sha256(b"not an archive").hexdigest())

    with pytest.raises(ModelError, match="not a NumPy archive"):
        load_model(_copy_model(tmp_path, change))


def test_without_its_encoder_the_model_scores_as_it_did_before(model: Any) -> None:
    """The probabilities the model had before the encoder was added, which the file keeps
    for its check sentences (the n-gram part and network, as scored when they were made)."""
    table = pq.read_table(bundled_model_path())
    checks = json.loads(table.schema.metadata[METADATA_KEY])["checks"]
    got = model.without_encoder().probabilities(checks["texts"])
    assert np.abs(got - np.asarray(checks["before_encoder_probabilities"])).max() < 1e-4


@pytest.mark.parametrize("fast", [False, True])
def test_a_run_names_the_model_it_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: Any, fast: bool
) -> None:
    from claimtag.cli import main

    doc = tmp_path / "in" / "d.txt"
    doc.parent.mkdir()
    doc.write_text("Moscow has massed troops along the border.", encoding="utf-8")
    out = tmp_path / "out"
    extra = ["--fast-model"] if fast else []
    assert main(["run", str(doc.parent), "--out", str(out), "--no-prefect", *extra]) == 0
    capsys.readouterr()
    manifest = json.loads(next((out / "runs").glob("*.json")).read_text(encoding="utf-8"))
    label = model.without_encoder().label if fast else model.label
    assert manifest["versions"]["model"] == label


def test_fast_needs_the_levels_without_the_encoder(tmp_path: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        del meta["encoder"]["without"]

    path = _copy_model(tmp_path, change)
    assert load_model(path).encoder is not None
    with pytest.raises(ModelError, match="no levels without it"):
        choose_model(path, fast=True)
