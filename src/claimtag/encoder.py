"""A fine-tuned transformer encoder that a learned model may carry (format 4).

The n-gram model and the network (:mod:`claimtag.learned`, :mod:`claimtag.network`) read
words without their context. The encoder reads each word piece in the light of the whole
sentence: it is a BERT encoder (``all-MiniLM-L6-v2``'s shape: 6 layers of 384, 12 heads),
fine-tuned on the development split with a linear layer over the mean of its last layer's
states, one sigmoid output per claim type. A model of format 4 names the encoder's file in
its metadata and mixes it in: per type, ``share`` times the probability of the n-grams and
network plus ``1 - share`` times the encoder's.

It was fine-tuned with PyTorch (``scripts/minilm_finetune.py``); this module tokenises and
scores with the standard library and numpy alone. The file is a NumPy ``.npz`` archive, read
without pickles:

- ``vocab``: the word pieces, in id order (``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]`` among
  them; continuation pieces start with ``##``);
- ``config_keys`` and ``config``: the numbers of layers and heads, and the most word pieces
  a sentence is cut to (``[CLS]`` and ``[SEP]`` included);
- the encoder's weights under their PyTorch names (``embeddings.word_embeddings.weight``,
  ``encoder.layer.0.attention.self.query.weight``, ...) and the head's (``head.weight``,
  ``head.bias``), as float16.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from claimtag.errors import ClaimtagError
from claimtag.network import read_archive

#: Sentences scored per numpy pass, sorted by length so that padding stays small.
_BATCH = 32
#: A word longer than this (in characters) is one unknown piece, as BERT's tokeniser has it.
_MAX_WORD = 100
_LAYER_WEIGHTS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
_LAYER_NORMS = ("attention.output.LayerNorm", "output.LayerNorm")


class EncoderError(ClaimtagError):
    """An encoder file cannot be read or does not fit its model."""


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def basic_words(text: str) -> list[str]:
    """BERT's uncased basic tokenisation: control characters dropped, whitespace unified,
    CJK ideographs and punctuation split off as words of their own, lower-cased and
    stripped of accents."""
    out: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            out.append("".join(word))
            word.clear()

    for ch in text:
        cp = ord(ch)
        if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
            flush()
            continue
        if cp == 0 or cp == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        if _is_cjk(cp):
            flush()
            out.append(ch)
            continue
        for c in unicodedata.normalize("NFD", ch.lower()):
            if unicodedata.category(c) == "Mn":
                continue
            if _is_punctuation(c):
                flush()
                out.append(c)
            else:
                word.append(c)
    flush()
    return out


class WordPieces:
    """BERT's WordPiece tokeniser over a vocabulary: each word split greedily into the
    longest pieces the vocabulary has, continuations marked ``##``; a word that cannot be
    split, or is longer than 100 characters, is one ``[UNK]``."""

    __slots__ = ("_cache", "cls", "ids", "max_pieces", "sep", "unk")

    def __init__(self, vocab: Sequence[str], max_pieces: int) -> None:
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        missing = [t for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]") if t not in self.ids]
        if missing:
            raise ValueError(f"vocabulary without {', '.join(missing)}")
        if self.ids["[PAD]"] != 0:
            raise ValueError("[PAD] must be piece 0")
        self.unk, self.cls, self.sep = self.ids["[UNK]"], self.ids["[CLS]"], self.ids["[SEP]"]
        self.max_pieces = max_pieces
        self._cache: dict[str, list[int]] = {}

    def word(self, word: str) -> list[int]:
        """The piece ids of one basic word."""
        known = self._cache.get(word)
        if known is not None:
            return known
        if len(word) > _MAX_WORD:
            return [self.unk]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                pieces = [self.unk]
                break
            pieces.append(found)
            start = end
        if len(self._cache) < 200_000:
            self._cache[word] = pieces
        return pieces

    def encode(self, text: str) -> list[int]:
        """``[CLS]``, the text's pieces (cut to fit), ``[SEP]``."""
        pieces: list[int] = []
        room = self.max_pieces - 2
        for w in basic_words(text):
            pieces.extend(self.word(w))
            if len(pieces) >= room:
                break
        return [self.cls, *pieces[:room], self.sep]


def _layer_norm(x: Any, gain: Any, bias: Any) -> Any:
    x = x - x.mean(-1, keepdims=True)
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + np.float32(1e-12)) * gain + bias


