"""Measuring the tagger against gold sentences: per-type scores, attributes, rules, calibration.

Gold format (JSONL, one sentence per line): ``{"id", "text", "labels": [types]}`` and,
optionally, ``"negated"``, ``"hedged"`` (bools) and ``"actors"`` (codes). Lines that carry a
corpus reference instead of text (``corpus``, ``doc_id``, ``start``, ``end``, ``sha1``) are
materialised from the corpus folder (see ``claimtag.gold``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from claimtag import CLAIM_TYPES
from claimtag.actors import ActorResolver
from claimtag.classify import Claim, add_learned_claims, classify_sentence, is_non_assertive
from claimtag.learned import TextModel, learned_rule_id
from claimtag.pipeline import tagger_version
from claimtag.prefilter import Prefilter, RegexPrefilter, prefilter_if_ready
from claimtag.rules import RulePack
from claimtag.types import Sentence

BUCKETS = ((0.0, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.0001))


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a tagger said about one gold sentence."""

    labels: frozenset[str]
    claims: tuple[Claim, ...] = ()
    actors: tuple[str, ...] = ()


def predict(
    rules: RulePack,
    text: str,
    resolver: ActorResolver | None = None,
    home: str | None = None,
    year: int | None = None,
    prefilter: Prefilter | None = None,
    model: TextModel | None = None,
    probabilities: Any = None,
) -> Prediction:
    """The rules' claims for one gold sentence, classified as a whole, as a run would.

    Like a run, it passes over non-assertive lines (a heading: a short line without
    sentence punctuation; bylines; links), and it tries only the rules the prefilter names
    as candidates, which gives the same claims as trying every rule (``prefilter``; default:
    :func:`default_prefilter`). ``model``: a learned model that adds claims the rules did
    not make, as in a run; ``probabilities``: its scores of ``text`` (one row), when they
    were scored already.
    """
    claims: tuple[Claim, ...] = ()
    if text and not is_non_assertive(text, 0, len(text)):
        scan = default_prefilter(rules) if prefilter is None else prefilter
        screened = scan.screen(text, [Sentence(0, 0, 0, len(text))]).get(0)
        if screened is not None:
            candidates, cues = screened
            claims = tuple(classify_sentence(rules, text, 0, candidates, cues))
        if model is not None:
            probs = None if probabilities is None else probabilities.reshape(1, -1)
            claims = tuple(add_learned_claims(rules, model, [text], [0], [list(claims)], probs)[0])
    actors = tuple((resolver or ActorResolver.default()).codes(text, home, year))
    return Prediction(frozenset(c.claim_type for c in claims), claims, actors)


def default_prefilter(rules: RulePack) -> Prefilter:
    """The pack's Hyperscan prefilter when it is ready (built, or cached by an earlier run),
    else the ``re`` fallback: evaluating a pack being edited never waits for a compile.
    Both give the same claims; Hyperscan makes evaluation about eight times faster. Chosen
    once per pack object."""
    entry = _DEFAULT_PREFILTER.get(id(rules))
    if entry is None or entry[0] is not rules:
        entry = (rules, prefilter_if_ready(rules) or RegexPrefilter(rules))
        _DEFAULT_PREFILTER[id(rules)] = entry
    return entry[1]


_DEFAULT_PREFILTER: dict[int, tuple[RulePack, Prefilter]] = {}


