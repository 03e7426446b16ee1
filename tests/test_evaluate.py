"""Evaluation arithmetic on hand-made gold, gold loading, and the CLI's quality floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimtag.classify import classify_sentence, is_non_assertive
from claimtag.cli import main
from claimtag.errors import InputError
from claimtag.evaluate import (
    Prediction,
    default_prefilter,
    evaluate,
    predict,
    predict_baseline,
    reliability,
    score_labels,
)
from claimtag.gold import load_gold, normalise
from claimtag.prefilter import (
    HyperscanPrefilter,
    RegexPrefilter,
    prefilter_for,
    prefilter_if_ready,
)
from claimtag.rules import compile_packs, default_rules, parse_pack

GOLD = [
    {"id": "1", "text": "a", "labels": ["threat"]},
    {"id": "2", "text": "b", "labels": ["threat", "alliance"]},
    {"id": "3", "text": "c", "labels": []},
    {"id": "4", "text": "d", "labels": ["economic_leverage"]},
]
PRED = [
    Prediction(frozenset({"threat"})),
    Prediction(frozenset({"threat"})),
    Prediction(frozenset({"alliance"})),
    Prediction(frozenset()),
]


def test_per_type_scores() -> None:
    scores = score_labels(GOLD, PRED)
    threat, alliance, econ = (
        scores["per_type"][t] for t in ("threat", "alliance", "economic_leverage")
    )
    assert (threat["tp"], threat["fp"], threat["fn"], threat["precision"], threat["recall"]) == (
        2,
        0,
        0,
        1.0,
        1.0,
    )
    assert (alliance["tp"], alliance["fp"], alliance["fn"], alliance["f1"]) == (0, 1, 1, 0.0)
    assert (econ["support"], econ["recall"]) == (1, 0.0)
    assert scores["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)
    assert scores["micro_f1"] == pytest.approx(
        2 * (2 / 3) * (2 / 4) / ((2 / 3) + (2 / 4)), abs=1e-4
    )
    assert scores["exact_match"] == 0.25
    assert scores["confusion"]["none"]["alliance"] == 1
    assert scores["confusion"]["economic_leverage"]["none"] == 1


def test_reliability_buckets_count_claims() -> None:
    gold = [{"id": "x", "text": "Troops invaded the town.", "labels": ["threat"]}]
    claims = tuple(classify_sentence(default_rules(), gold[0]["text"]))
    rows = reliability(gold, [Prediction(frozenset({"threat"}), claims)])
    assert sum(r["claims"] for r in rows) == 1
    assert [r["precision"] for r in rows if r["claims"]] == [1.0]


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("The trade war escalated.", {"threat", "economic_leverage"}),
        ("GDP grew 2% last year.", set()),
        ("Allies met at the summit.", {"alliance"}),
    ],
)
def test_keyword_baseline_has_no_context(text: str, labels: set[str]) -> None:
    assert set(predict_baseline(text).labels) == labels


def test_load_gold_materialises_references(tmp_path: Path) -> None:
    import hashlib

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "Intro.  Troops\n   massed on the border."
    (corpus / "japan_nato_foreword.txt").write_text(text)
    start, end = 8, len(text)
    span = text[start:end]
    ref = {
        "corpus": "japan_nato_foreword",
        "doc_id": "japan_nato_foreword.txt",
        "start": start,
        "end": end,
        "sha1": hashlib.sha1(span.encode()).hexdigest(),
        "labels": ["threat"],
        "id": "r1",
    }
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps(ref) + "\n" + json.dumps({"text": "Plain.", "labels": []}) + "\n")
    items = load_gold(gold, corpus)
    assert [i["text"] for i in items] == ["Troops massed on the border.", "Plain."]
    assert items[1]["id"] == "g.jsonl:2"
    bad = {**ref, "sha1": "0" * 40}
    gold.write_text(json.dumps(bad) + "\n")
    with pytest.raises(InputError, match="SHA-1 mismatch"):
        load_gold(gold, corpus)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"text": "x"}', "needs 'labels'"),
        ('{"text": "x", "labels": ["weather"]}', "unknown claim type"),
        ('{"corpus": "nope", "doc_id": "d", "start": 0, "end": 1, "labels": []}', "unknown corpus"),
    ],
)
def test_bad_gold_lines(tmp_path: Path, line: str, message: str) -> None:
    gold = tmp_path / "g.jsonl"
    gold.write_text(line + "\n")
    with pytest.raises(InputError, match=message):
        load_gold(gold, tmp_path)


def test_normalise() -> None:
    assert normalise("  a\n    b\tc  ") == "a b c"


def test_cli_evaluate_json_and_floor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tmp_path / "g.jsonl"
    rows: list[dict[str, Any]] = [
        {
            "id": "1",
            "text": "Moscow has massed troops along the border.",
            "labels": ["threat"],
            "negated": False,
            "hedged": False,
            "actors": ["RUS"],
        },
        {
            "id": "2",
            "text": "The EU adopted sanctions against Russian banks.",
            "labels": ["economic_leverage"],
            "actors": ["EU", "RUS"],
        },
        {"id": "3", "text": "The ministers met in Geneva.", "labels": []},
    ]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["evaluate", "--gold", str(gold), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rules"]["per_type"]["threat"]["f1"] == 1.0
    assert result["attributes"]["actors_exact"] == {"accuracy": 1.0, "n": 2}
    assert main(["evaluate", "--gold", str(gold), "--min-macro-f1", "0.99"]) == 1
    assert "below the floor" in capsys.readouterr().err
    assert main(["rules", "report", "--gold", str(gold)]) == 0
    assert "rules that never fire" in capsys.readouterr().out


def test_gold_references_carry_home_and_year(tmp_path: Path) -> None:
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not (corpus / "un_general_debates.parquet").exists():
        pytest.skip("needs ../shared/corpus")
    rows = [
        json.loads(line)
        for line in (Path(__file__).resolve().parents[1] / "gold" / "dev2.jsonl")
        .read_text()
        .splitlines()
    ]
    picked = [r for r in rows if r["corpus"] == "un_general_debates"][:1]
    picked += [r for r in rows if r["corpus"] == "us_state_of_the_union"][:1]
    picked += [r for r in rows if r["corpus"] == "reuters21578"][:1]
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in picked))
    un, sotu, reuters = load_gold(path, corpus)
    assert un["home"] == un["doc_id"].split("_")[0]
    assert 1946 <= un["year"] <= 2030
    assert sotu["home"] == "USA"
    assert 1790 <= sotu["year"] <= 2030
    assert "home" not in reuters
    assert reuters["year"] == 1987


def _example_sentences() -> list[str]:
    pack = default_rules()
    return sorted({t for r in pack.rules for t in (*r.positive, *r.negative)})


@pytest.mark.parametrize("scan", ["hyperscan", "re"])
def test_predict_through_the_prefilter_equals_trying_every_rule(scan: str) -> None:
    """``predict`` tries only the prefilter's candidate rules, as a run does; on every example
    sentence of the bundled pack (positives and negatives) that must change nothing: the same
    claims, rules, matched text, confidence, negation and hedging as trying all rules."""
    pack = default_rules()
    prefilter = prefilter_for(pack) if scan == "hyperscan" else RegexPrefilter(pack)
    texts = _example_sentences()
    assert len(texts) > 800
    every_rule = {
        t: () if is_non_assertive(t, 0, len(t)) else tuple(classify_sentence(pack, t))
        for t in texts
    }
    differ = [t for t in texts if predict(pack, t, prefilter=prefilter).claims != every_rule[t]]
    assert differ == []
    assert sum(bool(every_rule[t]) for t in texts) > 400


TINY_PACK = """
name: tiny
version: 0.0.1
rules:
  - id: t.war
    claim_type: threat
    patterns: ["\\\\bwar\\\\b"]
    weight: 0.7
    examples: {positive: ["The war went on."], negative: ["Peace at last."]}
"""


def test_evaluation_never_waits_for_a_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack with no compiled prefilter on this machine is evaluated through ``re`` (same
    claims); once a run has compiled and cached it, evaluation picks the cached one up."""
    monkeypatch.setenv("CLAIMTAG_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("CLAIMTAG_PREFILTER", raising=False)
    gold = [{"id": "1", "text": "The war in the east went on.", "labels": ["threat"]}]
    fresh = compile_packs([parse_pack(TINY_PACK, "tiny.yaml")])
    assert prefilter_if_ready(fresh) is None
    assert isinstance(default_prefilter(fresh), RegexPrefilter)
    assert evaluate(fresh, gold)["rules"]["per_type"]["threat"]["tp"] == 1
    assert list(tmp_path.glob("hs-*")) == []  # no Hyperscan database was compiled
    assert isinstance(prefilter_for(fresh), HyperscanPrefilter)  # a run compiles and caches
    assert list(tmp_path.glob("hs-*.db"))
    again = compile_packs([parse_pack(TINY_PACK, "tiny.yaml")])  # a new process, in effect
    assert isinstance(default_prefilter(again), HyperscanPrefilter)
    assert evaluate(again, gold)["rules"]["per_type"]["threat"]["tp"] == 1
