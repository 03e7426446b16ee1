"""Hostile rule packs: nothing a pack says can hang a run or crash the loader.

* Patterns that backtrack catastrophically in Python's ``re`` run on RE2 (linear time),
  or, when RE2 cannot run them, are rejected at load with the reason and a way out.
* Oversized, deeply nested, aliased ("billion laughs") or ill-typed packs are refused
  with every error and its location.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimtag.classify import check_examples, classify_document
from claimtag.errors import RulePackError
from claimtag.ingest import InputOptions
from claimtag.regex_safety import (
    RE2Regex,
    UnsafePatternError,
    analyse,
    compile_pattern,
    compile_union,
    plan_pattern,
)
from claimtag.rules import (
    MAX_EXPANDED_PATTERN,
    MAX_PACK_BYTES,
    MAX_PACK_PATTERNS,
    RulePack,
    bundled_pack,
    compile_packs,
    load_rules,
    parse_pack,
    read_pack,
)
from claimtag.segment import split_sentences

from .guards import deadline


def pack_text(
    patterns: list[str],
    *,
    require: list[str] | None = None,
    exclude: list[str] | None = None,
    cues: list[str] | None = None,
    lexicons: dict[str, list[str]] | None = None,
    positive: str = "aaaa",
    negative: str = "zzzz",
    plain: bool = True,
) -> str:
    """A one-rule pack. ``plain``: add a plain pattern after ``patterns``, so that Hyperscan
    has something to compile (see test_pack_of_only_anchored_patterns)."""
    rule: dict[str, Any] = {
        "id": "h.rule",
        "claim_type": "threat",
        "weight": 0.5,
        "patterns": [*patterns, r"\bqqqq\b"] if plain else patterns,
        "examples": {"positive": [positive], "negative": [negative]},
    }
    if require:
        rule["require"] = require
    if exclude:
        rule["exclude"] = exclude
    pack: dict[str, Any] = {"name": "hostile", "version": "1.0.0", "rules": [rule]}
    if cues:
        pack["negation"] = {"cues": cues}
    if lexicons:
        pack["lexicons"] = lexicons
    return json.dumps(pack)


def load(text: str, name: str = "hostile.json") -> RulePack:
    return compile_packs([parse_pack(text, name)])


def tag(pack: RulePack, text: str) -> dict[int, list[Any]]:
    return classify_document(pack, text, split_sentences(text))


A100K = "a" * 100_000
ATTACKS: dict[str, str] = {
    "a": A100K + "!",
    "x": "x" * 100_000 + "!",
    "word": ("ab " * 33_000) + "!",
    "digits": "1" * 100_000 + "x",
    "spaces": "a " * 50_000 + "!",
}
# Any pattern with an unbounded repetition costs re O(n) per start position, O(n²) per
# sentence; the longest sentence matched (InputOptions.max_sentence_chars) bounds that.
# Patterns that would cost more (n³, 2ⁿ) run on RE2, which is linear on any length.
SENTENCE_LIMIT = InputOptions().max_sentence_chars

# pattern → the engine it runs on ("re", "re2"), or the start of the rejection; the attack
ENGINES: list[tuple[str, str, str]] = [
    (r"(a+)+$", "re2", "a"),
    (r"(a|a)+$", "re2", "a"),
    (r"(x|x)*y", "re2", "x"),
    (r"(a*)*b", "re2", "a"),
    (r"(a?){20}a{20}", "re2", "a"),
    (r"(\w+\s?)+$", "re2", "word"),
    (r"(?:\w+[ -]?)+\.", "re2", "word"),
    (r"(.*?,)*x", "re2", "a"),
    (r"\d+\.?\d*%", "re2", "digits"),
    (r"\w+\s*\w+!x", "re2", "word"),
    (r".*\s.*x", "re2", "spaces"),
    (r"(?s:.)*.*x", "re2", "a"),
    (r"[^\W\d_]+(?:\w+\s?)*z", "re2", "word"),
    # possessive quantifiers and atomic groups never backtrack: Python's re is safe
    (r"(a++)+$", "re", "a"),
    (r"(?>a+)+$", "re", "a"),
    (r"\d++\.?\d*+%", "re", "digits"),
    # unambiguous repetition: safe in re
    (r"(?:\s+\S+){0,4}?\s+tanks", "re", "spaces"),
    (r"(?:\w+\s+)*x", "re", "word"),
    (r"(?:\d+,)*\d+", "re", "digits"),
    (r"\b(?:troops|tanks)+\b", "re", "word"),
    # hazardous and beyond RE2: refused at load
    (r"(a+)+(?=b)", "reject: pattern can take exponential time (nested quantifiers)", "a"),
    (r"(a+)+\1", "reject: pattern can take exponential time", "a"),
    (r"(?<=x)(\w+\s?)+$", "reject: pattern can take exponential time", "word"),
    (r"\bугроз(\w+\s?)*", "reject: pattern can take exponential time", "word"),
    # a pattern that can match nothing is refused before its engine is chosen
    (r"(\w+\s?)*$", "reject: pattern matches the empty string", "word"),
    (r"(?:a{1,1000}){1,1000}x", "reject: pattern can take exponential time", "a"),
]


@pytest.mark.parametrize(("pattern", "engine", "attack"), ENGINES, ids=[p for p, _, _ in ENGINES])
def test_hazardous_pattern_runs_in_linear_time_or_is_refused(
    pattern: str, engine: str, attack: str
) -> None:
    text = pack_text([pattern])
    if engine.startswith("reject: "):
        with pytest.raises(RulePackError) as info:
            load(text)
        (error,) = info.value.errors
        assert error.startswith("$.rules[0].patterns[0], rule 'h.rule': " + engine[8:]), error
        assert "possessive" in error or "empty" in error  # the way out
        return
    pack = load(text)
    compiled = pack.rules[0].patterns[0]
    assert isinstance(compiled, RE2Regex) == (engine == "re2")
    assert bool(pack.linear_engine) == (engine == "re2")
    text = ATTACKS[attack] if engine == "re2" else ATTACKS[attack][-SENTENCE_LIMIT:]
    with deadline(30):  # the check: a backtracking engine would take hours here
        tag(pack, text)


def test_pack_of_only_anchored_patterns() -> None:
    pack = load(pack_text([r"^the war\.$"], positive="The war.", plain=False))
    assert list(tag(pack, "The war.")) == [0]


def test_bundled_pack_runs_entirely_on_re() -> None:
    """The analysis (skipped when the bundled pack loads) finds no hazard in it: every
    pattern runs on re, as before, and none can match the empty string."""
    trusted = bundled_pack()
    analysed = parse_pack(yaml.safe_dump(trusted.data), "core.yaml")  # full analysis
    pack = compile_packs([analysed])
    assert pack.linear_engine == ()
    assert not any(isinstance(p, RE2Regex) for r in pack.rules for p in r.patterns)
    assert trusted.trusted
    assert not analysed.trusted


@pytest.mark.parametrize(
    "pattern",
    [p for p, engine, _ in ENGINES if engine == "re2"]
    + [r"\bwar(?:fare)?\b(?:\s*\w+)*", r"(?i)(?:NATO|allies)+\s*\w*\s*\w*", r"[\d\s]*\d+"],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet="aAxyz1.,!%ß Жé\t\n_-\u00a0", max_size=12))
def test_re2_matches_what_re_matches(pattern: str, text: str) -> None:
    """On texts too short to blow up, RE2 (with the translation) finds what re finds.

    One known difference: Python's ``$`` also matches before a final newline, RE2's only
    at the very end. Sentences never end in a newline, so texts here do not either.
    """
    text = text.rstrip("\n")
    plan = plan_pattern(pattern)
    assert plan.engine == "re2"
    # the classifier uses non-empty matches only
    expected = [m.span() for m in re.finditer(pattern, text, re.IGNORECASE) if m.end() > m.start()]
    compiled = compile_pattern(pattern)
    got = [(m.start(), m.end()) for m in compiled.finditer(text)]
    assert [g for g in got if g[1] > g[0]] == expected
    # and on a part of the text, as the negation cues and the re prefilter search
    python = re.compile(pattern, re.IGNORECASE)
    for pos in range(len(text) + 1):
        for endpos in range(pos, len(text) + 1):
            if text[:endpos].endswith("\n"):
                continue
            want = python.search(text, pos, endpos)
            found = compiled.search(text, pos, endpos)
            if want is None or want.end() == want.start():
                continue  # empty matches: see above
            assert found is not None
            assert (found.start(), found.end()) == want.span()


@pytest.mark.parametrize(
    ("pattern", "text", "spans"),
    [
        (r"(\w+\s?)*$", "Жаркий день", [(0, 11), (11, 11)]),  # \w is Unicode, as in re
        (r"(\d+\s?)+%", "٣٤ 5%", [(0, 5)]),  # \d: any decimal digit
        (r"(?:[^\W\d_]+\s?)+!", "été 2024 fin!", [(9, 13)]),  # letters only
        (r"(?-i:(A+)+)$", "aaA", [(2, 3)]),  # scoped case-sensitivity survives
        (r"(?:\w+\s?)+x", "a\u00a0b x", [(0, 5)]),  # Python's \s includes NBSP
    ],
)
def test_re2_translation_keeps_python_meaning(
    pattern: str, text: str, spans: list[tuple[int, int]]
) -> None:
    assert plan_pattern(pattern).engine == "re2"
    assert [(m.start(), m.end()) for m in compile_pattern(pattern).finditer(text)] == spans
    assert [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)] == spans


def test_union_of_clashing_parts_falls_back_to_separate_searches() -> None:
    """Group names, back-references and global flags that clash when joined."""
    parts = [r"(?P<w>war)", r"(?P<w>peace)", r"(a)\1", r"(?i)treaty"]
    union = compile_union([compile_pattern(p, 0) for p in parts], 0)
    assert union is not None
    assert [m.group(0) for m in union.finditer("peace, aa, war and TREATY")] == [
        "peace",
        "aa",
        "war",
        "TREATY",
    ]


def test_union_mixes_engines_and_keeps_leftmost_first() -> None:
    parts = [r"\bwar\b", r"(a+)+$", r"\bwa"]
    union = compile_union([compile_pattern(p) for p in parts], re.IGNORECASE)
    assert union is not None
    assert union.search("the war aaa") is not None
    m = union.search("the war aaa")
    assert m is not None
    assert (m.start(), m.group(0)) == (4, "war")  # first alternative wins a tie
    m = union.search("aaaa")
    assert m is not None
    assert m.group(0) == "aaaa"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("require", [r"(a+)+$", r"\bwar\b"]),
        ("exclude", [r"(x|x)*y"]),
        ("cues", [r"(\w+\s?)*\bnot\b"]),
    ],
)
def test_hazardous_require_exclude_and_cues_are_linear_too(field: str, value: list[str]) -> None:
    pack = load(pack_text(["a"], **{field: value}))
    assert pack.linear_engine
    with deadline(60):  # the check: a backtracking engine would take hours here
        for attack in ATTACKS.values():
            tag(pack, attack[-SENTENCE_LIMIT:])


# --- malformed packs: every error, with its location ----------------------------------------


def _rule(**fields: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "r.one",
        "claim_type": "threat",
        "weight": 0.5,
        "patterns": ["\\bwar\\b"],
        "examples": {"positive": ["A war."], "negative": ["Peace."]},
    }
    rule.update(fields)
    return rule


def _pack(*rules: dict[str, Any], **top: Any) -> str:
    return json.dumps({"name": "bad", "version": "1.0.0", "rules": list(rules), **top})


def _many_patterns() -> str:
    rules = [
        _rule(id=f"r.{i}", patterns=[f"\\bw{i}x{j}\\b" for j in range(200)])
        for i in range(MAX_PACK_PATTERNS // 200 + 1)
    ]
    return _pack(*rules)


def _huge_lexicon() -> str:
    words = [f"w{i:05d}" + "x" * 90 for i in range(1500)]
    return _pack(_rule(patterns=["{{big}}{{big}}"]), lexicons={"big": words})


BILLION_LAUGHS = """
name: bad
version: 1.0.0
l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
l1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]
l2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]
l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]
l4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]
l5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]
l6: &l6 [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]
l7: &l7 [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]
l8: &l8 [*l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7]
rules: *l8
"""

RECURSIVE = """
name: bad
version: 1.0.0
rules: &r [*r]
"""

# (id, pack text, source name, the errors expected: each a part of one error, in order)
BAD_PACKS: list[tuple[str, str, str, list[str]]] = [
    (
        "duplicate-rule-ids",
        _pack(_rule(), _rule(claim_type="alliance")),
        "p.json",
        ["$.rules[1].id, rule 'r.one': duplicate rule id 'r.one' (first at $.rules[0])"],
    ),
    (
        "unknown-claim-type",
        _pack(_rule(claim_type="weather")),
        "p.json",
        ["$.rules[0].claim_type, rule 'r.one': 'weather' is not one of"],
    ),
    (
        "empty-pattern",
        _pack(_rule(patterns=[""])),
        "p.json",
        ["$.rules[0].patterns[0], rule 'r.one': '' should be non-empty"],
    ),
    (
        "no-patterns",
        _pack(_rule(patterns=[])),
        "p.json",
        ["$.rules[0].patterns, rule 'r.one': [] should be non-empty"],
    ),
    *[
        (
            f"matches-empty-{name}",
            _pack(_rule(patterns=[pattern])),
            "p.json",
            ["$.rules[0].patterns[0], rule 'r.one': pattern matches the empty string"],
        )
        for name, pattern in [("star", "a*"), ("boundary", "\\b"), ("lookahead", "(?=war)")]
    ],
    (
        "unknown-lexicon",
        _pack(_rule(patterns=["{{nope}} war"])),
        "p.json",
        ["$.rules[0].patterns[0], rule 'r.one': unknown lexicon nope"],
    ),
    (
        "lexicon-entry-too-long",
        _pack(_rule(patterns=["{{a}}"]), lexicons={"a": ["w" * 2001]}),
        "p.json",
        ["$.lexicons.a[0]: 2001 characters long (at most 2000)"],
    ),
    (
        "lexicon-inside-lexicon",
        _pack(_rule(patterns=["{{a}}"]), lexicons={"a": ["{{b}}"], "b": ["war"]}),
        "p.json",
        ["$.lexicons.a[0]: a lexicon entry cannot insert another lexicon"],
    ),
    (
        "invalid-regex",
        _pack(_rule(patterns=["(unclosed", "a{2,1}", "x{99999999999}"])),
        "p.json",
        [
            "$.rules[0].patterns[0], rule 'r.one': invalid regular expression: missing )",
            "$.rules[0].patterns[1], rule 'r.one': invalid regular expression: min repeat",
            "$.rules[0].patterns[2], rule 'r.one': invalid regular expression: the repetition",
        ],
    ),
    (
        "regex-nested-too-deeply",
        _pack(_rule(patterns=["(" * 990 + "a" + ")" * 990])),
        "p.json",
        ["$.rules[0].patterns[0], rule 'r.one': invalid regular expression"],
    ),
    (
        "hazard-with-lookaround",
        _pack(_rule(patterns=["(\\w+\\s?)+(?=war)"])),
        "p.json",
        ["rule 'r.one': pattern can take exponential time (nested quantifiers)"],
    ),
    (
        "too-many-patterns",
        _many_patterns(),
        "p.json",
        [f"$.rules: 20200 patterns and cues (at most {MAX_PACK_PATTERNS})"],
    ),
    (
        "pattern-too-long-with-lexicons",
        _huge_lexicon(),
        "p.json",
        [f"characters long with its lexicons inserted (at most {MAX_EXPANDED_PATTERN})"],
    ),
    (
        "billion-laughs",
        BILLION_LAUGHS,
        "p.yaml",
        ["more than 500000 values once YAML aliases are expanded"],
    ),
    ("recursive-alias", RECURSIVE, "p.yaml", ["$.rules[0]: recursive YAML alias"]),
    (
        "nested-too-deeply-yaml",
        "name: bad\nversion: 1.0.0\nrules: " + "[" * 5000 + "]" * 5000,
        "p.yaml",
        ["nesting depth"],
    ),
    (
        "nested-too-deeply-json",
        '{"name": "bad", "rules": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "p.json",
        ["not valid YAML/JSON: nested too deeply"],
    ),
    (
        "non-string-keys",
        "name: bad\nversion: 1.0.0\nrules:\n  - {1: 2, id: r.one}\n",
        "p.yaml",
        ["$.rules[0]: key 1 is not a string"],
    ),
    (
        "nan-weight",
        "name: bad\nversion: 1.0.0\nrules:\n  - {id: r.one, weight: .nan}\n",
        "p.yaml",
        ["$.rules[0].weight: nan is not a finite number"],
    ),
    (
        "date-and-binary-values",
        "name: bad\nversion: 2024-01-01\ndescription: !!binary aGk=\nrules: []\n",
        "p.yaml",
        [
            "$.version: a date value is not allowed (JSON types only)",
            "$.description: a bytes value is not allowed (JSON types only)",
        ],
    ),
    (
        "duplicate-yaml-key",
        "name: bad\nversion: 1.0.0\nrules:\n  - id: r.one\n    claim_type: threat\n"
        "    weight: 0.5\n    weight: 0.7\n    patterns: [war]\n"
        "    examples: {positive: [war], negative: [peace]}\n",
        "p.yaml",
        ["$.rules[0].weight, line 7: duplicate key 'weight'"],
    ),
    (
        "duplicate-json-key",
        '{"name": "bad", "name": "twice", "version": "1.0.0", "rules": []}',
        "p.json",
        ["duplicate key 'name'", "$.rules: [] should be non-empty"],
    ),
    (
        "not-a-mapping",
        "- just\n- a list\n",
        "p.yaml",
        ["$, line 1: ['just', 'a list'] is not of type 'object'"],
    ),
    ("not-yaml", "name: [unclosed", "p.yaml", ["not valid YAML/JSON"]),
    (
        "oversized",
        "name: bad\n# " + "x" * MAX_PACK_BYTES + "\n",
        "p.yaml",
        [f"file is larger than {MAX_PACK_BYTES} bytes"],
    ),
]


@pytest.mark.parametrize(
    ("text", "source", "expected"),
    [(t, s, e) for _, t, s, e in BAD_PACKS],
    ids=[i for i, _, _, _ in BAD_PACKS],
)
def test_bad_pack_is_refused_with_every_error_and_its_location(
    text: str, source: str, expected: list[str]
) -> None:
    with deadline(60), pytest.raises(RulePackError) as info:
        load(text, source)
    errors = info.value.errors
    assert len(errors) == len(expected), errors
    for want, got in zip(expected, errors, strict=True):
        assert want in got, got
    assert all(len(e) <= 300 for e in errors)


def test_error_messages_are_clipped() -> None:
    """A giant value is not copied into the message."""
    with pytest.raises(RulePackError) as info:
        load(_pack(_rule(claim_type="x" * 100_000)))
    (error,) = info.value.errors
    assert len(error) <= 300
    assert error.endswith("…")


def test_many_errors_are_capped() -> None:
    rules = [_rule(id=f"r.{i}", claim_type="weather") for i in range(500)]
    with pytest.raises(RulePackError) as info:
        load(_pack(*rules))
    assert len(info.value.errors) == 101
    assert info.value.errors[-1] == "… and 400 more error(s)"


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("binary.yaml", lambda p: p.write_bytes(b"\x00\xff\xfe" * 100), "not UTF-8 text"),
        ("big.yaml", lambda p: p.write_bytes(b"#" * (MAX_PACK_BYTES + 1)), "larger than"),
        ("missing.yaml", lambda p: None, "cannot read"),
        ("folder.yaml", lambda p: p.mkdir(), "cannot read"),
    ],
)
def test_unreadable_pack_files(
    tmp_path: Path, name: str, write: Callable[[Path], Any], message: str
) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(RulePackError, match=message):
        read_pack(path)


def test_pack_with_bom_and_aliases_in_moderation_loads(tmp_path: Path) -> None:
    """YAML anchors are fine when the expanded pack stays small."""
    path = tmp_path / "ok.yaml"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b"""name: ok
