"""The sentence scan (require/exclude context, hedging and negation cues) changes nothing.

Each sentence below is classified three ways: with the Hyperscan prefilter (document and
sentence scans, cues screened), with the ``re`` fallback (no screen at all), and, for the
cues, with the code as it was before the screen (a whole-sentence hedging search; the
negation windows searched on every claim). All must agree, on the bundled pack and on a
small pack whose cues and rules are built to hit the edge cases: look-aheads and a
``\\b`` at the end of a window cut short, matches starting or ending inside a word,
clause breaks next to the match, non-ASCII text Hyperscan cannot judge.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimtag.classify import (
    _CLAUSE_BREAK,
    _WORD,
    _clause_bounds,
    _Clauses,
    classify_document,
    classify_sentence,
    hedge_cue,
    is_non_assertive,
    negation_cue,
)
from claimtag.prefilter import (
    _UNTRUSTED,
    UNKNOWN_CUES,
    Cues,
    HyperscanPrefilter,
    RegexPrefilter,
    alternatives_of,
    drop_assertions,
    prefilter_for,
)
from claimtag.rules import RulePack, compile_packs, default_rules, parse_pack
from claimtag.segment import split_sentences

hyperscan = pytest.importorskip("hyperscan")

TRICKY_PACK = r"""
name: tricky
version: 0.0.1
description: Cues and rules with look-aheads, trailing word boundaries and mid-word matches.
negation:
  window: 4
  cues: ['\bnot\b(?!\s+only\b)', 'n''t\b', '\bno\b(?!\s+(?:longer|doubt)\b)', '\bnever\b',
         '\bruled out\b', 'non-', '\bden(?:y|ied)\b', '(?<!\bnot )\bwithout\b']
hedging:
  cues: ['\bmay\b(?!\s+\d)', '(?<!as soon as )\bpossible\b(?!\s*[.,;:])', '\bcould\b', '\?',
         'reportedly', '\b(?:is|was) said to\b',
         '(?:^|[.;:]\s+)(?:Should|Were) (?:the )?[\w''-]+\b']
rules:
  - id: t.sanctions
    claim_type: economic_leverage
    description: Matches inside words on purpose.
    weight: 0.8
    patterns: ['sanctions?', '\blift(?:ed)? (?=the )']
    examples: {positive: ['The sanctions bite.'], negative: ['Nothing here.']}
  - id: t.troops
    claim_type: threat
    description: Required context and an exclusion.
    weight: 0.7
    patterns: ['\btroops\b', '\bwar\b(?=\s+(?:broke|began))']
    require: ['\b(?:border|front)\b']
    exclude: ['\btroops of scouts\b']
    examples: {positive: ['Troops at the border.'], negative: ['Troops.']}
  - id: t.alliance
    claim_type: alliance
    description: An exclusion with a look-ahead.
    weight: 0.6
    patterns: ['\balliance\b', 'pact', '\bd[eé]tente\b', '^Entente\b', '(?<=the )axis\b']
    exclude: ['\bpact(?=\s+of silence)']
    examples: {positive: ['The alliance holds.'], negative: ['A pact of silence.']}