@cache
def baseline_keywords() -> dict[str, tuple[str, ...]]:
    """The keyword baseline's flat word list per claim type (data, not code)."""
    text = (resources.files("claimtag") / "data" / "baseline_keywords.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {t: tuple(data[t]) for t in CLAIM_TYPES}


@cache
def _baseline_patterns() -> dict[str, re.Pattern[str]]:
    return {
        t: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
        for t, words in baseline_keywords().items()
    }


def predict_baseline(text: str) -> Prediction:
    """Keyword baseline: a type when any of its words occurs, with no context at all."""
    return Prediction(frozenset(t for t, p in _baseline_patterns().items() if p.search(text)))


# --- scores ---------------------------------------------------------------------------------


@dataclass(slots=True)
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def score_labels(
    gold: Sequence[Mapping[str, Any]], predictions: Sequence[Prediction]
) -> dict[str, Any]:
    """Per-type P/R/F1/support, micro and macro F1, exact match and a type confusion table."""
    per_type = {t: TypeScore() for t in CLAIM_TYPES}
    exact = 0
    # confusion[g][p]: sentences whose gold has g and whose prediction has p ("none" = empty)
    names = [*CLAIM_TYPES, "none"]
    confusion = {g: dict.fromkeys(names, 0) for g in names}
    for item, pred in zip(gold, predictions, strict=True):
        truth = set(item["labels"])
        exact += truth == set(pred.labels)
        for t in CLAIM_TYPES:
            s = per_type[t]
            if t in truth and t in pred.labels:
                s.tp += 1
            elif t in pred.labels:
                s.fp += 1
            elif t in truth:
                s.fn += 1
            else:
                s.tn += 1
        for g in truth or {"none"}:
            for p in pred.labels or {"none"}:
                confusion[g][p] += 1
    micro = TypeScore(
        tp=sum(s.tp for s in per_type.values()),
        fp=sum(s.fp for s in per_type.values()),
        fn=sum(s.fn for s in per_type.values()),
    )
    return {
        "n": len(gold),
        "per_type": {t: s.as_dict() for t, s in per_type.items()},
        "micro_f1": round(micro.f1, 4),
        "macro_f1": round(sum(s.f1 for s in per_type.values()) / len(per_type), 4),
        "exact_match": round(exact / len(gold), 4) if gold else 0.0,
        "confusion": confusion,
    }


def _claims_of(pred: Prediction, types: Iterable[str]) -> list[Claim]:
    wanted = set(types)
    return [c for c in pred.claims if c.claim_type in wanted]


def score_attributes(
    gold: Sequence[Mapping[str, Any]], predictions: Sequence[Prediction]
) -> dict[str, Any]:
    """Accuracy of negated / hedged on sentences that gold and tagger both tag, and actors."""
    out: dict[str, Any] = {}
    for attr in ("negated", "hedged"):
        right = total = 0
        for item, pred in zip(gold, predictions, strict=True):
            if attr not in item or not item["labels"]:
                continue
            claims = _claims_of(pred, item["labels"])
            if not claims:
                continue
            total += 1
            right += any(getattr(c, attr) for c in claims) == bool(item[attr])
        out[attr] = {"accuracy": round(right / total, 4) if total else None, "n": total}
    right = total = 0
    for item, pred in zip(gold, predictions, strict=True):
        if item.get("actors"):
            total += 1
            right += set(pred.actors) == set(item["actors"])
    out["actors_exact"] = {"accuracy": round(right / total, 4) if total else None, "n": total}
    return out


def reliability(
    gold: Sequence[Mapping[str, Any]], predictions: Sequence[Prediction]
) -> list[dict[str, Any]]:
    """Per confidence bucket: how many predicted claims, and how many of them are right."""
    rows = []
    for lo, hi in BUCKETS:
        n = right = 0
        for item, pred in zip(gold, predictions, strict=True):
            for c in pred.claims:
                if lo <= c.confidence < hi:
                    n += 1
                    right += c.claim_type in item["labels"]
        rows.append(
            {
                "bucket": f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}",
                "claims": n,
                "precision": round(right / n, 4) if n else None,
            }
        )
    return rows


