"""scripts/glove_vectors.py: GloVe vectors read in both formats and put beside corpus ones."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from .conftest import load_script

GLOVE = {"treaty": [1.0, 2.0, 3.0], "pact": [3.0, 2.0, 1.0], "tariff": [0.0, -1.0, 2.0]}


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("glove_vectors")


def _write_glove(tmp_path: Path, kind: str) -> Path:
    if kind == "json":  # as the wink package stores it: two bookkeeping numbers after each
        path = tmp_path / "wink.json"
        vectors = {w: [*v, 9.9, i] for i, (w, v) in enumerate(GLOVE.items())}
        path.write_text(json.dumps({"dimensions": 3, "vectors": vectors}), encoding="utf-8")
    else:
        path = tmp_path / "glove.txt"
        path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in GLOVE.items()))
    return path


@pytest.mark.parametrize("kind", ["json", "text"])
def test_both_formats_read_the_same_vectors(script: ModuleType, tmp_path: Path, kind: str) -> None:
    read = script.read_glove(_write_glove(tmp_path, kind))
    assert sorted(read) == sorted(GLOVE)
    for word, vector in GLOVE.items():
        np.testing.assert_array_equal(read[word], np.array(vector, dtype=np.float32))


@pytest.mark.parametrize(
    ("corpus_dims", "words_out", "width"),
    [
        (2, ["treaty", "unseen", "pact"], 5),  # corpus dimensions, then GloVe's
        (0, ["treaty", "pact"], 3),  # GloVe alone, for the words it has
    ],
)
def test_combine_keeps_the_corpus_order_and_scales_glove(
    script: ModuleType, corpus_dims: int, words_out: list[str], width: int
) -> None:
    corpus = np.arange(12, dtype=np.float32).reshape(3, 4)
    glove = {w: np.array(v, dtype=np.float32) for w, v in GLOVE.items()}
    words, vectors = script.combine(["treaty", "unseen", "pact"], corpus, glove, corpus_dims)
    assert words == words_out
    assert vectors.shape == (len(words_out), width)
    if corpus_dims:
        np.testing.assert_array_equal(vectors[:, :corpus_dims], corpus[:, :corpus_dims])
        assert not vectors[1, corpus_dims:].any()  # GloVe lacks "unseen": zeros
    found = vectors[[words.index("treaty"), words.index("pact")], corpus_dims:]
    assert np.std(found) == pytest.approx(np.std(corpus))  # scaled to the corpus spread
    assert np.corrcoef(found[0], GLOVE["treaty"])[0, 1] == pytest.approx(1.0)


def test_vectors_with_none_of_the_words_are_refused(script: ModuleType) -> None:
    glove = {"zzz": np.ones(3, dtype=np.float32)}
    with pytest.raises(SystemExit, match="none of the corpus words"):
        script.combine(["treaty"], np.ones((1, 2), np.float32), glove, 2)


def test_a_ragged_text_file_is_refused(script: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "glove.txt"
    path.write_text("treaty 1 2 3\npact 1 2\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"glove\.txt:2: 2 numbers"):
        script.read_glove(path)


def test_main_writes_what_cnn_ensemble_reads(script: ModuleType, tmp_path: Path) -> None:
    corpus = tmp_path / "vectors.npz"
    np.savez(corpus, words=np.array(["pact", "zzz"]), vectors=np.ones((2, 4), np.float32))
    out = tmp_path / "out.npz"
    argv = ["--vectors", str(corpus), "--glove", str(_write_glove(tmp_path, "text"))]
    assert script.main([*argv, "--corpus-dims", "1", "--out", str(out)]) == 0
    z = np.load(out)
    assert list(z["words"]) == ["pact", "zzz"]
    assert z["vectors"].shape == (2, 4)
    with pytest.raises(SystemExit):
        script.main([*argv, "--corpus-dims", "5", "--out", str(out)])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.txt", None),
        ("bad.json", "{not json"),
        ("partial.json", '{"vectors": {}}'),  # no "dimensions"
        ("words.txt", "treaty one two\n"),  # not numbers
    ],
)
def test_an_unreadable_glove_file_is_a_message_not_a_traceback(
    script: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
) -> None:
    corpus = tmp_path / "vectors.npz"
    np.savez(corpus, words=np.array(["treaty"]), vectors=np.ones((1, 2), np.float32))
    glove = tmp_path / name
    if content is not None:
        glove.write_text(content, encoding="utf-8")
    argv = ["--vectors", str(corpus), "--glove", str(glove), "--corpus-dims", "1"]
    argv += ["--out", str(tmp_path / "o.npz")]
    with pytest.raises(SystemExit) as exit_info:
        script.main(argv)
    assert exit_info.value.code == 2
    assert f"cannot read {glove}" in capsys.readouterr().err
