"""Gold sentences for evaluation: read JSONL, materialising corpus references into text.

The repository keeps gold data as references into the shared corpus (corpus, doc_id,
start, end, sha1) plus labels, never the corpus text itself. Loading slices each
sentence out of the corpus, checks its SHA-1, and folds runs of whitespace (the hard line
breaks of newswire) into single spaces.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from claimtag import CLAIM_TYPES
from claimtag.actors import year_of
from claimtag.errors import InputError

CORPUS_FILES = {
    "un_general_debates": "un_general_debates.parquet",
    "us_state_of_the_union": "us_state_of_the_union.parquet",
    "reuters21578": "reuters21578.parquet",
    "japan_nato_foreword": "japan_nato_foreword.txt",
}
# The document's own state ("home", see claimtag.actors), as a run would be told it:
# a metadata column of the corpus, or one code for the whole corpus.
CORPUS_HOME: dict[str, tuple[str, str]] = {
    "un_general_debates": ("column", "country"),
    "us_state_of_the_union": ("code", "USA"),
}
# The metadata column that dates each document (its first four-digit number is the year).
CORPUS_DATE: dict[str, str] = {
    "un_general_debates": "year",
    "us_state_of_the_union": "year",
    "reuters21578": "date",
}
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space and strip."""
    return _WS.sub(" ", text).strip()


def split_files(gold_dir: Path, split: str) -> list[str]:
    """The gold files of one split (``development``, ``heldout``), as listed one name per
    line in ``<gold_dir>/splits-<split>.txt``."""
    return (gold_dir / f"splits-{split}.txt").read_text(encoding="utf-8").split()


_Doc = tuple[str, str | None, int | None]


def _documents(corpus_dir: Path, corpus: str, doc_ids: Iterable[str]) -> dict[str, _Doc]:
    """doc_id -> (text, home code or None, year or None) for the wanted documents."""
    name = CORPUS_FILES.get(corpus)
    if name is None:
        raise InputError(f"unknown corpus {corpus!r} in gold data")
    path = corpus_dir / name
    if not path.exists():
        raise InputError(f"gold data needs {path} (use --corpus to say where the corpus is)")
    kind, home = CORPUS_HOME.get(corpus, ("code", ""))
    if path.suffix == ".txt":
        return {path.name: (path.read_text(encoding="utf-8"), home or None, None)}
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = sorted(set(doc_ids))
    date = CORPUS_DATE.get(corpus)
    columns = ["doc_id", "text"] + ([home] if kind == "column" else []) + ([date] if date else [])
    table = pq.read_table(path, columns=columns, filters=pc.field("doc_id").isin(wanted))
    texts = table.column("text").to_pylist()
    homes = table.column(home).to_pylist() if kind == "column" else [home or None] * len(texts)
    years = [year_of(v) for v in table.column(date).to_pylist()] if date else [None] * len(texts)
    return {
        doc_id: (text, h or None, y)
        for doc_id, text, h, y in zip(
            table.column("doc_id").to_pylist(), texts, homes, years, strict=True
        )
    }


def load_gold(path: Path, corpus_dir: Path | None = None) -> list[dict[str, Any]]:
    """Gold records ``{"id", "text", "labels", ...}`` from a JSONL file of text or references.

    A record may name its document's own state as ``"home"`` and its year as ``"year"`` (see
    ``claimtag.actors``); for corpus references they are filled in from the corpus metadata
    (``CORPUS_HOME``, ``CORPUS_DATE``).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read gold file {path}: {e.strerror or e}") from e
    raw: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: invalid JSON: {e.msg}") from e
        if (
            not isinstance(item, dict)
            or "labels" not in item
            or ("text" not in item and "corpus" not in item)
        ):
            raise InputError(f"{path}:{n}: a gold line needs 'labels' and 'text' (or a reference)")
        unknown = set(item["labels"]) - set(CLAIM_TYPES)
        if unknown:
            raise InputError(f"{path}:{n}: unknown claim type(s) {sorted(unknown)}")
        item.setdefault("id", f"{path.name}:{n}")
        raw.append(item)
    needed: dict[str, set[str]] = {}
    for item in raw:
        if "text" not in item:
            needed.setdefault(item["corpus"], set()).add(item["doc_id"])
    if needed and corpus_dir is None:
        raise InputError(f"{path} holds corpus references: give --corpus DIR")
    texts = {c: _documents(corpus_dir, c, ids) for c, ids in needed.items()} if corpus_dir else {}
    out = []
    for item in raw:
        if "text" not in item:
            found = texts[item["corpus"]].get(item["doc_id"])
            if found is None:
                raise InputError(f"{item['id']}: document {item['doc_id']!r} not in the corpus")
            doc, home, year = found
            span = doc[item["start"] : item["end"]]
            if "sha1" in item and hashlib.sha1(span.encode("utf-8")).hexdigest() != item["sha1"]:
                raise InputError(f"{item['id']}: the corpus text changed (SHA-1 mismatch)")
            item = {**item, "text": span}
            if home and "home" not in item:
                item["home"] = home
            if year is not None and "year" not in item:
                item["year"] = year
        out.append({**item, "text": normalise(item["text"])})
    return out
