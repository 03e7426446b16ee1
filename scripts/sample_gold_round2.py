#!/usr/bin/env python3
"""Rounds 2-22 of the gold sample: fresh corpus sentences for dev2/heldout2, dev3, dev4, heldout5,
dev6, dev7, dev8, dev9, heldout10, dev11, heldout12, dev13, dev14, dev15, heldout16,
validation17, heldout18, heldout19, heldout20, validation21 and heldout22.

The first round (``scripts/sample_gold.py``) gave ``gold/dev.jsonl`` and
``gold/heldout.jsonl``. Round 2 draws new sentences with the same splitter, the same
span filter and the same method -- per corpus, half uniformly at random and half from
sentences with a word of the broad seed lists (equal shares of the three groups) -- from
its own random streams, skipping every sentence whose normalised text round 1 already
drew. Of each corpus' draw, two thirds go to ``dev2`` and one third to ``heldout2``,
assigned at random before any labelling. Non-claims are kept in full (no subsampling).

    python scripts/sample_gold_round2.py --out /tmp/gold_round2.jsonl

Output: one JSON object per line with id, corpus, doc_id, start, end, sha1, stratum,
split (no text).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sample_gold as r1

PER_CORPUS = {"un_general_debates": 210, "us_state_of_the_union": 200, "reuters21578": 200}
HELDOUT_FRACTION = 1 / 3
# Round 3 draws more development sentences the same way (all go to dev3), excluding the
# sentences of rounds 1 and 2.
ROUND3_PER_CORPUS = {"un_general_debates": 420, "us_state_of_the_union": 340, "reuters21578": 340}
# Round 4 (dev4) is drawn only from the topical word lists, because random sentences hold few
# economic-leverage and alliance claims: per corpus, sentences matching round 1's narrower
# top-up lists (economic pressure, alliances) and its broad security list.
ROUND4_PER_GROUP = {"econ": 130, "alliance": 100, "security": 70}
# Round 5 (heldout5) is a fresh held-out split drawn like round 2 (half random, half from the
# broad seed lists) after the rule pack of rounds 1-4 was tuned: every sentence goes to
# heldout5, and none of it is used to change the rules.
ROUND5_PER_CORPUS = {"un_general_debates": 100, "us_state_of_the_union": 100, "reuters21578": 100}
# Round 6 (dev6): more development sentences drawn the same way, excluding rounds 1-5.
ROUND6_PER_CORPUS = {"un_general_debates": 150, "us_state_of_the_union": 150, "reuters21578": 150}
# Round 7 (dev7): more development sentences drawn the same way, excluding rounds 1-6.
ROUND7_PER_CORPUS = ROUND6_PER_CORPUS
# Round 8 (dev8) is drawn like round 4, from the topical word lists only, excluding rounds 1-7:
# random sentences hold few alliance and economic-leverage claims.
ROUND8_PER_GROUP = {"econ": 70, "alliance": 60, "security": 30}
# Round 9 (dev9): drawn like rounds 5-7 (half random, half from the broad seed lists),
# excluding rounds 1-8.
ROUND9_PER_CORPUS = ROUND6_PER_CORPUS
# Round 10 (heldout10): a fresh held-out split drawn like round 5 after core@1.5.0 was
# written, excluding rounds 1-9; none of it is used to change the rules.
ROUND10_PER_CORPUS = ROUND5_PER_CORPUS
# Round 11 (dev11) is drawn like round 8, from the topical word lists only, excluding rounds
# 1-10.
ROUND11_PER_GROUP = ROUND8_PER_GROUP
# Round 12 (heldout12): a fresh held-out split drawn like round 5 at the same time as round
# 11, excluding rounds 1-11; none of it is used to change the rules.
ROUND12_PER_CORPUS = ROUND5_PER_CORPUS
# Round 13 (dev13) is drawn like round 11, from the topical word lists only, excluding rounds
# 1-12, after core@1.7.0's first cut.
ROUND13_PER_GROUP = ROUND8_PER_GROUP
# Round 14 (dev14): more development sentences drawn like rounds 6, 7 and 9 (half random,
# half from the broad seed lists), excluding rounds 1-13, after core@1.7.0.
ROUND14_PER_CORPUS = ROUND6_PER_CORPUS
# Rounds 15 to 22: drawn like round 14 (half random, half from the broad seed lists).
PER_CORPUS_200 = {"un_general_debates": 200, "us_state_of_the_union": 200, "reuters21578": 200}
PER_CORPUS_300 = {"un_general_debates": 300, "us_state_of_the_union": 300, "reuters21578": 300}
#: rounds drawn from the topical word lists only: sentences per group
PER_GROUP_OF_ROUND = {
    4: ROUND4_PER_GROUP,
    8: ROUND8_PER_GROUP,
    11: ROUND11_PER_GROUP,
    13: ROUND13_PER_GROUP,
}
#: rounds drawn half at random and half from the broad seed lists: sentences per corpus
PER_CORPUS_OF_ROUND = {
    2: PER_CORPUS,
    3: ROUND3_PER_CORPUS,
    5: ROUND5_PER_CORPUS,
    6: ROUND6_PER_CORPUS,
    7: ROUND7_PER_CORPUS,
    9: ROUND9_PER_CORPUS,
    10: ROUND10_PER_CORPUS,
    12: ROUND12_PER_CORPUS,
    14: ROUND14_PER_CORPUS,
    # Round 15 (dev15): development sentences for the learned model's training data, drawn
    # like round 14, 200 per corpus, excluding rounds 1-14 and the corpus sentences of the
    # validation split (gold/validation_model.jsonl).
    15: PER_CORPUS_200,
    # Round 16 (heldout16): a fresh held-out split drawn like round 5 at the same time as
    # round 15.
    16: ROUND5_PER_CORPUS,
    # Round 17 (validation17): drawn like round 5, 200 per corpus, at the same time as rounds
    # 15 and 16, for the validation split: the learned model's thresholds are chosen on it,
    # in text drawn as the held-out corpus files are.
    17: PER_CORPUS_200,
    # Rounds 18, 19 and 20 (heldout18-20): fresh held-out splits drawn like round 5, after
    # core-text@1.2.0, after core-text@1.3.0, and after core@1.10.0 and core-text@1.4.0.
    18: ROUND5_PER_CORPUS,
    19: ROUND5_PER_CORPUS,
    20: ROUND5_PER_CORPUS,
    # Round 21 (validation21): drawn like round 17 after round 20 was read, to enlarge the
    # validation split; round 22 (heldout22): a fresh held-out split drawn at the same time.
    21: PER_CORPUS_200,
    22: ROUND5_PER_CORPUS,
    # Round 23 (heldout23): a fresh held-out split drawn like round 5 after core@1.11.0 and
    # core-text@1.5.1, to read the next choice once.
    23: ROUND5_PER_CORPUS,
    # Round 24 (dev24): development sentences for the learned model's training data, drawn
    # like round 15, 300 per corpus, at the same time as round 23.
    24: PER_CORPUS_300,
    # Round 25 (heldout25): a fresh held-out split drawn like round 5 after core-text@1.6.0
    # was chosen and round 23 read, to read the next choice once.
    25: ROUND5_PER_CORPUS,
    # Round 26 (heldout26): a fresh held-out split drawn like round 5 after round 25 was read,
    # to read the actor table's new organisations once.
    26: ROUND5_PER_CORPUS,
    # Round 27 (heldout27): a fresh held-out split drawn like round 5 after round 26 was read.
    27: ROUND5_PER_CORPUS,
    # Rounds 28 and 29 (heldout28, heldout29): fresh held-out splits drawn like round 5 at the
    # same time, after round 27 was read; round 28 is read once after this work's first
    # choices, round 29 once after its last.
    28: ROUND5_PER_CORPUS,
    29: ROUND5_PER_CORPUS,
    # Round 30 (heldout30): a fresh held-out split drawn like round 5 after round 29 was read,
    # to read the rule changes that followed once.
    30: ROUND5_PER_CORPUS,
    # Round 31 (heldout31): a fresh held-out split drawn like round 5 after round 30 was read,
    # to read the next model once.
    31: ROUND5_PER_CORPUS,
    # Round 32 (heldout32): a fresh held-out split drawn like round 5 after round 31 was read,
    # to confirm or refuse core-text@1.10.0 (trained with active31) against 1.9.0.
    32: ROUND5_PER_CORPUS,
    # Round 33 (heldout33): a fresh held-out split drawn like round 5 after round 32 was read,
    # to read per-type veto levels (core-text@1.9.1) once.
    33: ROUND5_PER_CORPUS,
    # Round 34 (heldout34): a fresh held-out split drawn like round 5 after round 33 was read,
    # to read core@1.12.2 once.
    34: ROUND5_PER_CORPUS,
    # Round 35 (validation35): drawn like round 24, 300 per corpus, after round 34 was read,
    # to enlarge the corpus part of the validation split, on which the model's levels are
    # chosen; round 36 (heldout36): a fresh held-out split drawn like round 5 at the same
    # time, read once after the choices made on round 35.
    35: PER_CORPUS_300,
    36: ROUND5_PER_CORPUS,
    # Round 37 (heldout37): a fresh held-out split drawn like round 5 after round 36 was read,
    # to read the word-vector features of the learned model once.
    37: ROUND5_PER_CORPUS,
    # Round 38 (heldout38): a fresh held-out split drawn like round 5 after round 37 was read,
    # to decide once on word vectors whose mean short sentences cannot dominate.
    38: ROUND5_PER_CORPUS,
    # Round 39 (heldout39): a fresh held-out split drawn like round 5 after round 38 was read,
    # to read this work's rule and model changes once.
    39: ROUND5_PER_CORPUS,
    # Round 40 (heldout40): a fresh held-out split drawn like round 5 after round 39 was read,
    # to read the rule changes that followed once.
    40: ROUND5_PER_CORPUS,
    # Round 41 (heldout41): a fresh held-out split drawn like round 5 after round 40 was read,
    # to read the next choice once.
    41: ROUND5_PER_CORPUS,
    # Round 42 (heldout42): a fresh held-out split drawn like round 5 after round 41 was read,
    # to read the bundled core-text@1.13.0 once, as shipped, and the next choice.
    42: ROUND5_PER_CORPUS,
    # Round 43 (heldout43): a fresh held-out split drawn like round 5 after round 42 was read,
    # to read the next change once.
    43: ROUND5_PER_CORPUS,
    # Round 44 (heldout44): a fresh held-out split drawn like round 5 after round 43 was read,
    # to read the next change once.
    44: ROUND5_PER_CORPUS,
    # Round 45 (heldout45): a fresh held-out split drawn like round 5 after round 44 was read,
    # to read the next change once.
    45: ROUND5_PER_CORPUS,
    # Round 46 (heldout46): a fresh held-out split drawn like round 5 after round 45 was read,
    # to read the bundled core-text@1.15.0 once, as shipped.
    46: ROUND5_PER_CORPUS,
    # Round 47 (heldout47): a fresh held-out split drawn like round 5 after round 46 was read,
    # to read the next change once.
    47: ROUND5_PER_CORPUS,
    # Round 48 (heldout48): a fresh held-out split drawn like round 5 after round 47 was read,
    # to read the bundled core-text@1.16.0 once, as shipped.
    48: ROUND5_PER_CORPUS,
}
# From round 15 on, every round excludes the earlier rounds and the sentences of the other
# samples below; the held-out and validation rounds are never used to change the rules or
# the model.
#: the rounds that are not development, and the split they went to
SPLIT_OF_ROUND = {
    **dict.fromkeys(
        (5, 10, 12, 16, 18, 19, 20, 22, 23, 25, *range(26, 35), *range(36, 49)), "heldout"
    ),
    **dict.fromkeys((17, 21, 35), "validation"),
}
#: corpus gold files drawn by another sampler, whose sentences the rounds from the given one
#: on leave out
OTHER_SAMPLES = {15: ("validation_model.jsonl",), 32: ("active31.jsonl",)}
GOLD_DIR = Path(__file__).resolve().parent.parent / "gold"


@functools.cache
def _corpus(name: str, corpus_dir: Path) -> tuple[dict[str, str], r1.Pool]:
    """One corpus' texts by doc_id and its sentence pool, read and split once."""
    import pyarrow.parquet as pq

    table = pq.read_table(corpus_dir / f"{name}.parquet", columns=["doc_id", "text"]).to_pylist()
    table.sort(key=lambda r: r["doc_id"])
    pool = r1.Pool([(r["doc_id"], r["text"]) for r in table], name == "reuters21578")
    return {r["doc_id"]: r["text"] for r in table}, pool


