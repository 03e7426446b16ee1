"""Rule-pack patterns that cannot hang a run.

Python's ``re`` is a backtracking engine: a pattern such as ``(a+)+$``, ``(x|x)*y`` or
``\\d+\\.?\\d*%`` takes exponential (or high-polynomial) time on a line that almost
matches, and a user's rule pack can contain one by accident. Patterns are therefore
analysed when a pack is loaded, on the parse tree that ``re`` itself builds:

* **nested or ambiguous repetition** -- a repeated group whose iterations can split the
  same text in more than one way (``(a+)+``, ``(\\w+\\s?)*``, ``(x|x)*``, ``(a?)*``):
  exponential, or polynomial of the repeat count's degree;
* **overlapping neighbours** -- two repetitions of wide range (``LONG``, or unbounded)
  next to each other that can trade characters (``\\w+\\w+``, ``.*\\s.*``,
  ``\\d+\\.?\\d*``): cubic in the sentence length once ``re`` tries every start.

A pattern with either hazard is matched with RE2 (``google-re2``), which runs in time
linear in the text whatever the pattern, instead of ``re``. RE2 has no look-around,
back-references, atomic groups or possessive quantifiers; a hazardous pattern that
needs them is rejected at load with the reason and a way out (possessive quantifiers
``a++`` and atomic groups ``(?>...)`` never backtrack, so they clear the hazard).
Every other pattern -- all of the bundled pack -- is matched by ``re`` as before. What
is left for ``re`` costs at most about n² per sentence of n characters (any unbounded
repetition is tried from every start), which the longest sentence matched
(``InputOptions.max_sentence_chars``) keeps bounded.

For patterns moved to RE2 the Python meaning of ``\\w``, ``\\d`` and ``\\s`` (Unicode)
is kept by translation. Two differences remain: ``\\b`` and ``\\B`` are RE2's ASCII
word boundaries (so a hazardous pattern that spells non-ASCII letters together with
``\\b`` is rejected rather than silently matching differently), and ``$`` does not
match before a final newline (sentences never end in one).

Measured on the bundled pack over 34,230 sentences of UN speeches (2,879 with non-ASCII
text): RE2 and ``re`` agree on all 3.35 million (sentence, pattern) pairs and take the
same time (about 10 µs a call, mostly Python overhead). On 100,000 ``a`` and a ``!``,
RE2 runs ``(a+)+$`` in under a millisecond; ``re`` takes 5 s on 24 of them and doubles
with each one more.
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

_parser: Any = importlib.import_module("re._parser")
_C: Any = importlib.import_module("re._constants")

_re2: Any
try:  # the linear-time engine; without it hazardous patterns are rejected
    _re2 = importlib.import_module("re2")
except ImportError:  # pragma: no cover - google-re2 is a dependency
    _re2 = None

__all__ = [
    "AnyOf",
    "LazyUnion",
    "PatternPlan",
    "RE2Regex",
    "Regex",
    "RegexMatch",
    "UnsafePatternError",
    "analyse",
    "compile_pattern",
    "compile_union",
    "plan_pattern",
]

_I, _S, _M, _A, _L = (int(f) for f in (re.IGNORECASE, re.DOTALL, re.MULTILINE, re.ASCII, re.LOCALE))
INF = 1 << 62  # width of an unbounded repetition
LONG = 256  # repetitions with this much play on both sides of a seam are a hazard
RE2_MAX_REPEAT = 1000  # RE2 rejects counted repetitions above this


class RegexMatch(Protocol):
    """What the classifier uses of a match (``re.Match`` and RE2's match both qualify)."""

    def start(self, group: int = 0, /) -> int: ...
    def end(self, group: int = 0, /) -> int: ...
    def group(self, group: Literal[0] = 0, /) -> str | Any: ...


class Regex(Protocol):
    """What the classifier uses of a compiled pattern (``re.Pattern[str]`` qualifies)."""

    @property
    def pattern(self) -> str: ...
    @property
    def flags(self) -> int: ...
    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None: ...
    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[RegexMatch]: ...
    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> RegexMatch | None: ...


class UnsafePatternError(ValueError):
    """A pattern can backtrack catastrophically and cannot be moved to RE2."""


# --- character sets as bit masks over a sample alphabet ---------------------------------------

# Every ASCII character plus representatives of the non-ASCII classes that matter: letters
# of several scripts, digits, spaces, marks, symbols. Two sets "overlap" when a sample
# character (or a literal of the pattern) is in both.
_SAMPLE = (
    "".join(map(chr, range(128)))
    + "\x85\xa0éÉßçñøÆœİıſ\u212aЖжЯяعربي中文日本한ह"
    + "٣३\u0660\u00b2\u2163\u0301\u200b\u2000\u2028\u3000\u1680€£©–—“”‘’…😀"
)


_BASE = list(dict.fromkeys(_SAMPLE))
_BASE_MASKS: dict[tuple[Any, ...], int] = {}  # class masks over _BASE, shared by all patterns


def _fold_table(chars: Sequence[str], offset: int = 0) -> dict[str, int]:
    table: dict[str, int] = {}
    for i, c in enumerate(chars, start=offset):
        for v in {c, c.lower(), c.upper()}:
            table[v] = table.get(v, 0) | (1 << i)
    return table


_BASE_INDEX = {c: i for i, c in enumerate(_BASE)}
_BASE_FOLD = _fold_table(_BASE)


class _Alphabet:
    """The characters a pattern's sets are compared on, with each set as an int mask.

    The sample characters come first (their masks are cached for every pattern), then the
    pattern's own literal characters and their case variants.
    """

    def __init__(self, extra: str) -> None:
        more: dict[str, None] = {}
        for c in set(extra) - _BASE_INDEX.keys():
            for v in (c, c.lower(), c.upper()):
                if len(v) == 1 and v not in _BASE_INDEX:
                    more.setdefault(v)
        self.extra = sorted(more)
        self.all = (1 << (len(_BASE) + len(self.extra))) - 1
        if self.extra:
            self.index = {**_BASE_INDEX, **{c: len(_BASE) + j for j, c in enumerate(self.extra)}}
            self.by_fold = dict(_BASE_FOLD)
            for char, bits in _fold_table(self.extra, len(_BASE)).items():
                self.by_fold[char] = self.by_fold.get(char, 0) | bits
        else:
            self.index, self.by_fold = _BASE_INDEX, _BASE_FOLD
        self._cache: dict[tuple[Any, ...], int] = {}

    def literal(self, code: int, ignorecase: bool) -> int:
        key = (code, ignorecase)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        c = chr(code)
        if not ignorecase:
            mask = 1 << self.index[c] if c in self.index else 0
        else:
            mask = 0
            for v in {c, c.lower(), c.upper()}:
                mask |= self.by_fold.get(v, 0)
        self._cache[key] = mask
        return mask

    def mask(self, make_test: Any, key: tuple[Any, ...]) -> int:
        """The mask of the set that ``make_test()`` tests membership of (cached by ``key``)."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        base = _BASE_MASKS.get(key)
        if base is not None and not self.extra:
            self._cache[key] = base
            return base
        test = make_test()
        if base is None:
            base = 0
            for i, c in enumerate(_BASE):
                if test(c):
                    base |= 1 << i
            if len(_BASE_MASKS) < 65536:
                _BASE_MASKS[key] = base
        offset = len(_BASE)
        for j, c in enumerate(self.extra):
            if test(c):
                base |= 1 << (offset + j)
        self._cache[key] = base
        return base


def _fold_eq(c: str, code: int, ignorecase: bool) -> bool:
    t = chr(code)
    if c == t:
        return True
    return ignorecase and (c.lower() == t.lower() or c.upper() == t.upper())


def _category(cat: Any, ascii_only: bool) -> Any:
    """A predicate for one of ``re``'s character categories (``\\d``, ``\\w``, ``\\s``...)."""
    name = str(cat)
    if name.endswith("DIGIT"):
        base = (lambda c: "0" <= c <= "9") if ascii_only else str.isdecimal
    elif name.endswith("SPACE"):
        base = (lambda c: c in " \t\n\r\f\v") if ascii_only else str.isspace
    elif name.endswith("WORD"):
        if ascii_only:
            base = lambda c: c.isascii() and (c.isalnum() or c == "_")  # noqa: E731
        else:
            base = lambda c: c.isalnum() or c == "_"  # noqa: E731
    else:  # LINEBREAK
        base = lambda c: c == "\n"  # noqa: E731
    if "NOT_" in name:
        return lambda c: not base(c)
    return base


# --- the parse tree as nodes with the properties the analysis needs ---------------------------


@dataclass(slots=True)
class _Node:
    kind: str  # char, zero, alt, group, repeat, atomic, ref
    lo: int = 0
    hi: int = 0
    first: int = 0  # chars a non-empty match can start with
    last: int = 0  # chars it can end with
    chars: int = 0  # every char it can consume
    body: list[_Node] | None = None  # group, repeat, atomic
    alts: list[list[_Node]] | None = None  # alt
    literals: list[str | None] | None = None  # alt: each alternative's fixed text, if any
    rmin: int = 0
    rmax: int = 0
    possessive: bool = False
    text: str | None = None  # char: the literal character, if it is one
    word: int = 0  # zero: for \\b and \\B, the word characters

    @property
    def long(self) -> bool:
        """Whether the node's match length varies by ``LONG`` or more (or without bound)."""
        return not self.possessive and self.kind != "atomic" and self.hi - self.lo >= LONG


def _seq_props(seq: Sequence[_Node]) -> tuple[int, int, int, int, int]:
    lo = sum(n.lo for n in seq)
    hi = min(INF, sum(n.hi for n in seq))
    first = last = chars = 0
    for n in seq:
        first |= n.first
        if n.lo > 0:
            break
    for n in reversed(seq):
        last |= n.last
        if n.lo > 0:
            break
    for n in seq:
        chars |= n.chars
    return lo, hi, first, last, chars


def _alt_node(alts: list[list[_Node]], literals: list[str | None]) -> _Node:
    """An alternation of ``alts``: its width bounds and character sets are their union."""
    props = [_seq_props(s) for s in alts]
    return _Node(
        "alt",
        min(p[0] for p in props),
        max(p[1] for p in props),
        _or(p[2] for p in props),
        _or(p[3] for p in props),
        _or(p[4] for p in props),
        alts=alts,
        literals=literals,
    )


def _literal_text(seq: Sequence[_Node]) -> str | None:
    if all(n.kind == "char" and n.text is not None for n in seq):
        return "".join(n.text or "" for n in seq)
    return None


class _Builder:
    def __init__(self, alphabet: _Alphabet) -> None:
        self.a = alphabet
        self.re2_ok = True  # False once a construct RE2 cannot run is seen
        self.boundary = False  # \b or \B used
        self.non_ascii = False  # a non-ASCII literal character used

    def seq(self, items: Any, flags: int) -> list[_Node]:
        return [self.node(op, av, flags) for op, av in items]

    def char(self, make_test: Any, key: tuple[Any, ...]) -> _Node:
        m = self.a.mask(make_test, key)
        return _Node("char", 1, 1, m, m, m)

    def node(self, op: Any, av: Any, flags: int) -> _Node:
        ic = bool(flags & _I)
        asc = bool(flags & _A)
        if op is _C.LITERAL:
            if av > 127:
                self.non_ascii = True
            m = self.a.literal(av, ic)
            return _Node("char", 1, 1, m, m, m, text=chr(av).casefold() if ic else chr(av))
        if op is _C.NOT_LITERAL:
            return self.char(lambda: lambda c: not _fold_eq(c, av, ic), ("nlit", av, ic))
        if op is _C.ANY:
            dotall = bool(flags & _S)
            return self.char(lambda: lambda c: dotall or c != "\n", ("any", dotall))
        if op is _C.IN:
            return self.char(lambda: self._class_test(av, ic, asc), ("in", _class_key(av), ic, asc))
        if op is _C.AT:
            if av in (_C.AT_BOUNDARY, _C.AT_NON_BOUNDARY):
                self.boundary = True
                if av == _C.AT_BOUNDARY:
                    cat = _C.CATEGORY_WORD
                    word = self.a.mask(lambda: _category(cat, asc), ("word", asc))
                    return _Node("zero", word=word)
            return _Node("zero")
        if op in (_C.ASSERT, _C.ASSERT_NOT):
            self.re2_ok = False
            self.seq(av[1], flags)  # analysed for errors only; zero width
            return _Node("zero")
        if op is _C.BRANCH:
            alts = [self.seq(s, flags) for s in av[1]]
            return _alt_node(alts, [_literal_text(s) for s in alts])
        if op is _C.SUBPATTERN:
            _group, add, remove, items = av
            if (add | remove) & _L:
                self.re2_ok = False
            body = self.seq(items, (flags | add) & ~remove)
            lo, hi, first, last, chars = _seq_props(body)
            return _Node("group", lo, hi, first, last, chars, body=body)
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            rmin, rmax, items = av
            if op is _C.POSSESSIVE_REPEAT:
                self.re2_ok = False
            if rmin > RE2_MAX_REPEAT or (rmax != _C.MAXREPEAT and rmax > RE2_MAX_REPEAT):
                self.re2_ok = False
            body = self.seq(items, flags)
            lo, hi, first, last, chars = _seq_props(body)
            top = INF if rmax == _C.MAXREPEAT else rmax
            if rmax == 0:
                first = last = chars = 0
            return _Node(
                "repeat",
                min(INF, rmin * lo),
                INF if (top == INF and hi > 0) or hi >= INF else min(INF, top * hi),
                first,
                last,
                chars,
                body=body,
                rmin=rmin,
                rmax=top,
                possessive=op is _C.POSSESSIVE_REPEAT,
            )
        if op is _C.ATOMIC_GROUP:
            self.re2_ok = False
            body = self.seq(av, flags)
            lo, hi, first, last, chars = _seq_props(body)
            return _Node("atomic", lo, hi, first, last, chars, body=body)
        if op is _C.GROUPREF_EXISTS:
            self.re2_ok = False
            _group, yes, no = av
            alts = [self.seq(yes, flags), self.seq(no or [], flags)]
            return _alt_node(alts, [None, None])
        # GROUPREF and anything new: unknown text
        self.re2_ok = False
        return _Node("ref", 0, INF, self.a.all, self.a.all, self.a.all)

    def _class_test(self, items: Any, ic: bool, asc: bool) -> Any:
        tests: list[Any] = []
        negate = False
        for op, av in items:
            if op is _C.NEGATE:
                negate = True
            elif op is _C.LITERAL:
                if av > 127:
                    self.non_ascii = True
                tests.append(lambda c, av=av: _fold_eq(c, av, ic))
            elif op is _C.RANGE:
                lo, hi = av
                if hi > 127:
                    self.non_ascii = True
                tests.append(
                    lambda c, lo=lo, hi=hi: (
                        lo <= ord(c) <= hi
                        or (
                            ic
                            and any(
                                lo <= ord(x) <= hi
                                for x in (c.lower(), c.upper())
                                if len(x) == 1  # 'ß'.upper() == 'SS': no single code point
                            )
                        )
                    )
                )
            elif op is _C.CATEGORY:
                tests.append(_category(av, asc))
            else:  # pragma: no cover - the parser emits nothing else in a class
                tests.append(lambda c: True)

        def test(c: str) -> bool:
            hit = any(t(c) for t in tests)
            return hit != negate

        return test


def _class_key(items: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(op), str(av) if op is _C.CATEGORY else av) for op, av in items)


