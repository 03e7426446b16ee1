#!/usr/bin/env python3
"""Draw the corpus sentences of ``gold/active31.jsonl``: where the tagger is least sure of a
claim type, for the learned model's training data.

Random corpus sentences are mostly plain non-claims, and the model already scores those
right; on corpus text it errs near its decision levels: rule claims it keeps with a low
probability, and additions it makes (or nearly makes) where no rule fired. This draws corpus
sentences that are in no gold file (development, validation or held-out) nor in the
references given with ``--exclude``, and keeps, for each claim type and corpus, the same
number from each of three zones of the bundled tagger's decision:

* ``doubted``: a rule of the type fired and the model's probability is below 0.3 (at or
  above the veto level, so the claim is kept);
* ``near``: no rule fired and the probability is within 0.3 below the type's threshold;
* ``added``: no rule fired and the probability reaches the threshold (the model adds it).

They are labelled blind, by LABELING.md, with nothing shown of the model or the rules. The
file is development data (an uncertainty sample, not a random one): never a figure of
quality on its own.

    python scripts/sample_active.py --out /tmp/active --exclude /tmp/round31.jsonl

The committed file was drawn with the rule pack ``core@1.12.0`` and ``core-text@1.9.0``, with
round 31's candidates (``scripts/sample_gold_round2.py --round 31``) excluded; to draw it
again, pass that pack (``git show ffaed6e:src/claimtag/rules/core.yaml``) as ``--rules``.

Writes ``references.jsonl`` (the gold lines without labels), ``batch.jsonl`` (id, corpus,
doc_id, text: what the labeller reads) and ``strata.jsonl`` (id, type, zone, probability:
kept from the labeller).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from corpus_check import CORPORA  # noqa: E402
from sample_validation import corpus_sentences, write_sample  # noqa: E402

SEED = "active-2026-11-27"
#: the gold file this script drew, left out of the texts it avoids, so that it draws it again
OWN = "active31"
#: sentences per claim type, zone and corpus
PER_CELL = 34
DOUBT = 0.3
NEAR = 0.3
#: documents read per corpus (the State of the Union has 240 or so: all of them)
READ = {"un_general_debates": 1500, "us_state_of_the_union": 1000, "reuters21578": 8000}


def _known_texts(corpus_dir: Path, exclude: list[Path]) -> set[str]:
    """Normalised texts of every gold sentence of every split and of the excluded references."""
    import pyarrow.parquet as pq

    from claimtag.gold import load_gold, normalise, split_files

    texts: set[str] = set()
    for split in ("development", "validation", "heldout"):
        for name in split_files(ROOT / "gold", split):
            if name == OWN:
                continue
            texts |= {
                normalise(x["text"]) for x in load_gold(ROOT / "gold" / f"{name}.jsonl", corpus_dir)
            }
    for path in exclude:
        refs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        for name in {r["corpus"] for r in refs}:
            table = pq.read_table(corpus_dir / f"{name}.parquet", columns=["doc_id", "text"])
            by_id = {str(r["doc_id"]): r["text"] for r in table.to_pylist()}
            texts |= {
                normalise(by_id[str(r["doc_id"])][r["start"] : r["end"]])
                for r in refs
                if r["corpus"] == name
            }
    return texts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--exclude", type=Path, action="append", default=[], help="references")
    ap.add_argument("--rules", type=Path, help="rule pack to use instead of the bundled one")
    ap.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args(argv)

    import pyarrow.parquet as pq

    from claimtag import CLAIM_TYPES
    from claimtag.evaluate import default_prefilter, predict
    from claimtag.learned import choose_model
    from claimtag.rules import default_rules, load_rules

    model = choose_model(None)
    assert model is not None
    pack = load_rules([args.rules], replace=True) if args.rules else default_rules()
    prefilter = default_prefilter(pack)
    skip = _known_texts(args.corpus_dir, args.exclude)
    rng = random.Random(SEED)
    pool: list[dict[str, object]] = []
    seen: set[str] = set()
    for name in CORPORA:
        table = pq.read_table(args.corpus_dir / f"{name}.parquet", columns=["doc_id", "text"])
        fresh = table.to_pylist()
        rng.shuffle(fresh)
        pool += corpus_sentences(name, fresh[: READ[name]], skip, seen)
    print(f"{len(pool)} corpus sentences outside the gold", file=sys.stderr)
    texts = [str(p["text"]) for p in pool]
    probs = model.probabilities(texts)
    fired = [predict(pack, t, prefilter=prefilter).labels for t in texts]
    picked: dict[int, tuple[str, str, float]] = {}
    for t, claim_type in enumerate(CLAIM_TYPES):
        level = float(model.thresholds[t])
        by_zone: dict[tuple[str, str], list[int]] = {
            (zone, name): [] for zone in ("doubted", "near", "added") for name in CORPORA
        }
        for i in range(len(pool)):
            p = float(probs[i, t])
            name = str(pool[i]["corpus"])
            if i in picked:
                continue
            if claim_type in fired[i]:
                if p < DOUBT:
                    by_zone["doubted", name].append(i)
            elif p >= level:
                by_zone["added", name].append(i)
            elif p >= level - NEAR:
                by_zone["near", name].append(i)
        for (zone, name), cands in by_zone.items():
            rng.shuffle(cands)
            for i in cands[:PER_CELL]:
                picked[i] = (claim_type, zone, float(probs[i, t]))
            print(f"{claim_type} {zone} {name}: {len(cands)} candidates", file=sys.stderr)
    order = sorted(picked)
    rng.shuffle(order)
    strata = [
        {"type": picked[i][0], "zone": picked[i][1], "probability": round(picked[i][2], 4)}
        for i in order
    ]
    write_sample(args.out, [pool[i] for i in order], strata)
    print(f"wrote {len(order)} sentences to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