version: 1.0.0
rules:
  - id: ok.one
    claim_type: threat
    weight: 0.5
    patterns: &p ["\\\\bwar\\\\b"]
    examples: &ex {positive: ["A war."], negative: ["Peace."]}
  - id: ok.two
    claim_type: alliance
    weight: 0.5
    patterns: *p
    examples: *ex
"""
    )
    pack = load_rules([path], replace=True)
    assert [r.id for r in pack.rules] == ["ok.one", "ok.two"]
    assert check_examples(pack) == []


def test_unsafe_pattern_error_names_the_hazard() -> None:
    with pytest.raises(UnsafePatternError, match=r"nested quantifiers.*look-around"):
        plan_pattern(r"(a+)+(?=b)")


# --- end to end through the command line, with a timeout so a hang fails -----------------------


def _cli(args: list[str], cwd: Path, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claimtag.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.mark.slow
def test_run_with_catastrophic_pattern_completes_quickly(tmp_path: Path) -> None:
    (tmp_path / "hostile.json").write_text(pack_text([r"(a+)+$"]))
    (tmp_path / "a.txt").write_text(A100K)
    (tmp_path / "ab.txt").write_text(A100K + "b")
    # Only the hostile pack: the bundled one is not what this checks. A backtracking engine
    # would take hours on these inputs; the timeout is a hang guard, not a speed check.
    args = ["run", "a.txt", "ab.txt", "--out", "out", "--no-prefect"]
    proc = _cli(
        [*args, "--rules", "hostile.json", "--replace-rules"],
        tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 document(s) (2 processed)" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", [["run", "a.txt", "--out", "out", "--no-prefect"], []])
def test_refused_pattern_exits_2_with_a_clear_message(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "hostile.json").write_text(pack_text([r"(a+)+(?=b)"]))
    (tmp_path / "a.txt").write_text(A100K)
    args = [*command, "--rules", "hostile.json"] if command else ["rules", "check", "hostile.json"]
    proc = _cli(args, tmp_path, timeout=20)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "invalid rule pack hostile.json: 1 error(s)" in proc.stderr
    assert "$.rules[0].patterns[0], rule 'h.rule'" in proc.stderr
    assert "exponential time (nested quantifiers" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_hostile_pack_through_the_re_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Hyperscan the prefilter is the union of all patterns: it must be safe too."""
    monkeypatch.setenv("CLAIMTAG_PREFILTER", "regex")
    pack = load(pack_text([r"(a+)+$", r"(x|x)+y", r"\bwar\b"], plain=False))
    with deadline(30):  # a hang guard; a backtracking engine would take hours here
        found = tag(pack, "The war. A" + A100K + "\n\n" + "x" * 50_000 + "!")
    assert sorted(found) == [0, 1]