def _or(masks: Any) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


# --- the hazards ------------------------------------------------------------------------------


def _flatten(seq: Sequence[_Node]) -> list[_Node]:
    """The sequence with plain groups opened up (their items stand side by side)."""
    out: list[_Node] = []
    for n in seq:
        if n.kind == "group" and n.body is not None:
            out.extend(_flatten(n.body))
        else:
            out.append(n)
    return out


def _alt_ambiguous(node: _Node) -> bool:
    """Whether two alternatives of ``node`` can start the same text (or both match '')."""
    alts = node.alts or []
    literals = node.literals or [None] * len(alts)
    nullable = 0
    seen_first = 0
    fixed: list[str] = []
    for alt, literal in zip(alts, literals, strict=True):
        lo, _hi, first, _last, _chars = _seq_props(alt)
        if lo == 0:
            nullable += 1
            if nullable > 1:
                return True
        if literal is not None and literal:
            fixed.append(literal)
            continue
        if first & seen_first:
            return True
        seen_first |= first
    fixed.sort()
    for a, b in itertools.pairwise(fixed):
        if b.startswith(a):
            return True  # equal, or one a prefix of the other
    fixed_first = 0
    for alt, literal in zip(alts, literals, strict=True):
        if literal:
            fixed_first |= alt[0].first
    return bool(fixed_first & seen_first)


