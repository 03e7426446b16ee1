"""Which rules may fire in which sentence: one fast scan per document.

Python's ``re`` tries every alternative at every position, so scanning documents with
the union of all rule patterns runs at well under 1 MB/s. Hyperscan compiles all the
patterns into one automaton and scans at about 100 MB/s on one core. It is used here
only to find *candidates*: its answer is a superset of the sentences and rules that can
match, and the rules are then confirmed with ``re`` on each candidate sentence. So the
output is decided by ``re`` alone, with or without Hyperscan.

To keep the answer a superset, each pattern is rewritten for Hyperscan's UTF-8 mode,
where ``\\w``, ``\\s`` and ``\\d`` are ASCII-only: they are widened to admit any
non-ASCII character. Patterns that cannot be made a superset this way (anchors,
``\\B``, non-ASCII literals, constructs Hyperscan rejects even in prefilter mode) are
checked with ``re`` on every sentence instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from bisect import bisect_left
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from claimtag.rules import RulePack
from claimtag.types import Sentence

_WIDE = r"\x{80}-\x{10FFFF}"
_UNSAFE = re.compile(r"\\[ABZzbG]|\(\?<[=!]|\(\?P=|\\[1-9]|\(\?[aiLmsux-]+[:)]")


SLOT = 1024  # Hyperscan id = rule index * SLOT + slot
REQUIRE, EXCLUDE = 1000, 1001  # slots of a rule's require and exclude unions


class Hint(NamedTuple):
    """What the scan says about one rule in one sentence.

    ``patterns``: indexes of the rule's patterns that may match (None: try them all);
    ``exclude``: whether the rule's exclude patterns may match (False: no need to look).
    """

    patterns: frozenset[int] | None
    exclude: bool


ALL = Hint(None, True)

Candidates = dict[int, dict[int, Hint]]


class Prefilter(Protocol):
    """Finds, per sentence, the rules that may fire there."""

    def candidates(self, text: str, sentences: Sequence[Sentence]) -> Candidates:
        """Sentence index → {rule index → Hint} for the rules worth trying there."""
        ...


def to_hyperscan(pattern: str) -> str | None:
    """``pattern`` rewritten so that Hyperscan (UTF-8 mode) matches a superset, or None.

    None when no safe rewrite is known: then the pattern is checked with ``re`` everywhere.
    """
    if not pattern.isascii():
        return None
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e in "swd":
                out.append(f"\\{e}{_WIDE}" if in_class else f"[\\{e}{_WIDE}]")
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
            in_class = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
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


class HyperscanPrefilter:
    """One Hyperscan database for all rule patterns, scanned once per document.

    Besides the rules' patterns it holds their require and exclude unions, so a rule whose
    required context is absent is not tried, and an exclusion that cannot match is not
    searched for.
    """

    def __init__(
        self,
        pack: RulePack,
        hs: Any,
        database: Any,
        always: list[int],
        unknown_context: set[tuple[int, int]],
    ) -> None:
        self.hs = hs
        self.database = database
        self.scratch = hs.Scratch(database) if database is not None else None
        self.always = always
        self.n_rules = len(pack.rules)
        self.has_require = [r.require is not None for r in pack.rules]
        self.has_exclude = [r.exclude is not None for r in pack.rules]
        # (rule, slot) pairs whose require/exclude could not be scanned: assume "may match"
        self.unknown_context = unknown_context

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - rebuilt per process
        raise TypeError("HyperscanPrefilter is per process; use prefilter_for(pack)")

    def candidates(self, text: str, sentences: Sequence[Sentence]) -> Candidates:
        if not sentences:
            return {}
        data = text.encode("utf-8", "surrogatepass")
        if len(data) == len(text):
            ends = [s.end for s in sentences]
            starts = [s.start for s in sentences]
        else:
            starts, ends = _byte_offsets(text, sentences)
        hits: list[tuple[int, int]] = []

        def on_match(ident: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            hits.append((to, ident))

        if self.database is not None:
            self.database.scan(data, match_event_handler=on_match, scratch=self.scratch)
        # sentence -> rule -> set of slots seen
        seen: dict[int, dict[int, set[int]]] = {}
        for to, ident in hits:
            i = bisect_left(ends, to)
            if i < len(ends) and to > starts[i]:
                seen.setdefault(i, {}).setdefault(ident // SLOT, set()).add(ident % SLOT)
        if self.always:
            for i in range(len(sentences)):
                per_rule = seen.setdefault(i, {})
                for rule in self.always:
                    per_rule.setdefault(rule, set()).add(-1)
        out: Candidates = {}
        for i in sorted(seen):
            hints: dict[int, Hint] = {}
            for rule, slots in sorted(seen[i].items()):
                if -1 in slots:
                    hints[rule] = ALL
                    continue
                patterns = frozenset(x for x in slots if x < REQUIRE)
                if not patterns:
                    continue
                if (
                    self.has_require[rule]
                    and REQUIRE not in slots
                    and ((rule, REQUIRE) not in self.unknown_context)
                ):
                    continue  # its required context is not in the sentence
                exclude = self.has_exclude[rule] and (
                    EXCLUDE in slots or (rule, EXCLUDE) in self.unknown_context
                )
                hints[rule] = Hint(patterns, exclude)
            if hints:
                out[i] = hints
        return out


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


def _compile(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter:
    try:
        import hyperscan as hs
    except ImportError:
        return RegexPrefilter(pack)
    exprs: list[bytes] = []
    ids: list[int] = []
    flags: list[int] = []
    always: set[int] = set()
    unknown: set[tuple[int, int]] = set()
    for index, rule in enumerate(pack.rules):
        sources = [(slot, p) for slot, p in enumerate(rule.patterns)]
        sources += [(REQUIRE, rule.require)] if rule.require is not None else []
        sources += [(EXCLUDE, rule.exclude)] if rule.exclude is not None else []
        for slot, pattern in sources:
            rewritten = to_hyperscan(pattern.pattern)
            if rewritten is None:
                if slot < REQUIRE:
                    always.add(index)
                else:
                    unknown.add((index, slot))
                continue
            flag = hs.HS_FLAG_UTF8
            if pattern.flags & re.IGNORECASE:
                flag |= hs.HS_FLAG_CASELESS
            if "(?=" in rewritten or "(?!" in rewritten:
                flag |= hs.HS_FLAG_PREFILTER  # look-aheads: Hyperscan matches a superset
            exprs.append(rewritten.encode())
            ids.append(index * SLOT + slot)
            flags.append(flag)
    if not exprs:  # every pattern is checked with re everywhere: nothing to scan
        return HyperscanPrefilter(pack, hs, None, sorted(always), unknown)
    key = hashlib.sha256(
        repr((hs.__version__ if hasattr(hs, "__version__") else "", exprs, ids, flags)).encode()
    ).hexdigest()[:24]
    database = _load_cached(hs, key)
    if database is None:
        database, failed = _compile_database(hs, exprs, ids, flags)
        for ident in failed:
            rule_index, slot = divmod(ident, SLOT)
            if slot < REQUIRE:
                always.add(rule_index)
            else:
                unknown.add((rule_index, slot))
        if not failed:
            _store_cached(hs, key, database)
    return HyperscanPrefilter(pack, hs, database, sorted(always), unknown)


def _compile_database(
    hs: Any, exprs: list[bytes], ids: list[int], flags: list[int]
) -> tuple[Any, set[int]]:
    """Compile; a pattern Hyperscan rejects is retried in prefilter mode, else left out."""
    database = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        database.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
        return database, set()
    except hs.error:
        pass
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


def _load_cached(hs: Any, key: str) -> Any:
    folder = _cache_dir()
    if folder is None:
        return None
    path = folder / f"hs-{key}.db"
    with suppress(OSError, hs.error, TypeError, ValueError):
        return hs.loadb(path.read_bytes(), hs.HS_MODE_BLOCK)
    return None


def _store_cached(hs: Any, key: str, database: Any) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    with suppress(OSError, hs.error):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hs-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hs.dumpb(database))
        os.replace(tmp, folder / f"hs-{key}.db")


_BY_PACK: dict[int, tuple[RulePack, RegexPrefilter | HyperscanPrefilter]] = {}


def prefilter_for(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter:
    """The prefilter of ``pack``, built once per process (and cached on disk)."""
    entry = _BY_PACK.get(id(pack))
    if entry is None or entry[0] is not pack:
        entry = (pack, _build(pack))
        _BY_PACK[id(pack)] = entry
    return entry[1]


def _build(pack: RulePack) -> RegexPrefilter | HyperscanPrefilter:
    if os.environ.get("CLAIMTAG_PREFILTER", "").lower() == "regex":
        return RegexPrefilter(pack)
    return _compile(pack)


__all__ = [
    "ALL",
    "Hint",
    "HyperscanPrefilter",
    "Prefilter",
    "RegexPrefilter",
    "prefilter_for",
    "to_hyperscan",
]
