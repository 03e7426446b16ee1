#!/usr/bin/env python3
"""Agreement between two annotations of the same gold sentences (matched by id).

    python scripts/agreement.py gold/dev.jsonl gold/agreement_dev.jsonl

Prints per-type F1 between the two label sets (either file as reference gives the same
F1), macro F1, exact label-set agreement, and agreement on hedged (sentences both tag)
and on actor sets (sentences the first file gives actors).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from claimtag import CLAIM_TYPES


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    first = {r["id"]: r for r in map(json.loads, Path(args[0]).read_text().splitlines())}
    second = [json.loads(line) for line in Path(args[1]).read_text().splitlines()]
    pairs = [(first[r["id"]], r) for r in second if r["id"] in first]
    f1s = []
    for t in CLAIM_TYPES:
        both = sum(t in a["labels"] and t in b["labels"] for a, b in pairs)
        only_a = sum(t in a["labels"] and t not in b["labels"] for a, b in pairs)
        only_b = sum(t not in a["labels"] and t in b["labels"] for a, b in pairs)
        f1 = 2 * both / (2 * both + only_a + only_b) if both else 0.0
        f1s.append(f1)
        print(f"{t:20s} F1 {f1:.3f}  (both {both}, first only {only_a}, second only {only_b})")
    print(f"{'macro':20s} F1 {sum(f1s) / len(f1s):.3f}  (n={len(pairs)})")
    exact = sum(set(a["labels"]) == set(b["labels"]) for a, b in pairs) / len(pairs)
    print(f"exact label set      {exact:.3f}")
    tagged = [(a, b) for a, b in pairs if set(a["labels"]) & set(b["labels"])]
    hedged = sum(a["hedged"] == b["hedged"] for a, b in tagged) / len(tagged)
    print(f"hedged               {hedged:.3f}  (n={len(tagged)})")
    named = [(a, b) for a, b in pairs if a["actors"]]
    actors = sum(set(a["actors"]) == set(b["actors"]) for a, b in named) / len(named)
    print(f"actor sets           {actors:.3f}  (n={len(named)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