def _alts_within(seq: Sequence[_Node]) -> Iterator[_Node]:
    """Alternations inside ``seq``, not descending into nested repetitions."""
    for n in seq:
        if n.kind == "alt":
            yield n
            for alt in n.alts or []:
                yield from _alts_within(alt)
        elif n.kind == "group" and n.body is not None:
            yield from _alts_within(n.body)


def _loop_hazard(node: _Node) -> str | None:
    """Why iterations of the repetition ``node`` can split the same text many ways."""
    body = _flatten(node.body or [])
    lo, hi, _f, _l, _c = _seq_props(body)
    if lo == 0 and hi > 0:
        return "a repeated group that can match nothing"
    for alt in _alts_within(body):
        if _alt_ambiguous(alt):
            return "overlapping alternatives inside a repetition"
    n = len(body)
    for i, item in enumerate(body):
        if item.lo == item.hi or item.possessive or item.kind == "atomic":
            continue
        for step in range(1, n + 1):
            k = body[(i + step) % n]
            if k is item:
                if item.last & item.first:
                    return "nested quantifiers"
                break
            if k.hi == 0:
                continue
            if item.last & k.first:
                return "nested quantifiers"
            if k.lo > 0:
                break
    return None


def _lead_long(seq: Sequence[_Node], reverse: bool = False) -> bool:
    """Whether ``seq`` can start with a long repetition (``reverse``: end with one that can
    give characters back). A possessive repetition or atomic group gives nothing back,
    but still scans the rest of a long run on every attempt: it counts at the start."""
    for n in reversed(seq) if reverse else seq:
        if n.hi == 0:
            continue
        if n.kind in ("repeat", "atomic"):
            found = n.long or (not reverse and n.hi - n.lo >= LONG)
        elif n.kind == "alt":
            found = any(_lead_long(a, reverse) for a in n.alts or [])
        elif n.kind == "group":
            found = _lead_long(n.body or [], reverse)
        else:
            found = n.kind == "ref"
        if found:
            return True
        if n.lo > 0:
            return False
    return False


