#!/usr/bin/env python3
"""Deterministic sampler of candidate sentences for the claimtag gold set.

Draws sentence spans (references only: corpus, doc_id, start, end, sha1) from the
real corpora in ``../shared/corpus`` and assigns each one to the ``dev`` or
``heldout`` split *before* any labelling or rule tuning happens.

Method (see gold/GUIDELINE_NOTES.md for the rationale):

* Sentences are found with a small regex splitter (``split_sentences``): a
  boundary is sentence punctuation followed by whitespace and a capital/quote/
  digit (unless the token before is a known abbreviation or a single initial),
  a blank line, or -- for Reuters -- a new paragraph (newline + indentation).
  Spans are exact: ``text[start:end]`` is the stripped sentence. Fragments
  shorter than 25 or longer than 400 characters are skipped, as are
  number-heavy table rows (fewer than 50% letters).
* For each of the three large corpora, ``PER_CORPUS`` sentences are drawn:
  half *uniformly at random* from all sentences, half from sentences that
  contain a word of a broad, generic topical seed list. The seed list has
  three groups (security/military, diplomacy/cooperation, trade/economy) and
  the seeded half is drawn equally from the three groups. The seed list is a
  sampling device, not a classifier: it deliberately matches near-misses
  ("strike" as a labour action, "trade partner", a parliamentary "alliance",
  meetings, plain economic news).
* Reuters: the seeded half and half of the random half come from "preferred"
  stories (topics include trade, crude, ship or money-fx, or three or more
  places); the other half of the random half comes from all stories.
* At most ``DOC_CAP`` sentences per document (SOTU has only 233 documents),
  and no two sampled sentences may have the same normalised text (Reuters
  re-sent wires).
* The foreword (japan_nato_foreword.txt) is small: all its sentences are taken
  and all go to ``dev``.
* Split: within each large corpus the sampled sentences are shuffled with a
  fixed seed and one third goes to ``heldout``, the rest to ``dev`` (each
  top-up round is split the same way with its own stream).
* Top-up rounds (phase 2) add sentences from narrower topic word lists and,
  for Reuters, from international trade stories (metadata only), because a
  purely random/broad sample has too few economic-leverage and alliance
  claims. They use their own random streams: phase-1 draws do not change.
* After labelling, non-claims from the three large corpora were subsampled
  at a fixed rate (``NONCLAIM_KEEP``) by a hash of their id
  (``nonclaim_kept``), independent of stratum and split, so the gold set ends
  up at roughly 40-45% non-claims; each kept non-claim stands for
  1/NONCLAIM_KEEP candidates. ``--verify`` checks gold files against this.

Usage::

    python scripts/sample_gold.py --corpus ../shared/corpus --out /tmp/gold_candidates.jsonl
    python scripts/sample_gold.py --corpus ../shared/corpus --verify gold

Output: one JSON object per line with id, corpus, doc_id, start, end, sha1,
stratum, split (no text is written).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

SEED = 20250407
PER_CORPUS = 255
DOC_CAP = {"un_general_debates": 1, "us_state_of_the_union": 2, "reuters21578": 1}
HELDOUT_FRACTION = 1 / 3
NONCLAIM_KEEP = 0.5  # share of labelled non-claims kept in the gold files (not the foreword)
MIN_LEN, MAX_LEN = 25, 400

PARQUET_CORPORA = ("un_general_debates", "us_state_of_the_union", "reuters21578")
FOREWORD = "japan_nato_foreword"
FOREWORD_FILE = "japan_nato_foreword.txt"

REUTERS_PREFERRED_TOPICS = {"trade", "crude", "ship", "money-fx"}

# ---------------------------------------------------------------------------
# Broad, generic topical seed words (stems); matched case-insensitively at a
# word start. Three groups; deliberately over-inclusive.
# ---------------------------------------------------------------------------
# fmt: off
SEED_GROUPS: dict[str, list[str]] = {
    "security": [
        r"secur\w*", r"militar\w*", r"arm(y|ies)", r"nav(y|al)", r"troops?", r"soldiers?",
        r"weapons?", r"arms", r"armament\w*", r"nuclear", r"missiles?", r"wars?", r"warfare",
        r"attack\w*", r"invad\w*", r"invasion\w*", r"aggress\w*", r"threat\w*", r"terror\w*",
        r"conflicts?", r"defen[cs]\w*", r"deterr\w*", r"strik\w*", r"bomb\w*", r"forces?",
        r"violen\w*", r"hostil\w*", r"danger\w*",
    ],
    "diplomacy": [
        r"allian\w*", r"all(y|ies)", r"allied", r"treat(y|ies)", r"partner\w*", r"cooperat\w*",
        r"co-operat\w*", r"summit\w*", r"bilateral", r"multilateral", r"diplomat\w*",
        r"ambassador\w*", r"talks", r"negotiat\w*", r"relations", r"pacts?", r"blocs?",
        r"coalition\w*", r"solidarity", r"friendship", r"agreements?", r"met", r"meet\w*",
        r"visit\w*",
    ],
    "economy": [
        r"trad(e|es|ed|ing)", r"tariff\w*", r"export\w*", r"import\w*", r"sanction\w*",
        r"embargo\w*", r"boycott\w*", r"quotas?", r"protectionis\w*", r"aid", r"assistance",
        r"loans?", r"debts?", r"invest\w*", r"oil", r"gas", r"energy", r"suppl(y|ies)",
        r"markets?", r"econom\w*", r"currenc\w*", r"dollars?", r"yen", r"dependen\w*",
        r"retaliat\w*", r"dumping", r"subsid\w*", r"opec",
    ],
}
# fmt: on
SEED_RE = {
    g: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    for g, words in SEED_GROUPS.items()
}

# Phase 2 ("top-up"): a random sample of phase 1 yields too few economic-leverage
# and alliance claims (economic leverage is rare outside Reuters trade stories).
# The top-up draws additional sentences from narrower -- but still generic,
# topic-level -- word lists, and for Reuters purely by story metadata (stories
# whose topics include "trade" and that name two or more places). It uses its
# own random streams, so phase-1 draws are unchanged.
# fmt: off
TOPUP_SEEDS: dict[str, list[str]] = {
    "econ": [
        r"sanction\w*", r"embargo\w*", r"tariff\w*", r"boycott\w*", r"blockade\w*",
        r"retaliat\w*", r"dependen\w*", r"leverage", r"protectionis\w*", r"dumping",
        r"duties", r"reciprocity", r"non-?intercourse", r"non-?importation", r"trade wars?",
        r"trade barriers?", r"economic (?:pressure|coercion|blackmail|warfare)",
        r"export controls?", r"most[- ]favou?red[- ]nation",
    ],
    "alliance": [
        r"allian\w*", r"all(?:y|ies)", r"allied", r"treat(?:y|ies)", r"pacts?",
        r"partnerships?", r"nato", r"north atlantic", r"warsaw pact", r"solidarity",
        r"collective (?:self-)?defen[cs]e", r"mutual (?:defen[cs]e|security|assistance)",
        r"joint (?:exercises?|manoeuvres|maneuvers|military)", r"friendly relations",
        r"bilateral relations", r"strategic partner\w*",
    ],
}
# fmt: on
TOPUP_RE = {
    g: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    for g, words in TOPUP_SEEDS.items()
}
TOPUP_N = {
    "un_general_debates": {"econ": 40, "alliance": 40},
    "us_state_of_the_union": {"econ": 40, "alliance": 40},
    "reuters21578": {"trade-stories": 160},
}
# second top-up round (economic leverage was still short after round 1)
TOPUP2_N = {
    "un_general_debates": {"econ": 50},
    "us_state_of_the_union": {},
    "reuters21578": {"trade-stories": 60},
}
TOPUP_DOC_CAP = {"un_general_debates": 1, "us_state_of_the_union": 3, "reuters21578": 1}

# ---------------------------------------------------------------------------
# Sentence splitting
# ---------------------------------------------------------------------------
# fmt: off
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "messrs", "gen", "lt", "col", "capt", "sen", "rep", "gov",
    "jr", "sr", "no", "nos", "art", "arts", "vol", "pp", "inc", "corp", "co", "ltd", "vs",
    "e.g", "i.e", "cf", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "u.s", "u.n", "u.k", "e.c", "u.s.s.r", "h.e", "para", "paras",
    "prof", "rev", "hon", "fig", "approx", "dept", "mt", "ft",
}
# fmt: on
# candidate boundary: . ! ? (plus closing quotes/brackets) + whitespace + a likely sentence start
_PUNCT_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_INDENTED_PARA = re.compile(r"\n[ \t]{2,}")  # Reuters paragraphs: newline + indentation
_TOKEN_BEFORE = re.compile(r"(\S+)$")


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    """True if the '.' at dot_pos ends an abbreviation or initial, not a sentence."""
    if text[dot_pos] != ".":
        return False
    m = _TOKEN_BEFORE.search(text[max(0, dot_pos - 40) : dot_pos])
    if not m:
        return False
    token = m.group(1).lstrip("(\"'\u201c\u2018[").lower()
    if token in ABBREVIATIONS:
        return True
    # single initial ("J. Smith") or dotted initialism ending ("U.S", "S.A")
    return bool(re.fullmatch(r"[a-z]", token) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))


def split_sentences(text: str, paragraph_indent: bool = False) -> list[tuple[int, int]]:
    """Return exact, whitespace-stripped (start, end) spans of sentences in text."""
    cuts: set[int] = set()
    for m in _PUNCT_BOUNDARY.finditer(text):
        if not _is_abbreviation(text, m.start()):
            cuts.add(m.end())
    for m in _BLANK_LINE.finditer(text):
        cuts.add(m.start())
    if paragraph_indent:
        for m in _INDENTED_PARA.finditer(text):
            cuts.add(m.start())
    bounds = [0, *sorted(cuts), len(text)]
    spans: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(bounds):
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        s, e = a + lead, b - trail
        if e > s:
            spans.append((s, e))
    return spans


def keep_span(sentence: str) -> bool:
    if not (MIN_LEN <= len(sentence) <= MAX_LEN):
        return False
    non_space = [c for c in sentence if not c.isspace()]
    letters = sum(c.isalpha() for c in non_space)
    return letters >= 0.5 * len(non_space)


def norm(s: str) -> str:
    return " ".join(s.split()).lower()


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------
class Pool:
    """All kept sentence spans of a set of documents, drawn from lazily."""

    def __init__(self, docs: list[tuple[str, str]], paragraph_indent: bool) -> None:
        self.docs = docs
        self.spans: list[tuple[int, int, int]] = []  # (doc index, start, end)
        for i, (_doc_id, text) in enumerate(docs):
            for s, e in split_sentences(text, paragraph_indent):
                if keep_span(text[s:e]):
                    self.spans.append((i, s, e))

    def text(self, item: tuple[int, int, int]) -> str:
        i, s, e = item
        return self.docs[i][1][s:e]


def draw(
    pool: Pool,
    n: int,
    rng: random.Random,
    doc_cap: int,
    doc_counts: Counter[str],
    seen: set[str],
    group: str | None = None,
    pattern: re.Pattern[str] | None = None,
) -> list[tuple[str, int, int, str]]:
    """Draw n spans uniformly from pool (optionally only those matching a seed group)."""
    if pattern is None and group is not None:
        pattern = SEED_RE[group]
    order = list(range(len(pool.spans)))
    rng.shuffle(order)
    out: list[tuple[str, int, int, str]] = []
    for k in order:
        if len(out) >= n:
            break
        item = pool.spans[k]
        doc_id = pool.docs[item[0]][0]
        if doc_counts[doc_id] >= doc_cap:
            continue
        sent = pool.text(item)
        if pattern is not None and not pattern.search(sent):
            continue
        key = norm(sent)
        if key in seen:
            continue
        seen.add(key)
        doc_counts[doc_id] += 1
        out.append((doc_id, item[1], item[2], sent))
    if len(out) < n:
        raise RuntimeError(f"pool exhausted: wanted {n}, got {len(out)} (group={group})")
    return out


def split_n(total: int, parts: int) -> list[int]:
    base = [total // parts] * parts
    for i in range(total % parts):
        base[i] += 1
    return base


def sample_corpus(
    name: str, corpus_dir: Path, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Phase-1, top-up and second top-up records for one corpus (splits not yet assigned)."""
    import pyarrow.parquet as pq

    cols = ["doc_id", "text"] + (["topics", "places"] if name == "reuters21578" else [])
    table = pq.read_table(corpus_dir / f"{name}.parquet", columns=cols).to_pylist()
    table.sort(key=lambda r: r["doc_id"])
    indent = name == "reuters21578"
    n_random = PER_CORPUS // 2
    n_seed = PER_CORPUS - n_random
    cap = DOC_CAP[name]
    doc_counts: Counter[str] = Counter()
    seen: set[str] = set()
    picks: list[tuple[str, tuple[str, int, int, str]]] = []

    if name == "reuters21578":
        all_docs = [(r["doc_id"], r["text"]) for r in table]
        pref_docs = [
            (r["doc_id"], r["text"])
            for r in table
            if REUTERS_PREFERRED_TOPICS & set(r["topics"] or []) or len(r["places"] or []) >= 3
        ]
        pool_all = Pool(all_docs, indent)
        pool_pref = Pool(pref_docs, indent)
        n_rand_pref, n_rand_all = split_n(n_random, 2)
        picks += [
            ("random-preferred", x)
            for x in draw(pool_pref, n_rand_pref, rng, cap, doc_counts, seen)
        ]
        picks += [("random-all", x) for x in draw(pool_all, n_rand_all, rng, cap, doc_counts, seen)]
        seed_pool = pool_pref
    else:
        pool = Pool([(r["doc_id"], r["text"]) for r in table], indent)
        picks += [("random", x) for x in draw(pool, n_random, rng, cap, doc_counts, seen)]
        seed_pool = pool
    for group, k in zip(SEED_GROUPS, split_n(n_seed, len(SEED_GROUPS)), strict=True):
        picks += [
            (f"seed-{group}", x)
            for x in draw(seed_pool, k, rng, cap, doc_counts, seen, group=group)
        ]

    # phase 2: top-up rounds (own random streams; same dedup set, larger per-document cap)
    tcap = TOPUP_DOC_CAP[name]
    pool_trade = None
    if name == "reuters21578":
        trade_docs = [
            (r["doc_id"], r["text"])
            for r in table
            if "trade" in set(r["topics"] or []) and len(r["places"] or []) >= 2
        ]
        pool_trade = Pool(trade_docs, indent)
    rounds: list[list[tuple[str, tuple[str, int, int, str]]]] = []
    for tag, plan in (("topup", TOPUP_N[name]), ("topup2", TOPUP2_N[name])):
        trng = random.Random(f"{SEED}:{tag}:{name}")
        topup: list[tuple[str, tuple[str, int, int, str]]] = []
        for group, k in plan.items():
            if group == "trade-stories":
                assert pool_trade is not None
                found = draw(pool_trade, k, trng, tcap, doc_counts, seen)
            else:
                found = draw(seed_pool, k, trng, tcap, doc_counts, seen, pattern=TOPUP_RE[group])
            topup += [(f"{tag}-{group}", x) for x in found]
        rounds.append(topup)

    return _records(name, picks), _records(name, rounds[0]), _records(name, rounds[1])