# --- generated patterns: whatever a pack says, the chosen engine is fast and right -------------

_ATOMS = [
    "a", "b", "x", " ", r"\w", r"\d", r"\s", ".", "[ab]", "[^a]", r"\W", r"\S",
    r"[^\W\d_]", "1", r"\.", "é", "Ж",
]  # fmt: skip
_QUANTIFIERS = ["*", "+", "?", "{1,3}", "*?", "+?", "{2}", "{0,20}", "++", "*+"]


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        inner.map(lambda a: f"({a})"),
        st.tuples(inner, st.sampled_from(_QUANTIFIERS)).map(lambda t: f"(?:{t[0]}){t[1]}"),
        inner.map(lambda a: f"(?>{a})"),
        inner.map(lambda a: rf"\b{a}"),
        inner.map(lambda a: f"{a}$"),
        inner.map(lambda a: f"(?={a})"),
    )


generated_patterns = st.recursive(st.sampled_from(_ATOMS), _extend, max_leaves=8)
_ATTACK_UNITS = ["a", "ab", "a ", "1", "x", "ab ", "é", "1."]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(generated_patterns, st.text(alphabet="ab x1.!éЖ\t_", max_size=10))
def test_generated_patterns_are_fast_and_agree(pattern: str, text: str) -> None:
    """Any pattern: refused, or on RE2 with re's answers, or on re and fast on attacks."""
    try:
        expected = re.compile(pattern, re.IGNORECASE)
        plan = analyse(pattern)
    except re.error:
        return  # not a pattern: the loader reports it
    if plan.min_width == 0 or plan.engine is None:
        assert plan.min_width == 0 or "exponential" in (plan.unsafe or "")
        return  # refused by the loader
    if plan.engine == "re2":
        text = text.rstrip("\n")
        want = [m.span() for m in expected.finditer(text) if m.end() > m.start()]
        got = [(m.start(), m.end()) for m in compile_pattern(pattern).finditer(text)]
        assert [g for g in got if g[1] > g[0]] == want
        return
    with deadline(5):
        for unit in _ATTACK_UNITS:
            list(expected.finditer(unit * (600 // len(unit)) + "!"))


@pytest.mark.parametrize(
    "pattern",
    [r"(?:\w+ ){0,2}(?:ports?|[A-Z]\w+)\b", r"[a-zß]+ (?:stra(?:ß|ss)e|[A-Z]+)", r"[ﬀ-ﬆ]x|[A-Z]y"],
)
def test_case_insensitive_ranges_with_multi_character_case_maps(pattern: str) -> None:
    """'ß'.upper() is 'SS' (two characters): the analysis must not choke on it."""
    pack = load(pack_text([pattern], positive="The ports of Hamburg.", plain=False))
    assert pack.rules[0].id == "h.rule"
