#!/usr/bin/env python3
"""Train the learned layer (src/claimtag/data/core-text.parquet) on the development gold split.

Needs scikit-learn (``pip install -e '.[train]'``); claimtag itself scores without it.

    .venv/bin/python scripts/train_model.py --version 1.3.0

One logistic regression per claim type over TF-IDF weights of word 1-2-grams and character
2-5-grams (:func:`claimtag.learned.features`) and, with ``--word-vector-dims`` (off by
default; no bundled model uses it), the mean of the sentence's word vectors
(``scripts/word_vectors.py``, learned from the unlabelled corpus text with every gold
sentence blanked out), trained on the development split without class weights
(``--class-weight balanced``: as up to ``core-text@1.8.0``). C is chosen by five-fold
out-of-fold macro F1 on it. Each type's threshold for adding a claim where no rule of that
type fired, and the level below which it drops a rule's claim, are chosen on the validation
split (:func:`choose_levels`), combined with the bundled rules' claims. The held-out split
is not read: score it afterwards, once, with ``claimtag evaluate``.

The file records how it was made (the gold files and their digest, C, the out-of-fold
figures) and the probabilities scikit-learn gives for the bundled pack's example sentences,
which tests/test_learned.py checks the numpy scorer reproduces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from claimtag import CLAIM_TYPES  # noqa: E402
from claimtag.gold import split_files  # noqa: E402
from claimtag.learned import FORMAT, METADATA_KEY, features  # noqa: E402

WORD_MIN_DF = 2
CHAR_MIN_DF = 3
MAX_CHAR_FEATURES = 200_000
C_GRID = (4.0, 16.0, 64.0)
#: The thresholds a type may get, besides 1.0 (the model adds no claims of the type). 0.4
#: and 0.5 serve models trained without class weights, whose probabilities follow the
#: base rates (a claim type is in about one sentence in six).
THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
#: The precision a type's claims must reach on the validation sample: the target, 0.85, and
#: a margin for the sample's error.
MIN_PRECISION = 0.87
#: The share of written text in the held-out split (1,956 of its 3,380 sentences; the rest
#: is corpus text): the mix the thresholds are chosen for.
WRITTEN_SHARE = 0.58
FOLDS = 5
#: The levels the model may veto rule claims below, and what a level must gain on the
#: validation sample over no veto (in the type's F1; with --veto shared, in macro F1).
VETOES = (0.02, 0.05, 0.1, 0.2)
MIN_VETO_GAIN = 0.002


class Vectoriser:
    """TF-IDF over :func:`features`, as :class:`claimtag.learned.TextModel` scores it, and,
    with ``vectors``, each text's mean word vector times ``vector_weight`` after them."""

    def __init__(
        self,
        texts: Sequence[str],
        vectors: Any = None,
        vector_weight: float = 0.0,
        min_words: int = 1,
    ) -> None:
        self.vectors = vectors
        self.vector_weight = vector_weight
        self.min_words = min_words
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        char_tf: Counter[str] = Counter()
        for text in texts:
            words, chars = features(text)
            word_df.update(set(words))
            char_df.update(set(chars))
            char_tf.update(chars)
        self.words = sorted(g for g, df in word_df.items() if df >= WORD_MIN_DF)
        kept = [g for g, df in char_df.items() if df >= CHAR_MIN_DF]
        kept.sort(key=lambda g: (-char_tf[g], g))
        self.chars = sorted(kept[:MAX_CHAR_FEATURES])
        n = len(texts)
        df = [word_df[g] for g in self.words] + [char_df[g] for g in self.chars]
        self.idf = np.log((1.0 + n) / (1.0 + np.asarray(df, dtype=np.float64))) + 1.0
        self.index = {g: i for i, g in enumerate(self.words)}
        self.char_index = {g: len(self.words) + i for i, g in enumerate(self.chars)}

    def rows(self, texts: Sequence[str]) -> list[dict[int, float]]:
        """Each text's TF-IDF features: {column: value}, each block of unit length."""
        out = []
        for text in texts:
            words, chars = features(text)
            row: dict[int, float] = {}
            for grams, index in ((words, self.index), (chars, self.char_index)):
                counts = Counter(index[g] for g in grams if g in index)
                x = {c: (1.0 + math.log(k)) * float(self.idf[c]) for c, k in counts.items()}
                norm = math.sqrt(sum(v * v for v in x.values()))
                row.update({c: v / norm for c, v in x.items()})
            out.append(row)
        return out

    def transform(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, row in enumerate(self.rows(texts)):
            rows.extend([r] * len(row))
            cols.extend(row)
            vals.extend(row.values())
        size = len(self.words) + len(self.chars)
        x = csr_matrix((vals, (rows, cols)), shape=(len(texts), size))
        if self.vectors is None:
            return x
        from scipy.sparse import hstack

        dense = self.vector_weight * self.vectors.mean(list(texts), self.min_words)
        return hstack([x, csr_matrix(dense)]).tocsr()


def _fit(x: Any, y: Any, c: float, weight: Any = None, balanced: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    return model.fit(x, y, sample_weight=weight)


def _f1(y: Any, pred: Any) -> float:
    tp = int(np.sum((y == 1) & (pred == 1)))
    fp = int(np.sum((y == 0) & (pred == 1)))
    fn = int(np.sum((y == 1) & (pred == 0)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _load(split: str, leave_out: Sequence[str] = ()) -> list[dict[str, Any]]:
    from claimtag.evaluate import default_prefilter, predict
    from claimtag.gold import load_gold
    from claimtag.rules import default_rules

    pack = default_rules()
    prefilter = default_prefilter(pack)
    rows = []
    for name in split_files(ROOT / "gold", split):
        if name in leave_out:
            continue
        for item in load_gold(ROOT / "gold" / f"{name}.jsonl", ROOT.parent / "shared" / "corpus"):
            got = predict(pack, item["text"], prefilter=prefilter).labels
            rows.append({"file": name, "text": item["text"], "gold": item["labels"], "rules": got})
    return rows


@dataclass
class Scored:
    """Validation sentences of one kind, scored: gold labels, the rules' claim types and the
    model's probability per type (one row per sentence)."""

    gold: list[set[str]]
    ruled: list[frozenset[str]]
    probs: dict[str, Any]

    def __len__(self) -> int:
        return len(self.gold)


def load_validation(
    vec: Vectoriser,
    models: dict[str, Any],
    corpus_paths: Sequence[Path],
    written_paths: Sequence[Path],
    banded_path: Path | None = None,
    development: Sequence[str] = (),
) -> tuple[dict[str, Scored], dict[str, Any]] | None:
    """The validation files, scored by ``models`` and the bundled rules, per kind: ``written``,
    written text drawn as a whole (``written_paths``); ``corpus``, corpus sentences drawn as
    the held-out corpus files are, half at random, half from the broad seed lists
    (``corpus_paths``); ``banded``, the corpus sample drawn per probability band where
    ``core-text@1.0.0`` would add claims (``banded_path``, ``gold/validation_model.jsonl``),
    reported, not used: another model's additions are not a sample of this one. None when
    a file is missing.

    Validation sentences that nearly repeat a ``development`` sentence (the same event
    retold, ``scripts/near_duplicates.py``) are left out: the model was trained on their
    twins, so they are not unseen text.
    """
    from near_duplicates import flag

    from claimtag.evaluate import default_prefilter, predict
    from claimtag.gold import load_gold
    from claimtag.rules import default_rules

    corpus_dir = ROOT.parent / "shared" / "corpus"
    if not all(p.exists() for p in [*corpus_paths, *written_paths]):
        return None
    corpus = [g for p in corpus_paths for g in load_gold(p, corpus_dir)]
    written = [g for p in written_paths for g in load_gold(p)]
    repeats = {}
    for name, items in (("corpus", corpus), ("written", written)):
        near = flag(items, development)
        repeats[name] = sum(near)
        items[:] = [i for i, dup in zip(items, near, strict=True) if not dup]
    print(
        f"validation: {len(corpus)} corpus and {len(written)} written sentences; left out as "
        f"near-duplicates of development: {repeats['corpus']} corpus, {repeats['written']} written"
    )
    banded = (
        load_gold(banded_path, corpus_dir)
        if banded_path is not None and banded_path.exists()
        else []
    )
    pack = default_rules()
    prefilter = default_prefilter(pack)

    def scored(items: list[dict[str, Any]]) -> Scored:
        if not items:
            return Scored([], [], {t: np.zeros(0) for t in CLAIM_TYPES})
        x = vec.transform([i["text"] for i in items])
        return Scored(
            [set(i["labels"]) for i in items],
            [predict(pack, i["text"], prefilter=prefilter).labels for i in items],
            {t: models[t].predict_proba(x)[:, 1] for t in CLAIM_TYPES},
        )

    files = [p.name for p in [*corpus_paths, *written_paths]]
    about = {
        "files": files,
        "reported_only": [banded_path.name] if banded and banded_path else [],
        "near_duplicates_left_out": repeats,
    }
    return {"corpus": scored(corpus), "written": scored(written), "banded": scored(banded)}, about


def _type_scores(s: Scored, t: str, threshold: float, veto: float) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of type ``t`` in ``s`` when the
    model vetoes rule claims below ``veto`` and adds claims at ``threshold`` or above."""
    tp = fp = fn = 0
    for k in range(len(s)):
        p = float(s.probs[t][k])
        said = p >= veto if t in s.ruled[k] else threshold < 1.0 and p >= threshold
        right = t in s.gold[k]
        tp += said and right
        fp += said and not right
        fn += right and not said
    return tp, fp, fn


def _mixed(scored: dict[str, Scored], t: str, threshold: float, veto: float) -> list[float]:
    """[precision, recall, F1] of type ``t`` in the validation text mixed as the held-out
    split mixes it (each kind's counts per sentence, weighted by its share)."""
    tp = fp = fn = 0.0
    for kind, share in (("written", WRITTEN_SHARE), ("corpus", 1 - WRITTEN_SHARE)):
        n = len(scored[kind])
        a, b, c = _type_scores(scored[kind], t, threshold, veto)
        tp, fp, fn = tp + share * a / n, fp + share * b / n, fn + share * c / n
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return [round(precision, 4), round(recall, 4), round(f1, 4)]


def _additions(scored: dict[str, Scored], t: str) -> dict[str, Any]:
    """For information: per threshold, the claims of type ``t`` the model adds (where no
    rule of the type fired) in each kind of validation text, and how many are right."""
    table = {}
    for k in THRESHOLDS:
        row = {}
        for kind in ("corpus", "written", "banded"):
            s = scored[kind]
            hits = [
                t in s.gold[i] for i in range(len(s)) if t not in s.ruled[i] and s.probs[t][i] >= k
            ]
            row["banded_corpus_sample" if kind == "banded" else kind] = [
                len(hits),
                round(sum(hits) / len(hits), 4) if hits else None,
            ]
        table[str(k)] = row
    return table


def _chosen_f1(table: dict[str, Any], t: str, veto: float) -> float:
    """Type ``t``'s F1 at veto level ``veto`` and the threshold chosen for it there."""
    row = table[str(veto)][t]
    return float(row["by_threshold"][str(row["threshold"])][2])


def choose_levels(
    scored: dict[str, Scored], per_type: bool = True
) -> tuple[list[float], list[float], dict[str, Any]]:
    """The model's thresholds and veto levels (one of each per type), chosen on the
    validation text mixed as the held-out split mixes it.

    For a veto level, each type's threshold is the one of :data:`THRESHOLDS` (1.0: the model
    adds no claims of the type) that gives the type's highest F1 among those at which the
    type's claims, the rules' and the model's together, are right at least
    :data:`MIN_PRECISION` of the time (the precision target plus a margin for the sample);
    when none is, the most precise. A type's F1 depends on its own levels alone, so each
    type's veto level is the one of :data:`VETOES` that gives it the highest F1, if that beats
    no veto (0) by at least :data:`MIN_VETO_GAIN`; the lower on a tie. ``per_type=False``
    chooses one veto level for every type by macro F1 instead, as up to ``core-text@1.9.0``.
    """
    table: dict[str, Any] = {}
    best: dict[float, tuple[float, list[float]]] = {}
    for veto in (0.0, *VETOES):
        table[str(veto)] = {}
        chosen = []
        f1s = []
        for t in CLAIM_TYPES:
            rows = {k: _mixed(scored, t, k, veto) for k in (*THRESHOLDS, 1.0)}
            ok = [k for k, r in rows.items() if r[0] >= MIN_PRECISION]
            pick = (
                max(ok, key=lambda k: (rows[k][2], k))
                if ok
                else max(rows, key=lambda k: (rows[k][0], k))
            )
            chosen.append(pick)
            f1s.append(rows[pick][2])
            table[str(veto)][t] = {
                "by_threshold": {str(k): r for k, r in rows.items()},
                "threshold": pick,
            }
        macro = sum(f1s) / len(f1s)
        table[str(veto)]["macro_f1"] = round(macro, 4)
        best[veto] = (macro, chosen)
        print(
            f"veto {veto}: thresholds {chosen}, validation mixed macro F1 {macro:.4f} ("
            + ", ".join(
                f"{t} P/R/F {table[str(veto)][t]['by_threshold'][str(k)]}"
                for t, k in zip(CLAIM_TYPES, chosen, strict=True)
            )
            + ")"
        )
    if per_type:
        vetoes, thresholds = [], []
        for t in CLAIM_TYPES:
            f1 = {v: _chosen_f1(table, t, v) for v in (0.0, *VETOES)}
            top = max(VETOES, key=lambda v: (round(f1[v], 4), -v))
            gain = f1[top] - f1[0.0]
            veto = top if gain >= MIN_VETO_GAIN else 0.0
            vetoes.append(veto)
            thresholds.append(table[str(veto)][t]["threshold"])
            print(f"-> {t}: veto {veto} (best {top}, gain {gain:+.4f}), threshold {thresholds[-1]}")
    else:
        top = max(VETOES, key=lambda v: (round(best[v][0], 4), -v))
        gain = best[top][0] - best[0.0][0]
        veto = top if gain >= MIN_VETO_GAIN else 0.0
        vetoes, thresholds = [veto] * len(CLAIM_TYPES), best[veto][1]
        print(f"-> veto {veto} (best {top}, gain {gain:+.4f}), thresholds {thresholds}")
    macro = sum(_chosen_f1(table, t, v) for t, v in zip(CLAIM_TYPES, vetoes, strict=True)) / len(
        CLAIM_TYPES
    )
    print(f"-> validation mixed macro F1 {macro:.4f}")
    additions = {t: _additions(scored, t) for t in CLAIM_TYPES}
    for t in CLAIM_TYPES:
        print(
            f"{t}: claims the model adds on validation and their precision "
            "(corpus; written; banded sample, not used): "
            + "; ".join(
                f"{k}: {v['corpus']}, {v['written']}, {v['banded_corpus_sample']}"
                for k, v in additions[t].items()
            )
        )
    rule = (
        (
            f"veto level per type: the best of {list(VETOES)} by the type's F1 if it gains "
            f">= {MIN_VETO_GAIN} over none"
            if per_type
            else f"veto level: the best of {list(VETOES)} by macro F1 if it gains >= "
            f"{MIN_VETO_GAIN} over none"
        )
        + f"; per type the threshold with the highest F1 among those whose claims "
        f"reach precision >= {MIN_PRECISION}; validation text mixed {WRITTEN_SHARE:.2f} written"
    )
    return (
        thresholds,
        vetoes,
        {
            "rule": rule,
            "by_veto": table,
            "macro_f1": round(macro, 4),
            "additions": additions,
        },
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--version", required=True, help="the model's version, MAJOR.MINOR.PATCH")
    ap.add_argument("--name", default="core-text")
    ap.add_argument("--out", type=Path, default=ROOT / "src/claimtag/data/core-text.parquet")
    ap.add_argument("--save-oof", type=Path, help="also write the out-of-fold probabilities (npz)")
    ap.add_argument(
        "--validation-corpus",
        type=Path,
        nargs="+",
        default=[ROOT / "gold" / f"validation{n}.jsonl" for n in (17, 21, 35)],
        help="corpus validation files drawn as the held-out corpus files are (default: "
        "validation17, 21 and 35; models up to core-text@1.9.1 were chosen on 17 and 21)",
    )
    ap.add_argument(
        "--validation-banded",
        type=Path,
        default=ROOT / "gold" / "validation_model.jsonl",
        help="the corpus sample of scripts/sample_validation.py (reported, not used)",
    )
    ap.add_argument(
        "--validation-written",
        type=Path,
        nargs="+",
        default=[
            ROOT / "gold" / "events23_validation.jsonl",
            ROOT / "gold" / "events25_validation.jsonl",
            ROOT / "gold" / "events33_validation.jsonl",
        ],
        help="written validation files, each drawn as a whole",
    )
    ap.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="NAME",
        help="a development gold file to train without (repeatable): core-text@1.6.0 was "
        "trained before dev24 existed, 1.9.0 before active31 (--leave-out active31 makes it "
        "again)",
    )
    ap.add_argument(
        "--class-weight",
        choices=("none", "balanced"),
        default="none",
        help="'balanced' weighs each type's positives up to its negatives, as the models up "
        "to core-text@1.8.0 were trained; 'none' (default) leaves probabilities at the base rates",
    )
    ap.add_argument(
        "--veto",
        choices=("per-type", "shared"),
        default="per-type",
        help="choose a veto level per type (default) or one for every type by macro F1, as "
        "up to core-text@1.9.0 ('shared')",
    )
    ap.add_argument(
        "--c",
        type=float,
        choices=C_GRID,
        help="the regularisation C to fit with, instead of the one with the best out-of-fold "
        "macro F1 (both are reported)",
    )
    ap.add_argument(
        "--word-vector-dims",
        type=int,
        default=0,
        help="dimensions of the word vectors learned from the corpus (scripts/word_vectors.py) "
        "whose mean is a feature (300 was tried); 0: none, as up to core-text@1.9.1 (default)",
    )
    ap.add_argument(
        "--vector-weight",
        type=float,
        default=3.0,
        help="the scale of the mean word vector against the unit-length n-gram blocks (default 3)",
    )
    ap.add_argument(
        "--vector-min-words",
        type=int,
        default=20,
        help="divide a sentence's sum of word vectors by its word count or by this, whichever "
        "is more, so one word cannot outweigh a short sentence (default 20; 1: the plain mean, "
        "as core-text@1.12.0)",
    )
    ap.add_argument(
        "--corpus-weight",
        type=float,
        default=1.0,
        help="weight of a corpus sentence in training, against 1 for a written one (default 1)",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.vector_min_words <= 1000:
        ap.error("--vector-min-words must be from 1 to 1000")
    unknown = sorted(set(args.leave_out) - set(split_files(ROOT / "gold", "development")))
    if unknown:
        print(f"not development gold files: {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        import sklearn
        from sklearn.model_selection import KFold
    except ImportError:
        print("scikit-learn is not installed: pip install -e '.[train]'", file=sys.stderr)
        return 1

    started = time.time()
    rows = _load("development", args.leave_out)
    texts = [r["text"] for r in rows]
    gold = {t: np.array([t in r["gold"] for r in rows], dtype=int) for t in CLAIM_TYPES}
    ruled = {t: np.array([t in r["rules"] for r in rows], dtype=int) for t in CLAIM_TYPES}
    weight = np.array([1.0 if r["file"].startswith("events") else args.corpus_weight for r in rows])
    balanced = args.class_weight == "balanced"
    print(f"development: {len(rows)} sentences from {len({r['file'] for r in rows})} files")

    vectors = None
    if args.word_vector_dims > 0:
        from word_vectors import build

        vectors = build(ROOT.parent / "shared" / "corpus", dims=args.word_vector_dims)

    def vectoriser(items: Sequence[str]) -> Vectoriser:
        return Vectoriser(items, vectors, args.vector_weight, args.vector_min_words)

    folds = list(KFold(FOLDS, shuffle=True, random_state=0).split(texts))
    matrices = []
    for train, test in folds:
        vec = vectoriser([texts[i] for i in train])
        matrices.append(
            (vec.transform([texts[i] for i in train]), vec.transform([texts[i] for i in test]))
        )
    cv: dict[str, float] = {}
    oof_by_c: dict[float, dict[str, Any]] = {}
    for c in C_GRID:
        oof = {t: np.zeros(len(rows)) for t in CLAIM_TYPES}
        for (train, test), (x_train, x_test) in zip(folds, matrices, strict=True):
            for t in CLAIM_TYPES:
                fitted = _fit(x_train, gold[t][train], c, weight[train], balanced)
                oof[t][test] = fitted.predict_proba(x_test)[:, 1]
        # the model alone, each type at its best threshold: how well C separates the types
        score = float(
            np.mean(
                [
                    max(_f1(gold[t], (oof[t] >= k).astype(int)) for k in np.arange(0.2, 0.96, 0.02))
                    for t in CLAIM_TYPES
                ]
            )
        )
        cv[str(c)] = round(score, 4)
        oof_by_c[c] = oof
        print(f"C={c}: out-of-fold macro F1 of the model alone {score:.4f}")
    best_c = args.c if args.c is not None else max(C_GRID, key=lambda c: cv[str(c)])
    oof = oof_by_c[best_c]
    if args.save_oof:
        np.savez(
            args.save_oof,
            **{f"p_{t}": oof[t] for t in CLAIM_TYPES},
            **{f"gold_{t}": gold[t] for t in CLAIM_TYPES},
            **{f"rules_{t}": ruled[t] for t in CLAIM_TYPES},
            files=np.array([r["file"] for r in rows]),
        )

    # What the model would add on development, out of fold: for information only. The rules
    # were written from this split's errors, so what they still miss here is the hard and
    # borderline cases; the thresholds are chosen on the validation split instead.
    dev_additions: dict[str, dict[str, list[int]]] = {}
    for t in CLAIM_TYPES:
        dev_additions[t] = {}
        for k in THRESHOLDS:
            added = (ruled[t] == 0) & (oof[t] >= k)
            dev_additions[t][str(k)] = [int(added.sum()), int((added & (gold[t] == 1)).sum())]
        print(
            f"{t}: development out of fold, added (right) at "
            + ", ".join(f"{k}: {n} ({r})" for k, (n, r) in dev_additions[t].items())
        )

    vec = vectoriser(texts)
    x = vec.transform(texts)
    models = {t: _fit(x, gold[t], best_c, weight, balanced) for t in CLAIM_TYPES}

    from claimtag.rules import default_rules

    loaded = load_validation(
        vec,
        models,
        args.validation_corpus,
        args.validation_written,
        args.validation_banded,
        development=texts,
    )
    if loaded is None:
        print("validation files missing: the model adds and vetoes no claims", file=sys.stderr)
        thresholds, vetoes = [1.0] * len(CLAIM_TYPES), [0.0] * len(CLAIM_TYPES)
        validation: dict[str, Any] = {"files": None}
    else:
        scored, about = loaded
        thresholds, vetoes, chosen = choose_levels(scored, args.veto == "per-type")
        validation = {**about, **chosen}

    checks = sorted({s for r in default_rules().rules for s in r.positive + r.negative})
    x_check = vec.transform(checks)
    expected = np.column_stack([models[t].predict_proba(x_check)[:, 1] for t in CLAIM_TYPES])

    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps([r["text"], sorted(r["gold"])]).encode())
        digest.update(b"\n")
    meta = {
        "format": FORMAT if vectors is not None else 1,
        **({"word_vector_min_words": args.vector_min_words} if vectors is not None else {}),
        "name": args.name,
        "version": args.version,
        "types": list(CLAIM_TYPES),
        "intercepts": [float(models[t].intercept_[0]) for t in CLAIM_TYPES],
        "thresholds": thresholds,
        "vetoes": vetoes,
        "training": {
            "split": "development",
            "gold_files": sorted({r["file"] for r in rows}),
            "sentences": len(rows),
            "positives": {t: int(gold[t].sum()) for t in CLAIM_TYPES},
            "labels_sha256": digest.hexdigest(),
            "features": {
                "words": [1, 2],
                "characters": [2, 5],
                "word_min_df": WORD_MIN_DF,
                "char_min_df": CHAR_MIN_DF,
                "max_char_features": MAX_CHAR_FEATURES,
                "tf": "1 + ln(count)",
                "idf": "ln((1 + n) / (1 + df)) + 1",
                "norm": "l2 per block",
                "word_vectors": None
                if vectors is None
                else {
                    **vectors.about,
                    "weight": args.vector_weight,
                    "min_words": args.vector_min_words,
                    "in_file_as": "block 2",
                },
            },
            "estimator": "sklearn LogisticRegression(lbfgs, class_weight="
            + ("balanced)" if balanced else "None)"),
            "C": best_c,
            "C_chosen_by": "--c" if args.c is not None else "out-of-fold macro F1",
            "corpus_weight": args.corpus_weight,
            "veto": args.veto,
            "cv": {
                "folds": FOLDS,
                "macro_f1_model_alone_by_C": cv,
                "development_additions_out_of_fold": dev_additions,
            },
            "thresholds_chosen_on": validation,
            "rules": default_rules().version,
            "scikit_learn": sklearn.__version__,
        },
        "checks": {"texts": checks, "probabilities": expected.round(8).tolist()},
    }
    coef = np.column_stack([models[t].coef_[0] for t in CLAIM_TYPES])
    size = len(vec.words) + len(vec.chars)
    weights = coef[:size]
    grams = vec.words + vec.chars
    blocks = [0] * len(vec.words) + [1] * len(vec.chars)
    idf = vec.idf
    if vectors is not None:
        # The model is linear in the mean word vector: fold the vectors into one weight per
        # word and type (the vector's weight times its dot product with the coefficients).
        folded = args.vector_weight * (vectors.vectors @ coef[size:])
        weights = np.vstack([weights, folded])
        grams = grams + vectors.words
        blocks = blocks + [2] * len(vectors.words)
        idf = np.concatenate([idf, np.ones(len(vectors.words))])
    weights = weights.astype(np.float32)
    columns: dict[str, Any] = {
        "block": pa.array(blocks, pa.int8()),
        "gram": pa.array(grams, pa.string()),
        "idf": pa.array(idf.astype(np.float32)),
    }
    for i, t in enumerate(CLAIM_TYPES):
        columns[f"w_{t}"] = pa.array(weights[:, i])
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(meta)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out, compression="zstd", compression_level=19)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(vec.words)} word, "
        f"{len(vec.chars)} character and {len(grams) - size} word-vector features, C={best_c}, "
        f"thresholds {thresholds}, "
        f"vetoes {vetoes}, {time.time() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
