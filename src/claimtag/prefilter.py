"""Which rules may fire in which sentence, and which cues may be there: fast scans first.

Python's ``re`` tries every alternative at every position, so scanning documents with
the union of all rule patterns runs at well under 1 MB/s. Hyperscan compiles all the
patterns into one automaton and scans at about 100 MB/s on one core. It is used here
only to find *candidates*: its answer is a superset of the sentences and rules that can
match, and the rules are then confirmed with ``re`` on each candidate sentence. So the
output is decided by ``re`` alone, with or without Hyperscan.

Two databases:

* the *document* database holds the rules' patterns and is scanned once per document;
  its matches name the candidate sentences and, per sentence, the patterns worth trying;
* the *sentence* database holds the rules' require and exclude unions and the pack's
  hedging and negation cues, and is scanned over each candidate sentence alone (each
  require/exclude expression reports at most once per sentence). It says which rules'
  required context is absent, which exclusions need no search, where the first hedging
  cue may start (if anywhere), and where negation cues may end. The unions are split into
  their alternatives, and an alternative several unions share (the state lexicon is in
  many requirements) is compiled and scanned once for all of them.

To keep the answer a superset, each pattern is rewritten for Hyperscan's UTF-8 mode,
where ``\\w``, ``\\s`` and ``\\d`` are ASCII-only: they are widened to admit any
non-ASCII character, and so is a non-ASCII literal; and its zero-width assertions but
``\\b`` (look-arounds, anchors, ``\\B``), which Hyperscan does not support, are removed (a
superset whatever the text around the match). Patterns that cannot be made a superset
this way (back-references, inline flags, constructs Hyperscan rejects even in prefilter
mode) are checked with ``re`` on every sentence instead.

The sentence scan is trusted only in sentences where Hyperscan and ``re`` agree on
what a word character is, on case and on white space: no non-ASCII letter or digit
(``re``'s ``\\w`` and ``\\b`` are Unicode-aware, Hyperscan's are not, and ``re``'s
IGNORECASE folds ``ſ``, ``K``, ``İ`` and ``ı`` onto ASCII letters), no ASCII
``\\x1c``-``\\x1f`` (white space to ``re`` only) and no lone surrogate. Elsewhere the
classifier searches with ``re`` as if there were no scan.

The cues are searched by the classifier in parts of a sentence (``re``'s ``pos`` and
``endpos``: a negation cue within a few words of the evidence), where look-aheads and a
``\\b`` at ``endpos`` see a string cut short. The cue expressions are scanned without
their assertions but ``\\b`` (a superset), and a part of the sentence is searched only
when a cue may end inside it (see :meth:`Cues.may_end_in`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from claimtag.regex_safety import Regex
from claimtag.rules import RulePack
from claimtag.types import Sentence

_LOG = logging.getLogger(__name__)
_WIDE = r"\x{80}-\x{10FFFF}"
# what Hyperscan's \s lacks of re's, in ASCII: re's \s also has \x1c-\x1f
_WIDE_SPACE = r"\x1c-\x1f" + _WIDE
_UNSAFE = re.compile(r"\\[ABZzbG]|\(\?<[=!]|\(\?P=|\\[1-9]|\(\?[aiLmsux-]+[:)]")

SLOT = 1024  # Hyperscan id = rule index * SLOT + slot
REQUIRE, EXCLUDE = 1000, 1001  # slots of a rule's require and exclude unions
HEDGING, NEGATION = 1 << 30, (1 << 30) + 1  # ids of the cue expressions
HEDGING_ANY = (1 << 30) + 2  # the hedging cues when Hyperscan cannot give start offsets
# ids from ALTERNATIVE on name one alternative of the require/exclude unions, shared by every
# union that has it (the state lexicon is in many requirements; compiled once, not seven times)
ALTERNATIVE = 1 << 29

# Characters on which re and Hyperscan (UTF-8 mode, no UCP) may disagree: a non-ASCII
# word character (re's \w and \b are Unicode, and IGNORECASE folds some onto ASCII
# letters), \x1c-\x1f (white space to re only), lone surrogates (not valid UTF-8).
_UNTRUSTED = re.compile(r"[\x1c-\x1f\ud800-\udfff]|[^\W\x00-\x7f]")
_UNTRUSTED_BYTES = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")
# The non-ASCII characters that re's IGNORECASE matches with ASCII letters (i, s, k): a
# caseless pattern can match where Hyperscan's document scan sees no match at all, so
# every rule is tried in a sentence that holds one.
_FOLDS = "\u0130\u0131\u017f\u212a"
_FOLD = re.compile(f"[{_FOLDS}]")
_WORD_CHAR = re.compile(r"\w")


class Hint(NamedTuple):
    """What the scan says about one rule in one sentence.

    ``patterns``: indexes of the rule's patterns that may match, ascending (None: try them
    all); ``exclude``: whether the rule's exclude patterns may match (False: no need to
    look); ``require``: whether the rule's require union still has to be searched (False:
    the scan found it with an exact expression in an ASCII sentence, where Hyperscan and
    ``re`` agree).
    """

    patterns: tuple[int, ...] | None
    exclude: bool
    require: bool = True


ALL = Hint(None, True)


class Cues(NamedTuple):
    """What the sentence scan says about the pack's cues in one sentence.

    ``hedging``: where in the sentence (characters) the first hedging cue may start: no
    ``re`` match starts before it, so the search can start there; None when no hedging cue
    can match anywhere in the sentence. ``negation``: the sentence offsets (characters,
    ascending) where a negation cue may end; None when unknown (search with ``re``
    wherever the classifier looks).
    """

    hedging: int | None = 0
    negation: tuple[int, ...] | None = None

    def may_end_in(self, sentence: str, pos: int, endpos: int) -> bool:
        """Whether ``negation.search(sentence, pos, endpos)`` can find a cue.

        A match found there is also a match of the assertion-free cue in the whole
        sentence, so it ends at one of ``negation``, in (pos, endpos], unless ``endpos``
        cuts a word: there a ``\\b`` holds in the cut string and not in the whole one
        ("no" in "nothing" cut after "no"), and the answer is: maybe.
        """
        ends = self.negation
        if ends is None or cuts_word(sentence, endpos):
            return True
        k = bisect_right(ends, pos)
        return k < len(ends) and ends[k] <= endpos

    def none_around(self, sentence: str, start: int, end: int) -> bool:
        """True when no negation cue can be found around the match at [start, end).

        The classifier searches parts of the sentence that end at ``start``, at ``end`` or
        after a whole word (the end of a ``\\S+`` before white space, a clause break or
        the end of the sentence, never inside a word): with no cue anywhere in the sentence,
        only a cut inside a word at ``start`` or ``end`` could still show one.
        """
        return (
            self.negation == () and not cuts_word(sentence, start) and not cuts_word(sentence, end)
        )


def cuts_word(sentence: str, i: int) -> bool:
    """Whether offset ``i`` falls between two word characters (``re``'s ``\\w``)."""
    return (
        0 < i < len(sentence)
        and _WORD_CHAR.match(sentence, i) is not None
        and _WORD_CHAR.match(sentence, i - 1) is not None
    )


UNKNOWN_CUES = Cues()

Candidates = dict[int, dict[int, Hint]]
Screened = dict[int, tuple[dict[int, Hint], Cues]]


class Prefilter(Protocol):
    """Finds, per sentence, the rules that may fire there."""

    def candidates(self, text: str, sentences: Sequence[Sentence]) -> Candidates:
        """Sentence index → {rule index → Hint} for the rules worth trying there."""
        ...

    def screen(self, text: str, sentences: Sequence[Sentence]) -> Screened:
        """Sentence index → ({rule index → Hint}, Cues) for the sentences worth trying."""
        ...

    def sentence_cues(self, sentence: str) -> Cues:
        """The cues of one sentence, as :meth:`screen` finds them for a candidate."""
        ...


def to_hyperscan(pattern: str) -> str | None:
    """``pattern`` rewritten so that Hyperscan (UTF-8 mode) matches a superset, or None.

    None when no safe rewrite is known: then the pattern is checked with ``re`` everywhere.
    ``\\s``, ``\\w`` and ``\\d`` are widened (outside a class, or in a class that is not
    negated); a negated class keeps them as they are, since Hyperscan's narrower ones
    exclude less; a negated class with ``\\S``, ``\\W`` or ``\\D`` has no safe rewrite.
    A non-ASCII character (whose other cases Hyperscan may not know) stands for any
    non-ASCII character; in a negated class it is left out.
    """
    out: list[str] = []
    i, in_class, negated = 0, False, False
    while i < len(pattern):
        c = pattern[i]
        literal = c
        if c == "\\" and i + 1 < len(pattern):
            literal = pattern[i + 1]
        if not literal.isascii():
            if literal in _FOLDS:
                return None  # re's IGNORECASE matches it with an ASCII letter
            width = 1 if c == literal else 2
            if in_class and "-" in (pattern[i - 1], pattern[i + width : i + width + 1]):
                return None  # a range to or from it
            if not in_class:
                out.append(f"[{_WIDE}]")
            elif not negated:
                out.append(_WIDE)
            i += width
            continue
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e in "swd":
                wide = _WIDE_SPACE if e == "s" else _WIDE
                if not in_class:
                    out.append(f"[\\{e}{wide}]")
                elif negated:
                    out.append(f"\\{e}")
                else:
                    out.append(f"\\{e}{wide}")
            elif e in "SWD" and in_class and negated:
                return None
            elif e == "b" and not in_class:
                out.append("\\b")
            elif e in "BAZzG" or e.isdigit():
                return None
            else:
                out.append(c + e)
            i += 2
            continue
        if not in_class and c in "^$":
            return None
        if c == "[" and not in_class:
            in_class, negated = True, False
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                negated = True
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
            i += 1
            continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    rewritten = "".join(out)
    if _UNSAFE.search(rewritten.replace("\\b", "")):
        return None
    return rewritten


def _syntax(pattern: str, i: int = 0) -> Iterator[tuple[int, str]]:
    """``(index, character)`` of the characters of ``pattern`` from ``i`` on that are
    neither escaped nor inside a character class: where groups and alternatives are."""
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            continue
        else:
            yield i, c
        i += 1


def _group_end(pattern: str, i: int) -> int | None:
    """The index after the ``)`` closing the group opened at ``pattern[i]``, or None."""
    depth = 0
    for j, c in _syntax(pattern, i):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


_QUANTIFIERS = ("*", "+", "?", "{")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def alternatives_of(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern``; an alternative that is one ``(?:...)``
    group is split in turn. Their union matches where ``pattern`` does."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, c in _syntax(pattern):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    if len(parts) == 1:
        whole = pattern.startswith("(?:") and _group_end(pattern, 0) == len(pattern)
        return alternatives_of(pattern[3:-1]) if whole else parts
    return [alt for part in parts for alt in alternatives_of(part)]


def drop_assertions(pattern: str) -> str | None:
    """``pattern`` without its zero-width assertions but ``\\b``: a superset.

    Look-arounds (``(?=...)``, ``(?!...)``, ``(?<=...)``, ``(?<!...)``), ``^``, ``$``,
    ``\\A``, ``\\Z`` and ``\\B`` go; a match of ``pattern`` is a match of the result, in any
    text around it. None when that cannot be done safely (unbalanced, or a quantified
    assertion).
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            pair = pattern[i : i + 2]
            if not in_class and pair in ("\\A", "\\Z", "\\B"):
                if pattern[i + 2 : i + 3] in _QUANTIFIERS:
                    return None
                i += 2
                continue
            out.append(pair)
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            for lead in "^]":
                if pattern[i : i + 1] == lead:
                    out.append(lead)
                    i += 1
            continue
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            j = _group_end(pattern, i)
            if j is None or pattern[j : j + 1] in _QUANTIFIERS:
                return None
            i = j
            continue
        elif c in "^$":
            if pattern[i + 1 : i + 2] in _QUANTIFIERS:
                return None
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _expression(pattern: str) -> tuple[str, bool, bool] | None:
    """The Hyperscan expression of a rule's ``pattern``, whether it needs prefilter mode,
    and whether it is exact (no assertion was dropped: it matches where ``pattern`` does).

    Look-aheads are removed (a superset, whatever the text around); when that cannot be
    done, they are left to Hyperscan's prefilter mode.
    """
    stripped = drop_assertions(pattern)
    if stripped is not None:
        rewritten = to_hyperscan(stripped)
        return None if rewritten is None else (rewritten, False, stripped == pattern)
    rewritten = to_hyperscan(pattern)
    if rewritten is None:
        return None
    return rewritten, "(?=" in rewritten or "(?!" in rewritten, False


def _cue_expression(cues: Regex | None) -> str | None:
    """The Hyperscan expression screening ``cues`` (assertions but ``\\b`` removed), or None."""
    if not isinstance(cues, re.Pattern) or cues.flags & ~(re.IGNORECASE | re.UNICODE):
        return None  # RE2 parts or unusual flags: no screen
    stripped = drop_assertions(cues.pattern)
    return None if stripped is None else to_hyperscan(stripped)


class RegexPrefilter:
    """Fallback without Hyperscan: one ``re`` union over the document (slow, same answer)."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.all_rules = dict.fromkeys(range(len(pack.rules)), ALL)

    def candidates(self, text: str, sentences: Sequence[Sentence]) -> Candidates:
        out: Candidates = {}
        prefilter = self.pack.prefilter
        for i, s in enumerate(sentences):
            if prefilter.search(text[s.start : s.end]):  # a slice: anchors mean the sentence's
                out[i] = self.all_rules
        return out

    def screen(self, text: str, sentences: Sequence[Sentence]) -> Screened:
        return {i: (rules, UNKNOWN_CUES) for i, rules in self.candidates(text, sentences).items()}

    def sentence_cues(self, sentence: str) -> Cues:
        return UNKNOWN_CUES


class HyperscanPrefilter:
    """Two Hyperscan databases: rule patterns per document, context and cues per sentence.

    The sentence database holds the rules' require and exclude unions, so a rule whose
    required context is absent is not tried, and an exclusion that cannot match is not
    searched for; and the hedging and negation cues (see :class:`Cues`).
    """

    def __init__(
        self,
        pack: RulePack,
        hs: Any,
        database: Any,
        always: list[int],
        unknown_context: set[tuple[int, int]],
        sentence_database: Any = None,
        screened_cues: frozenset[int] = frozenset(),
        exact_require: frozenset[int] = frozenset(),
        owners: Sequence[tuple[int, ...]] = (),
    ) -> None:
        self.hs = hs
        self.database = database
        self.scratch = hs.Scratch(database) if database is not None else None
        self.sentence_database = sentence_database
        self.sentence_scratch = (
            hs.Scratch(sentence_database) if sentence_database is not None else None
        )
        self.always = always
        self.n_rules = len(pack.rules)
        # (rule, slot) pairs whose require/exclude could not be scanned: assume "may match"
        self.unknown_context = unknown_context
        # per rule, the sentence database's id of its require / exclude union: None when the
        # rule has none (require: nothing to check; exclude: nothing to search), -1 when it
        # could not be scanned (require: may be there; exclude: search it)
        self._require_id: list[int | None] = []
        self._exclude_id: list[int | None] = []
        for index, rule in enumerate(pack.rules):
            for slot, regex, ids in (
                (REQUIRE, rule.require, self._require_id),
                (EXCLUDE, rule.exclude, self._exclude_id),
            ):
                if regex is None:
                    ids.append(None)
                elif (index, slot) in unknown_context or sentence_database is None:
                    ids.append(-1)
                else:
                    ids.append(index * SLOT + slot)
        # HEDGING and/or NEGATION when the sentence database screens them
        self.screened_cues = screened_cues
        # rules whose require union the sentence database holds exactly (no assertion
        # dropped, no prefilter mode): found there, it need not be searched again
        self.exact_require = exact_require
        # per alternative id (less ALTERNATIVE), the require/exclude unions that contain it
        self.owners = owners

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - rebuilt per process
        raise TypeError("HyperscanPrefilter is per process; use prefilter_for(pack)")

    def candidates(self, text: str, sentences: Sequence[Sentence]) -> Candidates:
        return {i: rules for i, (rules, _) in self.screen(text, sentences).items()}

    def screen(self, text: str, sentences: Sequence[Sentence]) -> Screened:
        if not sentences:
            return {}
        data = text.encode("utf-8", "surrogatepass")
        ascii_text = len(data) == len(text)
        if ascii_text:
            ends = [s.end for s in sentences]
            starts = [s.start for s in sentences]
        else:
            starts, ends = _byte_offsets(text, sentences)
        tos: list[int] = []
        idents: list[int] = []
        if self.database is not None:
            add_to, add_ident = tos.append, idents.append

            def on_match(ident: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                add_to(to)
                add_ident(ident)

            self.database.scan(data, match_event_handler=on_match, scratch=self.scratch)
        # sentence -> rule -> slots (pattern indexes) seen; -1: the rule is always tried
        seen: dict[int, dict[int, set[int]]] = {}
        n = len(ends)
        for to, ident in zip(tos, idents, strict=True):
            i = bisect_left(ends, to)
            if i < n and to > starts[i]:
                per_rule = seen.get(i)
                if per_rule is None:
                    per_rule = seen[i] = {}
                rule, slot = divmod(ident, SLOT)
                slots = per_rule.get(rule)
                if slots is None:
                    per_rule[rule] = {slot}
                else:
                    slots.add(slot)
        if self.always:
            for i in range(n):
                per_rule = seen.setdefault(i, {})
                for rule in self.always:
                    per_rule.setdefault(rule, set()).add(-1)
        if not ascii_text and any(c in text for c in _FOLDS):
            char_ends = [s.end for s in sentences]
            for m in _FOLD.finditer(text):
                i = bisect_right(char_ends, m.start())
                if i < n and sentences[i].start <= m.start():
                    seen[i] = {rule: {-1} for rule in range(self.n_rules)}
        if not seen:
            return {}
        no_controls = not any(b in data for b in _UNTRUSTED_BYTES)
        scan = self._sentence_scanner()
        require_id, exclude_id = self._require_id, self._exclude_id
        exact_require = self.exact_require
        nothing: set[int] = set()
        out: Screened = {}
        for i in sorted(seen):
            s = sentences[i]
            part = data[starts[i] : ends[i]]
            ascii_part = len(part) == s.end - s.start
            if ascii_part:
                trusted = no_controls or not any(b in part for b in _UNTRUSTED_BYTES)
            else:
                trusted = _UNTRUSTED.search(text, s.start, s.end) is None
            if trusted and scan is not None:
                found, cues = scan(part, s.end - s.start)
            else:  # as if every require and exclude union could be there
                found, cues, trusted = nothing, UNKNOWN_CUES, False
            hints: dict[int, Hint] = {}
            per_rule = seen[i]
            for rule in sorted(per_rule) if len(per_rule) > 1 else per_rule:
                slots = per_rule[rule]
                if -1 in slots:
                    hints[rule] = ALL
                    continue
                need = require_id[rule]
                if trusted and need is not None and need != -1 and need not in found:
                    continue  # its required context is not in the sentence
                veto = exclude_id[rule]
                hints[rule] = Hint(
                    tuple(sorted(slots)) if len(slots) > 1 else tuple(slots),
                    veto is not None and (not trusted or veto == -1 or veto in found),
                    not (trusted and ascii_part and rule in exact_require and need in found),
                )
            if hints:
                out[i] = (hints, cues)
        return out

    def sentence_cues(self, sentence: str) -> Cues:
        scan = self._sentence_scanner()
        if scan is None or _UNTRUSTED.search(sentence):
            return UNKNOWN_CUES
        return scan(sentence.encode("utf-8"), len(sentence))[1]

    def _sentence_scanner(self) -> Callable[[bytes, int], tuple[set[int], Cues]] | None:
        """A function scanning one sentence (its UTF-8 bytes and its length in characters):
        the require/exclude ids found, and the cues."""
        database = self.sentence_database
        if database is None:
            return None
        scratch = self.sentence_scratch
        screened = self.screened_cues
        hedge_starts = HEDGING in screened
        hedge_any = HEDGING_ANY in screened
        negation = NEGATION in screened
        found: set[int] = set()
        starts: list[int] = []
        ends: list[int] = []
        owners = self.owners
        add, update, add_start, add_end = found.add, found.update, starts.append, ends.append

        def on_match(ident: int, start: int, end: int, _flags: int, _ctx: object) -> None:
            if ident == NEGATION:
                add_end(end)
            elif ident == HEDGING:
                add_start(start)
            elif ident >= HEDGING:
                add(ident)
            else:
                update(owners[ident - ALTERNATIVE])

        def scan(sentence: bytes, n_chars: int) -> tuple[set[int], Cues]:
            found.clear()
            starts.clear()
            ends.clear()
            database.scan(sentence, match_event_handler=on_match, scratch=scratch)
            multibyte = len(sentence) != n_chars
            hedging: int | None = 0
            if hedge_starts:
                hedging = min(starts) if starts else None
                if hedging and multibyte:  # bytes to characters
                    hedging = len(sentence[:hedging].decode("utf-8", "surrogatepass"))
            elif hedge_any and HEDGING_ANY not in found:
                hedging = None
            if not negation:
                return found, Cues(hedging, None)
            if not ends:
                return found, Cues(hedging, ())
            if multibyte:
                ends[:] = [len(sentence[:to].decode("utf-8", "surrogatepass")) for to in ends]
            return found, Cues(hedging, tuple(sorted(set(ends))))

        return scan


def _byte_offsets(text: str, sentences: Sequence[Sentence]) -> tuple[list[int], list[int]]:
    """UTF-8 byte offsets of sentence starts and ends."""
    starts, ends = [], []
    pos_c = pos_b = 0
    for s in sentences:
        pos_b += len(text[pos_c : s.start].encode("utf-8", "surrogatepass"))
        starts.append(pos_b)
        pos_b += len(text[s.start : s.end].encode("utf-8", "surrogatepass"))
        ends.append(pos_b)
        pos_c = s.end
    return starts, ends


def _cache_dir() -> Path | None:
    root = os.environ.get("CLAIMTAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "claimtag"
    )
    return Path(root) if root else None


class _NotCached(Exception):
    """A database is not in the cache, and the caller asked not to compile it."""


def _compile(
    pack: RulePack, *, compile_missing: bool = True
) -> RegexPrefilter | HyperscanPrefilter:
    try:
        import hyperscan as hs
    except ImportError:
        return RegexPrefilter(pack)
    doc: tuple[list[bytes], list[int], list[int]] = ([], [], [])
    sent: tuple[list[bytes], list[int], list[int]] = ([], [], [])
    always: set[int] = set()
    unknown: set[tuple[int, int]] = set()
    exact_require: set[int] = set()
    alternatives: dict[tuple[bytes, int], int] = {}  # (alternative, flags) -> its number
    owners: list[list[int]] = []  # per alternative, the unions that have it
    for index, rule in enumerate(pack.rules):
        sources = [(slot, p) for slot, p in enumerate(rule.patterns)]
        sources += [(REQUIRE, rule.require)] if rule.require is not None else []
        sources += [(EXCLUDE, rule.exclude)] if rule.exclude is not None else []
        for slot, pattern in sources:
            expression = _expression(pattern.pattern)
            if expression is None:
                if slot < REQUIRE:
                    always.add(index)
                else:
                    unknown.add((index, slot))
                continue
            rewritten, prefilter, exact = expression
            if slot == REQUIRE and exact:
                exact_require.add(index)
            flag = hs.HS_FLAG_UTF8
            if pattern.flags & re.IGNORECASE:
                flag |= hs.HS_FLAG_CASELESS
            if prefilter:
                flag |= hs.HS_FLAG_PREFILTER  # assertions left: Hyperscan matches a superset
            if slot < REQUIRE:
                doc[0].append(rewritten.encode())
                doc[1].append(index * SLOT + slot)
                doc[2].append(flag)
                continue
            # a require/exclude union: presence in the sentence is all that counts, so each
            # alternative is scanned once for all the unions that contain it
            for alternative in alternatives_of(rewritten):
                alt_flag = flag | hs.HS_FLAG_SINGLEMATCH
                if not _LOOKAROUND.search(alternative):
                    alt_flag &= ~hs.HS_FLAG_PREFILTER
                key = (alternative.encode(), alt_flag)
                number = alternatives.get(key)
                if number is None:
                    number = alternatives[key] = len(owners)
                    owners.append([])
                    sent[0].append(key[0])
                    sent[1].append(ALTERNATIVE + number)
                    sent[2].append(alt_flag)
                if index * SLOT + slot not in owners[number]:
                    owners[number].append(index * SLOT + slot)
    cues: list[tuple[int, bytes, int]] = []
    for ident, regex, extra in (
        (HEDGING, pack.hedging, hs.HS_FLAG_SOM_LEFTMOST),  # every start offset
        (NEGATION, pack.negation, 0),  # every end offset
    ):
        cue = _cue_expression(regex)
        if cue is not None:
            cues.append((ident, cue.encode(), hs.HS_FLAG_UTF8 | hs.HS_FLAG_CASELESS | extra))
    database, failed = _database(hs, *doc, compile_missing=compile_missing)
    always.update(ident // SLOT for ident in failed)
    sentence_database, failed = _database(
        hs,
        sent[0] + [c[1] for c in cues],
        sent[1] + [c[0] for c in cues],
        sent[2] + [c[2] for c in cues],
        compile_missing=compile_missing,
    )
    if HEDGING in failed:  # no start offsets (SOM): whether there is a cue at all will do
        cues = [
            (HEDGING_ANY, e, f & ~hs.HS_FLAG_SOM_LEFTMOST | hs.HS_FLAG_SINGLEMATCH)
            if i == HEDGING
            else (i, e, f)
            for i, e, f in cues
        ]
        sentence_database, failed = _database(
            hs,
            sent[0] + [c[1] for c in cues],
            sent[1] + [c[0] for c in cues],
            sent[2] + [c[2] for c in cues],
            compile_missing=compile_missing,
        )
    screened = {c[0] for c in cues} - failed
    unknown.update(
        divmod(union, SLOT)
        for ident in failed
        if ident < HEDGING
        for union in owners[ident - ALTERNATIVE]
    )
    return HyperscanPrefilter(
        pack,
        hs,
        database,
        sorted(always),
        unknown,
        sentence_database,
        frozenset(screened),
        frozenset(exact_require),
        tuple(tuple(unions) for unions in owners),
    )


def _database(
    hs: Any, exprs: list[bytes], ids: list[int], flags: list[int], *, compile_missing: bool = True
) -> tuple[Any, set[int]]:
    """The database of ``exprs`` and the ids Hyperscan rejected, from the cache or compiled.

    The database is None when there is nothing to scan. ``compile_missing=False``: raise
    :class:`_NotCached` instead of compiling a database the cache does not hold.
    """
    if not exprs:
        return None, set()
    key = hashlib.sha256(
        repr((hs.__version__ if hasattr(hs, "__version__") else "", exprs, ids, flags)).encode()
    ).hexdigest()[:24]
    cached = _load_cached(hs, key)
    if cached is not None:
        return cached
    if not compile_missing:
        raise _NotCached(key)
    database, failed = _compile_database(hs, exprs, ids, flags)
    if len(failed) == len(exprs):
        database = None
    _store_cached(hs, key, database, failed)
    return database, failed


def _compile_database(
    hs: Any, exprs: list[bytes], ids: list[int], flags: list[int]
) -> tuple[Any, set[int]]:
    """Compile; a pattern Hyperscan rejects is retried in prefilter mode, else left out."""
    database = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        database.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
        return database, set()
    except hs.error as error:
        _LOG.warning(
            "Hyperscan rejected the %d expressions together (%s); compiling them one at a "
            "time, which takes much longer (scripts/hyperscan_costs.py names the costly ones)",
            len(exprs),
            error,
        )
    keep_e, keep_i, keep_f, failed = [], [], [], set()
    for e, i, f in zip(exprs, ids, flags, strict=True):
        for extra in (0, hs.HS_FLAG_PREFILTER):
            probe = hs.Database(mode=hs.HS_MODE_BLOCK)
            try:
                probe.compile(expressions=[e], ids=[i], elements=1, flags=[f | extra])
            except hs.error:
                continue
            keep_e.append(e)
            keep_i.append(i)
            keep_f.append(f | extra)
            break
        else:
            failed.add(i)
    if keep_e:
        database.compile(expressions=keep_e, ids=keep_i, elements=len(keep_e), flags=keep_f)
    return database, failed


def _load_cached(hs: Any, key: str) -> tuple[Any, set[int]] | None:
    """(database or None, failed ids) stored under ``key``, or None if there is none.

    ``hs-KEY.failed`` (the ids Hyperscan rejected, when there were any) is written before
    ``hs-KEY.db``, so a database found has its list of failures next to it.
    """
    folder = _cache_dir()
    if folder is None:
        return None
    with suppress(OSError, hs.error, TypeError, ValueError):
        failed_path = folder / f"hs-{key}.failed"
        failed = (
            {int(x) for x in failed_path.read_text().split()} if failed_path.exists() else set()
        )
        path = folder / f"hs-{key}.db"
        if not path.exists():
            return (None, failed) if failed else None
        return hs.loadb(path.read_bytes(), hs.HS_MODE_BLOCK), failed
    return None


def _store_cached(hs: Any, key: str, database: Any, failed: set[int]) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    with suppress(OSError, hs.error):
        folder.mkdir(parents=True, exist_ok=True)
        if failed:
            _write_atomic(folder, f"hs-{key}.failed", " ".join(map(str, sorted(failed))).encode())
        if database is not None:
            _write_atomic(folder, f"hs-{key}.db", hs.dumpb(database))


def _write_atomic(folder: Path, name: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hs-", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, folder / name)


_BY_PACK: dict[int, tuple[RulePack, RegexPrefilter | HyperscanPrefilter]] = {}


def prefilter_for(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter:
    """The prefilter of ``pack``, built once per process (and cached on disk)."""
    entry = _BY_PACK.get(id(pack))
    if entry is None or entry[0] is not pack:
        entry = (pack, _build(pack))
        _BY_PACK[id(pack)] = entry
    return entry[1]


def prefilter_if_ready(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter | None:
    """The prefilter of ``pack`` if it costs no compile, else None.

    Ready means built in this process, or held in the on-disk cache (a run of the pack on
    this machine compiled it). Used where a one-time compile of a minute or two would cost
    more than it saves, as when a pack being edited is evaluated on a few hundred sentences.
    """
    entry = _BY_PACK.get(id(pack))
    if entry is not None and entry[0] is pack:
        return entry[1]
    if _regex_forced():
        return None
    try:
        built = _compile(pack, compile_missing=False)
    except _NotCached:
        return None
    _BY_PACK[id(pack)] = (pack, built)
    return built


def _regex_forced() -> bool:
    """``CLAIMTAG_PREFILTER=regex``: use the ``re`` fallback even where Hyperscan is installed."""
    return os.environ.get("CLAIMTAG_PREFILTER", "").lower() == "regex"


def _build(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter:
    if _regex_forced():
        return RegexPrefilter(pack)
    return _compile(pack)


__all__ = [
    "ALL",
    "UNKNOWN_CUES",
    "Cues",
    "Hint",
    "HyperscanPrefilter",
    "Prefilter",
    "RegexPrefilter",
    "drop_assertions",
    "prefilter_for",
    "prefilter_if_ready",
    "to_hyperscan",
]
