"""A convolutional network over word vectors that a learned model may carry (format 3).

The n-gram model (:mod:`claimtag.learned`) sees which words and word pairs a sentence has,
not their order. The network reads the words in order: each word (a run of word characters
or one other non-space character, lower-cased; at most :data:`MAX_TOKENS` of them) is a
vector; convolutions over one, two and three neighbouring words, each followed by a ReLU,
are max-pooled over the sentence, and a linear layer gives one logit per claim type. A
model of format 3 names the network's file in its metadata and mixes the two: per type,
``share`` times the n-gram model's probability plus ``1 - share`` times the network's.

It was trained with PyTorch (``scripts/cnn_ensemble.py``); this module scores with numpy
alone. The file is a NumPy ``.npz`` archive, read without pickles:

- ``words``: the vocabulary (row ``i + 2`` of ``embedding`` is ``words[i]``'s vector; row
  0 pads, row 1 is any word not in it);
- ``embedding``: float16 (vocabulary + 2, dims);
- ``widths``: the convolution widths, and per width ``w`` ``conv{w}_weight`` (filters, dims,
  w) and ``conv{w}_bias`` (filters), as PyTorch's ``Conv1d`` keeps them (padding ``w - 1``
  each side);
- ``out_weight`` (types, filters x widths) and ``out_bias`` (types).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from claimtag.errors import ClaimtagError

#: The words of a sentence the network reads, at most.
MAX_TOKENS = 150
_TOKEN = re.compile(r"\w+|[^\w\s]")
#: Sentences scored per numpy pass, sorted by length so that padding stays small.
_BATCH = 256


class NetworkError(ClaimtagError):
    """A network file cannot be read or does not fit its model."""


def network_words(text: str) -> list[str]:
    """The words the network reads in ``text``."""
    return _TOKEN.findall(text.lower())[:MAX_TOKENS]


class Network:
    """A loaded network: vocabulary index and weights as numpy arrays (a plain class, not a
    dataclass, for the reason :class:`claimtag.learned.TextModel` gives)."""

    __slots__ = (
        "_taps",
        "convs",
        "embedding",
        "index",
        "out_bias",
        "out_weight",
        "sha256",
        "source",
    )

    def __init__(
        self,
        *,
        index: dict[str, int],
        embedding: Any,  # float16 or float32 (vocabulary + 2, dims)
        convs: tuple[tuple[int, Any, Any], ...],  # (width, weight (width, dims, filters), bias)
        out_weight: Any,  # float32 (filters x widths, types)
        out_bias: Any,  # float32 (types,)
        source: str = "",
        sha256: str = "",
    ) -> None:
        self.index = index
        self.embedding = embedding
        self.convs = convs
        self.out_weight = out_weight
        self.out_bias = out_bias
        self.source = source
        self.sha256 = sha256
        self._taps: Any = None

    @property
    def dims(self) -> int:
        return int(self.embedding.shape[1])

    @property
    def types(self) -> int:
        return int(self.out_bias.shape[0])

    def __reduce__(self) -> tuple[Any, ...]:
        """Workers read the file again (once per process) instead of unpickling its arrays."""
        return (load_network, (Path(self.source), self.sha256, self.types))

    def probabilities(self, texts: Sequence[str]) -> Any:
        """P(type | sentence) for each text: a float64 array (len(texts), types)."""
        ids = [[self.index.get(w, 1) for w in network_words(t)] or [1] for t in texts]
        out = np.zeros((len(texts), self.types))
        order = np.argsort([len(s) for s in ids], kind="stable")
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            out[batch] = self._score([ids[i] for i in batch])
        return out

    def _tap_table(self) -> Any:
        """Every word's product with every convolution offset's matrix, computed once:
        float32 (vocabulary + 2, sum over widths of width x filters). Row 0 (padding) is 0.
        Scoring then gathers rows instead of multiplying each word's vector again."""
        if self._taps is None:
            vectors = self.embedding.astype(np.float32)
            self._taps = np.concatenate(
                [vectors @ weight[j] for width, weight, _ in self.convs for j in range(width)],
                axis=1,
            )
        return self._taps

    def _score(self, ids: list[list[int]]) -> Any:
        lengths = np.array([len(s) for s in ids])
        longest = int(lengths.max())
        x = np.zeros((len(ids), longest), dtype=np.int64)
        for i, s in enumerate(ids):
            x[i, : len(s)] = s
        products = self._tap_table()[x]  # (batch, longest, taps); padding rows are 0
        pooled = []
        column = 0
        for width, _, bias in self.convs:
            filters = len(bias)
            positions = longest + width - 1
            h = np.broadcast_to(bias, (len(ids), positions, filters)).copy()
            # output position p sees word p - (width - 1) + j through offset j (Conv1d with
            # padding width - 1 on each side)
            for j in range(width):
                h[:, width - 1 - j : width - 1 - j + longest] += products[
                    :, :, column : column + filters
                ]
                column += filters
            np.maximum(h, 0.0, out=h)
            # positions past a sentence's own end + width - 1 saw only padding of the batch
            h[np.arange(positions)[None, :] >= (lengths + width - 1)[:, None]] = 0.0
            pooled.append(h.max(axis=1))
        z = np.concatenate(pooled, axis=1) @ self.out_weight + self.out_bias
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))