def _neighbour_hazard(seq: Sequence[_Node]) -> str | None:
    """Two long repetitions side by side that can trade characters (polynomial time)."""
    items = _flatten(seq)
    for i, item in enumerate(items):
        if not _lead_long([item], reverse=True):
            continue
        body = item.body or []
        simple = item.kind == "repeat" and len(body) == 1 and body[0].kind == "char"
        swallowed = False
        for k in items[i + 1 :]:
            if k.hi == 0:
                if k.word and not (item.last & ~k.word):
                    break  # "\w+\b": the repetition must end where the word does
                continue
            if item.last & k.first and _lead_long([k]):
                return "adjacent quantifiers that overlap"
            if k.lo == 0:
                continue
            if simple and not swallowed and k.lo == k.hi == 1 and k.chars & item.chars:
                swallowed = True  # ".*" can take the "\s" of ".*\s.*" too
                continue
            break
    return None


def _hazard(seq: Sequence[_Node]) -> str | None:
    found = _neighbour_hazard(seq)
    if found:
        return found
    for n in seq:
        if n.kind == "repeat" and n.rmax >= 2 and not n.possessive:
            found = _loop_hazard(n)
            if found:
                return found
        for sub in ([n.body] if n.body is not None else []) + (n.alts or []):
            found = _hazard(sub)
            if found:
                return found
    return None


