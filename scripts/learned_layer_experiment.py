#!/usr/bin/env python3
"""Would a learned text classifier beside the rules help on unseen text? A measurement.

Not part of claimtag: it needs scikit-learn, which the project does not depend on.

    .venv/bin/pip install scikit-learn
    .venv/bin/python scripts/learned_layer_experiment.py

One logistic regression per claim type over TF-IDF word 1-2-grams and character 2-5-grams,
trained on the development split only. Every choice -- the features, C, the decision
threshold of the model alone, and the two thresholds of the combination -- is made on
five-fold out-of-fold probabilities of the development split; the held-out split is scored
once with those choices. The combination keeps every rule claim whose model probability is
at least ``low`` and adds a claim no rule made when the probability is at least ``high``.
Rule predictions come from the bundled pack, as ``claimtag evaluate`` makes them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("threat", "alliance", "economic_leverage")
CHOICES = [("word 1-2", C) for C in (1.0, 4.0, 16.0)] + [
    ("word 1-2 + char 2-5", C) for C in (1.0, 4.0, 16.0)
]


def _rows(split: str) -> list[dict[str, Any]]:
    from claimtag.evaluate import default_prefilter, predict
    from claimtag.gold import load_gold, split_files
    from claimtag.rules import default_rules

    pack = default_rules()
    prefilter = default_prefilter(pack)
    rows = []
    for name in split_files(ROOT / "gold", split):
        for item in load_gold(ROOT / "gold" / f"{name}.jsonl", ROOT.parent / "shared" / "corpus"):
            rows.append(
                {
                    "id": item["id"],
                    "text": item["text"],
                    "gold": set(item["labels"]),
                    "rules": set(predict(pack, item["text"], prefilter=prefilter).labels),
                }
            )
    return rows


def main() -> int:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score, precision_score, recall_score
        from sklearn.model_selection import KFold
        from sklearn.pipeline import make_union
    except ImportError:
        print("scikit-learn is not installed: pip install scikit-learn", file=sys.stderr)
        return 1

    def vectoriser(features: str) -> Any:
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        if features == "word 1-2":
            return words
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            min_df=3,
            sublinear_tf=True,
            max_features=200_000,
        )
        return make_union(words, chars)

    def gold(rows: list[dict[str, Any]], t: str) -> Any:
        return np.array([t in r["gold"] for r in rows], dtype=int)

    def ruled(rows: list[dict[str, Any]], t: str) -> Any:
        return np.array([t in r["rules"] for r in rows], dtype=int)

    def fit(
        features: str, c: float, train: list[dict[str, Any]], test: list[dict[str, Any]]
    ) -> dict[str, Any]:
        vec = vectoriser(features)
        x_train = vec.fit_transform([r["text"] for r in train])
        x_test = vec.transform([r["text"] for r in test])
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        return {t: model.fit(x_train, gold(train, t)).predict_proba(x_test)[:, 1] for t in TYPES}

    def out_of_fold(features: str, c: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
        probs = {t: np.zeros(len(rows)) for t in TYPES}
        for train, test in KFold(5, shuffle=True, random_state=0).split(rows):
            got = fit(features, c, [rows[i] for i in train], [rows[i] for i in test])
            for t in TYPES:
                probs[t][test] = got[t]
        return probs

    def report(name: str, rows: list[dict[str, Any]], pred: dict[str, Any]) -> None:
        f = [f1_score(gold(rows, t), pred[t]) for t in TYPES]
        p = [precision_score(gold(rows, t), pred[t]) for t in TYPES]
        r = [recall_score(gold(rows, t), pred[t]) for t in TYPES]
        print(
            f"{name:44s} macro F1 {np.mean(f):.4f} | precision "
            + " / ".join(f"{v:.3f}" for v in p)
            + " | recall "
            + " / ".join(f"{v:.3f}" for v in r)
        )

    dev, held = _rows("development"), _rows("heldout")
    print(f"development {len(dev)} sentences, held-out {len(held)}")
    cuts = np.arange(0.2, 0.96, 0.02)
    best: tuple[float, str, float, dict[str, Any], dict[str, float]] | None = None
    for features, c in CHOICES:
        probs = out_of_fold(features, c, dev)
        threshold = {
            t: max(cuts, key=lambda k, t=t: f1_score(gold(dev, t), probs[t] >= k)) for t in TYPES
        }
        score = float(np.mean([f1_score(gold(dev, t), probs[t] >= threshold[t]) for t in TYPES]))
        print(f"development, out of fold: {features}, C={c}: macro F1 {score:.4f}")
        if best is None or score > best[0]:
            best = (score, features, c, probs, threshold)
    assert best is not None
    _, features, c, probs, threshold = best
    combine = {}
    for t in TYPES:
        y, r, p = gold(dev, t), ruled(dev, t), probs[t]
        combine[t] = max(
            ((lo, hi) for lo in np.arange(0.0, 0.5, 0.05) for hi in np.arange(0.5, 1.0, 0.05)),
            key=lambda lh, y=y, r=r, p=p: f1_score(
                y, ((r == 1) & (p >= lh[0])) | ((r == 0) & (p >= lh[1]))
            ),
        )
    print(
        f"chosen on development: {features}, C={c}; thresholds "
        + ", ".join(f"{t} {float(threshold[t]):.2f}" for t in TYPES)
        + "; combination (low, high) "
        + ", ".join(f"{t} {float(lo):.2f}, {float(hi):.2f}" for t, (lo, hi) in combine.items())
    )

    probs = fit(features, c, dev, held)
    report("held-out, rules", held, {t: ruled(held, t) for t in TYPES})
    report(
        "held-out, model alone", held, {t: (probs[t] >= threshold[t]).astype(int) for t in TYPES}
    )
    both = {
        t: (
            ((ruled(held, t) == 1) & (probs[t] >= combine[t][0]))
            | ((ruled(held, t) == 0) & (probs[t] >= combine[t][1]))
        ).astype(int)
        for t in TYPES
    }
    report("held-out, rules + model (combination)", held, both)
    for label, written in (("real corpus", False), ("written", True)):
        idx = np.array([i for i, r in enumerate(held) if r["id"].startswith("events") == written])
        part = [held[i] for i in idx]
        report(f"held-out {label}, rules", part, {t: ruled(part, t) for t in TYPES})
        report(
            f"held-out {label}, model alone",
            part,
            {t: (probs[t][idx] >= threshold[t]).astype(int) for t in TYPES},
        )
        report(f"held-out {label}, rules + model", part, {t: both[t][idx] for t in TYPES})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
