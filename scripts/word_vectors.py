#!/usr/bin/env python3
"""Word vectors learned from the unlabelled corpus text, for the learned model's features.

    python scripts/word_vectors.py --out /tmp/vectors.npz     # about 1 min, 2 GB of memory

The rules and the n-gram model know only the words the gold sentences use; a word vector
places a word near the words it shares contexts with in about 35 million words of UN
speeches, State of the Union addresses and newswire ("blockade" near "embargo", "siege",
"sanctions"), so the model can weigh a word no gold sentence holds. The vectors are
positive pointwise mutual information of words within five words of each other (context
counts smoothed by the power 0.75, nearer words counting more), reduced by a truncated SVD
(Levy, Goldberg and Dagan 2015, "Improving distributional similarity with lessons learned
from word embeddings"); each row is scaled to unit length.

Every sentence of every gold file (development, validation and held-out) is blanked out of
the text first, so no sentence that is scored ever shaped the vectors. ``--leave-in NAME``
leaves the sentences of gold files made after a model's vectors were learned in the text, to
make those vectors again; ``--gold-as-of REV`` leaves in every gold file that the git revision
REV did not have. The bundled ``core-text@1.15.0``'s (and 1.13.0's) were learned before
round 42 existed: ``--gold-as-of 9ff44a2``. Words are
:data:`claimtag.learned`'s tokens (runs of two or more word characters of the lower-cased
text); the vocabulary is the most frequent words seen at least :data:`MIN_COUNT` times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from claimtag.learned import _TOKEN  # noqa: E402

CORPORA = ("un_general_debates", "us_state_of_the_union", "reuters21578")
DIMS = 300
WINDOW = 5
MIN_COUNT = 5
MAX_WORDS = 40_000
#: context distribution smoothing (the power of the context counts)
SMOOTHING = 0.75


@dataclass(frozen=True)
class WordVectors:
    """Unit-length vectors (float64, words x dims) and how they were made."""

    words: list[str]
    vectors: Any
    about: dict[str, Any]

    @cached_property
    def index(self) -> dict[str, int]:
        """Each word's row, built once (the trainer asks for means a dozen times)."""
        return {w: i for i, w in enumerate(self.words)}

    def mean(self, texts: list[str], min_words: int = 1) -> Any:
        """Each text's sum of its words' vectors divided by its number of words, or by
        ``min_words`` if that is more (a word without a vector counts, adding nothing):
        (len(texts), dims)."""
        index = self.index
        out = np.zeros((len(texts), self.vectors.shape[1]))
        for k, text in enumerate(texts):
            words = _TOKEN.findall(text.lower())
            known = [index[w] for w in words if w in index]
            if known:
                out[k] = self.vectors[known].sum(axis=0) / max(len(words), min_words)
        return out


def gold_spans(
    gold_dir: Path, leave_in: frozenset[str] = frozenset()
) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """The character spans of every gold corpus sentence, by (corpus, doc_id), but for the
    files named (without ``.jsonl``) in ``leave_in``."""
    unknown = sorted(n for n in leave_in if not (gold_dir / f"{n}.jsonl").is_file())
    if unknown:
        raise ValueError(f"no gold file {', '.join(unknown)} in {gold_dir}")
    spans: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for path in sorted(gold_dir.glob("*.jsonl")):
        if path.stem in leave_in:
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                ref = json.loads(line)
                if "doc_id" in ref and "start" in ref:
                    spans[(ref["corpus"], ref["doc_id"])].append((ref["start"], ref["end"]))
    return spans


def gold_files_made_after(rev: str, gold_dir: Path = ROOT / "gold") -> frozenset[str]:
    """The gold files (without ``.jsonl``) in ``gold_dir`` that git revision ``rev`` of the
    repository holding it did not have: those made after vectors learned at ``rev``."""
    try:
        out = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{rev}^{{commit}}", "--", "."],
            cwd=gold_dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        raise ValueError(f"cannot run git to read revision {rev}: {e.strerror}") from e
    if out.returncode != 0:
        raise ValueError(f"git knows no revision {rev} in {gold_dir}: {out.stderr.strip()}")
    then = {Path(name).stem for name in out.stdout.split("\n") if name.endswith(".jsonl")}
    return frozenset(p.stem for p in gold_dir.glob("*.jsonl") if p.stem not in then)


