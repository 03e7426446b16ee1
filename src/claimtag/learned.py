"""A learned text classifier beside the rules: logistic regression over n-grams.

The rules say why a sentence carries a claim; their patterns miss phrasings nobody wrote a
rule for. The model reads the whole sentence: one logistic regression per claim type over
TF-IDF weights of its words, word pairs and character 2-5-grams. A claim of a type is
added where no rule of that type fired and the model's probability reaches its
threshold for the type. A model may also carry a veto level per type: a rule claim of a type
whose probability is below it is dropped (no veto when the level is 0, or absent, as in
models before ``core-text@1.6.0``). A learned claim's rule id is ``learned.<type>``; its
evidence is the words that weighed most for it; its confidence is the probability.

A model of format 2 also reads the sentence's words as word vectors learned from unlabelled
text (``scripts/word_vectors.py``): the mean of its words' vectors, scaled, is a second kind
of feature. The model is linear in that mean, so the file keeps no vectors, only the weight
each word's vector adds to each type (block 2 below): a sentence scores the sum of its words'
weights divided by its number of words (words without a vector count, adding nothing), or
by the model's ``min_words`` when the sentence is shorter, so that in a short sentence one
word's weight cannot outweigh the rest.

A model of format 3 also carries a convolutional network that reads the words in order
(:mod:`claimtag.network`), in a file beside it that its metadata names with the file's
SHA-256: per type, the model's probability is ``share`` times the n-gram part's plus
``1 - share`` times the network's (a share of 1 leaves the type to the n-grams).

A model of format 4 may also carry a fine-tuned transformer encoder (:mod:`claimtag.encoder`),
named the same way: per type, the model's probability is the encoder's ``share`` times the
probability of the n-grams and network plus ``1 - share`` times the encoder's.

The model is data, versioned beside the rule pack: a Parquet table with one row per
feature (``block``: 0 word n-gram, 1 character n-gram, 2 word vector; ``gram``; ``idf``,
1 for word vectors; one weight column per claim type) and, in the table's key-value
metadata under ``claimtag.model``, its name, version, intercepts, thresholds and how it was
trained. ``scripts/train_model.py`` writes
it (it needs scikit-learn); this module scores with numpy alone, through the same
:func:`features` the training used.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from claimtag import CLAIM_TYPES
from claimtag.encoder import Encoder, EncoderError, load_encoder
from claimtag.errors import ClaimtagError
from claimtag.network import Network, NetworkError, load_network
from claimtag.rules import RESERVED_PREFIX as LEARNED_PREFIX

METADATA_KEY = b"claimtag.model"
#: The newest model format: 2 adds word-vector rows (block 2), 3 a network file beside the
#: model, 4 an encoder file beside it; files of the older formats still load.
FORMAT = 4
FORMATS = (1, 2, 3, 4)
BUNDLED = "core-text.parquet"
#: How many of the words that weighed most for a learned claim are kept as its evidence.
EVIDENCE_WORDS = 3

_TOKEN = re.compile(r"\b\w\w+\b")
_CHAR_N = (2, 3, 4, 5)
#: The lowest threshold for adding claims a model may carry. Models trained without class
#: weights follow the base rates (a type is in about one sentence in six), so their best
#: thresholds can lie below 0.5; scripts/train_model.py tries 0.4 and up.
MIN_THRESHOLD = 0.1
#: Sentences scored per numpy pass (a few hundred kB of text).
_CHUNK = 2048


class ModelError(ClaimtagError):
    """A model file cannot be read or is not a claimtag model."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        super().__init__(f"invalid model {source}: {reason}")


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` (two or more word characters), lower-cased, with their spans;
    [] when lower-casing changes where words start and end (a few scripts), so that spans
    are never wrong."""
    found = [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if [w for w, _, _ in found] != _TOKEN.findall(text.lower()):
        return []
    return found


def word_grams(words: Sequence[str]) -> list[str]:
    """Words and pairs of adjacent words ("nuclear", "nuclear weapons")."""
    out = list(words)
    out.extend(f"{a} {b}" for a, b in itertools.pairwise(words))
    return out


def char_grams(text: str) -> list[str]:
    """Character 2-5-grams of each whitespace-separated word, lower-cased and padded by a
    space each side."""
    out: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        size = len(padded)
        for n in _CHAR_N:
            if n > size:
                break
            out.extend([padded[i : i + n] for i in range(size - n + 1)])
    return out


def features(text: str) -> tuple[list[str], list[str]]:
    """The word n-grams and character n-grams of ``text``, as training and scoring see them.

    Words are runs of two or more word characters of the lower-cased text.
    """
    return word_grams(_TOKEN.findall(text.lower())), char_grams(text)


def learned_rule_id(claim_type: str) -> str:
    return f"{LEARNED_PREFIX}{claim_type}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A word or word pair that weighed for a learned claim: ``sentence[start:end]``."""

    start: int
    end: int
    text: str
    weight: float


#: Code points that ``str.split()`` splits on (``str.isspace``); the last is U+3000.
_SPACES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.int64)
_MAX_ALPHABET = 4095  # 12 bits a character: five characters and the length in 63 bits


class CharGrams:
    """Finds the character n-grams of a vocabulary in many texts at once, with numpy.

    Each character of the vocabulary gets a small number (space 1, characters the
    vocabulary does not hold 0), so an n-gram of up to five characters packs exactly into
    one 64-bit key: 12 bits a character plus its length. The texts are joined by spaces;
    every window of 2-5 characters gets its key, and a hash index of the vocabulary's keys
    says which windows are features. A window that crosses a word boundary has a space
    inside and matches nothing, so the hits are exactly :func:`char_grams`' n-grams that
    the vocabulary holds, without a Python loop over the characters.
    """

    __slots__ = ("_bits", "_codes", "_columns", "_index")

    def __init__(self, grams: dict[str, int]) -> None:
        alphabet = sorted({ch for g in grams for ch in g} - {" "})
        if len(alphabet) > _MAX_ALPHABET:
            raise ValueError(f"{len(alphabet)} distinct characters (at most {_MAX_ALPHABET})")
        if any(not 1 <= len(g) <= 5 for g in grams):
            raise ValueError("character n-grams must be 1 to 5 characters long")
        self._bits = max(1, (len(alphabet) + 1).bit_length())
        codes = np.zeros(0x110000, dtype=np.uint16)
        codes[_SPACES] = 1
        codes[[ord(c) for c in alphabet]] = np.arange(2, len(alphabet) + 2, dtype=np.uint16)
        self._codes = codes
        keys = np.array([self._key(g) for g in grams], dtype=np.uint64)
        self._index = pd.Index(keys)
        self._columns = np.fromiter(grams.values(), dtype=np.int64, count=len(grams))

    def _key(self, gram: str) -> int:
        key = 0
        for ch in gram:
            key = (key << self._bits) | int(self._codes[ord(ch)])
        return key | (len(gram) << 60)

    def find(self, lowered: Sequence[str]) -> tuple[Any, Any]:
        """(row, column) of every vocabulary n-gram found in each of the ``lowered`` texts."""
        joined = " " + " ".join(lowered) + " "
        ids: Any = self._codes[np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)]
        ids = ids.astype(np.uint64)
        # the text of each window's start: text r owns the space before it and its characters
        row_of = np.repeat(
            np.arange(len(lowered), dtype=np.int64),
            np.fromiter((len(t) + 1 for t in lowered), dtype=np.int64, count=len(lowered)),
        )
        keys, starts = [], []
        key: Any = ids
        size = len(ids)
        for n in range(2, max(_CHAR_N) + 1):  # the windows of n characters
            key = (key[: size - n + 1] << self._bits) | ids[n - 1 :]
            keys.append(key | (n << 60))
            starts.append(np.arange(size - n + 1, dtype=np.int64))
        if not keys:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found = self._index.get_indexer(np.concatenate(keys))  # one lookup for all n
        at = np.flatnonzero(found >= 0)
        return row_of[np.concatenate(starts)[at]], self._columns[found[at]]


class WordGrams:
    """Finds the words and word pairs of a vocabulary in many texts at once.

    Words are looked up one by one (a dict); a pair is in the vocabulary only if both its
    words are (a pair cannot be more frequent than its words, and both are kept by the same
    document-frequency cut), so pairs are looked up with numpy as the two words' columns.
    """

    __slots__ = ("_pair_columns", "_pairs", "_size", "_words")

    def __init__(self, grams: dict[str, int]) -> None:
        self._words = {g: i for g, i in grams.items() if " " not in g}
        self._size = max(self._words.values(), default=0) + 1
        keys, columns = [], []
        for g, i in grams.items():
            if " " in g:
                a, _, b = g.partition(" ")
                if a not in self._words or b not in self._words or " " in b:
                    raise ValueError(f"word pair {g!r} without both its words")
                keys.append(self._words[a] * self._size + self._words[b])
                columns.append(i)
        self._pairs = pd.Index(np.array(keys, dtype=np.int64))
        self._pair_columns = np.array(columns, dtype=np.int64)

    def find(self, found: Sequence[Sequence[str]]) -> tuple[Any, Any]:
        """(row, column) of every vocabulary word and word pair in each text's words
        (``found``: the words of each text, as ``_TOKEN`` finds them in the lower-cased text)."""
        get = self._words.get
        ids = np.fromiter(
            (get(w, -1) for words in found for w in words),
            dtype=np.int64,
            count=sum(len(words) for words in found),
        )
        row = np.repeat(
            np.arange(len(found), dtype=np.int64),
            np.fromiter((len(w) for w in found), dtype=np.int64, count=len(found)),
        )
        known = ids >= 0
        rows, cols = [row[known]], [ids[known]]
        pair = known[:-1] & known[1:] & (row[:-1] == row[1:])
        if pair.any():
            at = np.flatnonzero(pair)
            hit = self._pairs.get_indexer(ids[at] * self._size + ids[at + 1])
            rows.append(row[at[hit >= 0]])
            cols.append(self._pair_columns[hit[hit >= 0]])
        return np.concatenate(rows), np.concatenate(cols)


class WordMeans:
    """Scores the word-vector part of a model: per text, the sum over its words of each
    word's weight per type (a word without one adds 0), divided by the number of words or
    by ``min_words`` if that is more."""

    __slots__ = ("_index", "_min_words", "_weights")

    def __init__(self, words: Sequence[str], weights: Any, min_words: int = 1) -> None:
        """``weights``: (len(words), types), each word's weight per type."""
        self._index = {w: i for i, w in enumerate(words)}
        self._weights = np.asarray(weights, dtype=np.float64)
        self._min_words = max(1, int(min_words))

    def __len__(self) -> int:
        return len(self._index)

    def scores(self, found: Sequence[Sequence[str]], types: int) -> Any:
        """(len(found), types): each text's mean word weight per type; 0 for a text with no
        words or when there are no word vectors."""
        out = np.zeros((len(found), types))
        if not self._index:
            return out
        get = self._index.get
        sizes = np.fromiter((len(w) for w in found), dtype=np.int64, count=len(found))
        ids = np.fromiter(
            (get(w, -1) for words in found for w in words), dtype=np.int64, count=int(sizes.sum())
        )
        row = np.repeat(np.arange(len(found), dtype=np.int64), sizes)
        known = ids >= 0
        row, ids = row[known], ids[known]
        divisor = np.maximum(sizes, self._min_words).astype(np.float64)
        for t in range(types):
            total = np.bincount(row, weights=self._weights[ids, t], minlength=len(found))
            out[:, t] = total / divisor
        return out


class TextModel:
    """A loaded model: feature index, idf and weights as numpy arrays.

    A plain class, not a dataclass: Prefect dumps a flow's parameters with pydantic, which
    copies a dataclass's fields (here, every array) instead of pickling the object, whose
    :meth:`__reduce__` names its file.
    """

    __slots__ = (
        "char_index",
        "chars",
        "encoder",
        "encoder_shares",
        "fast",
        "idf",
        "intercepts",
        "lineage",
        "name",
        "network",
        "shares",
        "source",
        "thresholds",
        "types",
        "vectors",
        "version",
        "vetoes",
        "weights",
        "word_index",
        "words",
    )

    def __init__(
        self,
        *,
        name: str,
        version: str,
        types: tuple[str, ...],
        intercepts: Any,  # float64 (types,)
        thresholds: Any,  # float64 (types,)
        vetoes: Any,  # float64 (types,): a rule claim below its type's level is dropped
        word_index: dict[str, int],
        char_index: dict[str, int],
        idf: Any,  # float64 (features,): word features first, then character features
        weights: Any,  # float64 (features, types)
        source: str,
        lineage: dict[str, Any],
        words: WordGrams,
        chars: CharGrams,
        vectors: WordMeans,
        network: Network | None = None,
        shares: Any = None,  # float64 (types,): the n-gram part's share of each type
        encoder: Encoder | None = None,
        encoder_shares: Any = None,  # float64 (types,): the share of all but the encoder
        fast: dict[str, Any] | None = None,  # the model without its encoder: version, levels
    ) -> None:
        self.name = name
        self.version = version
        self.types = types
        self.intercepts = intercepts
        self.thresholds = thresholds
        self.vetoes = vetoes
        self.word_index = word_index
        self.char_index = char_index
        self.idf = idf
        self.weights = weights
        self.source = source
        self.lineage = lineage
        self.words = words
        self.chars = chars
        self.vectors = vectors
        self.network = network
        self.shares = shares
        self.encoder = encoder
        self.encoder_shares = encoder_shares
        self.fast = fast

    @property
    def label(self) -> str:
        """``name@version``, as it appears in a record's ``rule_pack_version``."""
        return f"{self.name}@{self.version}"

    def __reduce__(self) -> tuple[Any, ...]:
        """Workers read the file again instead of unpickling 80,000 features: the bundled
        model from their own installation (its path may differ there), another model from
        its path (which workers must see, as they see the run's input files)."""
        if self.fast is not None and self.fast.get("derived"):
            return (_without_encoder_of, (self.fast["of"],))
        if Path(self.source) == bundled_model_path():
            return (bundled_model, ())
        return (load_model, (self.source,))

    def without_encoder(self) -> TextModel:
        """The model without its encoder, at the version and levels it had before the
        encoder was added (about ninety times faster); the model itself when it has none."""
        if self.encoder is None or self.fast is None or self.fast.get("derived"):
            return self
        bundled = Path(self.source) == bundled_model_path()
        return TextModel(
            name=self.name,
            version=self.fast["version"],
            types=self.types,
            intercepts=self.intercepts,
            thresholds=np.asarray(self.fast["thresholds"], dtype=np.float64),
            vetoes=np.asarray(self.fast["vetoes"], dtype=np.float64),
            word_index=self.word_index,
            char_index=self.char_index,
            idf=self.idf,
            weights=self.weights,
            source=self.source,
            lineage=self.lineage,
            words=self.words,
            chars=self.chars,
            vectors=self.vectors,
            network=self.network,
            shares=self.shares,
            fast={**self.fast, "derived": True, "of": None if bundled else self.source},
        )

    # --- scoring ------------------------------------------------------------------------

    def probabilities(self, texts: Sequence[str]) -> Any:
        """P(type | sentence) for each text: a float64 array (len(texts), len(types)); with a
        network, each type's mix of the n-gram part and the network; with an encoder, that
        mixed with the encoder's."""
        before = self.probabilities_before_encoder(texts)
        if self.encoder is None or not len(texts):
            return before
        shares = self.encoder_shares
        return shares * before + (1.0 - shares) * self.encoder.probabilities(texts)

    def probabilities_before_encoder(self, texts: Sequence[str]) -> Any:
        """P(type | sentence) of the n-gram part and the network, without the encoder."""
        ngrams = self.ngram_probabilities(texts)
        if self.network is None:
            return ngrams
        mixed = self.shares < 1.0
        if not mixed.any() or not len(texts):
            return ngrams
        net = self.network.probabilities(texts)
        return np.where(mixed, self.shares * ngrams + (1.0 - self.shares) * net, ngrams)

    def ngram_probabilities(self, texts: Sequence[str]) -> Any:
        """The n-gram part's P(type | sentence) for each text (without the network)."""
        if len(texts) > _CHUNK:  # smaller arrays stay in cache: faster than one big call
            return np.vstack(
                [
                    self.ngram_probabilities(texts[i : i + _CHUNK])
                    for i in range(0, len(texts), _CHUNK)
                ]
            )
        n, k = len(texts), len(self.types)
        lowered = [t.lower() for t in texts]
        found = [_TOKEN.findall(t) for t in lowered]
        word_rows, word_cols = self.words.find(found)
        char_rows, char_cols = self.chars.find(lowered)
        z = np.tile(self.intercepts, (n, 1))
        if len(self.vectors):
            z += self.vectors.scores(found, k)
        size = len(self.idf)
        # how often each feature occurs in each text
        keys, counts = np.unique(
            np.concatenate([word_rows * size + word_cols, char_rows * size + char_cols]),
            return_counts=True,
        )
        if len(keys):
            row, col = keys // size, keys % size
            x = (1.0 + np.log(counts)) * self.idf[col]
            # each block (words, characters) is scaled to unit length on its own
            block = row * 2 + (col >= len(self.word_index))
            norm = np.sqrt(np.bincount(block, weights=x * x, minlength=2 * n))
            x = x / norm[block]
            weights = self.weights[col]
            for t in range(k):
                z[:, t] += np.bincount(row, weights=x * weights[:, t], minlength=n)
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z < -709: p = 0
            return 1.0 / (1.0 + np.exp(-z))

    def evidence(self, text: str, claim_type: str) -> list[Evidence]:
        """The words and word pairs of ``text`` that weighed most for ``claim_type``, in text
        order (at most :data:`EVIDENCE_WORDS`; [] when no word weighed for it)."""
        t = self.types.index(claim_type)
        words = tokens(text)
        grams = word_grams([w for w, _, _ in words])
        spans = [(s, e) for _, s, e in words]
        spans.extend((a[1], b[2]) for a, b in itertools.pairwise(words))
        found = {g: self.word_index[g] for g in grams if g in self.word_index}
        if not found:
            return []
        counts = Counter(g for g in grams if g in found)
        x = {g: (1.0 + math.log(c)) * float(self.idf[found[g]]) for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in x.values()))
        weight = {g: x[g] / norm * float(self.weights[found[g], t]) for g in x}
        best = sorted((g for g in weight if weight[g] > 0), key=lambda g: -weight[g])
        first: dict[str, tuple[int, int]] = {}
        for g, span in zip(grams, spans, strict=True):
            first.setdefault(g, span)
        chosen = [(first[g], g) for g in best[:EVIDENCE_WORDS]]
        return [Evidence(s, e, text[s:e], round(weight[g], 4)) for (s, e), g in sorted(chosen)]


# --- reading ------------------------------------------------------------------------------

_COLUMNS = ("block", "gram", "idf")


def load_model(path: str | Path) -> TextModel:
    """Read a model file (Parquet, see the module doc); :class:`ModelError` if it is not one."""
    key = str(path)
    try:
        stat = Path(key).stat()
    except OSError as e:
        raise ModelError(key, e.strerror or "cannot be read") from e
    return _load(key, stat.st_mtime_ns, stat.st_size)


@cache
def _load(source: str, mtime_ns: int, size: int) -> TextModel:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(source)
    except (OSError, pa.ArrowException) as e:
        raise ModelError(source, f"not a Parquet file ({e})") from e
    meta_raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if meta_raw is None:
        raise ModelError(source, "no claimtag.model metadata: not a claimtag model")
    try:
        meta = json.loads(meta_raw)
    except ValueError as e:
        raise ModelError(source, f"claimtag.model metadata is not JSON ({e})") from e
    problem = _check_meta(meta)
    if problem:
        raise ModelError(source, problem)
    types = tuple(meta["types"])
    missing = [c for c in (*_COLUMNS, *(f"w_{t}" for t in types)) if c not in table.column_names]
    if missing:
        raise ModelError(source, f"missing column(s): {', '.join(missing)}")
    try:
        block = table.column("block").to_numpy()
        grams = table.column("gram").to_pylist()
        idf = table.column("idf").to_numpy().astype(np.float64)
        weights = np.column_stack(
            [table.column(f"w_{t}").to_numpy().astype(np.float64) for t in types]
        )
    except (pa.ArrowException, TypeError, ValueError) as e:
        raise ModelError(source, f"unreadable feature columns ({e})") from e
    n_word = int(np.sum(block == 0))
    n_gram = n_word + int(np.sum(block == 1))
    if (
        not np.all(block[:n_word] == 0)
        or not np.all(block[n_word:n_gram] == 1)
        or not np.all(block[n_gram:] == 2)
        or any(not isinstance(g, str) for g in grams)
        or len(set(grams[:n_word])) != n_word
        or len(set(grams[n_word:n_gram])) != n_gram - n_word
        or len(set(grams[n_gram:])) != len(grams) - n_gram
    ):
        raise ModelError(
            source,
            "features must be word rows (block 0), then character rows (block 1), then word "
            "vector rows (block 2), each n-gram or word once",
        )
    if n_gram < len(grams) and meta["format"] < 2:
        raise ModelError(source, "word vector rows (block 2) need model format 2")
    if any(not _TOKEN.fullmatch(g) or g != g.lower() for g in grams[n_gram:]):
        raise ModelError(source, "word vector rows must be single lower-case words")
    if not (np.all(np.isfinite(idf)) and np.all(idf > 0) and np.all(np.isfinite(weights))):
        raise ModelError(source, "idf and weights must be finite numbers (idf > 0)")
    word_index = {g: i for i, g in enumerate(grams[:n_word])}
    char_index = {g: n_word + i for i, g in enumerate(grams[n_word:n_gram])}
    try:
        words = WordGrams(word_index)
        chars = CharGrams(char_index)
    except ValueError as e:
        raise ModelError(source, f"features: {e}") from e
    vectors = WordMeans(grams[n_gram:], weights[n_gram:], meta.get("word_vector_min_words", 1))
    network, shares = _part_beside(source, meta, "network", load_network, NetworkError)
    encoder, encoder_shares = _part_beside(source, meta, "encoder", load_encoder, EncoderError)
    fast = meta["encoder"].get("without") if "encoder" in meta else None
    return TextModel(
        name=meta["name"],
        version=meta["version"],
        types=types,
        intercepts=np.asarray(meta["intercepts"], dtype=np.float64),
        thresholds=np.asarray(meta["thresholds"], dtype=np.float64),
        vetoes=np.asarray(meta.get("vetoes", [0.0] * len(types)), dtype=np.float64),
        word_index=word_index,
        char_index=char_index,
        idf=idf[:n_gram],
        weights=weights[:n_gram],
        source=source,
        lineage=meta.get("training", {}),
        words=words,
        chars=chars,
        vectors=vectors,
        network=network,
        shares=shares,
        encoder=encoder,
        encoder_shares=encoder_shares,
        fast=fast,
    )


def _part_beside(
    source: str, meta: dict[str, Any], key: str, load: Any, error: type[Exception]
) -> tuple[Any, Any]:
    """The network or encoder (``key``) the model's metadata names in a file beside it, and
    its shares; (None, None) when it names none."""
    about = meta.get(key)
    if about is None:
        return None, None
    try:
        part = load(Path(source).parent / about["file"], about["sha256"], len(meta["types"]))
    except error as e:
        raise ModelError(source, str(e)) from e
    return part, np.asarray(about["shares"], dtype=np.float64)


_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def _check_meta(meta: Any) -> str | None:
    """What is wrong with a model's metadata, or None."""
    if not isinstance(meta, dict):
        return "claimtag.model metadata must be a JSON object"
    if meta.get("format") not in FORMATS:
        return f"model format {meta.get('format')!r} is not one of {', '.join(map(str, FORMATS))}"
    if not isinstance(meta.get("name"), str) or not _NAME.match(meta["name"]):
        return "name must be lower-case letters, digits, '-' or '_'"
    if not isinstance(meta.get("version"), str) or not _VERSION.match(meta["version"]):
        return "version must be MAJOR.MINOR.PATCH"
    types = meta.get("types")
    if (
        not isinstance(types, list)
        or not types
        or len(set(types)) != len(types)
        or any(t not in CLAIM_TYPES for t in types)
    ):
        return f"types must be distinct claim types of {', '.join(CLAIM_TYPES)}"
    for key, what, since in (("network", "a network", 3), ("encoder", "an encoder", 4)):
        about = meta.get(key)
        if about is None:
            continue
        if meta["format"] < since:
            return f"{what} needs model format {since}"
        if (
            not isinstance(about, dict)
            or not isinstance(about.get("file"), str)
            or not re.fullmatch(r"[\w.-]+\.npz", about["file"])
            or not isinstance(about.get("sha256"), str)
            or not re.fullmatch(r"[0-9a-f]{64}", about["sha256"])
        ):
            return f"{key} must name a .npz file beside the model and its SHA-256"
        if not _numbers(about.get("shares"), len(types), 0.0, 1.0):
            return f"{key} shares must be {len(types)} number(s) in [0, 1]"
    encoder = meta.get("encoder")
    if encoder is not None:
        without = encoder.get("without")
        if without is not None and (
            not isinstance(without, dict)
            or not isinstance(without.get("version"), str)
            or not _VERSION.match(without["version"])
            or not _numbers(without.get("thresholds"), len(types), MIN_THRESHOLD, 1.0)
            or not _numbers(without.get("vetoes"), len(types), 0.0, 0.5)
        ):
            return "encoder.without must give a version, thresholds and vetoes"
    min_words = meta.get("word_vector_min_words", 1)
    if not isinstance(min_words, int) or isinstance(min_words, bool) or not 1 <= min_words <= 1000:
        return "word_vector_min_words must be a whole number from 1 to 1000"
    for key, low, high in (
        ("intercepts", -math.inf, math.inf),
        ("thresholds", MIN_THRESHOLD, 1.0),
        ("vetoes", 0.0, 0.5),
    ):
        if key == "vetoes" and key not in meta:  # optional: models before 1.6.0 veto nothing
            continue
        if not _numbers(meta.get(key), len(types), low, high):
            return f"{key} must be {len(types)} number(s) in [{low}, {high}]"
    return None


def _numbers(values: Any, n: int, low: float, high: float) -> bool:
    """Whether ``values`` is a list of ``n`` numbers (not booleans) from ``low`` to ``high``."""
    return (
        isinstance(values, list)
        and len(values) == n
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high
            for v in values
        )
    )


def bundled_model_path() -> Path:
    return Path(str(resources.files("claimtag") / "data" / BUNDLED))


def bundled_model() -> TextModel:
    """The model that ships with claimtag, trained on the development gold split."""
    return load_model(bundled_model_path())


def bundled_model_without_encoder() -> TextModel:
    """The bundled model without its encoder (``--fast-model``)."""
    return bundled_model().without_encoder()


def _without_encoder_of(source: str | None) -> TextModel:
    if source is None:
        return bundled_model_without_encoder()
    return load_model(source).without_encoder()


def choose_model(
    path: str | Path | None = None, *, enabled: bool = True, fast: bool = False
) -> TextModel | None:
    """The model a run uses: the file at ``path``, else the bundled one, without its encoder
    when ``fast``; None when not ``enabled`` (rules only)."""
    if not enabled:
        return None
    model = bundled_model() if path is None else load_model(path)
    if fast and model.encoder is not None and model.fast is None:
        raise ModelError(model.source, "it has an encoder but no levels without it (--fast-model)")
    return model.without_encoder() if fast else model