"""

TRICKY = [
    # negation: windows cut short inside a word or before a look-ahead's context
    "They imposed nosanctions on the regime.",
    "Sanctions were imposed not only on banks.",
    "Sanctions were imposed not",
    "The sanctions are not only harsh but unfair.",
    "No sanctions, no peace.",
    "No longer will troops guard the border.",
    "They did not impose sanctions.",
    "They didn't impose sanctions \u2014 at least not yet.",
    "They did not, however, impose sanctions.",
    "Troops massed on the border, but no war began.",
    "Troops at the border; sanctions never lifted.",
    "The non-aggression pact was signed.",
    "The pact\u2014not the alliance\u2014was ruled out.",
    "Sanctions (not tariffs) were denied - and then the alliance broke.",
    "Not the alliance but the pact, though no war began, was denied.",
    "The pact of silence is not an alliance.",
    "Butter sanctions: nothing but not.",
    "Nosanctions and nonsanctions, non-sanctions and no-sanctions.",
    "The sanctions would be lifted the moment troops left the border.",
    # hedging: look-aheads, the first cue not the first candidate
    "Sanctions may 5 be lifted, which could matter.",
    "Sanctions may be lifted.",
    "Sanctions may.",
    "Is the alliance possible? It is possible.",
    "The alliance is possible, and troops at the border could leave.",
    "A possible alliance.",
    "Reportedly, troops crossed the border.",
    "The pact was said to be near.",
    "Sanctions!",
    # require/exclude
    "Troops of scouts camped at the border.",
    "Troops massed near the front lines.",
    "Troops massed.",
    # non-ASCII: trusted (punctuation, spaces) and not (letters, folds, controls)
    "Les \u00ab sanctions \u00bb n\u2019ont pas march\u00e9, not really.",
    "Caf\u00e9 owners say sanctions are not working.",
    "The \u201csanctions\u201d weren\u2019t lifted \u2026 not yet.",
    "Sanctions\u00a0were not\u00a0lifted.",
    "Sanctions\x1cwere not lifted.",
    "The \u017fanctions against the regime were not lifted.",
    "\u212aosovo troops at the border, \u0130stanbul sanctions.",
    "Nuclear weapons are no longer deployed; the war began and troops invaded.",
    "The war goes on, though it could end; sanctions are reportedly not enough?",
    "Moscow has not massed troops along the border, officials said.",
    "Beijing may tighten gallium exports as the chip dispute escalates.",
    "Japan and NATO signed no security pact, but an alliance is possible.",
    "Tokyo did not rule out sanctions against North Korea.",
    # assertions Hyperscan cannot take (look-behinds, anchors) and non-ASCII literals
    "As soon as possible, the d\u00e9tente could begin.",
    "Should the detente fail, troops at the border may move.",
    "Were sanctions lifted, war began; should the axis hold?",
    "Entente: the axis was signed without delay.",
    "The pact was not without sanctions.",
    "An entente, the D\u00c9TENTE and the axis \u2014 possible.",
]


@pytest.fixture(scope="module", params=["bundled", "tricky"])
def pack(request: pytest.FixtureRequest) -> RulePack:
    if request.param == "bundled":
        return default_rules()
    return compile_packs([parse_pack(TRICKY_PACK, "tricky.yaml")])


@pytest.fixture(scope="module")
def fast(pack: RulePack) -> HyperscanPrefilter:
    pre = prefilter_for(pack)
    assert isinstance(pre, HyperscanPrefilter)
    return pre


def _old_negation_cue(pack: RulePack, sentence: str, start: int, end: int) -> str | None:
    """negation_cue as it was before the sentence scan (every window searched)."""
    if pack.negation is None:
        return None
    left, right = _clause_bounds(sentence, start, end)
    before = list(_WORD.finditer(sentence, left, start))[-pack.negation_window :]
    if before:
        m = pack.negation.search(sentence, before[0].start(), start)
        if m:
            return m.group(0)
    m = pack.negation.search(sentence, start, end)
    if m:
        return m.group(0)
    after = list(_WORD.finditer(sentence, end, right))[:3]
    if after:
        m = pack.negation.search(sentence, end, after[-1].end())
        if m:
            return m.group(0)
    return None


def _old_hedge_cue(pack: RulePack, sentence: str) -> str | None:
    if pack.hedging is None:
        return None
    m = pack.hedging.search(sentence)
    return m.group(0) if m else None


def _spans(sentence: str, longest: int = 24) -> Iterator[tuple[int, int]]:
    for start in range(len(sentence)):
        for end in range(start + 1, min(len(sentence), start + longest) + 1):
            yield start, end


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_same_claims_with_hyperscan_and_regex(
    text: str, pack: RulePack, fast: HyperscanPrefilter
) -> None:
    slow = RegexPrefilter(pack)
    for doc in (text, f"Intro line here. {text} The war goes on.\n\n{text}"):
        sentences = split_sentences(doc)
        got_fast = classify_document(pack, doc, sentences, fast)
        got_slow = classify_document(pack, doc, sentences, slow)
        assert got_fast == got_slow
    # and against classify_sentence with no prefilter at all
    whole = classify_sentence(pack, text)
    sentences = split_sentences(text)
    if (
        len(sentences) == 1
        and (sentences[0].start, sentences[0].end) == (0, len(text))
        and not is_non_assertive(text, 0, len(text))
    ):
        got = classify_document(pack, text, sentences, fast)
        assert got.get(0, []) == whole


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_hedge_cue_as_before(text: str, pack: RulePack, fast: HyperscanPrefilter) -> None:
    cues = fast.sentence_cues(text)
    new = None if cues.hedging is None else hedge_cue(pack, text, cues.hedging)
    assert new == _old_hedge_cue(pack, text)
    if pack.hedging is not None and cues.hedging is not None:
        m = pack.hedging.search(text)
        assert m is None or m.start() >= cues.hedging  # no cue starts before the offset


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_negation_cue_as_before_for_every_span(
    text: str, pack: RulePack, fast: HyperscanPrefilter
) -> None:
    cues = fast.sentence_cues(text)
    clauses = _Clauses(text)
    for start, end in _spans(text):
        expected = _old_negation_cue(pack, text, start, end)
        assert negation_cue(pack, text, start, end, cues, clauses) == expected, (start, end)
        assert negation_cue(pack, text, start, end) == expected


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_clause_bounds_once_per_sentence(text: str) -> None:
    clauses = _Clauses(text)
    for start, end in _spans(text, longest=len(text)):
        assert clauses.bounds(start, end) == _clause_bounds(text, start, end), (start, end)


CLAUSE_EDGES = [
    "butter but butter",
    "a, b,c , d - e -f- g",
    "x;y:z(w)[v]\u2014u\u2013t",
    "although though whereas while but",
    "Wait , but\u00a0-\u00a0no",
    "\u00e9but but\u00e9 \u00e9 but",
]


@pytest.mark.parametrize("text", CLAUSE_EDGES)
def test_clause_bounds_at_every_edge(text: str) -> None:
    assert _CLAUSE_BREAK.search(text)
    clauses = _Clauses(text)
    for start in range(len(text) + 1):
        for end in range(start, len(text) + 1):
            assert clauses.bounds(start, end) == _clause_bounds(text, start, end), (start, end)


def test_cues_say_where_to_look(fast: HyperscanPrefilter, pack: RulePack) -> None:
    if pack.negation is None or pack.hedging is None:
        pytest.skip("no cues")
    cues = fast.sentence_cues("Plain words only here.")
    assert cues.negation == ()
    assert cues.hedging is None
    text = "Troops at the border could not leave."
    cues = fast.sentence_cues(text)
    assert cues.hedging == text.index("could")
    assert cues.negation
    assert text.index("not") + 3 in cues.negation
    # Hyperscan cannot judge a sentence with a non-ASCII letter: no screen there
    assert fast.sentence_cues("Caf\u00e9 troops could not leave.") == UNKNOWN_CUES
    assert RegexPrefilter(pack).sentence_cues(text) == UNKNOWN_CUES


def test_may_end_in() -> None:
    sentence = "no war, nothing"
    cues = Cues(0, (2,))
    assert cues.may_end_in(sentence, 0, 2)
    assert cues.may_end_in(sentence, 0, 3)
    assert not cues.may_end_in(sentence, 2, 6)  # the cue ends at 2, not after
    assert cues.may_end_in(sentence, 8, 10)  # "no" cut out of "nothing": maybe
    assert not cues.may_end_in(sentence, 8, 15)
    assert UNKNOWN_CUES.may_end_in(sentence, 3, 6)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bwar\b", r"\bwar\b"),
        (r"\bmay\b(?!\s+(?:\d|last|next)\b)", r"\bmay\b"),
        (r"a(?=b)c|d(?!e(?:f|g))h", r"ac|dh"),
        (r"[(?=x)]y\(?=z\)", r"[(?=x)]y\(?=z\)"),
        (r"[]a(?=]b(?=c)", r"[]a(?=]b"),
        (r"[^](?!]x(?!y)", r"[^](?!]x"),
        (r"(?<=a)b(?<!c)d", r"bd"),
        (r"(?<!as soon as )\bpossible\b", r"\bpossible\b"),
        (r"(?:^|[.;:]\s+)(?:Should|Were)\b", r"(?:|[.;:]\s+)(?:Should|Were)\b"),
        (r"\Awar$|\Bpeace\Z|[$^]|\$\^", r"war|peace|[$^]|\$\^"),
        (r"a(?=b)*", None),  # a quantified assertion
        (r"^*a", None),
        (r"a(?=b", None),
    ],
)
def test_drop_assertions(pattern: str, expected: str | None) -> None:
    assert drop_assertions(pattern) == expected
    if expected is not None:
        re.compile(expected)


def test_untrusted_characters() -> None:
    """re and Hyperscan differ only on what the trusted-sentence check refuses."""
    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        expected = (
            0x1C <= code <= 0x1F
            or 0xD800 <= code <= 0xDFFF
            or (code > 0x7F and word.match(c) is not None)
        )
        assert (_UNTRUSTED.match(c) is not None) is expected, hex(code)
    # re's IGNORECASE folds no non-ASCII non-word character onto an ASCII one
    ascii_any = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    trusted = "".join(chr(c) for c in range(0x80, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    trusted = _UNTRUSTED.sub("", trusted)
    assert ascii_any.search(trusted) is None


def test_ascii_classes_agree_with_hyperscan() -> None:
    """On ASCII (less \\x1c-\\x1f) Hyperscan's \\s, \\w, \\d and \\b are re's."""

    def hs_matches(expression: bytes, data: bytes) -> bool:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[expression], ids=[0], elements=1, flags=[hyperscan.HS_FLAG_UTF8])
        found: list[int] = []
        db.scan(data, match_event_handler=lambda *a: found.append(1))
        return bool(found)

    for code in range(0x80):
        if 0x1C <= code <= 0x1F:
            continue
        c = chr(code)
        for cls in ("s", "w", "d"):
            assert hs_matches(rf"a\{cls}b".encode(), f"a{c}b".encode()) == bool(
                re.fullmatch(rf"a\{cls}b", f"a{c}b")
            ), (cls, hex(code))
        assert hs_matches(rb"a\b", f"a{c}".encode()) == bool(re.search(r"a\b", f"a{c}"))


def test_rejected_expressions_are_cached_with_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from claimtag import prefilter

    monkeypatch.setenv("CLAIMTAG_CACHE_DIR", str(tmp_path))
    exprs, ids, flags = [b"war", b"a?"], [0, 1], [0, 0]  # "a?" matches the empty string
    with caplog.at_level("WARNING", logger="claimtag.prefilter"):
        database, failed = prefilter._database(hyperscan, exprs, ids, flags)
    assert failed == {1}
    assert database is not None
    # the slow one-at-a-time fallback is named in the log
    assert any("one at a time" in r.getMessage() for r in caplog.records)
    assert prefilter._database(hyperscan, [b"b?"], [3], [0]) == (None, {3})

    def no_compile(*_args: object) -> None:
        raise AssertionError("compiled again instead of read from the cache")

    monkeypatch.setattr(prefilter, "_compile_database", no_compile)
    again, failed_again = prefilter._database(hyperscan, exprs, ids, flags)
    assert failed_again == {1}
    assert again is not None
    assert prefilter._database(hyperscan, [b"b?"], [3], [0]) == (None, {3})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"a|b", ["a", "b"]),
        (r"(?:a|b)", ["a", "b"]),
        (r"(?:x|(?:y|z))|w", ["x", "y", "z", "w"]),
        (r"\b(?:a|b)\b", [r"\b(?:a|b)\b"]),  # not one group: kept whole
        (r"(?:a|b)+", ["(?:a|b)+"]),
        (r"(?:a)(?:b)", ["(?:a)(?:b)"]),
        (r"[|]|[^]|]|\||x", ["[|]", "[^]|]", r"\|", "x"]),
        (r"(?:a(?=b|c))|d", ["a(?=b|c)", "d"]),
        (r"(?:a|b)|(?:a|c)", ["a", "b", "a", "c"]),
    ],
)
def test_alternatives_of(pattern: str, expected: list[str]) -> None:
    assert alternatives_of(pattern) == expected
    union = re.compile("|".join(f"(?:{alt})" for alt in expected))
    for text in ("a", "b", "c", "d", "x", "|", "ab", "]", "zz"):
        assert bool(union.fullmatch(text)) == bool(re.fullmatch(pattern, text)), text


SHARED_PACK = r"""
name: shared
version: 0.0.1
description: Three rules whose requirements share alternatives.
rules:
  - id: s.one
    claim_type: threat
    weight: 0.8
    patterns: ['\bmissiles?\b']
    require: ['\b(?:Ruritania|Freedonia)\b|\bborder\b']
    examples: {positive: ['Ruritania fired missiles.'], negative: ['Missiles.']}
  - id: s.two
    claim_type: alliance
    weight: 0.8
    patterns: ['\btreaty\b']
    require: ['\b(?:Ruritania|Freedonia)\b|\bsummit\b']
    examples: {positive: ['Freedonia signed the treaty.'], negative: ['A treaty.']}
  - id: s.three
    claim_type: economic_leverage
    weight: 0.8
    patterns: ['\bsanctions\b']
    require: ['\bsummit\b']
    exclude: ['\b(?:Ruritania|Freedonia)\b']
    examples: {positive: ['Sanctions came up at the summit.'], negative: ['Sanctions.']}
"""


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("Ruritania fired missiles and signed the treaty.", {"threat", "alliance"}),
        ("At the summit missiles were shown and a treaty signed.", {"alliance"}),
        ("At the summit they spoke of sanctions.", {"economic_leverage"}),
        ("At the summit Freedonia spoke of sanctions.", set()),
        ("Missiles were fired at the border; a treaty was signed.", {"threat"}),
        ("Missiles, a treaty and sanctions.", set()),
    ],
)
def test_shared_alternatives_serve_every_union(text: str, types: set[str]) -> None:
    pack = compile_packs([parse_pack(SHARED_PACK, "shared.yaml")])
    fast = prefilter_for(pack)
    assert isinstance(fast, HyperscanPrefilter)
    # the state alternative is compiled once and answers for s.one, s.two and s.three
    assert sorted(map(len, fast.owners), reverse=True)[0] == 3
    sentences = split_sentences(text)

    def types_with(prefilter: HyperscanPrefilter | RegexPrefilter) -> set[str]:
        claims = classify_document(pack, text, sentences, prefilter=prefilter)
        return {c.claim_type for found in claims.values() for c in found}

    assert types_with(fast) == types_with(RegexPrefilter(pack)) == types
