#!/usr/bin/env python3
"""Suggest rule vocabulary from labelled development data (never from held-out files).

For each claim type, counts word n-grams (1-3 words, lower-cased) in the gold sentences
and reports those that are frequent in sentences of that type, rare elsewhere, and found in
sentences the current rules miss. The output is a worklist for a person editing the rule
pack: a candidate only becomes a rule after reading its sentences and writing examples.

    python scripts/mine_rules.py gold/dev.jsonl gold/dev2.jsonl --type alliance --top 60

Columns: n-gram, sentences of the type containing it (pos), other sentences containing it
(neg), precision pos/(pos+neg), and how many of the positives the rules miss today (fn).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from claimtag import CLAIM_TYPES
from claimtag.evaluate import predict
from claimtag.gold import load_gold
from claimtag.rules import default_rules

_WORD = re.compile(r"[a-z][a-z'-]*")
_STOP_WORDS = (
    "the a an of and or to in on at for by with from as is are was were be been being it its "
    "that this these those which who whom whose what there their they them his her he she we "
    "our us you your i my me not no has have had will would shall should can could may might "
    "must do does did so than then also into over under about after before such all any some "
    "each other more most very"
)
STOP = frozenset(_STOP_WORDS.split(" "))


def ngrams(text: str, n_max: int) -> set[str]:
    words = _WORD.findall(text.lower())
    out: set[str] = set()
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0] in STOP or gram[-1] in STOP:
                continue
            out.add(" ".join(gram))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    ap.add_argument("--type", choices=CLAIM_TYPES, required=True)
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--min-pos", type=int, default=3)
    ap.add_argument("--min-precision", type=float, default=0.6)
    ap.add_argument("--ngram", type=int, default=3)
    args = ap.parse_args(argv)
    if any("heldout" in p.name for p in args.gold):
        ap.error("held-out files are for measuring, not for mining")
    rules = default_rules()
    pos: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for path in args.gold:
        for item in load_gold(path, args.corpus):
            grams = ngrams(item["text"], args.ngram)
            if args.type in item["labels"]:
                pos.update(grams)
                if args.type not in predict(rules, item["text"]).labels:
                    fn.update(grams)
            else:
                neg.update(grams)
    rows = []
    for gram, p in pos.items():
        if p < args.min_pos or fn[gram] == 0:
            continue
        precision = p / (p + neg[gram])
        if precision >= args.min_precision:
            rows.append((fn[gram], precision, p, neg[gram], gram))
    rows.sort(key=lambda r: (-r[0], -r[1], -r[2]))
    print(f"{'n-gram':32s} {'pos':>4s} {'neg':>4s} {'prec':>5s} {'fn':>3s}")
    for f, precision, p, n, gram in rows[: args.top]:
        print(f"{gram:32s} {p:4d} {n:4d} {precision:5.2f} {f:3d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
