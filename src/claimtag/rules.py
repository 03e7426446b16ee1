"""Rule packs: load them, validate them against their schema, compile them.

A rule pack is data (YAML or JSON) validated against ``schemas/rule_pack.schema.json``.
Every error is reported at once with its location (JSON path, rule id, and the YAML
line where known). ``{{name}}`` in a pattern inserts the pack's lexicon ``name``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from claimtag import CLAIM_TYPES
from claimtag.errors import RulePackError
from claimtag.schemas import validator

_LEXICON_REF = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
MAX_PACK_BYTES = 5_000_000

BUNDLED_PACK = "core.yaml"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to match: patterns compiled, lexicons expanded."""

    id: str
    claim_type: str
    weight: float
    patterns: tuple[re.Pattern[str], ...]
    require: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class RulePack:
    """One or more rule packs merged and compiled, ready for the classifier."""

    version: str
    rules: tuple[CompiledRule, ...]
    prefilter: re.Pattern[str]
    negation: re.Pattern[str] | None
    negation_window: int
    hedging: re.Pattern[str] | None
    sources: tuple[str, ...]

    def rule(self, rule_id: str) -> CompiledRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass(frozen=True, slots=True)
class RawPack:
    """A parsed and schema-valid pack, before compilation."""

    data: dict[str, Any]
    source: str


def _yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each JSON path (as a tuple) in a YAML document to its 1-based line number."""
    lines: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def _where(path: Sequence[str | int], data: Any, lines: dict[tuple[str | int, ...], int]) -> str:
    """Describe a location: JSON path, the rule id it falls in, and the YAML line."""
    json_path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    parts = [json_path]
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


def parse_pack(text: str, source: str) -> RawPack:
    """Parse a pack's text (YAML or JSON) and validate it; raise with every error found."""
    if len(text.encode("utf-8")) > MAX_PACK_BYTES:
        raise RulePackError(source, [f"file is larger than {MAX_PACK_BYTES} bytes"])
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise RulePackError(source, [f"not valid YAML/JSON: {e}".replace("\n", " ")]) from e
    lines = {} if source.endswith(".json") else _yaml_lines(text)
    errors = [
        f"{_where(list(e.absolute_path), data, lines)}: {e.message}"
        for e in sorted(
            validator("rule-pack").iter_errors(data), key=lambda e: (e.json_path, e.message)
        )
    ]
    if errors:
        raise RulePackError(source, errors)
    errors = _semantic_errors(data, lines)
    if errors:
        raise RulePackError(source, errors)
    return RawPack(data=data, source=source)


def _expand(pattern: str, lexicons: dict[str, list[str]]) -> str:
    return _LEXICON_REF.sub(lambda m: "(?:" + "|".join(lexicons[m.group(1)]) + ")", pattern)


def _check_pattern(
    pattern: str, path: list[str | int], data: Any, lines: dict[tuple[str | int, ...], int]
) -> list[str]:
    lexicons: dict[str, list[str]] = data.get("lexicons", {})
    where = _where(path, data, lines)
    missing = [n for n in _LEXICON_REF.findall(pattern) if n not in lexicons]
    if missing:
        return [f"{where}: unknown lexicon {', '.join(sorted(set(missing)))}"]
    try:
        compiled = re.compile(_expand(pattern, lexicons), re.IGNORECASE)
    except re.error as e:
        return [f"{where}: invalid regular expression: {e}"]
    if compiled.fullmatch(""):
        return [f"{where}: pattern matches the empty string"]
    return []


def _semantic_errors(data: dict[str, Any], lines: dict[tuple[str | int, ...], int]) -> list[str]:
    """Checks the schema cannot express: regexes compile, lexicons exist, ids are unique."""
    errors: list[str] = []
    for name, entries in data.get("lexicons", {}).items():
        for i, entry in enumerate(entries):
            errors += _check_pattern(entry, ["lexicons", name, i], data, lines)
    for section in ("negation", "hedging"):
        for i, cue in enumerate(data.get(section, {}).get("cues", [])):
            errors += _check_pattern(cue, [section, "cues", i], data, lines)
    seen: dict[str, int] = {}
    for r, rule in enumerate(data["rules"]):
        if rule["id"] in seen:
            errors.append(
                f"{_where(['rules', r, 'id'], data, lines)}: duplicate rule id {rule['id']!r} "
                f"(first at $.rules[{seen[rule['id']]}])"
            )
        seen.setdefault(rule["id"], r)
        for key in ("patterns", "require", "exclude"):
            for i, pattern in enumerate(rule.get(key, [])):
                errors += _check_pattern(pattern, ["rules", r, key, i], data, lines)
    return errors


