"""Quality floor: the bundled rules on all development gold files, pooled.

CI fails if the tagger's quality on the development data (the corpus rounds and written
news, analysis and speech sets listed in gold/splits-development.txt) drops below these
floors, each a little under today's figure. Figures and the commands that produce them
are in docs/QUALITY.md; the held-out files are reported there but never used for tuning,
so they are not a test either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claimtag import CLAIM_TYPES
from claimtag.evaluate import evaluate
from claimtag.gold import load_gold, split_files
from claimtag.rules import default_rules

from .conftest import ROOT

FLOORS = {
    "macro_f1": 0.84,
    "precision": 0.84,
    "baseline_gain": 0.24,
    "negated": 0.93,
    "hedged": 0.90,
    "actors": 0.88,
}
DEV_FILES = split_files(ROOT / "gold", "development")


@pytest.fixture(scope="module")
def dev_result(corpus: Path) -> dict[str, Any]:
    gold = [g for name in DEV_FILES for g in load_gold(ROOT / "gold" / f"{name}.jsonl", corpus)]
    return evaluate(default_rules(), gold)


def test_macro_f1_floor(dev_result: dict[str, Any]) -> None:
    assert dev_result["rules"]["macro_f1"] >= FLOORS["macro_f1"]


@pytest.mark.parametrize("claim_type", CLAIM_TYPES)
def test_precision_floor(dev_result: dict[str, Any], claim_type: str) -> None:
    assert dev_result["rules"]["per_type"][claim_type]["precision"] >= FLOORS["precision"]


def test_ahead_of_keyword_baseline(dev_result: dict[str, Any]) -> None:
    assert dev_result["macro_f1_gain_over_baseline"] >= FLOORS["baseline_gain"]


@pytest.mark.parametrize("attribute", ["negated", "hedged"])
def test_attribute_floor(dev_result: dict[str, Any], attribute: str) -> None:
    assert dev_result["attributes"][attribute]["accuracy"] >= FLOORS[attribute]


def test_actor_floor(dev_result: dict[str, Any]) -> None:
    assert dev_result["attributes"]["actors_exact"]["accuracy"] >= FLOORS["actors"]


def test_confidence_is_informative(dev_result: dict[str, Any]) -> None:
    rows = [r for r in dev_result["reliability"] if r["claims"] >= 20]
    assert len(rows) >= 2
    assert rows[-1]["precision"] > rows[0]["precision"]
