#!/usr/bin/env python3
"""Gold sentences of the held-out and validation splits that nearly repeat a development one.

The written gold files are written by different annotators at different times, and
several of them wrote about the same well-known events in similar words ("Armenia froze
its participation in the Moscow-led CSTO ..."). A held-out sentence that repeats a
development sentence is not unseen text: the rules were written from the development
split's errors and the learned model was trained on it. This lists, for every sentence
of the held-out and validation splits, the development sentence whose words overlap
most (Jaccard index of the sets of lower-cased words), and flags those above a cut-off.

    python scripts/near_duplicates.py [--cutoff 0.5] [--list]

`scripts/quality_tables.py` reports the held-out pool with and without the flagged
sentences. The cut-off is a judgement: at 0.5 the flagged pairs are, read one by one,
the same event retold; at 0.4 some are merely the same kind of event (a quake, a coup).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
CUTOFF = 0.5
_WORD = re.compile(r"\w+")


def words(text: str) -> frozenset[str]:
    """The set of lower-cased words of a sentence."""
    return frozenset(_WORD.findall(text.lower()))


def closest(texts: Iterable[str], pool: Sequence[str]) -> list[tuple[float, int]]:
    """For each text, the highest Jaccard index of its word set with a ``pool`` sentence's,
    and that sentence's index (the first of equals; -1 when none shares a word).

    The pool is indexed once by word; a text's shared-word counts with every pool sentence
    are one ``numpy.bincount`` over the pool indices of its words."""
    import numpy as np

    postings: dict[str, list[int]] = defaultdict(list)
    sizes = np.zeros(len(pool), dtype=np.int64)
    for k, sentence in enumerate(pool):
        mine = words(sentence)
        sizes[k] = len(mine)
        for word in mine:
            postings[word].append(k)
    index = {word: np.asarray(ks, dtype=np.int64) for word, ks in postings.items()}
    out = []
    for text in texts:
        mine = words(text)
        hits = [index[w] for w in mine if w in index]
        if not hits:
            out.append((0.0, -1))
            continue
        shared = np.bincount(np.concatenate(hits), minlength=len(pool))
        scores = shared / (len(mine) + sizes - shared)
        k = int(np.argmax(scores))
        out.append((float(scores[k]), k))
    return out


def development_texts(gold_dir: Path = ROOT / "gold", corpus_dir: Path = CORPUS) -> list[str]:
    """Every development gold sentence, materialised."""
    from claimtag.gold import load_gold, split_files

    return [
        g["text"]
        for name in split_files(gold_dir, "development")
        for g in load_gold(gold_dir / f"{name}.jsonl", corpus_dir)
    ]


def flag(
    items: Sequence[dict[str, Any]], development: Sequence[str], cutoff: float = CUTOFF
) -> list[bool]:
    """Whether each gold item nearly repeats a development sentence (index above ``cutoff``)."""
    return [score > cutoff for score, _ in closest((i["text"] for i in items), development)]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cutoff", type=float, default=CUTOFF)
    ap.add_argument("--list", action="store_true", help="print every flagged pair")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args(argv)
    from claimtag.gold import load_gold, split_files

    gold_dir = ROOT / "gold"
    development = development_texts(gold_dir, args.corpus)
    print(f"development: {len(development)} sentences; cut-off {args.cutoff}")
    print("| split | file | sentences | near-duplicates of development |")
    print("|---|---|---:|---:|")
    for split in ("heldout", "validation"):
        for name in split_files(gold_dir, split):
            items = load_gold(gold_dir / f"{name}.jsonl", args.corpus)
            found = closest((i["text"] for i in items), development)
            hits = [(i, s, k) for i, (s, k) in zip(items, found, strict=True) if s > args.cutoff]
            print(f"| {split} | `{name}` | {len(items)} | {len(hits)} |")
            if args.list:
                for item, score, k in hits:
                    print(f"    {score:.2f} {item['id']}: {item['text'][:90]}", file=sys.stderr)
                    print(f"         ~ {development[k][:90]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