def read_pack(path: Path) -> RawPack:
    """Read and validate a pack file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RulePackError(str(path), [f"cannot read: {e}"]) from e
    return parse_pack(text, str(path))


def bundled_pack() -> RawPack:
    """The rule pack that ships with claimtag."""
    res = resources.files("claimtag") / "rules" / BUNDLED_PACK
    return parse_pack(res.read_text(encoding="utf-8"), f"claimtag/rules/{BUNDLED_PACK}")


def _union(patterns: Iterable[str], flags: int) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts), flags) if parts else None


def compile_packs(packs: Sequence[RawPack]) -> RulePack:
    """Merge packs in order and compile them; rule ids must be unique across packs."""
    rules: list[CompiledRule] = []
    seen: dict[str, str] = {}
    errors: list[str] = []
    negation: list[str] = []
    hedging: list[str] = []
    window = 6
    for pack in packs:
        data = pack.data
        lexicons: dict[str, list[str]] = data.get("lexicons", {})
        negation += [_expand(c, lexicons) for c in data.get("negation", {}).get("cues", [])]
        hedging += [_expand(c, lexicons) for c in data.get("hedging", {}).get("cues", [])]
        window = int(data.get("negation", {}).get("window", window))
        for rule in data["rules"]:
            if rule["id"] in seen:
                errors.append(
                    f"rule id {rule['id']!r} of {pack.source} is already in {seen[rule['id']]}"
                )
                continue
            seen[rule["id"]] = pack.source
            flags = 0 if rule.get("case_sensitive") else re.IGNORECASE
            rules.append(
                CompiledRule(
                    id=rule["id"],
                    claim_type=rule["claim_type"],
                    weight=float(rule["weight"]),
                    patterns=tuple(
                        re.compile(_expand(p, lexicons), flags) for p in rule["patterns"]
                    ),
                    require=_union((_expand(p, lexicons) for p in rule.get("require", [])), flags),
                    exclude=_union((_expand(p, lexicons) for p in rule.get("exclude", [])), flags),
                    positive=tuple(rule["examples"]["positive"]),
                    negative=tuple(rule["examples"]["negative"]),
                    source=pack.source,
                )
            )
    if errors:
        raise RulePackError(", ".join(p.source for p in packs), errors)
    missing = [t for t in CLAIM_TYPES if not any(r.claim_type == t for r in rules)]
    version = "+".join(f"{p.data['name']}@{p.data['version']}" for p in packs)
    prefilter = _union((p.pattern for r in rules for p in r.patterns), re.IGNORECASE)
    if prefilter is None:  # pragma: no cover - the schema requires one rule
        raise RulePackError(version, ["no rules"])
    del missing  # a user pack may cover only some claim types; that is allowed
    return RulePack(
        version=version,
        rules=tuple(rules),
        prefilter=prefilter,
        negation=_union(negation, re.IGNORECASE),
        negation_window=window,
        hedging=_union(hedging, re.IGNORECASE),
        sources=tuple(p.source for p in packs),
    )


def load_rules(extra: Sequence[Path] = (), *, replace: bool = False) -> RulePack:
    """The bundled pack plus ``extra`` packs (or only ``extra`` when ``replace``), compiled."""
    packs = [read_pack(p) for p in extra]
    if not replace:
        packs.insert(0, bundled_pack())
    if not packs:
        raise RulePackError("(none)", ["--replace-rules needs at least one --rules file"])
    return compile_packs(packs)


@cache
def default_rules() -> RulePack:
    """The bundled rule pack, compiled once per process."""
    return compile_packs([bundled_pack()])
