"""Rule packs: load them, validate them against their schema, compile them.

A rule pack is data (YAML or JSON) validated against ``schemas/rule_pack.schema.json``.
Every error is reported at once with its location (JSON path, rule id, and the YAML
line where known). ``{{name}}`` in a pattern inserts the pack's lexicon ``name``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from claimtag import regex_safety
from claimtag.errors import RulePackError
from claimtag.regex_safety import (
    LazyUnion,
    RE2Regex,
    Regex,
    RegexMatch,
    UnsafePatternError,
    analyse,
    compile_pattern,
    compile_union,
)

_LEXICON_REF = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")

# Limits that keep a hostile pack from exhausting memory or time while it is loaded.
MAX_PACK_BYTES = 5_000_000  # the file
MAX_PACK_NODES = 500_000  # values in the parsed pack, YAML aliases counted as expanded
MAX_PACK_DEPTH = 32  # nesting of mappings and lists
MAX_EXPANDED_PATTERN = 100_000  # characters of one pattern once its lexicons are inserted
MAX_PACK_PATTERNS = 20_000  # patterns, require, exclude and cue expressions of one pack
MAX_REPORTED_ERRORS = 100  # errors listed in one RulePackError
_MAX_MESSAGE = 300  # characters of one error message


def _yaml_loader() -> Any:
    """libyaml's loader when it is there: the same documents, several times faster on big
    packs. (PyYAML is imported on first use: a pack found in the cache does not need it.)"""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


BUNDLED_PACK = "core.yaml"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to match: patterns compiled, lexicons expanded."""

    id: str
    claim_type: str
    weight: float
    patterns: tuple[Regex, ...]
    require: Regex | None
    exclude: Regex | None
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class RulePack:
    """One or more rule packs merged and compiled, ready for the classifier."""

    version: str
    rules: tuple[CompiledRule, ...]
    prefilter: Regex
    negation: Regex | None
    negation_window: int
    hedging: Regex | None
    sources: tuple[str, ...]
    #: Patterns matched by RE2 instead of ``re`` because they could backtrack
    #: catastrophically (see :mod:`claimtag.regex_safety`): "where: why" per pattern.
    linear_engine: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> CompiledRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass(frozen=True, slots=True)
class RawPack:
    """A parsed and schema-valid pack, before compilation.

    ``trusted``: the bundled pack, whose patterns are known to run on ``re``. ``digest``:
    identifies the text it was parsed from (with how it was parsed), "" when unknown.
    """

    data: dict[str, Any]
    source: str
    trusted: bool = False
    digest: str = field(default="", compare=False)