def read_archive(path: Path, sha256: str, error: type[ClaimtagError], what: str) -> dict[str, Any]:
    """The arrays of the NumPy archive at ``path``, after checking its SHA-256; ``error``
    (its message starting with ``what`` and the path) if it cannot be read, is another file
    or is not an archive."""
    from claimtag.export import sha256_file

    try:
        found = sha256_file(path)
    except OSError as e:
        raise error(f"{what} {path}: {e.strerror or 'cannot be read'}") from e
    if found != sha256:
        raise error(f"{what} {path}: its SHA-256 is {found}, the model names {sha256}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise error(f"{what} {path}: not a NumPy archive ({e})") from e


def load_network(path: Path, sha256: str, types: int) -> Network:
    """Read a network file (see the module doc) whose SHA-256 must be ``sha256`` and whose
    outputs must be ``types``; :class:`NetworkError` if it is not one. A file is read once
    per process (per path, SHA-256 and size)."""
    try:
        stat = path.stat()
    except OSError as e:
        raise NetworkError(f"network file {path}: {e.strerror or 'cannot be read'}") from e
    return _load(str(path), sha256, types, stat.st_mtime_ns, stat.st_size)


@cache
def _load(source: str, sha256: str, types: int, mtime_ns: int, size: int) -> Network:
    path = Path(source)
    arrays = read_archive(path, sha256, NetworkError, "network file")
    problem = _check(arrays, types)
    if problem:
        raise NetworkError(f"network file {path}: {problem}")
    words = [str(w) for w in arrays["words"]]
    convs = tuple(
        (
            int(w),
            # (filters, dims, width) -> (width, dims, filters): one matrix per offset
            np.ascontiguousarray(arrays[f"conv{w}_weight"].astype(np.float32).transpose(2, 1, 0)),
            arrays[f"conv{w}_bias"].astype(np.float32),
        )
        for w in arrays["widths"]
    )
    return Network(
        index={w: i + 2 for i, w in enumerate(words)},
        embedding=arrays["embedding"],  # float16 as stored: scoring uses the products
        convs=convs,
        out_weight=np.ascontiguousarray(arrays["out_weight"].astype(np.float32).T),
        out_bias=arrays["out_bias"].astype(np.float32),
        source=source,
        sha256=sha256,
    )


def _check(arrays: dict[str, Any], types: int) -> str | None:
    """What is wrong with a network file's arrays, or None."""
    need = ["words", "embedding", "widths", "out_weight", "out_bias"]
    missing = [k for k in need if k not in arrays]
    if missing:
        return f"missing array(s): {', '.join(missing)}"
    words, embedding, widths = arrays["words"], arrays["embedding"], arrays["widths"]
    if words.ndim != 1 or words.dtype.kind != "U" or len(set(words.tolist())) != len(words):
        return "words must be distinct strings"
    if embedding.ndim != 2 or embedding.shape[0] != len(words) + 2 or embedding.shape[1] < 1:
        return "embedding must have one row per word, plus two"
    for name, value in arrays.items():
        if name not in ("words", "widths") and value.dtype.kind not in "fiu":
            return f"{name} must be numbers"
    if np.any(embedding[0] != 0):
        # batches are padded with row 0: any other value would make a sentence's score
        # depend on the sentences it is scored with
        return "embedding row 0 (padding) must be 0"
    if widths.ndim != 1 or not len(widths) or widths.dtype.kind not in "iu" or widths.min() < 1:
        return "widths must be positive whole numbers"
    filters = None
    for w in widths.tolist():
        weight, bias = arrays.get(f"conv{w}_weight"), arrays.get(f"conv{w}_bias")
        if weight is None or bias is None:
            return f"missing conv{w}_weight or conv{w}_bias"
        if weight.shape[1:] != (embedding.shape[1], w) or bias.shape != weight.shape[:1]:
            return f"conv{w}_weight must be (filters, dims, {w}) and conv{w}_bias (filters,)"
        if filters not in (None, weight.shape[0]):
            return "every width must have as many filters"
        filters = weight.shape[0]
    assert filters is not None
    if arrays["out_weight"].shape != (types, filters * len(widths)) or arrays["out_bias"].shape != (
        types,
    ):
        return f"out_weight must be ({types}, {filters * len(widths)}) and out_bias ({types},)"
    for name, value in arrays.items():
        if name != "words" and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            return f"{name} must be finite numbers"
    return None