def _records(name: str, picks: list[tuple[str, tuple[str, int, int, str]]]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{name}:{doc_id}:{s}-{e}",
            "corpus": name,
            "doc_id": doc_id,
            "start": s,
            "end": e,
            "sha1": sha1(sent),
            "stratum": stratum,
        }
        for stratum, (doc_id, s, e, sent) in picks
    ]


def sample_foreword(corpus_dir: Path) -> list[dict[str, Any]]:
    text = (corpus_dir / FOREWORD_FILE).read_text(encoding="utf-8")
    out = []
    for s, e in split_sentences(text):
        sent = text[s:e]
        if keep_span(sent):
            out.append(
                {
                    "id": f"{FOREWORD}:{FOREWORD_FILE}:{s}-{e}",
                    "corpus": FOREWORD,
                    "doc_id": FOREWORD_FILE,
                    "start": s,
                    "end": e,
                    "sha1": sha1(sent),
                    "stratum": "all",
                    "split": "dev",
                }
            )
    return out


def nonclaim_kept(record_id: str) -> bool:
    """Deterministic Bernoulli(NONCLAIM_KEEP) draw for a non-claim, keyed on its id."""
    u = int(hashlib.sha1(f"{SEED}:keep-nonclaim:{record_id}".encode()).hexdigest(), 16) / 2**160
    return u < NONCLAIM_KEEP


