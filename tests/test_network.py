"""The convolutional network a model of format 3 carries: numpy scoring, mixing, bad files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claimtag import CLAIM_TYPES
from claimtag.cli import main
from claimtag.learned import ModelError, load_model
from claimtag.network import MAX_TOKENS, load_network, network_words

from .test_learned import write_model

# Two-dimensional word vectors: "menace" is (1, 0), "not" is (0, 1), every other word 0.
WORDS = ["menace", "not"]


def network_arrays() -> dict[str, Any]:
    """A hand-made network: width 1 fires on "menace" (dimension 0); width 2 fires only on
    "not" followed by "menace" (dimension 1 at the first offset, 0 at the second, bias -1).
    Threat's logit is 8 x the first filter - 8 x the second - 4: "menace" alone 0.98,
    "not menace" 0.02, "menace not" 0.98."""
    embedding = np.zeros((len(WORDS) + 2, 2), dtype=np.float16)
    embedding[2] = (1, 0)
    embedding[3] = (0, 1)
    conv2 = np.zeros((1, 2, 2), dtype=np.float32)
    conv2[0, 1, 0] = 1.0  # "not" at the first offset
    conv2[0, 0, 1] = 1.0  # "menace" at the second
    out_weight = np.zeros((len(CLAIM_TYPES), 2), dtype=np.float32)
    out_weight[0] = (8.0, -8.0)
    return {
        "words": np.array(WORDS),
        "embedding": embedding,
        "widths": np.array([1, 2]),
        "conv1_weight": np.ones((1, 2, 1), dtype=np.float32) * np.array([[[1.0], [0.0]]]),
        "conv1_bias": np.zeros(1, dtype=np.float32),
        "conv2_weight": conv2,
        "conv2_bias": np.array([-1.0], dtype=np.float32),
        "out_weight": out_weight,
        "out_bias": np.array([-4.0, -4.0, -4.0], dtype=np.float32),
    }


def write_network(path: Path, **changes: Any) -> str:
    arrays = {**network_arrays(), **changes}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_with_network(
    tmp_path: Path, shares: list[float] | None = None, **changes: Any
) -> tuple[Path, str]:
    sha = write_network(tmp_path / "net.npz", **changes)
    meta = {
        "format": 3,
        "network": {"file": "net.npz", "sha256": sha, "shares": shares or [0.5, 1.0, 0.5]},
    }
    # n-grams: "menace" weighs 0 for every type, so each type's n-gram part is sigmoid(-5)
    path = write_model(tmp_path / "m.parquet", {"menace": (0.0, 0.0, 0.0)}, meta=meta)
    return path, sha


def sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("A menace.", sigmoid(4)),
        ("Not a menace.", sigmoid(4)),  # "not" does not stand right before "menace"
        ("It is not menace.", sigmoid(-4)),  # the width-2 filter sees the order
        ("Menace, not peace.", sigmoid(4)),
        ("Peace.", sigmoid(-4)),
        ("", sigmoid(-4)),
    ],
)
def test_network_scores_words_in_order(tmp_path: Path, text: str, threat: float) -> None:
    sha = write_network(tmp_path / "net.npz")
    net = load_network(tmp_path / "net.npz", sha, len(CLAIM_TYPES))
    got = net.probabilities([text])
    assert got.shape == (1, 3)
    assert got[0, 0] == pytest.approx(threat, abs=1e-6)
    assert got[0, 1] == pytest.approx(sigmoid(-4), abs=1e-6)


def test_network_batches_equal_one_by_one(tmp_path: Path) -> None:
    """Padding a batch to its longest sentence changes nothing (shorter sentences' padded
    positions are masked)."""
    sha = write_network(tmp_path / "net.npz", conv1_bias=np.array([0.5], dtype=np.float32))
    net = load_network(tmp_path / "net.npz", sha, len(CLAIM_TYPES))
    texts = ["Peace.", "It is not menace at all, said the minister of the interior.", "menace", ""]
    together = net.probabilities(texts)
    alone = np.vstack([net.probabilities([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-7)


def _reference(arrays: dict[str, Any], text: str) -> np.ndarray:
    """The network's probabilities for one text, computed the plain way: Conv1d with padding
    width - 1 on each side, ReLU, max over positions, linear layer, sigmoid."""
    index = {str(w): i + 2 for i, w in enumerate(arrays["words"])}
    x = arrays["embedding"].astype(np.float64)[
        [index.get(w, 1) for w in network_words(text)] or [1]
    ]
    pooled = []
    for w in arrays["widths"]:
        weight = arrays[f"conv{w}_weight"].astype(np.float64)  # (filters, dims, width)
        padded = np.vstack([np.zeros((w - 1, x.shape[1])), x, np.zeros((w - 1, x.shape[1]))])
        h = np.array(
            [
                np.einsum("fdw,wd->f", weight, padded[p : p + w]) + arrays[f"conv{w}_bias"]
                for p in range(len(x) + w - 1)
            ]
        )
        pooled.append(np.maximum(h, 0).max(axis=0))
    z = arrays["out_weight"].astype(np.float64) @ np.concatenate(pooled) + arrays["out_bias"]
    return np.asarray(1 / (1 + np.exp(-z)))


def test_network_scores_as_a_plain_convolution(tmp_path: Path) -> None:
    """Random weights, widths 1, 2 and 3: the scorer (which multiplies each vocabulary word
    by the convolutions once and gathers the products) gives what a plain convolution gives,
    on sentences of many lengths scored in one batch."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    filters = {1: 4, 2: 4, 3: 4}
    arrays: dict[str, Any] = {
        "words": np.array(words),
        "embedding": rng.normal(size=(len(words) + 2, 6)).astype(np.float16),
        "widths": np.array(list(filters)),
        "out_weight": rng.normal(size=(len(CLAIM_TYPES), sum(filters.values()))).astype(np.float32),
        "out_bias": rng.normal(size=len(CLAIM_TYPES)).astype(np.float32),
    }
    arrays["embedding"][0] = 0
    for w, f in filters.items():
        arrays[f"conv{w}_weight"] = rng.normal(size=(f, 6, w)).astype(np.float32)
        arrays[f"conv{w}_bias"] = rng.normal(size=f).astype(np.float32)
    np.savez(tmp_path / "net.npz", **arrays)
    sha = hashlib.sha256((tmp_path / "net.npz").read_bytes()).hexdigest()
    net = load_network(tmp_path / "net.npz", sha, len(CLAIM_TYPES))
    texts = [" ".join(rng.choice([*words, "unknown"], size=n)) for n in (1, 2, 3, 7, 40)] + [""]
    got = net.probabilities(texts)
    want = np.vstack([_reference(arrays, t) for t in texts])
    assert np.abs(got - want).max() < 1e-5


