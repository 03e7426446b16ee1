"""Sentences × compiled rules → claims with evidence, negation, hedging and confidence."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from claimtag.prefilter import ALL, UNKNOWN_CUES, Cues, Hint, Prefilter, prefilter_for
from claimtag.rules import CompiledRule, RulePack
from claimtag.types import Match, Sentence

if TYPE_CHECKING:
    from claimtag.learned import TextModel

# Where a clause ends: the scope of a negation cue does not cross these.
_CLAUSE_BREAK = re.compile(
    r"[;:()\[\]—–]|,\s|\s-\s|\b(?:but|while|whereas|although|though)\b", re.I
)
_WORD = re.compile(r"\S+")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim type found in one sentence."""

    claim_type: str
    matches: tuple[Match, ...]
    confidence: float
    negated: bool
    negation_cue: str | None
    hedged: bool
    hedge_cue: str | None

    @property
    def rule_ids(self) -> list[str]:
        return sorted({m.rule_id for m in self.matches})


def rule_matches(
    rule: CompiledRule, sentence: str, offset: int = 0, hint: Hint = ALL
) -> list[Match]:
    """Every match of ``rule`` in ``sentence`` (offsets shifted by ``offset``), or [] if vetoed.

    ``hint`` (from the prefilter) names the patterns worth trying and whether the exclude
    patterns can match at all; the default tries everything.
    """
    found: list[Match] = []
    patterns = rule.patterns if hint.patterns is None else [rule.patterns[i] for i in hint.patterns]
    rule_id, claim_type, weight = rule.id, rule.claim_type, rule.weight
    for pattern in patterns:
        for m in pattern.finditer(sentence):
            start, end = m.start(), m.end()
            if end > start:
                found.append(
                    Match(rule_id, claim_type, offset + start, offset + end, m.group(0), weight)
                )
    if not found:
        return []
    if rule.require is not None and hint.require and rule.require.search(sentence) is None:
        return []
    if hint.exclude and rule.exclude is not None and rule.exclude.search(sentence) is not None:
        return []
    return found