# --- translation to RE2 -----------------------------------------------------------------------

_PY_SPACE = (
    r"\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}"
)
_PY_WORD = r"\p{L}\p{N}_"
_PY_DIGIT = r"\p{Nd}"
_ASCII_SPACE = r"\t-\r "
_ASCII_WORD = r"0-9A-Za-z_"
_ASCII_DIGIT = r"0-9"


class _NoRE2(Exception):
    """The pattern uses something RE2 cannot express with Python's meaning."""


def _hex(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _class_parts(cat: Any, asc: bool) -> tuple[str, bool]:
    """(RE2 class body, negated) for a category."""
    name = str(cat)
    if name.endswith("DIGIT"):
        body = _ASCII_DIGIT if asc else _PY_DIGIT
    elif name.endswith("SPACE"):
        body = _ASCII_SPACE if asc else _PY_SPACE
    elif name.endswith("WORD"):
        body = _ASCII_WORD if asc else _PY_WORD
    else:
        body = r"\n"
    return body, "NOT_" in name


def _emit_class(items: Any, flags: int) -> str:
    asc = bool(flags & _A)
    negate = False
    positive: list[str] = []
    negated: list[str] = []
    for op, av in items:
        if op is _C.NEGATE:
            negate = True
        elif op is _C.LITERAL:
            positive.append(_hex(av))
        elif op is _C.RANGE:
            positive.append(f"{_hex(av[0])}-{_hex(av[1])}")
        elif op is _C.CATEGORY:
            body, neg = _class_parts(av, asc)
            if not neg:
                positive.append(body)
            elif body == _PY_DIGIT:
                positive.append(r"\P{Nd}")
            else:
                negated.append(body)
        else:  # pragma: no cover
            raise _NoRE2(str(op))
    if not negated:
        inner = "".join(positive)
        if not inner:
            return "[^\\x{0}-\\x{10ffff}]" if not negate else "(?s:.)"
        return f"[{'^' if negate else ''}{inner}]"
    if negate:
        return _negated_word_class(positive, negated, asc)
    parts = [f"[^{body}]" for body in negated]
    if positive:
        parts.append(f"[{''.join(positive)}]")
    return "(?:" + "|".join(parts) + ")"


def _negated_word_class(positive: list[str], negated: list[str], asc: bool) -> str:
    """``[^\\W\\d_]`` (letters) and kin: a word character that is none of ``positive``."""
    word = _ASCII_WORD if asc else _PY_WORD
    if negated != [word] or not set(positive) <= {_ASCII_DIGIT, _PY_DIGIT, _hex(ord("_"))}:
        raise _NoRE2("a negated class with \\W or \\S")
    if asc:
        letters = "A-Za-z" + ("" if positive and _ASCII_DIGIT in positive else "0-9")
    else:
        letters = "\\p{L}" + ("\\p{Nl}\\p{No}" if _PY_DIGIT in positive else "\\p{N}")
    underscore = "" if _hex(ord("_")) in positive else "_"
    return f"[{letters}{underscore}]"


def _emit(items: Any, flags: int) -> str:
    out: list[str] = []
    for op, av in items:
        if op is _C.LITERAL:
            out.append(_hex(av) if not chr(av).isalnum() or av > 127 else chr(av))
        elif op is _C.NOT_LITERAL:
            out.append(f"[^{_hex(av)}]")
        elif op is _C.ANY:
            out.append("(?s:.)" if flags & _S else "[^\\n]")
        elif op is _C.IN:
            out.append(_emit_class(av, flags))
        elif op is _C.BRANCH:
            out.append("(?:" + "|".join(_emit(s, flags) for s in av[1]) + ")")
        elif op is _C.SUBPATTERN:
            _group, add, remove, sub = av
            new = (flags | add) & ~remove
            on = "".join(f for f, bit in _FLAG_LETTERS if new & bit and not flags & bit)
            off = "".join(f for f, bit in _FLAG_LETTERS if flags & bit and not new & bit)
            prefix = on + ("-" + off if off else "")
            out.append(f"(?{prefix}:" + _emit(sub, new) + ")")
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            rmin, rmax, sub = av
            if rmax == _C.MAXREPEAT:
                count = {0: "*", 1: "+"}.get(rmin, f"{{{rmin},}}")
            elif (rmin, rmax) == (0, 1):
                count = "?"
            else:
                count = f"{{{rmin},{rmax}}}"
            lazy = "?" if op is _C.MIN_REPEAT else ""
            out.append("(?:" + _emit(sub, flags) + ")" + count + lazy)
        elif op is _C.AT:
            out.append(_AT[av] if av in _AT else _at_multiline(av, flags))
        else:
            raise _NoRE2(str(op))
    return "".join(out)


# Only case needs RE2 flags: '.', '^' and '$' are spelled out by the Python flags in force.
_FLAG_LETTERS = (("i", _I),)


def _at_multiline(code: Any, flags: int) -> str:
    if code is _C.AT_BEGINNING:
        return "(?m:^)" if flags & _M else "\\A"
    if code is _C.AT_END:
        return "(?m:$)" if flags & _M else "\\z"
    raise _NoRE2(str(code))


_AT: dict[Any, str] = {
    _C.AT_BEGINNING_STRING: "\\A",
    _C.AT_END_STRING: "\\z",
    _C.AT_BOUNDARY: "\\b",
    _C.AT_NON_BOUNDARY: "\\B",
}


# --- plans and compiled patterns --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatternPlan:
    """How a pattern will be matched: ``engine`` is ``re`` or ``re2`` (or ``None``: neither
    is safe, ``unsafe`` says why). ``min_width``: the fewest characters it matches."""

    pattern: str
    flags: int
    engine: str | None
    min_width: int
    hazard: str | None = None
    re2_pattern: str | None = None
    unsafe: str | None = None


def plan_pattern(pattern: str, flags: int = re.IGNORECASE) -> PatternPlan:
    """Decide the engine for ``pattern``; raise UnsafePatternError when neither is safe.

    The pattern must already compile with ``re`` (``re.error`` propagates otherwise).
    """
    plan = analyse(pattern, int(flags))
    if plan.unsafe is not None:
        raise UnsafePatternError(plan.unsafe)
    return plan


def _cannot_be_hazardous(pattern: str) -> bool:
    """A cheap look at the text: no repeated group, no back-reference and at most one
    quantifier that repeats more than once (``*``, ``+``, ``{...}``). Both hazards need
    more, so the full analysis is skipped (most patterns are like this)."""
    many = 0
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 < n and (pattern[i + 1].isdigit() and pattern[i + 1] != "0"):
                return False  # a back-reference
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif c in "*+{":
            many += 1
            if many > 1 or (i > 0 and pattern[i - 1] == ")"):
                return False
        elif c == "(" and pattern.startswith("(?P=", i):
            return False
        i += 1
    return True


@lru_cache(maxsize=8192)
def analyse(pattern: str, flags: int = re.IGNORECASE) -> PatternPlan:
    """The plan of ``pattern`` (see :func:`plan_pattern`), without raising for hazards."""
    flags = int(flags)
    tree = _parser.parse(pattern, flags)
    min_width = int(tree.getwidth()[0])
    if _cannot_be_hazardous(pattern):
        return PatternPlan(pattern, flags, "re", min_width)
    all_flags = flags | int(tree.state.flags)
    literals = "".join(chr(av) for op, av in _walk_leaves(tree) if op is _C.LITERAL)
    builder = _Builder(_Alphabet(literals))
    nodes = builder.seq(tree, all_flags)
    hazard = _hazard(nodes)
    if hazard is None:
        return PatternPlan(pattern, flags, "re", min_width)
    why_not = _re2_obstacle(builder)
    translated = None
    if why_not is None:
        try:
            translated = _emit(tree, all_flags)
            if all_flags & _I:
                translated = "(?i:" + translated + ")"
            _compile_re2(translated)
        except _NoRE2 as e:
            why_not = f"it has {e}"
        except Exception as e:  # RE2 reports a too-large or unsupported pattern
            why_not = f"RE2 refuses it: {_re2_message(e)}"
    if why_not is not None:
        unsafe = (
            f"pattern can take exponential time ({hazard}) and RE2 cannot run it ({why_not}); "
            "make the inner repetition possessive (a++) or atomic ((?>...)), or unnest it"
        )
        return PatternPlan(pattern, flags, None, min_width, hazard, unsafe=unsafe)
    return PatternPlan(pattern, flags, "re2", min_width, hazard, translated)


def _re2_obstacle(builder: _Builder) -> str | None:
    if _re2 is None:  # pragma: no cover - google-re2 is a dependency
        return "google-re2 is not installed"
    if not builder.re2_ok:
        return "it has look-around, back-references, atomic groups or possessive quantifiers"
    if builder.boundary and builder.non_ascii:
        return "its \\b is ASCII-only in RE2 and the pattern has non-ASCII letters"
    return None


def _re2_message(e: Exception) -> str:
    text = str(e.args[0] if e.args else e)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def _walk_leaves(items: Any) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        if op in (_C.LITERAL, _C.NOT_LITERAL):
            yield op, av
        elif op is _C.IN:
            for sub_op, sub_av in av:
                if sub_op is _C.LITERAL:
                    yield sub_op, sub_av
                elif sub_op is _C.RANGE:
                    yield _C.LITERAL, sub_av[0]
                    yield _C.LITERAL, sub_av[1]
        elif op is _C.BRANCH:
            for s in av[1]:
                yield from _walk_leaves(s)
        elif op is _C.SUBPATTERN:
            yield from _walk_leaves(av[3])
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            yield from _walk_leaves(av[2])
        elif op is _C.ATOMIC_GROUP:
            yield from _walk_leaves(av)
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            yield from _walk_leaves(av[1])


@lru_cache(maxsize=1024)
def _compile_re2(translated: str) -> Any:
    options = _re2.Options()
    options.log_errors = False
    return _re2.compile(translated, options)


class RE2Regex:
    """A pattern matched by RE2: the ``re``-like surface the classifier uses.

    ``pattern`` and ``flags`` are the Python pattern and flags (the Hyperscan prefilter
    rewrites them); matching uses the RE2 translation.
    """

    __slots__ = ("_flags", "_pattern", "_regex", "translated")

    def __init__(self, plan: PatternPlan) -> None:
        if plan.re2_pattern is None:
            raise ValueError("not an RE2 plan")
        self._pattern = plan.pattern
        self._flags = plan.flags
        self.translated = plan.re2_pattern
        self._regex = _compile_re2(plan.re2_pattern)

    @property
    def pattern(self) -> str:
        return self._pattern

    @property
    def flags(self) -> int:
        return self._flags

    # RE2 reads the whole string on every call (it encodes it to UTF-8) and its "$" is the
    # end of the string, not endpos. So a call on part of a string runs on that part (and
    # the character before it, for "\\b"), and the match offsets are moved back.

    def _call(self, method: str, string: str, pos: int, endpos: int) -> Any:
        endpos = min(endpos, len(string))
        if pos <= 0 and endpos == len(string):
            return getattr(self._regex, method)(string), 0
        pos = max(0, pos)
        left = pos - 1 if pos > 0 else 0
        window = string[left:endpos]
        return getattr(self._regex, method)(window, pos - left), left

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        m, shift = self._call("search", string, pos, endpos)
        return None if m is None else _shifted(m, shift)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[RegexMatch]:
        it, shift = self._call("finditer", string, pos, endpos)
        return (_shifted(m, shift) for m in it)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        m, shift = self._call("fullmatch", string, pos, endpos)
        return None if m is None else _shifted(m, shift)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_re2, (self._pattern, self._flags))

    def __repr__(self) -> str:
        return f"RE2Regex({self._pattern!r})"