def _round1_texts(name: str, corpus_dir: Path) -> set[str]:
    """Normalised texts of every round-1 candidate of one corpus (drawn again, in memory)."""
    by_id, _pool = _corpus(name, corpus_dir)
    rng = random.Random(f"{r1.SEED}:sample:{name}")
    parts = r1.sample_corpus(name, corpus_dir, rng)
    return {r1.norm(by_id[c["doc_id"]][c["start"] : c["end"]]) for part in parts for c in part}


@functools.cache
def _sample_texts(name: str, corpus_dir: Path, fname: str) -> frozenset[str]:
    """Normalised texts of one corpus' sentences in one other sample's gold file (read once)."""
    by_id, _pool = _corpus(name, corpus_dir)
    with (GOLD_DIR / fname).open(encoding="utf-8") as fh:
        refs = [json.loads(line) for line in fh if line.strip()]
    return frozenset(
        r1.norm(by_id[r["doc_id"]][r["start"] : r["end"]]) for r in refs if r["corpus"] == name
    )


def _other_sample_texts(name: str, corpus_dir: Path, round_no: int) -> frozenset[str]:
    """Normalised texts of one corpus' sentences in the other samples round ``round_no``
    leaves out."""
    names = [f for first, files in OTHER_SAMPLES.items() if round_no >= first for f in files]
    return frozenset().union(*(_sample_texts(name, corpus_dir, f) for f in names))