def _clause_bounds(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): from the last break before it to the next one after."""
    left = 0
    for m in _CLAUSE_BREAK.finditer(sentence, 0, start):
        left = m.end()
    nxt = _CLAUSE_BREAK.search(sentence, end)
    right = nxt.start() if nxt else len(sentence)
    return left, right


class _Clauses:
    """The clause breaks of one sentence, found once, for :func:`_clause_bounds` per match.

    ``bounds(start, end)`` equals ``_clause_bounds(sentence, start, end)``, which searches
    the sentence cut at ``start`` on the left and from ``end`` on the right. The breaks of
    the whole sentence give the same answer unless a break straddles ``start`` or ``end``
    (the cut string cannot hold it, and it hides matches inside it), or ``start`` falls
    inside a word (a break word ending there, "but" in "butter", ends at a word boundary
    only in the cut string); then the bounds are searched as before.
    """

    __slots__ = ("_ends", "_starts", "sentence")

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def bounds(self, start: int, end: int) -> tuple[int, int]:
        sentence = self.sentence
        starts = self._starts
        if starts is None:
            spans = [m.span() for m in _CLAUSE_BREAK.finditer(sentence)]
            starts = self._starts = [a for a, _ in spans]
            self._ends = [b for _, b in spans]
        ends = self._ends
        k = bisect_right(ends, start)  # breaks[:k] end at or before start
        j = bisect_left(starts, end)  # breaks[j:] start at or after end
        if (
            (k < len(starts) and starts[k] < start)
            or (j > 0 and ends[j - 1] > end)
            or (
                0 < start < len(sentence)
                and _WORD_CHAR.match(sentence, start - 1)
                and _WORD_CHAR.match(sentence, start)
            )
        ):
            return _clause_bounds(sentence, start, end)
        return (ends[k - 1] if k else 0, starts[j] if j < len(starts) else len(sentence))


def negation_cue(
    pack: RulePack,
    sentence: str,
    start: int,
    end: int,
    cues: Cues = UNKNOWN_CUES,
    clauses: _Clauses | None = None,
) -> str | None:
    """The negation cue in scope of the match at [start, end) of ``sentence``, if any.

    In scope: within ``pack.negation_window`` words before the match, or the three words
    right after it, without crossing a clause break. ``cues`` (from the prefilter's
    sentence scan) says where a cue may end; a part of the sentence where none can is not
    searched. ``clauses``: the sentence's clause breaks, shared by its claims.
    """
    negation = pack.negation
    if negation is None or cues.none_around(sentence, start, end):
        return None
    if clauses is None:
        left, right = _clause_bounds(sentence, start, end)
    else:
        left, right = clauses.bounds(start, end)
    may = cues.may_end_in
    if may(sentence, left, start):  # the window before the match lies in [left, start)
        before = list(_WORD.finditer(sentence, left, start))[-pack.negation_window :]
        if before and may(sentence, before[0].start(), start):
            m = negation.search(sentence, before[0].start(), start)
            if m:
                return m.group(0)
    # the match itself can carry the cue ("no sanctions", "non-aggression")
    if may(sentence, start, end):
        m = negation.search(sentence, start, end)
        if m:
            return m.group(0)
    after = list(islice(_WORD.finditer(sentence, end, right), 3))
    if after and may(sentence, end, after[-1].end()):
        m = negation.search(sentence, end, after[-1].end())
        if m:
            return m.group(0)
    return None


def hedge_cue(pack: RulePack, sentence: str, pos: int = 0) -> str | None:
    """The first hedging cue in ``sentence``, if any.

    ``pos``: where to start looking, when it is known that no cue starts before it (the
    prefilter's sentence scan says so: :attr:`Cues.hedging`).
    """
    if pack.hedging is None:
        return None
    m = pack.hedging.search(sentence, pos)
    return m.group(0) if m else None


def noisy_or(weights: Sequence[float]) -> float:
    """Combine independent pieces of evidence: 1 - Π(1 - w)."""
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return round(1.0 - p, 4)


def classify_sentence(
    pack: RulePack,
    sentence: str,
    offset: int = 0,
    rules: Mapping[int, Hint] | None = None,
    cues: Cues = UNKNOWN_CUES,
) -> list[Claim]:
    """All claims in one sentence, by claim type (sorted by type name).

    ``offset`` is the sentence's start in its document; match offsets are document offsets.
    ``rules`` limits the rules tried to the prefilter's candidates ({rule index: hint});
    default: all of them. ``cues``: what the prefilter's sentence scan says about the
    hedging and negation cues (default: nothing, search everywhere).
    """
    by_type: dict[str, list[Match]] = {}
    tried = (
        [(r, ALL) for r in pack.rules]
        if rules is None
        else [(pack.rules[i], hint) for i, hint in rules.items()]
    )
    for rule, hint in tried:
        found = rule_matches(rule, sentence, offset, hint)
        if found:
            by_type.setdefault(rule.claim_type, []).extend(found)
    if not by_type:
        return []
    hedge = None if cues.hedging is None else hedge_cue(pack, sentence, cues.hedging)
    clauses = _Clauses(sentence)
    claims = []
    for claim_type in sorted(by_type):
        matches = tuple(sorted(by_type[claim_type], key=lambda m: (m.start, m.end, m.rule_id)))
        best: dict[str, float] = {}
        for m in matches:
            best[m.rule_id] = max(best.get(m.rule_id, 0.0), m.weight)
        strongest = max(matches, key=lambda m: (m.weight, -m.start))
        neg = negation_cue(
            pack, sentence, strongest.start - offset, strongest.end - offset, cues, clauses
        )
        claims.append(
            Claim(
                claim_type=claim_type,
                matches=matches,
                confidence=noisy_or(list(best.values())),
                negated=neg is not None,
                negation_cue=neg,
                hedged=hedge is not None,
                hedge_cue=hedge,
            )
        )
    return claims


_FINAL_PUNCT = frozenset(".!?:;\"'”’)]…")
_LIST_ITEM = re.compile(r"^(?:[-*•–]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_NON_ASSERTIVE = re.compile(
    r"^(?:click here|read more|read the (?:full )?report|subscribe|share this|follow us|"
    r"photo(?:graph)?:|image:|source:|"
    # a byline: "By Jane Doe", "BY JANE DOE, Reuters" -- names, not "By the terms of ..."
    r"(?-i:(?:By|BY) [A-Z][\w.'-]*(?: [A-Z][\w.'-]*){1,3}(?:,[^.]*)?$))",
    re.IGNORECASE,
)


def is_non_assertive(text: str, start: int, end: int) -> bool:
    """Headings, titles, bylines and links: lines that assert nothing (LABELING.md).

    A heading is a Markdown ``#`` line, or a short line (≤ 15 words) on its own that does
    not end in sentence punctuation and is not a list item.
    """
    sentence = text[start:end]
    if sentence.startswith("#") or _NON_ASSERTIVE.match(sentence):
        return True
    if sentence[-1] in _FINAL_PUNCT or _LIST_ITEM.match(sentence):
        return False
    line_end = end == len(text) or text[end] in "\r\n"
    line_start = start == 0 or text[start - 1] in "\r\n"
    return line_start and line_end and len(sentence.split()) <= 15


def classify_document(
    pack: RulePack,
    text: str,
    sentences: Sequence[Sentence],
    prefilter: Prefilter | None = None,
    model: TextModel | None = None,
    probabilities: Any = None,
    vetoed: list[Claim] | None = None,
) -> dict[int, list[Claim]]:
    """Claims per sentence index, for the sentences of ``text`` that carry any.

    Headings, bylines and links are not claims and are passed over. ``prefilter``: the
    candidate scan to use (default: the pack's own, :func:`prefilter_for`). ``model``: a
    learned model that adds claims the rules did not make and may veto theirs
    (:func:`add_learned_claims`);
    ``probabilities``: its scores of the :func:`assertive_indices` sentences, when they
    were scored already (with other documents' sentences: one call scores many faster);
    ``vetoed``: a list that receives the rule claims the model dropped.
    """
    out: dict[int, list[Claim]] = {}
    scan = prefilter_for(pack) if prefilter is None else prefilter
    for i, (candidates, cues) in scan.screen(text, sentences).items():
        s = sentences[i]
        if is_non_assertive(text, s.start, s.end):
            continue
        claims = classify_sentence(pack, text[s.start : s.end], s.start, candidates, cues)
        if claims:
            out[i] = claims
    if model is not None:
        assertive = assertive_indices(text, sentences)
        added = add_learned_claims(
            pack,
            model,
            [text[sentences[i].start : sentences[i].end] for i in assertive],
            [sentences[i].start for i in assertive],
            [out.get(i, []) for i in assertive],
            probabilities,
            vetoed,
            scan.sentence_cues,
        )
        for i, claims in zip(assertive, added, strict=True):
            if claims:
                out[i] = claims
            else:  # no claim, or every rule claim of the sentence vetoed
                out.pop(i, None)
    return out


def assertive_indices(text: str, sentences: Sequence[Sentence]) -> list[int]:
    """The indices of the ``sentences`` of ``text`` that are not headings, bylines or links:
    the sentences the learned model scores."""
    return [i for i, s in enumerate(sentences) if not is_non_assertive(text, s.start, s.end)]


def add_learned_claims(
    pack: RulePack,
    model: TextModel,
    sentences: Sequence[str],
    offsets: Sequence[int],
    claims: Sequence[list[Claim]],
    probabilities: Any = None,
    vetoed: list[Claim] | None = None,
    cues_of: Callable[[str], Cues] | None = None,
) -> list[list[Claim]]:
    """The rules' ``claims`` of each sentence, less those the model vetoes, plus the model's.

    The model adds a claim of each type no rule made whose probability reaches the model's
    threshold for the type. It vetoes a rule claim whose type's probability is below the
    model's veto level for the type (``model.vetoes``; 0: no veto).

    A learned claim's evidence is the words that weighed most for it (rule id
    ``learned.<type>``; the whole sentence when no single word did), its confidence the
    probability. Its negation cue is searched around its strongest evidence as for a rule
    match, its hedging cue in the whole sentence. ``probabilities``: the model's scores of
    ``sentences``, when they were scored already; ``vetoed``: a list that receives the rule
    claims the model dropped; ``cues_of``: the prefilter's scan of one sentence
    (:meth:`Prefilter.sentence_cues`), which says where the cues may be, so that a sentence
    with none is not searched (default: search every sentence that gets a learned claim).
    """
    from claimtag.learned import learned_rule_id

    if not sentences:
        return []
    probs = model.probabilities(sentences) if probabilities is None else probabilities
    out = []
    # claim type -> (its column, its veto level), for the types the model vetoes at all
    levels = zip(model.types, model.vetoes.tolist(), strict=True)
    vetoes = {t: (i, v) for i, (t, v) in enumerate(levels) if v}
    for k, (sentence, offset, found) in enumerate(zip(sentences, offsets, claims, strict=True)):
        if found and vetoes:
            kept: list[Claim] = []
            for c in found:
                level = vetoes.get(c.claim_type)
                if level is None or float(probs[k, level[0]]) >= level[1]:
                    kept.append(c)
                elif vetoed is not None:
                    vetoed.append(c)
            found = kept
        made = {c.claim_type for c in found}
        new: list[Claim] = []
        hedge: str | None = None
        cues = UNKNOWN_CUES
        for t, claim_type in enumerate(model.types):
            p = float(probs[k, t])
            if claim_type in made or model.thresholds[t] >= 1.0 or p < model.thresholds[t]:
                continue
            rule_id = learned_rule_id(claim_type)
            if not new and cues_of is not None:  # scanned once, for the sentence's first
                cues = cues_of(sentence)
            spans = model.evidence(sentence, claim_type)
            matches = tuple(
                Match(rule_id, claim_type, offset + e.start, offset + e.end, e.text, p)
                for e in spans
            ) or (Match(rule_id, claim_type, offset, offset + len(sentence), sentence, p),)
            strongest = max(spans, key=lambda e: e.weight) if spans else None
            start, end = (strongest.start, strongest.end) if strongest else (0, len(sentence))
            neg = negation_cue(pack, sentence, start, end, cues)
            if not new and cues.hedging is not None:  # searched once, for its learned claims
                hedge = hedge_cue(pack, sentence, cues.hedging)
            new.append(
                Claim(
                    claim_type=claim_type,
                    matches=matches,
                    confidence=round(p, 4),
                    negated=neg is not None,
                    negation_cue=neg,
                    hedged=hedge is not None,
                    hedge_cue=hedge,
                )
            )
        out.append(sorted([*found, *new], key=lambda c: c.claim_type) if new else list(found))
    return out


def check_examples(pack: RulePack) -> list[str]:
    """Every rule example that does not behave: positives must fire, negatives must not."""
    failures = []
    for rule in pack.rules:
        for text in rule.positive:
            if not rule_matches(rule, text):
                failures.append(f"{rule.id}: positive example does not fire: {text!r}")
        for text in rule.negative:
            hits = rule_matches(rule, text)
            if hits:
                failures.append(f"{rule.id}: negative example fires on {hits[0].text!r}: {text!r}")
    return failures