def build(
    corpus_dir: Path,
    gold_dir: Path = ROOT / "gold",
    dims: int = DIMS,
    leave_in: frozenset[str] = frozenset(),
) -> WordVectors:
    """Word vectors from every document of :data:`CORPORA`, gold sentences blanked out (but
    for those of the gold files named in ``leave_in``)."""
    import pyarrow.parquet as pq
    import scipy.sparse as sp
    from sklearn.utils.extmath import randomized_svd

    started = time.time()
    spans = gold_spans(gold_dir, leave_in)
    docs: list[list[str]] = []
    blanked = 0
    for name in CORPORA:
        table = pq.read_table(corpus_dir / f"{name}.parquet", columns=["doc_id", "text"])
        for row in sorted(table.to_pylist(), key=lambda r: r["doc_id"]):
            text = row["text"]
            for start, end in spans.get((name, row["doc_id"]), ()):
                text = text[:start] + " " * (end - start) + text[end:]
                blanked += 1
            docs.append(_TOKEN.findall(text.lower()))
    counts = Counter(w for doc in docs for w in doc)
    words = [w for w, c in counts.most_common(MAX_WORDS) if c >= MIN_COUNT]
    index = {w: i for i, w in enumerate(words)}
    n = len(words)
    # one id stream, documents apart by WINDOW unknown words so no window spans two
    ids = np.concatenate(
        [np.array([index.get(w, -1) for w in doc] + [-1] * WINDOW, dtype=np.int64) for doc in docs]
    )
    cooc = sp.csr_matrix((n, n), dtype=np.float64)
    for k in range(1, WINDOW + 1):  # a context k words away counts 1/k
        a, b = ids[:-k], ids[k:]
        both = (a >= 0) & (b >= 0)
        m = sp.coo_matrix((np.full(int(both.sum()), 1.0 / k), (a[both], b[both])), shape=(n, n))
        m = m.tocsr()
        cooc = cooc + m + m.T
    total = cooc.sum()
    row_sums = np.asarray(cooc.sum(axis=1)).ravel()
    context = row_sums**SMOOTHING
    context = context / context.sum() * total
    coo = cooc.tocoo()
    pmi = np.log(coo.data * total / (row_sums[coo.row] * context[coo.col]))
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    u, s, _ = randomized_svd(ppmi, n_components=dims, random_state=0)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    vectors = vectors.astype(np.float32).astype(np.float64)
    digest = hashlib.sha256(vectors.tobytes() + "\n".join(words).encode()).hexdigest()
    about = {
        "corpora": list(CORPORA),
        "documents": len(docs),
        "tokens": int(sum(len(d) for d in docs)),
        "gold_sentences_blanked": blanked,
        "words": n,
        "dims": dims,
        "window": WINDOW,
        "min_count": MIN_COUNT,
        "method": f"PPMI (context counts ^{SMOOTHING}, context k words away weighs 1/k), "
        "randomized truncated SVD (random_state 0), U * sqrt(S), rows unit length",
        "sha256": digest,
    }
    print(
        f"word vectors: {n} words x {dims} from {about['tokens']} tokens of "
        f"{len(docs)} documents ({blanked} gold sentences blanked), "
        f"{time.time() - started:.0f} s"
    )
    return WordVectors(words, vectors, about)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--dims", type=int, default=DIMS)
    ap.add_argument("--out", type=Path, required=True, help="an .npz file: words, vectors")
    ap.add_argument("--near", nargs="*", default=[], help="print each word's nearest words")
    ap.add_argument(
        "--leave-in",
        nargs="+",
        default=[],
        metavar="NAME",
        help="gold files (without .jsonl) whose sentences are not blanked: those made after the "
        "vectors to be made again were learned",
    )
    ap.add_argument(
        "--gold-as-of",
        metavar="REV",
        help="leave in every gold file the git revision REV did not have (the vectors to be made "
        "again were learned at REV)",
    )
    args = ap.parse_args(argv)
    try:
        leave_in = frozenset(args.leave_in)
        if args.gold_as_of:
            leave_in |= gold_files_made_after(args.gold_as_of)
        wv = build(args.corpus, dims=args.dims, leave_in=leave_in)
    except ValueError as e:
        ap.error(str(e))
    np.savez(args.out, words=np.array(wv.words), vectors=wv.vectors.astype(np.float32))
    index = wv.index
    for word in args.near:
        if word not in index:
            print(f"{word}: no vector")
            continue
        sims = wv.vectors @ wv.vectors[index[word]]
        print(f"{word}: {', '.join(wv.words[i] for i in np.argsort(-sims)[1:9])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
