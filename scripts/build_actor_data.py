#!/usr/bin/env python3
"""Generate ``src/claimtag/data/actors.json``, the actor table that ``claimtag.actors`` loads.

Sources, and what each contributes:

* ``country_converter`` (its packaged ``country_data.tsv``): the set of ISO 3166 codes, UN
  membership, short and official names, and one regular expression per country. The regexes
  are used as a *classifier*: every name taken from elsewhere (countryinfo's alternative
  spellings, short forms derived from official names, curated former names) is kept only when
  country_converter's regex for the same code recognises it and no other code's regex does.
* ``countryinfo`` (its packaged JSON files): English names, alternative spellings, capitals and
  demonyms of states.
* ``src/claimtag/data/actors_curated.yaml``: scope decisions, historical states, organisations,
  metonyms, leaders, blocked phrases, removals, corrections and context guards.

The package data files are read directly (``importlib.util.find_spec``), so the generator imports
neither pandas nor the packages' modules. Output is deterministic: sorted keys, no timestamps, and a
``_meta`` header with the source package versions and the curated file's SHA-256.

Usage::

    python scripts/build_actor_data.py            # write the table
    python scripts/build_actor_data.py --check    # exit 1 if the committed table is stale
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "src" / "claimtag" / "data"
CURATED_PATH = DATA_DIR / "actors_curated.yaml"
OUTPUT_PATH = DATA_DIR / "actors.json"
FORMAT_VERSION = 1

# Role priority when several sources give the same surface for the same code (lower wins).
ROLES = (
    "name",
    "official",
    "short",
    "former",
    "abbreviation",
    "capital",
    "demonym",
    "metonym",
    "leader",
    "org",
    "block",
)
STATE_KINDS = frozenset({"un_member", "observer", "non_member_state"})
# "Republic of X", "Federated States of X", "Hashemite Kingdom of X" -> "X" (validated afterwards).
_OFFICIAL_PREFIX = re.compile(
    r"^(?:[A-Z][\w'’-]*\s+)*?(?:Republic|Republics|Kingdom|State|States|Commonwealth|"
    r"Principality|Sultanate|Duchy|Union|Confederation|Federation|Emirates)\s+of\s+(?:the\s+)?"
    r"(?P<rest>[A-Z].*)$"
)
_CAPITALISED_HYPHEN = re.compile(r"(?<=[a-zé])-(?=[A-Z])")


class BuildError(Exception):
    """The curated file contradicts the package data or itself."""


# --------------------------------------------------------------------------- package data


def package_dir(name: str) -> Path:
    """Return the directory of an installed package without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def source_versions() -> dict[str, str]:
    """Versions of the packages the table is generated from."""
    return {name: importlib.metadata.version(name) for name in ("country_converter", "countryinfo")}


def load_coco_rows() -> list[dict[str, str]]:
    """Rows of country_converter's ``country_data.tsv`` as plain strings."""
    path = package_dir("country_converter") / "country_data.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh, delimiter="\t")]


def load_countryinfo() -> dict[str, list[dict[str, Any]]]:
    """countryinfo records grouped by ISO alpha-3 code (records without a code are skipped)."""
    base = package_dir("countryinfo")
    by_code: dict[str, list[dict[str, Any]]] = {}
    # data_no_iso/ (sub-national and disputed places: Wales, Belfast, Gaza) is left out.
    for sub in ("data",):
        for path in sorted((base / sub).glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            iso = record.get("ISO") or {}
            code = iso.get("alpha3") if isinstance(iso, dict) else None
            if isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code):
                by_code.setdefault(code, []).append(record)
    return by_code


# --------------------------------------------------------------------------- text helpers


def clean(text: str) -> str:
    """Drop parentheticals, collapse whitespace and strip a leading article."""
    text = re.sub(r"\s*\([^)]*\)", "", text)
    text = " ".join(text.split())
    return re.sub(r"^(?:The|the)\s+", "", text)


def is_latin(text: str) -> bool:
    """True when every letter is Latin (native-script spellings are left out)."""
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in text) and any(
        ch.isalpha() for ch in text
    )