def test_network_words() -> None:
    assert network_words("U.S.-Japan pact") == ["u", ".", "s", ".", "-", "japan", "pact"]
    assert len(network_words("a " * 1000)) == MAX_TOKENS


def test_a_model_mixes_its_network_per_type(tmp_path: Path) -> None:
    path, _ = model_with_network(tmp_path, shares=[0.5, 1.0, 0.25])
    model = load_model(path)
    assert model.network is not None
    got = model.probabilities(["It is a menace."])[0]
    ngram = sigmoid(-5)
    assert got[0] == pytest.approx(0.5 * ngram + 0.5 * sigmoid(4), abs=1e-6)
    assert got[1] == pytest.approx(ngram, abs=1e-6)  # share 1: the n-grams alone
    assert got[2] == pytest.approx(0.25 * ngram + 0.75 * sigmoid(-4), abs=1e-6)
    assert np.allclose(model.ngram_probabilities(["It is a menace."])[0], ngram)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"embedding": np.zeros((3, 2), dtype=np.float16)}, "one row per word, plus two"),
        ({"embedding": np.ones((4, 2), dtype=np.float16)}, "row 0 (padding) must be 0"),
        ({"embedding": np.full((4, 2), "x")}, "embedding must be numbers"),
        ({"conv1_weight": np.full((1, 2, 1), "x")}, "conv1_weight must be numbers"),
        ({"conv2_bias": None}, "missing conv2_weight or conv2_bias"),
        ({"conv2_weight": np.zeros((1, 3, 2), dtype=np.float32)}, "(filters, dims, 2)"),
        ({"out_weight": np.zeros((3, 3), dtype=np.float32)}, "out_weight must be (3, 2)"),
        ({"out_bias": np.array([np.nan, 0, 0], dtype=np.float32)}, "finite numbers"),
        ({"words": np.array(["menace", "menace"])}, "distinct strings"),
        ({"widths": np.array([0])}, "positive whole numbers"),
        ({"words": None}, "missing array(s): words"),
    ],
)
def test_bad_network_files_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path, _ = model_with_network(tmp_path, **change)
    with pytest.raises(ModelError, match="invalid model") as info:
        load_model(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"file": "net.npz", "sha256": "0" * 64, "shares": [0.5, 1, 0.5]}, "its SHA-256 is"),
        ({"file": "gone.npz", "sha256": "0" * 64, "shares": [0.5, 1, 0.5]}, "gone.npz"),
        ({"file": "../net.npz", "sha256": "0" * 64, "shares": [0.5, 1, 0.5]}, "beside the model"),
        ({"file": "net.npz", "sha256": "0" * 64, "shares": [0.5, 1.5, 0.5]}, "shares must be"),
        ({"file": "net.npz", "sha256": "0" * 64, "shares": [0.5]}, "shares must be"),
    ],
)
def test_bad_network_references_are_refused(
    tmp_path: Path, network: dict[str, Any], message: str
) -> None:
    write_network(tmp_path / "net.npz")
    path = write_model(
        tmp_path / "m.parquet", {"menace": (0.0, 0.0, 0.0)}, meta={"network": network}
    )
    with pytest.raises(ModelError, match="invalid model") as info:
        load_model(path)
    assert message in str(info.value)


def test_a_network_needs_format_3(tmp_path: Path) -> None:
    sha = write_network(tmp_path / "net.npz")
    meta = {"format": 2, "network": {"file": "net.npz", "sha256": sha, "shares": [0.5] * 3}}
    path = write_model(tmp_path / "m.parquet", {"menace": (0.0, 0.0, 0.0)}, meta=meta)
    with pytest.raises(ModelError, match="a network needs model format 3"):
        load_model(path)


def test_cli_model_shows_the_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = model_with_network(tmp_path)
    assert main(["model", str(path)]) == 0
    out = capsys.readouterr().out
    assert "a convolutional network over 2 words (2 dimensions, widths 1, 2, 1 filters each)" in out
    assert "share threat 0.50, alliance 1.00, economic_leverage 0.50" in out
    assert main(["model", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["network"]
    assert info == {
        "words": 2,
        "dims": 2,
        "widths": [1, 2],
        "filters": 1,
        "shares": {"threat": 0.5, "alliance": 1.0, "economic_leverage": 0.5},
    }


def test_cli_refuses_a_model_whose_network_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = model_with_network(tmp_path)
    (tmp_path / "net.npz").unlink()
    assert main(["model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "net.npz" in err
    assert "Traceback" not in err
