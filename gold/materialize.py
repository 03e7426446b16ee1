#!/usr/bin/env python3
"""Write the gold set as text: ``{"id", "text", "labels", "negated", "hedged", "actors"}``.

The gold files hold references into ../shared/corpus plus labels, never the corpus text;
``claimtag.gold.load_gold`` materialises them (checking each span's SHA-1).

    python gold/materialize.py gold/dev.jsonl --corpus ../shared/corpus > dev_text.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from claimtag.errors import ClaimtagError
from claimtag.gold import load_gold

KEYS = ("id", "text", "labels", "negated", "hedged", "actors")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    args = parser.parse_args(argv)
    try:
        for path in args.gold:
            for item in load_gold(path, args.corpus):
                print(json.dumps({k: item[k] for k in KEYS if k in item}, ensure_ascii=False))
    except ClaimtagError as e:
        print(f"materialize: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