@functools.cache
def _draw(name: str, corpus_dir: Path, round_no: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Round ``round_no``'s records of one corpus and their texts, drawn once per process."""
    _by_id, pool = _corpus(name, corpus_dir)
    seen = _round1_texts(name, corpus_dir)
    for earlier in range(2, round_no):  # earlier rounds' sentences are excluded
        seen |= {r1.norm(t) for t in _draw(name, corpus_dir, earlier)[1]}
    seen |= _other_sample_texts(name, corpus_dir, round_no)
    seed = f"{r1.SEED}:round{round_no}"
    rng = random.Random(f"{seed}:sample:{name}")
    cap = r1.DOC_CAP[name]
    counts: Counter[str] = Counter()
    picks: list[tuple[str, tuple[str, int, int, str]]] = []
    if round_no in PER_GROUP_OF_ROUND:
        for group, k in PER_GROUP_OF_ROUND[round_no].items():
            pattern = r1.TOPUP_RE[group] if group in r1.TOPUP_RE else r1.SEED_RE[group]
            found = r1.draw(pool, k, rng, r1.TOPUP_DOC_CAP[name], counts, seen, pattern=pattern)
            picks += [(f"seed{round_no}-{group}", x) for x in found]
    else:
        n = PER_CORPUS_OF_ROUND[round_no][name]
        n_random = n // 2
        picks += [("random", x) for x in r1.draw(pool, n_random, rng, cap, counts, seen)]
        for group, k in zip(r1.SEED_GROUPS, r1.split_n(n - n_random, 3), strict=True):
            found = r1.draw(pool, k, rng, cap, counts, seen, group=group)
            picks += [(f"seed-{group}", x) for x in found]
    recs = r1._records(name, picks)
    if round_no == 2:
        order = list(range(len(recs)))
        random.Random(f"{seed}:split:{name}").shuffle(order)
        held = set(order[: round(len(recs) * HELDOUT_FRACTION)])
        for i, rec in enumerate(recs):
            rec["split"] = "heldout2" if i in held else "dev2"
    else:
        for rec in recs:
            rec["split"] = f"{SPLIT_OF_ROUND.get(round_no, 'dev')}{round_no}"
    return recs, [x[1][3] for x in picks]


def sample(name: str, corpus_dir: Path, round_no: int = 2) -> list[dict[str, Any]]:
    """The candidates of round ``round_no`` for one corpus (references and split, no text)."""
    return [dict(r) for r in _draw(name, corpus_dir, round_no)[0]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus"
    )
    ap.add_argument("--out", type=Path, default=Path("/tmp/gold_round2.jsonl"))
    rounds = sorted(PER_CORPUS_OF_ROUND.keys() | PER_GROUP_OF_ROUND.keys())
    ap.add_argument("--round", type=int, choices=rounds, default=2, dest="round_no")
    args = ap.parse_args(argv)
    records: list[dict[str, Any]] = []
    for name in r1.PARQUET_CORPORA:
        records += sample(name, args.corpus, args.round_no)
    with args.out.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    counts = Counter((r["corpus"], r["split"]) for r in records)
    for (corpus, split), v in sorted(counts.items()):
        print(f"{corpus:24s} {split:9s} {v}", file=sys.stderr)
    print(f"wrote {len(records)} candidates to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
