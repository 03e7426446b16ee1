"""The Hyperscan prefilter finds a superset of what the rules match: same claims as plain re."""

from __future__ import annotations

import logging
import random
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from claimtag.classify import assertive_indices, classify_document
from claimtag.prefilter import (
    HyperscanPrefilter,
    RegexPrefilter,
    _compile,
    prefilter_for,
    to_hyperscan,
)
from claimtag.rules import default_rules
from claimtag.segment import split_sentences

hyperscan = pytest.importorskip("hyperscan")

WIDE = r"\x{80}-\x{10FFFF}"
SPACE = r"\x1c-\x1f" + WIDE  # re's \s also has \x1c-\x1f


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bwar\b", r"\bwar\b"),
        (r"nuclear\s+arms", rf"nuclear[\s{SPACE}]+arms"),
        (r"[\s,]+", rf"[\s{SPACE},]+"),
        (r"\w+ed", rf"[\w{WIDE}]+ed"),
        (r"\d+ pct", rf"[\d{WIDE}]+ pct"),
        (r"[^\]x]", r"[^\]x]"),
        (r"\S+", r"\S+"),
        # a negated class keeps Hyperscan's narrower classes: it then excludes less
        (r"[^\s,]+", r"[^\s,]+"),
        (r"[^\w.]", r"[^\w.]"),
        (r"[\S\W]", r"[\S\W]"),
        (r"[^\S]", None),  # Hyperscan's \S is wider: its complement narrower
        (r"[^\W\d]", None),
        (r"^war", None),
        (r"war$", None),
        (r"\Bwar", None),
        (r"(?<=the )war", None),
        (r"(a)\1", None),
        # a non-ASCII character: any non-ASCII one (Hyperscan may not know its other cases)
        (r"Klaipėda", rf"Klaip[{WIDE}]da"),
        (r"d[eé]tente", rf"d[e{WIDE}]tente"),
        (r"[^é\s]", r"[^\s]"),
        (r"[a-é]", None),
        ("\u017fanctions", None),  # ſ: re's IGNORECASE matches it with "s"
        (r"(?i)war", None),
    ],
)
def test_rewrite_for_hyperscan(pattern: str, expected: str | None) -> None:
    assert to_hyperscan(pattern) == expected


def test_default_pack_compiles_to_hyperscan() -> None:
    pre = prefilter_for(default_rules())
    assert isinstance(pre, HyperscanPrefilter)
    assert pre.always == []


@pytest.mark.slow
def test_default_pack_compiles_in_one_hyperscan_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pattern Hyperscan rejects makes the whole database fail, and the prefilter then
    compiles every expression alone, which takes minutes on a new machine. The bundled pack
    must compile in one go (compiled here with an empty cache, so nothing is reused)."""
    monkeypatch.setenv("CLAIMTAG_CACHE_DIR", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="claimtag.prefilter"):
        pre = _compile(default_rules())
    assert isinstance(pre, HyperscanPrefilter)
    assert pre.always == []
    assert not [r.getMessage() for r in caplog.records if "one at a" in r.getMessage()]


def _sample_docs(corpus: Path, n: int) -> list[str]:
    rng = random.Random(7)
    docs: list[str] = []
    for name in ("us_state_of_the_union.parquet", "reuters21578.parquet"):
        texts = pq.read_table(corpus / name, columns=["text"]).column(0).to_pylist()
        docs += rng.sample(texts, n)
    pf = pq.ParquetFile(corpus / "un_general_debates.parquet")
    docs += rng.sample(
        pf.read_row_group(pf.num_row_groups - 1, columns=["text"]).column(0).to_pylist(), n
    )
    return docs


@pytest.mark.parametrize("with_model", [False, True])
def test_same_claims_with_and_without_hyperscan(corpus: Path, with_model: bool) -> None:
    """With the model too: its claims' hedging and negation cues are searched only where the
    Hyperscan sentence scan says they may be (the regex prefilter searches everywhere)."""
    from claimtag.learned import bundled_model

    pack = default_rules()
    fast = prefilter_for(pack)
    slow = RegexPrefilter(pack)
    model = bundled_model() if with_model else None
    docs = _sample_docs(corpus, 12)
    docs.append("Caf\u00e9\u00a0nuclear\u00a0weapons and \u2014 sanctions\u2026 \u201cwar\u201d.")
    learned: list[bool] = []  # hedged or not, per learned claim
    for text in docs:
        sentences = split_sentences(text)
        # the model's probabilities do not depend on the prefilter: scored once for both
        scored = [sentences[i] for i in assertive_indices(text, sentences)]
        probs = (
            None if model is None else model.probabilities([text[s.start : s.end] for s in scored])
        )
        got_fast = classify_document(pack, text, sentences, fast, model, probs)
        got_slow = classify_document(pack, text, sentences, slow, model, probs)
        assert got_fast == got_slow
        learned += [
            c.hedged
            for cs in got_fast.values()
            for c in cs
            if c.matches[0].rule_id.startswith("learned.")
        ]
    # with the model, learned claims with and without a hedging cue were both compared
    assert ({True, False} <= set(learned)) == with_model


def test_non_ascii_offsets_map_to_the_right_sentence() -> None:
    pack = default_rules()
    text = (
        "Ça va très bien. Les « sanctions » frappent. "
        "Über alles: Moscow massed troops on the border."
    )
    sentences = split_sentences(text)
    found = prefilter_for(pack).candidates(text, sentences)
    hit_texts = {text[sentences[i].start : sentences[i].end] for i in found}
    assert hit_texts == {s for s in hit_texts if re.search(r"sanctions|troops", s)}
    assert len(hit_texts) == 2


HARD_PACK = """
name: costs
version: 0.0.1
rules:
  - id: t.war
    claim_type: threat
    patterns: ["\\\\bwar\\\\b", "\\\\bshell(?:ed|ing)\\\\b"]
    exclude: ["\\\\bwar on drugs\\\\b"]
    weight: 0.7
    examples: {positive: ["The war went on."], negative: ["Peace at last."]}
"""


def test_hyperscan_costs_script_lists_every_expression(tmp_path: Path) -> None:
    """scripts/hyperscan_costs.py taps the prefilter's private compile; run it on a small pack
    so that a change there cannot break the script unnoticed."""
    import subprocess
    import sys

    pack = tmp_path / "costs.yaml"
    pack.write_text(HARD_PACK, encoding="utf-8")
    script = Path(__file__).resolve().parents[1] / "scripts" / "hyperscan_costs.py"
    done = subprocess.run(
        [sys.executable, str(script), "--rules", str(pack), "--top", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("3 expressions")  # two patterns and one exclude alternative
    assert {line.split("  ", 3)[-1].strip() for line in lines[1:-1]} == {
        "t.war pattern 0",
        "t.war pattern 1",
        "an alternative of t.war exclude",
    }
    assert lines[-1] == "0 rejected"