class _Shifted:
    """A match found in a window of the string, with offsets in the whole string."""

    __slots__ = ("_match", "_shift")

    def __init__(self, match: Any, shift: int) -> None:
        self._match = match
        self._shift = shift

    def start(self, group: int = 0, /) -> int:
        start: int = self._match.start(group)
        return start + self._shift if start >= 0 else start

    def end(self, group: int = 0, /) -> int:
        end: int = self._match.end(group)
        return end + self._shift if end >= 0 else end

    def group(self, group: Literal[0] = 0, /) -> str | Any:
        return self._match.group(group)


def _shifted(match: Any, shift: int) -> RegexMatch:
    return match if shift == 0 else _Shifted(match, shift)


def _rebuild_re2(pattern: str, flags: int) -> RE2Regex:
    return RE2Regex(plan_pattern(pattern, flags))


class AnyOf:
    """Several compiled patterns searched as one alternation (leftmost match, first wins).

    Used when the union of a pack's patterns cannot be one ``re`` pattern: some parts run
    on RE2, or the parts clash when joined (group names, back-references, global flags).
    """

    __slots__ = ("_flags", "_pattern", "parts")

    def __init__(self, parts: Sequence[Regex], flags: int) -> None:
        self.parts = tuple(parts)
        self._flags = flags
        self._pattern = "|".join(f"(?:{p.pattern})" for p in parts)

    @property
    def pattern(self) -> str:
        return self._pattern

    @property
    def flags(self) -> int:
        return self._flags

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        best: RegexMatch | None = None
        for part in self.parts:
            m = part.search(string, pos, endpos)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
                if m.start() == pos:
                    break
        return best

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[RegexMatch]:
        end = min(endpos, len(string))
        while pos <= end:
            m = self.search(string, pos, end)
            if m is None:
                return
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        for part in self.parts:
            m = part.fullmatch(string, pos, endpos)
            if m is not None:
                return m
        return None

    def __repr__(self) -> str:
        return f"AnyOf({list(self.parts)!r})"


