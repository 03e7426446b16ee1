"""The bundled rules on written sentences (golden file) and the classifier's mechanics."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from claimtag.classify import classify_sentence, noisy_or
from claimtag.rules import default_rules

from .conftest import GOLDEN

CASES: list[dict[str, Any]] = yaml.safe_load((GOLDEN / "classify_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:48] for c in CASES])
def test_golden_sentence(case: dict[str, Any]) -> None:
    claims = {c.claim_type: c for c in classify_sentence(default_rules(), case["text"])}
    assert sorted(claims) == sorted(case["labels"])
    for claim_type, claim in claims.items():
        assert claim.negated == (claim_type in case.get("negated", [])), claim_type
        if "hedged" in case:
            assert claim.hedged == (claim_type in case["hedged"]), claim_type


@pytest.mark.parametrize(
    ("weights", "expected"),
    [([], 0.0), ([0.8], 0.8), ([0.5, 0.5], 0.75), ([0.9, 0.9, 0.9], 0.999), ([1.0, 0.2], 1.0)],
)
def test_noisy_or(weights: list[float], expected: float) -> None:
    assert noisy_or(weights) == pytest.approx(expected)


def test_evidence_offsets_are_document_offsets() -> None:
    text = "Intro line here. Moscow has massed troops along the border."
    start = text.index("Moscow")
    claims = classify_sentence(default_rules(), text[start:], offset=start)
    assert claims
    for m in claims[0].matches:
        assert text[m.start : m.end] == m.text


def test_confidence_grows_with_independent_evidence() -> None:
    one = classify_sentence(default_rules(), "The war goes on.")
    two = classify_sentence(default_rules(), "The war goes on as troops invaded the town.")
    assert one[0].confidence < two[0].confidence


HEADING_CASES = [
    ("# Economic pressure\n\nText.", "# Economic pressure", True),
    (
        "Beijing tightens gallium exports as chip dispute escalates\n\nBody.",
        "Beijing tightens gallium exports as chip dispute escalates",
        True,
    ),
    (
        "Intro.\n- Russian troops massed on the border\n",
        "- Russian troops massed on the border",
        False,
    ),
    ("Intro.\n1. Sanctions will tighten\n", "1. Sanctions will tighten", False),
    (
        "Click here to read the report on sanctions.",
        "Click here to read the report on sanctions.",
        True,
    ),
    ("The war goes on.\n", "The war goes on.", False),
    ("Prefix text The war goes on without end", "The war goes on without end", False),
]


@pytest.mark.parametrize(("text", "sentence", "expected"), HEADING_CASES)
def test_non_assertive_lines(text: str, sentence: str, expected: bool) -> None:
    from claimtag.classify import is_non_assertive

    start = text.index(sentence)
    assert is_non_assertive(text, start, start + len(sentence)) is expected
