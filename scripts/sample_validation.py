#!/usr/bin/env python3
"""Draw the corpus sentences of ``gold/validation_model.jsonl``: where the learned model would
add a claim, for choosing its thresholds on text neither it nor the rules were fitted to.

The development split cannot choose them: the rules were written from its errors, so the
claims they still miss there are the hard and borderline ones, and the model's additions
look worse on it than on unseen text. This draws corpus sentences that are in no gold file,
from documents ``scripts/corpus_check.py`` does not draw, and keeps, for each claim type,
sentences where no rule of the type fired and the model's probability for it is at least
0.7, the same number from each probability band (below). They are labelled blind, by
LABELING.md, with nothing shown of the model or the rules; the share of true claims per
band is the precision of what the model adds at each threshold.

    python scripts/sample_validation.py --model MODEL --out /tmp/val

Writes ``references.jsonl`` (the gold lines without labels: corpus, doc_id, start, end,
sha1), ``batch.jsonl`` (id, corpus, text: what the labeller reads) and ``strata.jsonl``
(id, type, band, probability: kept from the labeller).

The committed ``gold/validation_model.jsonl`` was drawn by an earlier version that
rebuilt corpus_check's draw corpus by corpus with a fresh seed: right for the UN General
Debates (all 232 of its UN sentences come from documents corpus_check does not draw), not
for Reuters, where 21 of its 68 sentences come from documents corpus_check draws. This
version leaves out corpus_check's own draw (``drawn_documents``); its sample differs from
the committed file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Container
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from corpus_check import CORPORA, DOCS, drawn_documents, gold_texts  # noqa: E402

SEED = "validation-model-2026-11"
BANDS = ((0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.98), (0.98, 1.01))
PER_BAND = 20
#: documents read per corpus, after leaving out corpus_check's draw
READ = {"un_general_debates": 700, "us_state_of_the_union": 200, "reuters21578": 5000}


def corpus_sentences(
    name: str, rows: list[dict[str, Any]], skip: Container[str], seen: set[str] | None = None
) -> list[dict[str, object]]:
    """The sentences of 30 to 600 characters of one corpus' ``rows`` ({"doc_id", "text"}), in
    order, whose normalised text is not in ``skip`` (nor in ``seen``, when given: each text is
    then kept once and added to it): corpus, doc_id, start, end, raw and normalised text."""
    from claimtag.gold import normalise
    from claimtag.segment import split_spans

    out: list[dict[str, object]] = []
    for row in rows:
        text = row["text"] or ""
        for start, end, _ in split_spans(text):
            sentence = normalise(text[start:end])
            if not 30 <= len(sentence) <= 600 or sentence in skip:
                continue
            if seen is not None:
                if sentence in seen:
                    continue
                seen.add(sentence)
            out.append(
                {
                    "corpus": name,
                    "doc_id": str(row["doc_id"]),
                    "start": start,
                    "end": end,
                    "raw": text[start:end],
                    "text": sentence,
                }
            )
    return out


def write_sample(
    out: Path, drawn: list[dict[str, object]], strata: list[dict[str, object]]
) -> None:
    """Write a drawn sample to ``out``: ``references.jsonl`` (corpus, doc_id, span and SHA-1
    of the raw text: the gold lines without labels), ``batch.jsonl`` (id, corpus, doc_id,
    text: what the labeller reads) and ``strata.jsonl`` (id and each sentence's stratum,
    kept from the labeller). ``drawn`` holds corpus, doc_id, start, end, raw and text."""
    out.mkdir(parents=True, exist_ok=True)
    with (
        (out / "references.jsonl").open("w") as refs,
        (out / "batch.jsonl").open("w") as batch,
        (out / "strata.jsonl").open("w") as kept,
    ):
        for p, stratum in zip(drawn, strata, strict=True):
            ident = f"{p['corpus']}:{p['doc_id']}:{p['start']}-{p['end']}"
            sha1 = hashlib.sha1(str(p["raw"]).encode("utf-8")).hexdigest()
            where = {k: p[k] for k in ("corpus", "doc_id", "start", "end")}
            refs.write(json.dumps({"id": ident, **where, "sha1": sha1}) + "\n")
            line = {"id": ident, "corpus": p["corpus"], "doc_id": p["doc_id"], "text": p["text"]}
            batch.write(json.dumps(line, ensure_ascii=False) + "\n")
            kept.write(json.dumps({"id": ident, **stratum}) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="model file (default: the bundled one)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args(argv)

    import pyarrow.parquet as pq

    from claimtag import CLAIM_TYPES
    from claimtag.evaluate import default_prefilter, predict
    from claimtag.learned import choose_model
    from claimtag.rules import default_rules

    model = choose_model(args.model)
    assert model is not None
    pack = default_rules()
    prefilter = default_prefilter(pack)
    skip = gold_texts(args.corpus_dir)
    rng = random.Random(SEED)
    used = {
        name: {str(r["doc_id"]) for r in rows}
        for name, rows in drawn_documents(args.corpus_dir, DOCS).items()
    }
    pool: list[dict[str, object]] = []
    for name in CORPORA:
        table = pq.read_table(args.corpus_dir / f"{name}.parquet", columns=["doc_id", "text"])
        rows = table.to_pylist()
        fresh = [r for r in rows if str(r["doc_id"]) not in used[name]]
        rng.shuffle(fresh)
        pool += corpus_sentences(name, fresh[: READ[name]], skip)
    print(f"{len(pool)} corpus sentences outside the gold", file=sys.stderr)
    texts = [str(p["text"]) for p in pool]
    probs = model.probabilities(texts)
    picked: dict[int, tuple[str, int, float]] = {}
    for t, claim_type in enumerate(CLAIM_TYPES):
        cands = [i for i in range(len(pool)) if probs[i, t] >= BANDS[0][0]]
        silent = [
            i
            for i in cands
            if claim_type not in predict(pack, texts[i], prefilter=prefilter).labels
        ]
        for b, (low, high) in enumerate(BANDS):
            band = [i for i in silent if low <= probs[i, t] < high and i not in picked]
            rng.shuffle(band)
            for i in band[:PER_BAND]:
                picked[i] = (claim_type, b, float(probs[i, t]))
            print(f"{claim_type} band {low}-{high}: {len(band)} candidates", file=sys.stderr)
    order = sorted(picked)
    rng.shuffle(order)
    strata = [
        {
            "type": picked[i][0],
            "band": list(BANDS[picked[i][1]]),
            "probability": round(picked[i][2], 4),
        }
        for i in order
    ]
    write_sample(args.out, [pool[i] for i in order], strata)
    print(f"wrote {len(order)} sentences to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
