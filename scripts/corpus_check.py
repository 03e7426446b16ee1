#!/usr/bin/env python3
"""Try a candidate rule expression on unlabelled corpus sentences before it goes into a pack.

Development gold holds a few hundred real corpus claims, too few to tell a general way of
stating a claim from a phrasing that happens to fit them. This script runs a candidate
expression over sentences of the corpora in ``../shared/corpus`` (UN General Debate
speeches, State of the Union addresses, 1987 Reuters newswire) that are in no gold file,
development or held-out, and prints how many it matches and a random sample to read
against LABELING.md:

* ``--mode new``: matches the pack does not tag with ``--type`` yet -- what a new pattern
  would add; most of the sample should be true claims of that type;
* ``--mode tagged``: matches the pack already tags with ``--type`` -- what a new
  exclusion would remove; almost none of the sample should be true claims.

``{{name}}`` inserts the pack's lexicon ``name``, as in a rule. Documents are drawn with a
fixed seed, so two runs see the same sentences.

    python scripts/corpus_check.py --type alliance --mode new '\\bgood understanding with\\b'
    python scripts/corpus_check.py --type threat --mode tagged '\\bpira\\w+' --sample 40
"""

from __future__ import annotations

import argparse
import functools
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ("un_general_debates", "us_state_of_the_union", "reuters21578")
# Documents drawn per corpus by default: about 186,000 sentences in all, a few seconds to read.
DOCS = {"un_general_debates": 900, "us_state_of_the_union": 240, "reuters21578": 6000}


@functools.cache
def gold_texts(corpus_dir: Path) -> frozenset[str]:
    """The normalised text of every gold sentence, development and held-out (read once)."""
    from claimtag.gold import load_gold, normalise, split_files

    texts: set[str] = set()
    for split in ("development", "heldout"):
        for name in split_files(ROOT / "gold", split):
            for item in load_gold(ROOT / "gold" / f"{name}.jsonl", corpus_dir):
                texts.add(normalise(item["text"]))
    return frozenset(texts)


def drawn_documents(
    corpus_dir: Path, docs: dict[str, int], seed: str = "corpus-check"
) -> dict[str, list[dict[str, Any]]]:
    """The seeded draw of ``docs[name]`` documents ({"doc_id", "text"}) of each corpus."""
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {}
    for name in CORPORA:
        table = pq.read_table(corpus_dir / f"{name}.parquet", columns=["doc_id", "text"])
        rows = table.to_pylist()
        rng.shuffle(rows)
        out[name] = rows[: docs[name]]
    return out


def corpus_sentences(
    corpus_dir: Path,
    docs: dict[str, int],
    skip: frozenset[str] | set[str],
    seed: str = "corpus-check",
) -> list[tuple[str, str, str]]:
    """(corpus, doc_id, sentence) for sentences of at least 30 characters of a seeded draw of
    documents, leaving out the sentences in ``skip``."""
    from claimtag.gold import normalise
    from claimtag.segment import split_spans

    out: list[tuple[str, str, str]] = []
    for name, rows in drawn_documents(corpus_dir, docs, seed).items():
        for row in rows:
            text = row["text"] or ""
            for start, end, *_ in split_spans(text):
                sentence = normalise(text[start:end])
                if len(sentence) >= 30 and sentence not in skip:
                    out.append((name, str(row["doc_id"]), sentence))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("regex", help="the candidate expression ({{lexicon}} allowed)")
    ap.add_argument("--type", required=True, choices=["threat", "alliance", "economic_leverage"])
    ap.add_argument("--mode", choices=["new", "tagged"], default="new")
    ap.add_argument("--rules", type=Path, help="a rule pack used instead of the bundled one")
    ap.add_argument("--sample", type=int, default=30, help="how many matches to print")
    ap.add_argument("--scale", type=float, default=1.0, help="share of the default documents")
    ap.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args(argv)

    import yaml

    from claimtag.errors import ClaimtagError
    from claimtag.evaluate import predict
    from claimtag.rules import _expand, default_rules, load_rules

    pack_file = args.rules or ROOT / "src" / "claimtag" / "rules" / "core.yaml"
    try:
        pack = load_rules([args.rules], replace=True) if args.rules else default_rules()
        lexicons = yaml.safe_load(pack_file.read_text(encoding="utf-8")).get("lexicons", {})
        unknown = sorted(set(re.findall(r"\{\{(\w+)\}\}", args.regex)) - set(lexicons))
        if unknown:
            print(f"unknown lexicon(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        candidate = re.compile(_expand(args.regex, lexicons), re.IGNORECASE)
        docs = {name: max(1, round(n * args.scale)) for name, n in DOCS.items()}
        sentences = corpus_sentences(args.corpus_dir, docs, gold_texts(args.corpus_dir))
    except re.error as e:
        print(f"the expression does not compile: {e}", file=sys.stderr)
        return 2
    except (ClaimtagError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    matched = [s for s in sentences if candidate.search(s[2])]
    chosen = [
        s for s in matched if (args.type in predict(pack, s[2]).labels) == (args.mode == "tagged")
    ]
    by_corpus = Counter(name for name, _, _ in chosen)
    print(
        f"{len(sentences)} corpus sentences outside the gold; the expression matches "
        f"{len(matched)}; {args.mode} for {args.type}: {len(chosen)} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(by_corpus.items())) or 'none'})"
    )
    random.Random(0).shuffle(chosen)
    for name, doc_id, sentence in chosen[: args.sample]:
        m = candidate.search(sentence)
        assert m is not None
        left = sentence[max(0, m.start() - 160) : m.start()]
        right = sentence[m.end() : m.end() + 140]
        print(f"- [{name} {doc_id}] {left}<<{m.group(0)}>>{right}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