def errors(
    gold: Sequence[Mapping[str, Any]], predictions: Sequence[Prediction], *, limit: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """The worst false positives (most confident first) and false negatives, with the rules."""
    fps: list[dict[str, Any]] = []
    fns: list[dict[str, Any]] = []
    for item, pred in zip(gold, predictions, strict=True):
        truth = set(item["labels"])
        for c in pred.claims:
            if c.claim_type not in truth:
                fps.append(
                    {
                        "id": item["id"],
                        "type": c.claim_type,
                        "confidence": c.confidence,
                        "rules": c.rule_ids,
                        "evidence": [m.text for m in c.matches][:3],
                        "text": item["text"],
                    }
                )
        for t in sorted(truth - pred.labels):
            fns.append(
                {
                    "id": item["id"],
                    "type": t,
                    "predicted": sorted(pred.labels),
                    "rules": sorted({r for c in pred.claims for r in c.rule_ids}),
                    "text": item["text"],
                }
            )
    fps.sort(key=lambda e: (-e["confidence"], e["id"]))
    fns.sort(key=lambda e: (len(e["text"]), e["id"]))
    return {"false_positives": fps[:limit], "false_negatives": fns[:limit]}


# --- per-rule diagnostics ------------------------------------------------------------------


@dataclass(slots=True)
class RuleStats:
    rule_id: str
    claim_type: str
    hits: int = 0
    correct: int = 0
    alone: int = 0
    overlaps: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)


def rule_report(
    rules: RulePack,
    gold: Sequence[Mapping[str, Any]],
    predictions: Sequence[Prediction],
    model: TextModel | None = None,
) -> list[dict[str, Any]]:
    """For every rule: hits, coverage, precision, overlaps, conflicts, unique hits.

    * coverage: share of gold sentences the rule fires on;
    * precision: share of its hits whose gold labels include the rule's type;
    * unique: hits where no other rule of the same type fired (what the rule adds);
    * overlaps: other rules of the same type firing on the same sentences;
    * conflicts: rules of another type firing on the same sentences where the gold has
      exactly one of the two types (one of them is wrong there).

    With a ``model``, its claims are reported as rules too (``learned.<type>``).
    """
    stats = {r.id: RuleStats(r.id, r.claim_type) for r in rules.rules}
    if model is not None:
        for t in model.types:
            stats[learned_rule_id(t)] = RuleStats(learned_rule_id(t), t)
    for item, pred in zip(gold, predictions, strict=True):
        truth = set(item["labels"])
        fired = {m.rule_id: m.claim_type for c in pred.claims for m in c.matches}
        for rule_id, claim_type in fired.items():
            s = stats[rule_id]
            s.hits += 1
            s.correct += claim_type in truth
            same = [r for r, t in fired.items() if t == claim_type and r != rule_id]
            s.alone += not same
            s.overlaps.update(same)
            for other, other_type in fired.items():
                if other_type != claim_type and (claim_type in truth) != (other_type in truth):
                    s.conflicts[other] += 1
    n = max(len(gold), 1)
    return [
        {
            "rule_id": s.rule_id,
            "claim_type": s.claim_type,
            "hits": s.hits,
            "coverage": round(s.hits / n, 4),
            "precision": round(s.correct / s.hits, 4) if s.hits else None,
            "correct": s.correct,
            "unique": s.alone,
            "overlaps": dict(s.overlaps.most_common(3)),
            "conflicts": dict(s.conflicts.most_common(3)),
        }
        for s in stats.values()
    ]


# --- the whole evaluation ------------------------------------------------------------------


def evaluate(
    rules: RulePack,
    gold: Sequence[Mapping[str, Any]],
    prefilter: Prefilter | None = None,
    model: TextModel | None = None,
) -> dict[str, Any]:
    """Every figure of ``claimtag evaluate`` as one JSON-able dict.

    ``prefilter``: the candidate scan :func:`predict` uses (default:
    :func:`default_prefilter`). ``model``: the learned model beside the rules, if any.
    """
    resolver = ActorResolver.default()
    scan = default_prefilter(rules) if prefilter is None else prefilter
    # the model scores every sentence in one call (a call costs about a millisecond)
    probs = None if model is None else model.probabilities([g["text"] for g in gold])
    predictions = [
        predict(
            rules,
            g["text"],
            resolver,
            g.get("home"),
            g.get("year"),
            scan,
            model,
            None if probs is None else probs[k],
        )
        for k, g in enumerate(gold)
    ]
    baseline = [predict_baseline(g["text"]) for g in gold]
    scores = score_labels(gold, predictions)
    base_scores = score_labels(gold, baseline)
    return {
        "rule_pack": tagger_version(rules, model),
        "model": None if model is None else model.label,
        "n": len(gold),
        "n_with_claims": sum(bool(g["labels"]) for g in gold),
        "rules": scores,
        "baseline": base_scores,
        "macro_f1_gain_over_baseline": round(scores["macro_f1"] - base_scores["macro_f1"], 4),
        "attributes": score_attributes(gold, predictions),
        "reliability": reliability(gold, predictions),
        "errors": errors(gold, predictions),
        "rule_diagnostics": rule_report(rules, gold, predictions, model),
    }