def verify(records: list[dict[str, Any]], gold_dir: Path) -> int:
    """Check gold/dev.jsonl and gold/heldout.jsonl against freshly drawn candidates."""
    cands = {r["id"]: r for r in records}
    problems: list[str] = []
    seen: set[str] = set()
    for split in ("dev", "heldout"):
        with (gold_dir / f"{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                g = json.loads(line)
                c = cands.get(g["id"])
                if c is None:
                    problems.append(f"{g['id']}: not a sampled candidate")
                    continue
                seen.add(g["id"])
                if c["split"] != split:
                    problems.append(f"{g['id']}: in {split}, sampler says {c['split']}")
                if c["sha1"] != g["sha1"]:
                    problems.append(f"{g['id']}: sha1 differs from the corpus")
                if not g["labels"] and c["corpus"] != FOREWORD and not nonclaim_kept(g["id"]):
                    problems.append(f"{g['id']}: non-claim that the subsampling rule drops")
    missing = [i for i, c in cands.items() if i not in seen]
    bad_missing = [i for i in missing if cands[i]["corpus"] == FOREWORD or nonclaim_kept(i)]
    for i in bad_missing:
        problems.append(f"{i}: candidate missing from gold although it is not a dropped non-claim")
    for p in problems:
        print(p, file=sys.stderr)
    print(
        f"verify: {len(seen)} gold records, {len(missing)} candidates left out as "
        f"subsampled non-claims, {len(problems)} problems",
        file=sys.stderr,
    )
    return 1 if problems else 0


def assign_splits(records: list[dict[str, Any]], rng: random.Random) -> None:
    order = list(range(len(records)))
    rng.shuffle(order)
    n_held = round(len(records) * HELDOUT_FRACTION)
    held = set(order[:n_held])
    for i, r in enumerate(records):
        r["split"] = "heldout" if i in held else "dev"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    ap.add_argument("--corpus", type=Path, default=default_corpus)
    ap.add_argument("--out", type=Path, default=Path("/tmp/gold_candidates.jsonl"))
    ap.add_argument(
        "--verify",
        type=Path,
        metavar="GOLD_DIR",
        help="check GOLD_DIR/dev.jsonl and GOLD_DIR/heldout.jsonl instead of writing",
    )
    args = ap.parse_args(argv)

    records: list[dict[str, Any]] = []
    topups: list[dict[str, Any]] = []
    topups2: list[dict[str, Any]] = []
    for name in PARQUET_CORPORA:
        rng = random.Random(f"{SEED}:sample:{name}")
        recs, top, top2 = sample_corpus(name, args.corpus, rng)
        assign_splits(recs, random.Random(f"{SEED}:split:{name}"))
        assign_splits(top, random.Random(f"{SEED}:split-topup:{name}"))
        assign_splits(top2, random.Random(f"{SEED}:split-topup2:{name}"))
        records += recs
        topups += top
        topups2 += top2
    records += sample_foreword(args.corpus)
    records += topups
    records += topups2

    if args.verify:
        return verify(records, args.verify)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = Counter((r["corpus"], r["stratum"], r["split"]) for r in records)
    for k, v in sorted(counts.items()):
        print(f"{k[0]:24s} {k[1]:22s} {k[2]:8s} {v}", file=sys.stderr)
    print(f"wrote {len(records)} candidates to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