def compile_pattern(pattern: str, flags: int = re.IGNORECASE) -> Regex:
    """``pattern`` compiled for the engine its plan chose (see :func:`plan_pattern`)."""
    plan = plan_pattern(pattern, flags)
    if plan.engine == "re2":
        return RE2Regex(plan)
    return re.compile(pattern, flags)


def compile_union(parts: Sequence[Regex], flags: int = re.IGNORECASE) -> Regex | None:
    """One pattern matching where any of ``parts`` matches (None for no parts).

    Consecutive ``re`` parts are joined into one ``re`` alternation when they can be
    (compiled with ``flags``); RE2 parts are searched on their own and the leftmost match
    wins, the earlier part on a tie.
    """
    groups: list[Regex] = []
    pending: list[str] = []

    def flush() -> None:
        if not pending:
            return
        try:
            groups.append(re.compile("|".join(f"(?:{p})" for p in pending), flags))
        except re.error:  # the parts clash when joined: search them one by one
            groups.extend(re.compile(p, flags) for p in pending)
        pending.clear()

    for part in _flat(parts):
        if isinstance(part, RE2Regex):  # searched with its own flags: exact for its rule
            flush()
            groups.append(part)
        else:
            pending.append(part.pattern)
    flush()
    if not groups:
        return None
    if len(groups) == 1:
        return groups[0]
    return AnyOf(groups, flags)


class LazyUnion:
    """:func:`compile_union` of ``parts``, compiled on first use.

    The union of every rule pattern is only searched when Hyperscan is missing; joining
    and compiling hundreds of patterns costs a second at start-up, so it waits until then.
    """

    __slots__ = ("_compiled", "_flags", "_parts")

    def __init__(self, parts: Sequence[Regex], flags: int) -> None:
        self._parts = tuple(parts)
        self._flags = int(flags)
        self._compiled: Regex | None = None

    def _get(self) -> Regex:
        if self._compiled is None:
            self._compiled = compile_union(self._parts, self._flags) or re.compile("(?!)")
        return self._compiled

    @property
    def pattern(self) -> str:
        return self._get().pattern

    @property
    def flags(self) -> int:
        return self._flags

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        return self._get().search(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[RegexMatch]:
        return self._get().finditer(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        return self._get().fullmatch(string, pos, endpos)


def _flat(parts: Sequence[Regex]) -> Iterator[Regex]:
    for part in parts:
        if isinstance(part, AnyOf):
            yield from _flat(part.parts)
        else:
            yield part
