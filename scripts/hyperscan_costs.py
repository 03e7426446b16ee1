#!/usr/bin/env python3
"""What each expression of a rule pack costs Hyperscan to compile, and which it rejects.

The prefilter compiles a pack's patterns into two Hyperscan databases the first time the
pack is used on a machine (then the databases are cached). A pattern with a long
bounded gap before or after a big lexicon -- ``(?:\\w+ ){0,3}{{named_states}} troops`` --
can take ten seconds alone, and one Hyperscan calls "too large" makes the whole database
fail, so that every expression is compiled again one at a time. This script compiles each
expression alone and lists the slowest and the rejected ones, so a pack author can move
the costly context into a look-ahead (which the prefilter drops: ``re`` still checks it).

    python scripts/hyperscan_costs.py [--rules PACK.yaml] [--top 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", type=Path, help="a rule pack used instead of the bundled one")
    ap.add_argument("--top", type=int, default=25, help="how many of the slowest to list")
    args = ap.parse_args(argv)
    try:
        import hyperscan as hs
    except ImportError:
        print("hyperscan is not installed: the prefilter uses re only", file=sys.stderr)
        return 1
    from claimtag import prefilter
    from claimtag.rules import default_rules, load_rules

    pack = load_rules([args.rules], replace=True) if args.rules else default_rules()
    databases: list[tuple[list[bytes], list[int], list[int]]] = []

    def capture(
        _hs: Any, exprs: list[bytes], ids: list[int], flags: list[int], **_options: Any
    ) -> Any:
        databases.append((list(exprs), list(ids), list(flags)))
        return None, set()

    prefilter._database = capture  # type: ignore[assignment]
    owners = getattr(prefilter._compile(pack), "owners", ())
    rows: list[tuple[float, str, str, str]] = []
    total = 0.0
    for which, (exprs, ids, flags) in zip(("patterns", "context"), databases[:2], strict=False):
        for expression, ident, flag in zip(exprs, ids, flags, strict=True):
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            start = time.perf_counter()
            try:
                db.compile(expressions=[expression], ids=[ident], elements=1, flags=[flag])
                verdict = ""
            except hs.error as error:
                verdict = str(error)
            seconds = time.perf_counter() - start
            total += seconds
            rows.append((seconds, which, _name(pack, ident, owners), verdict))
    rows.sort(reverse=True)
    print(f"{len(rows)} expressions, {total:.1f} s compiled one at a time")
    # the slowest, then every rejected expression not among them
    shown = rows[: args.top] + [row for row in rows[args.top :] if row[3]]
    for seconds, which, name, verdict in shown:
        print(f"{seconds:7.2f} s  {which:8s}  {name}  {verdict}")
    print(f"{sum(1 for row in rows if row[3])} rejected")
    return 0


def _name(pack: Any, ident: int, owners: tuple[tuple[int, ...], ...]) -> str:
    from claimtag import prefilter

    if ident >= prefilter.HEDGING:
        return {prefilter.HEDGING: "hedging cues", prefilter.NEGATION: "negation cues"}.get(
            ident, "cues"
        )
    if ident >= prefilter.ALTERNATIVE:
        unions = owners[ident - prefilter.ALTERNATIVE]
        return "an alternative of " + ", ".join(_name(pack, union, owners) for union in unions)
    index, slot = divmod(ident, prefilter.SLOT)
    slots = {prefilter.REQUIRE: "require", prefilter.EXCLUDE: "exclude"}
    where = slots.get(slot, f"pattern {slot}")
    return f"{pack.rules[index].id} {where}"


if __name__ == "__main__":
    raise SystemExit(main())
