"""scripts/corpus_check.py: a candidate expression tried on corpus sentences outside the gold."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import load_script

SMALL = ["--scale", "0.05"]  # 45 UN speeches, 12 addresses, 300 wire stories


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("corpus_check")


def _run(script: ModuleType, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert script.main([*args, *SMALL, "--sample", "100000"]) == 0
    return capsys.readouterr().out.splitlines()


HEADER = re.compile(r"(\d+) corpus sentences outside the gold; the expression matches (\d+); ")


def test_no_gold_sentence_is_drawn(script: ModuleType, corpus: Path) -> None:
    gold = script.gold_texts(corpus)
    assert len(gold) > 10_000
    docs = {"un_general_debates": 200, "us_state_of_the_union": 60, "reuters21578": 2000}
    everything = script.corpus_sentences(corpus, docs, set())
    drawn = script.corpus_sentences(corpus, docs, gold)
    left_out = [s for s in everything if s[2] in gold]
    assert left_out, "the draw should reach some gold sentences, or this test proves nothing"
    assert len(drawn) == len(everything) - len(left_out)
    assert not any(s[2] in gold for s in drawn)


@pytest.mark.parametrize(
    ("claim_type", "regex"),
    [
        ("threat", r"\bwar\b"),
        ("alliance", r"\b(?:treaty|friendly relations)\b"),
        ("economic_leverage", r"\b(?:tariffs?|{{economic_instruments}})\b"),
    ],
)
def test_new_and_tagged_split_the_matches(
    script: ModuleType,
    corpus: Path,
    capsys: pytest.CaptureFixture[str],
    claim_type: str,
    regex: str,
) -> None:
    counts = {}
    for mode in ("new", "tagged"):
        lines = _run(script, capsys, regex, "--type", claim_type, "--mode", mode)
        header = HEADER.match(lines[0])
        assert header, lines[0]
        total, matched = int(header.group(1)), int(header.group(2))
        chosen = int(re.search(rf"{mode} for {claim_type}: (\d+)", lines[0]).group(1))  # type: ignore[union-attr]
        samples = lines[1:]
        assert len(samples) == chosen  # the sample is larger than any count here
        assert all("<<" in s and ">>" in s for s in samples)
        counts[mode] = (total, matched, chosen)
    (total, matched, new), (_, matched_again, tagged) = counts["new"], counts["tagged"]
    assert total > 5_000
    assert matched_again == matched
    assert new > 0
    assert tagged > 0
    assert new + tagged == matched


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("(", "the expression does not compile"),
        ("{{no_such_lexicon}} troops", "unknown lexicon(s): no_such_lexicon"),
    ],
)
def test_bad_expression_is_a_clear_error(
    script: ModuleType, capsys: pytest.CaptureFixture[str], regex: str, message: str
) -> None:
    assert script.main([regex, "--type", "threat", *SMALL]) == 2
    assert message in capsys.readouterr().err
