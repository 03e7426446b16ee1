"""Rule packs: the bundled pack's data, its examples, and errors for broken packs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimtag import CLAIM_TYPES
from claimtag.classify import check_examples, rule_matches
from claimtag.errors import RulePackError
from claimtag.rules import bundled_pack, compile_packs, default_rules, load_rules, parse_pack

from .conftest import GOLDEN

RULES = default_rules().rules


def test_every_claim_type_has_rules() -> None:
    assert {r.claim_type for r in RULES} == set(CLAIM_TYPES)


def test_every_rule_has_examples_of_both_kinds() -> None:
    for rule in RULES:
        assert rule.positive, rule.id
        assert rule.negative, rule.id


@pytest.mark.parametrize(("rule_id", "text"), [(r.id, t) for r in RULES for t in r.positive])
def test_positive_example_fires(rule_id: str, text: str) -> None:
    assert rule_matches(default_rules().rule(rule_id), text)


@pytest.mark.parametrize(("rule_id", "text"), [(r.id, t) for r in RULES for t in r.negative])
def test_negative_example_does_not_fire(rule_id: str, text: str) -> None:
    assert not rule_matches(default_rules().rule(rule_id), text)


def test_check_examples_reports_a_failing_example() -> None:
    pack = parse_pack(
        """
name: t
version: 0.0.1
rules:
  - id: t.war
    claim_type: threat
    patterns: ["\\\\bwar\\\\b"]
    weight: 0.5
    examples: {positive: ["Peace at last."], negative: ["The war ended."]}
""",
        "inline.yaml",
    )
    failures = check_examples(compile_packs([pack]))
    assert len(failures) == 2
    assert "positive example does not fire" in failures[0]
    assert "negative example fires" in failures[1]


BAD_PACKS = sorted((GOLDEN / "bad_packs").glob("*.yaml"))


def _expected_errors(path: Path) -> list[str]:
    return [
        line.split("expect:", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect:")
    ]


@pytest.mark.parametrize("path", BAD_PACKS, ids=[p.stem for p in BAD_PACKS])
def test_broken_pack_reports_every_error_with_location(path: Path) -> None:
    expected = _expected_errors(path)
    assert expected, f"{path} has no '# expect:' lines"
    with pytest.raises(RulePackError) as info:
        parse_pack(path.read_text(), str(path))
    assert len(info.value.errors) == len(expected), info.value.errors
    for want, got in zip(expected, info.value.errors, strict=True):
        assert want in got


def test_duplicate_rule_id_across_packs(tmp_path: Path) -> None:
    user = tmp_path / "user.yaml"
    rule = default_rules().rules[0]
    user.write_text(
        f"""
name: user
version: 1.0.0
rules:
  - id: {rule.id}
    claim_type: threat
    patterns: ["\\\\bwar\\\\b"]
    weight: 0.5
    examples: {{positive: ["A war."], negative: ["Peace."]}}
"""
    )
    with pytest.raises(RulePackError, match="already in"):
        load_rules([user])


def test_user_pack_adds_or_replaces(tmp_path: Path) -> None:
    user = tmp_path / "user.yaml"
    user.write_text(
        """
name: user
version: 2.1.0
rules:
  - id: user.piracy
    claim_type: threat
    patterns: ["\\\\bpira(?:cy|tes)\\\\b"]
    weight: 0.7
    examples: {positive: ["Pirates seized a tanker."], negative: ["The ship docked."]}
"""
    )
    added = load_rules([user])
    replaced = load_rules([user], replace=True)
    assert (
        added.version
        == f"{bundled_pack().data['name']}@{bundled_pack().data['version']}+user@2.1.0"
    )
    assert len(added.rules) == len(default_rules().rules) + 1
    assert replaced.version == "user@2.1.0"
    assert [r.id for r in replaced.rules] == ["user.piracy"]


def test_unreadable_pack_is_a_rule_pack_error(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="cannot read"):
        load_rules([tmp_path / "missing.yaml"])


LEXICON_ENTRIES = [
    "US",
    "U\\.S\\.",
    "United States",
    "United Kingdom",
    "UK",
    "India(?:n)?",
    "Kyrgyz\\w*",
    "Côte d'Ivoire",
    "Congo",
    "Congo-Brazzaville",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("US", "US"),
        ("U.S.", "U.S."),
        ("UXS", None),
        ("United States", "United States"),
        ("United Kingdom", "United Kingdom"),
        ("United Nations", None),
        ("Indian", "Indian"),
        ("Kyrgyzstan", "Kyrgyzstan"),
        ("Côte d'Ivoire", "Côte d'Ivoire"),
        ("Congo-Brazzaville", "Congo-Brazzaville"),
        ("Congo", "Congo"),
        ("uk", "uk"),
    ],
)
def test_lexicon_as_prefix_tree_matches_what_the_flat_list_matches(
    text: str, expected: str | None
) -> None:
    import re

    from claimtag.rules import _alternation

    tree = re.compile(_alternation(tuple(LEXICON_ENTRIES)), re.IGNORECASE)
    flat = re.compile("(?:" + "|".join(LEXICON_ENTRIES) + ")", re.IGNORECASE)
    got = tree.fullmatch(text)
    assert (got.group(0) if got else None) == expected
    assert bool(flat.fullmatch(text)) == bool(got)


SHARED_EXCLUSION = (
    r"\b(?:trade|price|currency|tariff|propaganda|ratings|bidding|talent) wars?\b"
    r"(?![^.]*\b(?:troops|forces|shelling|missiles?|invasion|air ?strikes?|casualties)\b)"
    r"|\bwar on (?:poverty|drugs|want|hunger|cancer|illiteracy|inflation|waste|crime)\b"
    r"|\b(?:\d+(?:st|nd|rd|th)? anniversary of|memorial to the dead of) (?:the )?(?:\w+ ){0,4}war\b"
)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("Border clashes could turn into open war.", {"t.war", "t.fighting"}),
        ("A price war between the two airlines cut fares again.", set()),
        ("The President renewed the war on poverty in his address.", set()),
        ("Veterans marked the 70th anniversary of the Korean War.", set()),
    ],
)
def test_a_long_shared_exclusion_is_written_once_as_a_lexicon(
    tmp_path: Path, text: str, fires: set[str]
) -> None:
    """One expression longer than a word (here 350 characters) held in a lexicon and used as
    the exclusion of two rules vetoes both, exactly as if it were written in each."""
    assert len(SHARED_EXCLUSION) > 300
    rules = []
    for rule_id, pattern in (("t.war", r"\bwar\b"), ("t.fighting", r"\b(?:war|clash\w*)\b")):
        rules.append(
            {
                "id": rule_id,
                "claim_type": "threat",
                "weight": 0.6,
                "patterns": [pattern],
                "exclude": ["{{shared_veto}}"],
                "examples": {"positive": ["War broke out."], "negative": ["A price war."]},
            }
        )
    pack = tmp_path / "shared.json"
    pack.write_text(
        json.dumps(
            {
                "name": "shared",
                "version": "1.0.0",
                "lexicons": {"shared_veto": [SHARED_EXCLUSION]},
                "rules": rules,
            }
        ),
        encoding="utf-8",
    )
    compiled = load_rules([pack], replace=True)
    assert {r.id for r in compiled.rules if rule_matches(r, text)} == fires