def render(result: Mapping[str, Any], *, rules_table: bool = False) -> str:
    """The evaluation as text for a terminal."""
    lines = [
        f"gold: {result['n']} sentence(s), {result['n_with_claims']} with claims; "
        f"rules {result['rule_pack']}",
        "",
    ]
    lines.append(f"{'type':<20}{'P':>8}{'R':>8}{'F1':>8}{'support':>9}   baseline F1")
    for t in CLAIM_TYPES:
        s = result["rules"]["per_type"][t]
        b = result["baseline"]["per_type"][t]
        lines.append(
            f"{t:<20}{s['precision']:>8.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}"
            f"{s['support']:>9}   {b['f1']:.3f}"
        )
    r, b = result["rules"], result["baseline"]
    lines += [
        f"{'micro F1':<20}{r['micro_f1']:>24.3f}{'':>9}   {b['micro_f1']:.3f}",
        f"{'macro F1':<20}{r['macro_f1']:>24.3f}{'':>9}   {b['macro_f1']:.3f}",
        f"{'exact match':<20}{r['exact_match']:>24.3f}{'':>9}   {b['exact_match']:.3f}",
        f"macro-F1 gain over the keyword baseline: {result['macro_f1_gain_over_baseline']:+.3f}",
        "",
        "confusion (rows: gold type, columns: predicted type; sentences)",
        f"{'':<20}" + "".join(f"{c[:10]:>12}" for c in [*CLAIM_TYPES, "none"]),
    ]
    for g, row in r["confusion"].items():
        lines.append(f"{g:<20}" + "".join(f"{row[c]:>12}" for c in [*CLAIM_TYPES, "none"]))
    lines.append("")
    for name, a in result["attributes"].items():
        acc = "n/a" if a["accuracy"] is None else f"{a['accuracy']:.3f}"
        lines.append(f"{name + ' accuracy':<20}{acc:>8}  (n={a['n']})")
    lines += ["", "reliability (predicted claims by confidence)"]
    for row in result["reliability"]:
        p = "   -" if row["precision"] is None else f"{row['precision']:.3f}"
        lines.append(f"  {row['bucket']:<14}{row['claims']:>6} claims  precision {p}")
    for kind in ("false_positives", "false_negatives"):
        lines += ["", kind.replace("_", " ") + ":"]
        for e in result["errors"][kind]:
            lines.append(f"  [{e['type']}] {e['id']}  rules={','.join(e['rules']) or '-'}")
            lines.append(f"      {e['text'][:160]}")
    if rules_table:
        lines += ["", render_rules(result["rule_diagnostics"])]
    return "\n".join(lines)


def render_rules(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-rule diagnostics as a table."""
    out = [f"{'rule':<36}{'hits':>6}{'cover':>8}{'prec':>7}{'uniq':>6}  overlaps / conflicts"]
    for r in sorted(rows, key=lambda r: (r["claim_type"], -r["hits"])):
        prec = "    -" if r["precision"] is None else f"{r['precision']:.2f}"
        ov = ",".join(f"{k}×{v}" for k, v in r["overlaps"].items()) or "-"
        co = ",".join(f"{k}×{v}" for k, v in r["conflicts"].items()) or "-"
        out.append(
            f"{r['rule_id']:<36}{r['hits']:>6}{r['coverage']:>8.3f}{prec:>7}"
            f"{r['unique']:>6}  {ov} / {co}"
        )
    never = [r["rule_id"] for r in rows if r["hits"] == 0]
    out.append(f"rules that never fire: {', '.join(never) if never else 'none'}")
    return "\n".join(out)