def _yaml_lines(text: str) -> tuple[dict[tuple[str | int, ...], int], list[str]]:
    """Map each JSON path (as a tuple) in a YAML document to its 1-based line number.

    Also returns the duplicate mapping keys found (YAML keeps the last one silently).
    An alias is walked once, so a "billion laughs" document costs no more than its text.
    """
    import yaml

    lines: dict[tuple[str | int, ...], int] = {}
    duplicates: list[str] = []
    try:
        root = yaml.compose(text, Loader=_yaml_loader())
    except (yaml.YAMLError, RecursionError):
        return lines, duplicates
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())] if root else []
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen or len(path) > MAX_PACK_DEPTH:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in keys and isinstance(key, yaml.ScalarNode):
                    where = _json_path((*path, name))
                    duplicates.append(
                        f"{where}, line {key.start_mark.line + 1}: duplicate key {name!r}"
                    )
                keys.add(name)
                stack.append((value, (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, (*path, i)))
    return lines, duplicates


def _json_path(path: Sequence[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _where(path: Sequence[str | int], data: Any, lines: dict[tuple[str | int, ...], int]) -> str:
    """Describe a location: JSON path, the rule id it falls in, and the YAML line."""
    parts = [_json_path(path)]
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rule_id = rules[path[1]].get("id")
            if rule_id:
                parts.append(f"rule {rule_id!r}")
    probe = tuple(path)
    while probe and probe not in lines:
        probe = probe[:-1]
    if probe in lines or not path:
        line = lines.get(probe)
        if line:
            parts.append(f"line {line}")
    return ", ".join(parts)


def _shape_errors(data: Any) -> list[str]:
    """What makes parsed data unfit for a pack before the schema is even consulted.

    Counts values with YAML aliases expanded (without expanding them), and finds
    recursive aliases, deep nesting, non-string keys, and values JSON does not have
    (dates, binary, sets, NaN and infinities).
    """
    sizes: dict[int, int] = {}
    errors: list[str] = []
    active: set[int] = set()

    def size(value: Any, path: tuple[str | int, ...]) -> int:
        if isinstance(value, str | bool | int | None):
            return 1
        if isinstance(value, float):
            if not math.isfinite(value):
                errors.append(f"{_json_path(path)}: {value} is not a finite number")
            return 1
        if not isinstance(value, dict | list):
            kind = type(value).__name__
            errors.append(f"{_json_path(path)}: a {kind} value is not allowed (JSON types only)")
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            errors.append(f"{_json_path(path)}: recursive YAML alias")
            return 1
        if len(path) >= MAX_PACK_DEPTH:
            errors.append(f"{_json_path(path)}: nested deeper than {MAX_PACK_DEPTH} levels")
            return 1
        active.add(key)
        total = 1
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    errors.append(f"{_json_path(path)}: key {k!r} is not a string")
                    continue
                total += size(v, (*path, k))
                if total > MAX_PACK_NODES or len(errors) > MAX_REPORTED_ERRORS:
                    break
        else:
            for i, v in enumerate(value):
                total += size(v, (*path, i))
                if total > MAX_PACK_NODES or len(errors) > MAX_REPORTED_ERRORS:
                    break
        active.discard(key)
        sizes[key] = total
        return total

    total = size(data, ())
    if total > MAX_PACK_NODES:
        errors.insert(0, f"more than {MAX_PACK_NODES} values once YAML aliases are expanded")
    return errors


def _clip(message: str) -> str:
    message = message.replace("\n", " ")
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _schema_message(error: Any) -> str:
    """A schema error's message; an over-long string is described by its length, because
    jsonschema quotes the whole value first and clipping would cut off what is wrong."""
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return f"{len(error.instance)} characters long (at most {error.validator_value})"
    return str(error.message)


def _raise(source: str, errors: list[str]) -> None:
    if errors:
        shown = [_clip(e) for e in errors[:MAX_REPORTED_ERRORS]]
        if len(errors) > MAX_REPORTED_ERRORS:
            shown.append(f"… and {len(errors) - MAX_REPORTED_ERRORS} more error(s)")
        raise RulePackError(source, shown)


def parse_pack(text: str, source: str, *, trusted: bool = False, use_cache: bool = True) -> RawPack:
    """Parse a pack's text (YAML or JSON) and validate it; raise with every error found.

    ``trusted``: skip the backtracking analysis of the patterns (the bundled pack).
    ``use_cache``: a text that passed before, checked by the same code against the same
    schema, is read from the pack cache instead of being checked again (see
    :func:`cache_dir`); a pack with errors is never cached, so it fails the same way.
    """
    if len(text) > MAX_PACK_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_PACK_BYTES:
        raise RulePackError(source, [f"file is larger than {MAX_PACK_BYTES} bytes"])
    is_json = source.endswith(".json")
    digest = _pack_digest(text, is_json=is_json, trusted=trusted)
    if use_cache and digest:
        cached = _load_cached_pack(digest)
        if cached is not None:
            return RawPack(data=cached, source=source, trusted=trusted, digest=digest)
    data = _validated_data(text, source, is_json=is_json, trusted=trusted)
    if use_cache and digest:
        _store_cached_pack(digest, data)
    return RawPack(data=data, source=source, trusted=trusted, digest=digest)


def _validated_data(text: str, source: str, *, is_json: bool, trusted: bool) -> dict[str, Any]:
    """The parsed pack, after every check of :func:`parse_pack` passed."""
    import yaml

    from claimtag.schemas import validator

    json_duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        counts = Counter(k for k, _ in items)
        json_duplicates.extend(f"duplicate key {k!r}" for k, n in counts.items() if n > 1)
        return dict(items)

    try:
        if is_json:
            data = json.loads(text, object_pairs_hook=pairs)
        else:
            data = yaml.load(text, Loader=_yaml_loader())
    except (json.JSONDecodeError, yaml.YAMLError, ValueError) as e:
        raise RulePackError(source, [_clip(f"not valid YAML/JSON: {e}")]) from e
    except RecursionError as e:
        raise RulePackError(source, ["not valid YAML/JSON: nested too deeply"]) from e
    _raise(source, _shape_errors(data))
    lines, duplicates = ({}, json_duplicates) if is_json else _yaml_lines(text)
    errors = [
        f"{_where(list(e.absolute_path), data, lines)}: {_schema_message(e)}"
        for e in sorted(
            validator("rule-pack").iter_errors(data), key=lambda e: (e.json_path, e.message)
        )
    ]
    _raise(source, duplicates + errors)
    _raise(source, _semantic_errors(data, lines, analyse_patterns=not trusted))
    result: dict[str, Any] = data
    return result


# --- the pack cache ---------------------------------------------------------------------------
#
# Checking the bundled pack (YAML, schema, every pattern compiled, lexicons, ids) costs a
# few tenths of a second per process. A pack that passed is stored, as JSON, under a digest
# of its text and of everything the checks depend on: this module, regex_safety, the pack
# schema, the limits above, the Python version and the RE2 module. Anything else (an edited
# pack, another claimtag) has another digest and is checked again.

_PACK_CACHE_FORMAT = 1

#: Rule ids the learned model's claims carry (``learned.threat``, ...): no rule may use them.
RESERVED_PREFIX = "learned."


def cache_dir() -> Path:
    """claimtag's cache folder: ``$CLAIMTAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/claimtag``
    (default ``~/.cache/claimtag``). It holds checked rule packs and Hyperscan databases;
    deleting it is always safe."""
    root = os.environ.get("CLAIMTAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "claimtag"
    )
    return Path(root)


@cache
def _checker_fingerprint() -> str:
    """A digest of the code and schema that check packs ("" when they cannot be read)."""
    from claimtag.schemas import SCHEMA_FILES, schema_dir

    re2 = getattr(sys.modules.get("re2"), "__file__", None)
    h = hashlib.sha256(f"{_PACK_CACHE_FORMAT}\0{sys.version}\0{re2}\0".encode())
    try:
        if re2:
            h.update(str(os.stat(re2).st_mtime_ns).encode())
        for path in (
            Path(__file__),
            Path(regex_safety.__file__),
            schema_dir() / SCHEMA_FILES["rule-pack"],
        ):
            h.update(path.read_bytes())
    except (OSError, TypeError):
        return ""
    return h.hexdigest()


def _pack_digest(text: str, *, is_json: bool, trusted: bool) -> str:
    """The cache key of a pack's text, or "" when there is no checker fingerprint."""
    fingerprint = _checker_fingerprint()
    if not fingerprint:
        return ""
    limits = [MAX_PACK_BYTES, MAX_PACK_NODES, MAX_PACK_DEPTH, MAX_EXPANDED_PATTERN]
    limits += [MAX_PACK_PATTERNS, MAX_REPORTED_ERRORS]
    h = hashlib.sha256(f"{fingerprint}\0{is_json}\0{trusted}\0{limits}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def _load_cached_pack(digest: str) -> dict[str, Any] | None:
    path = cache_dir() / f"pack-{digest}.json"
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(stored, dict) or stored.get("digest") != digest:
        return None
    data = stored.get("data")
    return data if isinstance(data, dict) else None


def _store_cached_pack(digest: str, data: dict[str, Any]) -> None:
    folder = cache_dir()
    with suppress(OSError, ValueError, TypeError, RecursionError):
        payload = json.dumps({"digest": digest, "data": data}, ensure_ascii=False)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pack-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
            os.replace(tmp, folder / f"pack-{digest}.json")
        finally:
            with suppress(OSError):
                os.unlink(tmp)


# A lexicon entry that is a plain phrase (letters, digits, spaces, hyphens, apostrophes and
# escaped dots): such entries are merged into one prefix tree when the lexicon is inserted,
# which ``re`` searches several times faster than a flat alternation of hundreds of names.
_LITERAL_ENTRY = re.compile(r"(?:[A-Za-z0-9 '’-]|\\\.)+")


def _prefix_tree(words: Sequence[str]) -> str:
    """One regex matching exactly ``words`` (plain phrases), branching on shared prefixes."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(node[ch]) for ch in sorted(node) if ch]
        if not branches:
            return ""
        inner = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{inner})?" if "" in node else inner

    return build(tree)


@lru_cache(maxsize=256)
def _alternation(entries: tuple[str, ...]) -> str:
    """A lexicon as one group: regex entries as they are, plain phrases as a prefix tree.

    Cached: a pack inserts the same lexicon into dozens of patterns."""
    plain = [e.replace("\\.", ".") for e in entries if _LITERAL_ENTRY.fullmatch(e)]
    parts = [e for e in entries if not _LITERAL_ENTRY.fullmatch(e)]
    if plain:
        parts.append(_prefix_tree(plain))
    return "(?:" + "|".join(parts) + ")"


def _expand(pattern: str, lexicons: dict[str, list[str]]) -> str:
    return _LEXICON_REF.sub(lambda m: _alternation(tuple(lexicons[m.group(1)])), pattern)


def _check_pattern(
    pattern: str,
    path: list[str | int],
    data: Any,
    lines: dict[tuple[str | int, ...], int],
    *,
    flags: int = re.IGNORECASE,
    plan: bool = True,
) -> list[str]:
    """Errors of one pattern: unknown lexicons, syntax, empty matches, catastrophic backtracking.

    ``plan``: also analyse it (lexicon entries are analysed inside the patterns that use
    them; the bundled pack is analysed by its tests).
    """
    lexicons: dict[str, list[str]] = data.get("lexicons", {})
    where = _where(path, data, lines)
    missing = [n for n in _LEXICON_REF.findall(pattern) if n not in lexicons]
    if missing:
        return [f"{where}: unknown lexicon {', '.join(sorted(set(missing)))}"]
    expanded = _expand(pattern, lexicons)
    if len(expanded) > MAX_EXPANDED_PATTERN:
        return [
            f"{where}: pattern is {len(expanded)} characters long with its lexicons "
            f"inserted (at most {MAX_EXPANDED_PATTERN})"
        ]
    try:
        compiled = re.compile(expanded, flags)
        if compiled.fullmatch(""):
            return [f"{where}: pattern matches the empty string"]
        if plan:
            analysed = analyse(expanded, flags)
            if analysed.min_width == 0:
                return [f"{where}: pattern matches the empty string"]
            if analysed.unsafe:
                return [f"{where}: {analysed.unsafe}"]
    except (re.error, OverflowError, ValueError) as e:
        return [f"{where}: invalid regular expression: {e}"]
    except RecursionError:
        return [f"{where}: invalid regular expression: nested too deeply"]
    return []


def _semantic_errors(
    data: dict[str, Any],
    lines: dict[tuple[str | int, ...], int],
    *,
    analyse_patterns: bool = True,
) -> list[str]:
    """Checks the schema cannot express: regexes compile, lexicons exist, ids are unique,
    and (``analyse_patterns``) no pattern can match nothing or backtrack catastrophically."""
    errors: list[str] = []
    n_patterns = sum(
        len(rule.get(key, []))
        for rule in data["rules"]
        for key in ("patterns", "require", "exclude")
    ) + sum(len(data.get(section, {}).get("cues", [])) for section in ("negation", "hedging"))
    if n_patterns > MAX_PACK_PATTERNS:
        return [f"$.rules: {n_patterns} patterns and cues (at most {MAX_PACK_PATTERNS})"]
    for name, entries in data.get("lexicons", {}).items():
        for i, entry in enumerate(entries):
            if _LEXICON_REF.search(entry):
                where = _where(["lexicons", name, i], data, lines)
                errors.append(f"{where}: a lexicon entry cannot insert another lexicon")
                continue
            errors += _check_pattern(entry, ["lexicons", name, i], data, lines, plan=False)
    for section in ("negation", "hedging"):
        for i, cue in enumerate(data.get(section, {}).get("cues", [])):
            errors += _check_pattern(cue, [section, "cues", i], data, lines, plan=analyse_patterns)
    seen: dict[str, int] = {}
    for r, rule in enumerate(data["rules"]):
        if rule["id"] in seen:
            errors.append(
                f"{_where(['rules', r, 'id'], data, lines)}: duplicate rule id {rule['id']!r} "
                f"(first at $.rules[{seen[rule['id']]}])"
            )
        seen.setdefault(rule["id"], r)
        if rule["id"].startswith(RESERVED_PREFIX):
            errors.append(
                f"{_where(['rules', r, 'id'], data, lines)}: rule id {rule['id']!r}: ids "
                f"starting with {RESERVED_PREFIX!r} name the learned model's claims"
            )
        flags = 0 if rule.get("case_sensitive") else re.IGNORECASE
        for key in ("patterns", "require", "exclude"):
            for i, pattern in enumerate(rule.get(key, [])):
                errors += _check_pattern(
                    pattern, ["rules", r, key, i], data, lines, flags=flags, plan=analyse_patterns
                )
    return errors


def read_pack(path: Path, *, use_cache: bool = True) -> RawPack:
    """Read and validate a pack file (reading stops after ``MAX_PACK_BYTES``)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_PACK_BYTES + 1)
    except OSError as e:
        raise RulePackError(str(path), [f"cannot read: {e}"]) from e
    if len(data) > MAX_PACK_BYTES:
        raise RulePackError(str(path), [f"file is larger than {MAX_PACK_BYTES} bytes"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RulePackError(
            str(path), [f"cannot read: not UTF-8 text ({e.reason} at byte {e.start})"]
        ) from e
    return parse_pack(text, str(path), use_cache=use_cache)


def bundled_pack(*, use_cache: bool = True) -> RawPack:
    """The rule pack that ships with claimtag (validated; its regex analysis is skipped:
    the test suite runs it and checks that every pattern runs on ``re``)."""
    res = resources.files("claimtag") / "rules" / BUNDLED_PACK
    text = res.read_text(encoding="utf-8")
    return parse_pack(text, f"claimtag/rules/{BUNDLED_PACK}", trusted=True, use_cache=use_cache)


# "(?" that is not a non-capturing group or a look-around: inline flags, named groups,
# conditionals, comments. A pattern without any compiles to ``flags | re.UNICODE`` and
# joins into a union without error, which is what LazyRegex relies on.
_NOT_PLAIN_GROUP = re.compile(r"\(\?(?![:=!]|<[=!])")


class LazyRegex:
    """An ``re`` pattern of the bundled pack, compiled when it is first searched.

    Compiling the bundled pack's ~400 patterns with ``re`` costs a few tenths of a second;
    Hyperscan finds the candidate rules, so a short text needs only a handful of them.
    ``pattern`` and ``flags`` are those of the compiled pattern; with ``parts``, the pattern
    is their :func:`~claimtag.regex_safety.compile_union`, compiled when first searched.
    After the first search the methods are the compiled pattern's own.
    """

    def __init__(self, pattern: str, flags: int, parts: Sequence[LazyRegex] = ()) -> None:
        self.pattern = pattern
        self.flags = flags | re.UNICODE if not flags & re.ASCII else flags
        self._compile_flags = flags
        self._parts = tuple(parts)

    @staticmethod
    def plain(pattern: str) -> bool:
        """True when ``pattern`` can be compiled lazily (no inline flags or named groups)."""
        return _NOT_PLAIN_GROUP.search(pattern) is None

    def compiled(self) -> Regex:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled: Regex | None = self.__dict__.get("_compiled")
        if compiled is None:
            if self._parts:
                compiled = compile_union(list(self._parts), self._compile_flags)
                assert compiled is not None  # there are parts
            else:
                compiled = re.compile(self.pattern, self._compile_flags)
            self.__dict__.update(
                _compiled=compiled,
                search=compiled.search,
                finditer=compiled.finditer,
                fullmatch=compiled.fullmatch,
            )
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        return self.compiled().search(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[RegexMatch]:
        return self.compiled().finditer(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> RegexMatch | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def __getattr__(self, name: str) -> Any:  # the rest of re.Pattern (match, groups, ...)
        if name.startswith("__") or name in ("_compiled", "_parts", "_compile_flags"):
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled uncompiled: worker processes too
        return (LazyRegex, (self.pattern, self._compile_flags, self._parts))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LazyRegex):
            return NotImplemented
        return (self.pattern, self._compile_flags) == (other.pattern, other._compile_flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self._compile_flags))

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self._compile_flags})"


def _compile(pattern: str, flags: int, trusted: bool) -> Regex:
    """``pattern`` for its engine; the bundled pack's patterns skip the analysis (its
    tests check that every one of them runs on ``re``) and, validated already, are
    compiled when first used."""
    if not trusted:
        return compile_pattern(pattern, flags)
    return LazyRegex(pattern, flags) if LazyRegex.plain(pattern) else re.compile(pattern, flags)


def _union(parts: Iterable[Regex], flags: int) -> Regex | None:
    parts = list(parts)
    if parts and all(isinstance(p, LazyRegex) for p in parts):
        lazy = [p for p in parts if isinstance(p, LazyRegex)]
        return LazyRegex("|".join(f"(?:{p.pattern})" for p in lazy), flags, lazy)
    return compile_union(parts, flags)


def compile_packs(packs: Sequence[RawPack]) -> RulePack:
    """Merge packs in order and compile them; rule ids must be unique across packs."""
    rules: list[CompiledRule] = []
    seen: dict[str, str] = {}
    errors: list[str] = []
    negation: list[Regex] = []
    hedging: list[Regex] = []
    linear: list[str] = []
    window = 6
    for pack in packs:
        data = pack.data
        lexicons: dict[str, list[str]] = data.get("lexicons", {})
        window = int(data.get("negation", {}).get("window", window))
        try:
            for section, cues in (("negation", negation), ("hedging", hedging)):
                for cue in data.get(section, {}).get("cues", []):
                    cues.append(_compile(_expand(cue, lexicons), re.IGNORECASE, pack.trusted))
                    linear += _linear_note(f"{section} cue", cues[-1])
        except (UnsafePatternError, re.error, RecursionError) as e:  # validated: rare
            errors.append(f"a cue of {pack.source}: {e}")
        for rule in data["rules"]:
            if rule["id"] in seen:
                errors.append(
                    f"rule id {rule['id']!r} of {pack.source} is already in {seen[rule['id']]}"
                )
                continue
            seen[rule["id"]] = pack.source
            flags = 0 if rule.get("case_sensitive") else re.IGNORECASE
            try:
                compiled = {
                    key: [
                        _compile(_expand(p, lexicons), flags, pack.trusted)
                        for p in rule.get(key, [])
                    ]
                    for key in ("patterns", "require", "exclude")
                }
            except (UnsafePatternError, re.error, RecursionError) as e:  # validated: rare
                errors.append(f"rule {rule['id']!r} of {pack.source}: {e}")
                continue
            for key, parts in compiled.items():
                for part in parts:
                    linear += _linear_note(f"{rule['id']} {key}", part)
            rules.append(
                CompiledRule(
                    id=rule["id"],
                    claim_type=rule["claim_type"],
                    weight=float(rule["weight"]),
                    patterns=tuple(compiled["patterns"]),
                    require=_union(compiled["require"], flags),
                    exclude=_union(compiled["exclude"], flags),
                    positive=tuple(rule["examples"]["positive"]),
                    negative=tuple(rule["examples"]["negative"]),
                    source=pack.source,
                )
            )
    if errors:
        raise RulePackError(", ".join(p.source for p in packs), errors)
    version = "+".join(f"{p.data['name']}@{p.data['version']}" for p in packs)
    # The prefilter only narrows the search (a superset), so case-insensitive for all; it
    # is compiled when first searched (only without Hyperscan).
    prefilter = LazyUnion([p for r in rules for p in r.patterns], re.IGNORECASE)
    try:  # compiled now: the cues are searched in most sentences with a claim, and the
        # prefilter screens for them only when they are one ``re`` pattern
        negation_re = compile_union(negation, re.IGNORECASE)
        hedging_re = compile_union(hedging, re.IGNORECASE)
    except (UnsafePatternError, re.error, RecursionError) as e:
        raise RulePackError(version, [str(e) or type(e).__name__]) from e
    # A user pack may cover only some claim types; that is allowed.
    return RulePack(
        version=version,
        rules=tuple(rules),
        prefilter=prefilter,
        negation=negation_re,
        negation_window=window,
        hedging=hedging_re,
        sources=tuple(p.source for p in packs),
        linear_engine=tuple(linear),
    )


def _linear_note(where: str, compiled: Regex) -> list[str]:
    """``["where 'pattern': why"]`` when ``compiled`` runs on RE2, else ``[]``."""
    if not isinstance(compiled, RE2Regex):
        return []
    pattern = compiled.pattern
    shown = pattern if len(pattern) <= 80 else pattern[:79] + "…"
    return [f"{where} {shown!r}: {analyse(pattern, compiled.flags).hazard}"]


# Packs compiled by load_rules in this process, by what they were compiled from: the CLI
# checks the packs before a run starts, and the run loads them again.
_COMPILED: dict[tuple[tuple[str, str, bool], ...], RulePack] = {}
_MAX_COMPILED = 8


def load_rules(extra: Sequence[Path] = (), *, replace: bool = False) -> RulePack:
    """The bundled pack plus ``extra`` packs (or only ``extra`` when ``replace``), compiled.

    Loading the same pack texts again in one process returns the same (immutable) pack.
    """
    packs = [read_pack(p) for p in extra]
    if not replace:
        packs.insert(0, bundled_pack())
    if not packs:
        raise RulePackError("(none)", ["--replace-rules needs at least one --rules file"])
    key = tuple((p.digest, p.source, p.trusted) for p in packs)
    if not all(p.digest for p in packs):
        return compile_packs(packs)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = compile_packs(packs)
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compiled
    return compiled


@cache
def default_rules() -> RulePack:
    """The bundled rule pack, compiled once per process."""
    return compile_packs([bundled_pack()])