def is_english_form(text: str) -> bool:
    """Heuristic: an English name has no lower-case words but "of", "the" and "and".

    Leaves out native-language spellings such as "Republica de Angola" or "Jamhuri ya Kenya".
    """
    return all(w[0].isupper() or w in {"of", "the", "and"} for w in text.split())


def ascii_fold(text: str) -> str:
    """Strip diacritics: ``Côte d'Ivoire`` -> ``Cote d'Ivoire``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def variants(surface: str, role: str) -> set[str]:
    """Spelling variants of a surface: diacritics, apostrophes, Saint/St./St, hyphen/space."""
    out = {surface}
    if role in {"name", "official", "short", "former", "capital", "demonym"}:
        out |= {_CAPITALISED_HYPHEN.sub(" ", s) for s in list(out)}
        for s in list(out):
            for a, b in (
                ("Saint ", "St. "),
                ("St. ", "Saint "),
                ("Saint ", "St "),
                ("St. ", "St "),
            ):
                if s.startswith(a):
                    out.add(b + s[len(a) :])
    out |= {ascii_fold(s) for s in list(out)}
    out |= {s.replace("'", "’") for s in list(out)} | {s.replace("’", "'") for s in list(out)}
    return out


def plural(demonym: str) -> str | None:
    """English plural of a demonym used as a noun, when it takes one."""
    if demonym.endswith(("an", "i", "er", "ot", "k", "o")) and " and " not in demonym:
        return demonym + "s"
    return None


# --------------------------------------------------------------------------- the build


class Table:
    """Candidate surfaces collected from every source before merging."""

    def __init__(self) -> None:
        self.candidates: dict[str, dict[str | None, dict[str, set[str]]]] = {}
        self.dropped: dict[str, set[str]] = {}

    def add(self, surface: str, code: str | None, role: str, source: str) -> None:
        """Record ``surface`` -> ``code`` (None for a block) with its role and source."""
        for form in variants(surface, role):
            per_code = self.candidates.setdefault(form, {})
            entry = per_code.setdefault(code, {"roles": set(), "sources": set()})
            entry["roles"].add(role)
            entry["sources"].add(source)

    def drop(self, surface: str, reason: str) -> None:
        """Note a surface that was left out and why."""
        self.dropped.setdefault(surface, set()).add(reason)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _by_code(section: Mapping[str, Any] | None) -> Iterable[tuple[str, list[str]]]:
    for code, names in sorted((section or {}).items()):
        yield str(code), _as_list(names)


def _patterns_by_code(
    curated: Mapping[str, Any], key: str, actors: Mapping[str, Any]
) -> dict[str, list[str]]:
    """The curated ``key`` table (code -> regular expressions), checked: known codes, valid
    patterns."""
    out: dict[str, list[str]] = {}
    for code, patterns in sorted((curated.get(key) or {}).items()):
        if code not in actors:
            raise BuildError(f"{key}: unknown code {code!r}")
        out[str(code)] = [str(p).strip() for p in _as_list(patterns)]
        for pattern in out[str(code)]:
            re.compile(pattern)
    return out


def build(
    curated: Mapping[str, Any],
    coco_rows: list[dict[str, str]],
    countryinfo: Mapping[str, list[dict[str, Any]]],
    versions: Mapping[str, str],
    curated_sha256: str,
) -> dict[str, Any]:
    """Build the actor table document from the sources (pure: no I/O)."""
    scope = curated.get("scope") or {}
    observers = set(scope.get("observers") or [])
    non_members = set(scope.get("non_member_states") or [])
    include_obsolete = set(scope.get("include_obsolete") or [])
    exclude = set(scope.get("exclude_codes") or [])

    actors: dict[str, dict[str, str]] = {}
    regexes: dict[str, re.Pattern[str]] = {}
    rows_by_code: dict[str, dict[str, str]] = {}
    for row in coco_rows:
        code = row["ISO3"].strip()
        if not code or code in exclude:
            continue
        if row.get("obsolete", "").strip() and code not in include_obsolete:
            continue
        if row.get("UNmember", "").strip():
            kind = "un_member"
        elif code in observers:
            kind = "observer"
        elif code in non_members:
            kind = "non_member_state"
        elif code in include_obsolete:
            kind = "historical"
        else:
            kind = "territory"
        actors[code] = {"name": clean(row["name_short"]), "kind": kind}
        regexes[code] = re.compile(row["regex"], re.IGNORECASE)
        rows_by_code[code] = row

    def coco_codes(name: str) -> set[str]:
        return {code for code, rx in regexes.items() if rx.search(name)}

    table = Table()

    def add_checked(surface: str, code: str, role: str, source: str) -> None:
        """Add a name only if country_converter's regexes attribute it to ``code`` alone."""
        found = coco_codes(surface)
        if found == {code}:
            table.add(surface, code, role, source)
        elif not found:
            table.drop(surface, f"{source}: not recognised by country_converter for {code}")
        else:
            table.drop(surface, f"{source}: country_converter says {sorted(found)}, not {code}")

    def usable(surface: str) -> bool:
        # Generated all-caps forms (ISO codes, "GB", "UK") come only from the curated file.
        return (
            len(surface) >= 3
            and "," not in surface
            and surface[0].isupper()
            and not (surface.isupper() and len(surface.replace(".", "")) <= 5)
            and is_latin(surface)
        )

    # 1. country_converter's own names (trusted), and short forms derived from official names.
    for code, row in sorted(rows_by_code.items()):
        for column, role in (("name_short", "name"), ("name_official", "official")):
            surface = clean(row[column])
            if usable(surface):
                table.add(surface, code, role, f"country_converter.{column}")
            else:
                table.drop(surface, f"country_converter.{column}: unusable in running text")

    # 2. countryinfo: names and alternative spellings (checked), capitals and demonyms.
    for code in sorted(rows_by_code):
        kind = actors[code]["kind"]
        for record in countryinfo.get(code, []):
            spellings = [("countryinfo.name", record.get("name"))]
            spellings += [
                ("countryinfo.altSpellings", alt) for alt in record.get("altSpellings") or []
            ]
            for source, raw in spellings:
                if not isinstance(raw, str) or not raw.strip():
                    continue
                surface = clean(raw)
                if not usable(surface) or not is_english_form(surface):
                    table.drop(surface, f"{source}: unusable in running text")
                    continue
                role = "official" if " of " in surface else "name"
                add_checked(surface, code, role, source)
            if kind not in STATE_KINDS:
                continue  # territories: names only (their capitals and demonyms mislead)
            for capital in _as_list(record.get("capital")):
                for part in capital.split(" / "):
                    surface = clean(part)
                    if not usable(surface):
                        continue
                    # Not checked against the regexes: "Port of Spain" is no name of ESP.
                    table.add(surface, code, "capital", "countryinfo.capital")
            for demonym in re.split(r"[,/]", record.get("demonym") or ""):
                surface = clean(demonym)
                if not usable(surface):
                    continue
                table.add(surface, code, "demonym", "countryinfo.demonym")
                if (many := plural(surface)) is not None:
                    table.add(many, code, "demonym", "countryinfo.demonym+plural")

    # 3. Short forms of official names: "Federated States of Micronesia" -> "Micronesia".
    for surface, per_code in sorted(table.candidates.items()):
        for owner in sorted(per_code, key=str):
            if owner is None or " of " not in surface:
                continue
            if (m := _OFFICIAL_PREFIX.match(surface)) is not None:
                short = m.group("rest")
                if usable(short) and short not in table.candidates:
                    add_checked(short, owner, "short", "derived.official_name")

    # 4. Curated data.
    historical = curated.get("historical") or {}
    for code, spec in sorted(historical.items()):
        if code in actors:
            raise BuildError(f"historical: code {code} is already {actors[code]}")
        actors[code] = {"name": spec["name"], "kind": "historical"}
        for alias in _as_list(spec.get("aliases")):
            table.add(
                alias, code, "abbreviation" if alias.isupper() else "name", "curated.historical"
            )
        for demonym in _as_list(spec.get("demonyms")):
            table.add(demonym, code, "demonym", "curated.historical")

    for role, section in sorted((curated.get("verified_names") or {}).items()):
        for code, names in _by_code(section):
            if code not in regexes:
                raise BuildError(f"verified_names.{role}.{code}: no country_converter regex")
            for name in names:
                found = coco_codes(name)
                if found != {code}:
                    raise BuildError(
                        f"verified_names.{role}.{code}: {name!r} is attributed to {sorted(found)}"
                        " by country_converter; move it to unverified_names or fix it"
                    )
                table.add(name, code, role, f"curated.verified_names.{role}")

    for role, section in sorted((curated.get("unverified_names") or {}).items()):
        for code, names in _by_code(section):
            for name in names:
                table.add(name, code, role, f"curated.unverified_names.{role}")

    for code, names in _by_code(curated.get("metonyms")):
        for name in names:
            table.add(name, code, "metonym", "curated.metonyms")
    for code, names in _by_code(curated.get("leaders")):
        for name in names:
            table.add(name, code, "leader", "curated.leaders")

    spelling = [tuple(pair) for pair in curated.get("spelling_variants") or []]
    for code, spec in sorted((curated.get("organisations") or {}).items()):
        if code in actors:
            raise BuildError(f"organisations: code {code} is already {actors[code]}")
        actors[code] = {"name": spec["name"], "kind": "organisation"}
        for alias in _as_list(spec.get("aliases")):
            forms = {alias}
            for a, b in spelling:
                forms |= {f.replace(a, b) for f in forms} | {f.replace(b, a) for f in forms}
            for form in sorted(forms):
                table.add(form, code, "org", "curated.organisations")

    for group, phrases in sorted((curated.get("blocks") or {}).items()):
        for phrase in _as_list(phrases):
            table.add(phrase, None, "block", f"curated.blocks.{group}")

    # 5. Merge: removals, corrections, ambiguity.
    removed = {str(k): str(v) for k, v in (curated.get("remove") or {}).items()}
    corrections = {str(k): str(v) for k, v in (curated.get("corrections") or {}).items()}
    for surface in sorted(set(removed) | set(corrections)):
        if surface not in table.candidates:
            raise BuildError(f"remove/corrections: {surface!r} is not a generated surface")
    surfaces: dict[str, list[Any]] = {}
    ambiguous: dict[str, list[str]] = {}
    for surface, per_code in sorted(table.candidates.items()):
        if surface in removed:
            continue
        if None in per_code:
            if len(per_code) > 1:
                raise BuildError(
                    f"blocked phrase {surface!r} is also a name of {sorted(map(str, per_code))}"
                )
            entry = per_code[None]
            surfaces[surface] = [None, "block", ",".join(sorted(entry["sources"]))]
            continue
        if surface in corrections:
            target = corrections[surface]
            if target not in actors:
                raise BuildError(f"corrections: unknown code {target!r} for {surface!r}")
            roles: set[str] = set().union(*(e["roles"] for e in per_code.values()))
            per_code = {target: {"roles": roles, "sources": {"curated.corrections"}}}
        if len(per_code) > 1:
            ambiguous[surface] = sorted(str(c) for c in per_code)
            continue
        ((resolved, entry),) = per_code.items()
        if resolved is None or resolved not in actors:
            raise BuildError(f"{surface!r} names unknown code {resolved!r}")
        role = min(entry["roles"], key=ROLES.index)
        surfaces[surface] = [resolved, role, ",".join(sorted(entry["sources"]))]

    # 6. Guards: check the curated expressions and references.
    text_patterns = {
        str(k): str(v).strip() for k, v in (curated.get("text_patterns") or {}).items()
    }
    guards: list[dict[str, Any]] = []
    for spec in curated.get("guards") or []:
        guard: dict[str, Any] = {"id": spec["id"], "doc": spec.get("doc", "")}
        for key in ("surfaces", "roles"):
            if spec.get(key):
                guard[key] = sorted(_as_list(spec[key]))
        for name in guard.get("surfaces", []):
            if name not in surfaces:
                raise BuildError(f"guard {spec['id']}: surface {name!r} is not in the table")
        for role in guard.get("roles", []):
            if role not in ROLES:
                raise BuildError(f"guard {spec['id']}: unknown role {role!r}")
        for key in ("not_before", "not_after"):
            if spec.get(key):
                guard[key] = str(spec[key]).strip()
                re.compile(guard[key])
        if spec.get("drop_if_text"):
            if spec["drop_if_text"] not in text_patterns:
                raise BuildError(f"guard {spec['id']}: unknown text pattern {spec['drop_if_text']}")
            guard["drop_if_text"] = spec["drop_if_text"]
        guards.append(guard)
    for pattern in text_patterns.values():
        re.compile(pattern)
    home_references = [str(p).strip() for p in curated.get("home_references") or []]
    for pattern in home_references:
        re.compile(pattern)
    home_references_of = _patterns_by_code(curated, "home_references_of", actors)
    context_references = _patterns_by_code(curated, "context_references", actors)
    group_references: list[dict[str, Any]] = []
    for spec in curated.get("group_references") or []:
        codes = sorted(_as_list(spec.get("codes")))
        if not codes or any(code not in actors for code in codes):
            raise BuildError(f"group_references: unknown or no codes in {spec}")
        group: dict[str, Any] = {"codes": codes, "pattern": str(spec["pattern"]).strip()}
        re.compile(group["pattern"])
        for key in ("from", "to"):
            if spec.get(key) is not None:
                group[key] = int(spec[key])
        if spec.get("undated"):
            group["undated"] = True
        if spec.get("near"):
            group["near"] = str(spec["near"]).strip()
            re.compile(group["near"])
        group_references.append(group)
    unknown_home_references: list[dict[str, Any]] = []
    for spec in curated.get("unknown_home_references") or []:
        if spec.get("code") not in actors:
            raise BuildError(f"unknown_home_references: unknown code in {spec}")
        ref: dict[str, Any] = {"code": spec["code"], "pattern": str(spec["pattern"]).strip()}
        re.compile(ref["pattern"])
        if spec.get("alone"):
            ref["alone"] = True
        unknown_home_references.append(ref)
    dating_cues: list[dict[str, Any]] = []
    for spec in curated.get("dating_cues") or []:
        cue = {"year": int(spec["year"]), "pattern": str(spec["pattern"]).strip()}
        re.compile(cue["pattern"])
        dating_cues.append(cue)
    eras: list[dict[str, Any]] = []
    for spec in curated.get("eras") or []:
        if spec["code"] not in actors or spec["as"] not in actors:
            raise BuildError(f"eras: unknown code in {spec}")
        eras.append({k: spec[k] for k in ("code", "as", "from", "to")})

    body = {
        "actors": {code: actors[code] for code in sorted(actors)},
        "surfaces": surfaces,
        "guards": guards,
        "text_patterns": dict(sorted(text_patterns.items())),
        "home_references": home_references,
        "home_references_of": home_references_of,
        "context_references": context_references,
        "unknown_home_references": unknown_home_references,
        "group_references": group_references,
        "dating_cues": dating_cues,
        "eras": eras,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
    kinds: dict[str, int] = {}
    for info in actors.values():
        kinds[info["kind"]] = kinds.get(info["kind"], 0) + 1
    meta = {
        "format_version": FORMAT_VERSION,
        "generated_by": "scripts/build_actor_data.py",
        "do_not_edit": "generated; edit src/claimtag/data/actors_curated.yaml and rerun the script",
        "sources": dict(sorted(versions.items())),
        "curated_sha256": curated_sha256,
        "table_sha256": digest,
        "surface_format": "surface -> [code or null (blocked phrase), role, sources]",
        "counts": {
            "actors": len(actors),
            "surfaces": len(surfaces),
            "by_kind": dict(sorted(kinds.items())),
        },
        "removed": dict(sorted(removed.items())),
        "ambiguous_dropped": ambiguous,
        "dropped": {
            k: sorted(v)
            for k, v in sorted(table.dropped.items())
            if k not in surfaces and not re.fullmatch(r"[A-Z]{2,3}", k)
        },
    }
    return {"_meta": meta, **body}


def render(document: Mapping[str, Any]) -> str:
    """Serialise the table deterministically."""
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def generate(curated_path: Path = CURATED_PATH) -> str:
    """Read every source and return the rendered table."""
    raw = curated_path.read_bytes()
    curated = yaml.safe_load(raw)
    return render(
        build(
            curated,
            load_coco_rows(),
            load_countryinfo(),
            source_versions(),
            hashlib.sha256(raw).hexdigest(),
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) the actor table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if actors.json is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    args = parser.parse_args(argv)
    try:
        text = generate()
    except BuildError as e:
        print(f"build_actor_data: {e}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run scripts/build_actor_data.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    meta = json.loads(text)["_meta"]
    print(f"wrote {args.output}: {meta['counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