def _erf(x: Any) -> Any:
    """The error function, from Numerical Recipes' rational approximation of erfc (relative
    error below 1.2e-7 everywhere), with numpy alone."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t
                            * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    return np.sign(x) * (1.0 - t * np.exp(poly))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


class Encoder:
    """A loaded encoder: tokeniser and weights as float32 numpy arrays (a plain class, not a
    dataclass, for the reason :class:`claimtag.learned.TextModel` gives)."""

    __slots__ = ("heads", "hidden", "layers", "pieces", "weights")

    def __init__(self, pieces: WordPieces, weights: dict[str, Any], layers: int, heads: int):
        self.pieces = pieces
        self.weights = weights
        self.layers = layers
        self.heads = heads
        self.hidden = int(weights["embeddings.word_embeddings.weight"].shape[1])

    def _forward(self, ids: Any, mask: Any) -> Any:
        """The head's logits for a batch of piece ids (n, length) and its mask."""
        w = self.weights
        n, length = ids.shape
        h, heads = self.hidden, self.heads
        size = h // heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        x = x.reshape(n * length, h)
        masked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(v: Any, name: str, p: str = p) -> Any:
                return v @ w[f"{p}{name}.weight.T"] + w[f"{p}{name}.bias"]

            def split(v: Any) -> Any:
                return v.reshape(n, length, heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query") * scale)
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            a = q @ k.transpose(0, 1, 3, 2) + masked
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(0, 2, 1, 3).reshape(n * length, h)
            x = _layer_norm(
                dense(c, "attention.output.dense") + x,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
            )
        m = mask[:, :, None]
        mean = (x.reshape(n, length, h) * m).sum(1) / m.sum(1)
        return mean @ w["head.weight.T"] + w["head.bias"]

    def probabilities(self, texts: Sequence[str]) -> Any:
        """P(type | sentence) for each text: a float64 array (len(texts), types)."""
        out = np.zeros((len(texts), int(self.weights["head.bias"].shape[0])))
        if not len(texts):
            return out
        encoded = [self.pieces.encode(t) for t in texts]
        order = np.argsort([len(e) for e in encoded], kind="stable")
        for start in range(0, len(order), _BATCH):
            part = order[start : start + _BATCH]
            length = max(len(encoded[i]) for i in part)
            ids = np.zeros((len(part), length), dtype=np.int64)
            mask = np.zeros((len(part), length), dtype=np.float32)
            for row, i in enumerate(part):
                ids[row, : len(encoded[i])] = encoded[i]
                mask[row, : len(encoded[i])] = 1.0
            logits = self._forward(ids, mask).astype(np.float64)
            out[part] = 1.0 / (1.0 + np.exp(-logits))
        return out


def load_encoder(path: Path, sha256: str, types: int) -> Encoder:
    """Read an encoder file, checking its SHA-256 and that its head has ``types`` outputs."""
    return _load(str(path), sha256, types)


@cache
def _load(path: str, sha256: str, types: int) -> Encoder:
    arrays = read_archive(Path(path), sha256, EncoderError, "encoder file")
    try:
        keys, values = arrays["config_keys"], arrays["config"]
        config = {str(k): int(v) for k, v in zip(keys, values, strict=True)}
        layers, heads, max_pieces = config["layers"], config["heads"], config["max_pieces"]
        vocab = [str(p) for p in arrays["vocab"]]
        weights: dict[str, Any] = {}
        names = [
            "embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight",
            "embeddings.LayerNorm.bias",
            "head.weight",
            "head.bias",
        ]
        for i in range(layers):
            for name in _LAYER_WEIGHTS:
                names += [f"encoder.layer.{i}.{name}.weight", f"encoder.layer.{i}.{name}.bias"]
            for name in _LAYER_NORMS:
                names += [f"encoder.layer.{i}.{name}.weight", f"encoder.layer.{i}.{name}.bias"]
        for name in names:
            value = arrays[name].astype(np.float32)
            if name.endswith(".weight") and value.ndim == 2 and "embeddings" not in name:
                weights[f"{name}.T"] = np.ascontiguousarray(value.T)
            else:
                weights[name] = value
        pieces = WordPieces(vocab, max_pieces)
    except (KeyError, ValueError, TypeError) as e:
        raise EncoderError(f"encoder {path}: incomplete ({e})") from e
    hidden = weights["embeddings.word_embeddings.weight"].shape
    if hidden[0] != len(vocab) or hidden[1] % heads:
        raise EncoderError(f"encoder {path}: embeddings do not fit the vocabulary and heads")
    if weights["head.bias"].shape != (types,):
        raise EncoderError(f"encoder {path}: {weights['head.bias'].shape[0]} outputs, not {types}")
    if max_pieces > weights["embeddings.position_embeddings.weight"].shape[0]:
        raise EncoderError(f"encoder {path}: more pieces than positions")
    return Encoder(pieces, weights, layers, heads)
