"""The quick path: tag lines of text or JSONL without an orchestrator, and rule examples."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any, TextIO

from claimtag.ingest import clean_text, sha256_text
from claimtag.pipeline import RunContext, extract_records
from claimtag.rules import RulePack
from claimtag.schemas import violations
from claimtag.types import Document

if TYPE_CHECKING:
    from claimtag.learned import TextModel


def tag_text(text: str, doc_id: str, ctx: RunContext) -> dict[str, Any]:
    """Tag one text: ``{"id", "labels", "claims"}`` with schema-valid claim records."""
    doc = Document(doc_id=doc_id, text=text, source="tag", sha256=sha256_text(text))
    _, records = extract_records(doc, ctx)
    for record in records:
        errors = violations("claim", record)
        if errors:  # a bug, not bad input: every record built must be valid
            raise ValueError(f"record for {doc_id!r} breaks the schema: {errors[0].message}")
    return {"id": doc_id, "labels": sorted({r["claim_type"] for r in records}), "claims": records}


def _inputs(lines: Iterable[str], whole: bool) -> Iterator[tuple[Any, str | None, str | None]]:
    """(id, text, error) per input: JSONL objects, or plain-text lines (or the whole text).

    The input is JSONL when its first non-blank line starts with ``{``.
    """
    buffered: list[str] = []
    it = iter(lines)
    for line in it:
        buffered.append(line)
        if line.strip():
            break
    all_lines = chain(buffered, it)
    if not buffered or not buffered[-1].lstrip().startswith("{"):
        if whole:
            yield "1", "".join(all_lines), None
            return
        for n, line in enumerate(all_lines, start=1):
            if line.strip():
                yield str(n), line.rstrip("\r\n"), None
        return
    for n, line in enumerate(all_lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, None, f"line {n}: invalid JSON: {e.msg}"
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            doc_id = obj.get("id", n) if isinstance(obj, dict) else n
            yield doc_id, None, f"line {n}: expected an object with a string 'text'"
            continue
        yield obj.get("id", n), clean_text(obj["text"]), None


def tag_lines(
    src: TextIO,
    dst: TextIO,
    rules: RulePack,
    *,
    whole: bool = False,
    model: TextModel | None = None,
) -> int:
    """Tag every input of ``src`` and write one JSON line each to ``dst``.

    A malformed line gets ``{"id", "error"}`` instead of claims; the exit code is then 1.
    ``model``: the learned model beside the rules (None: rules only).
    """
    ctx = RunContext(run_id="tag", rules=rules, model=model)
    status = 0
    for doc_id, text, error in _inputs(src, whole):
        if text is None:
            dst.write(json.dumps({"id": doc_id, "error": error}) + "\n")
            status = 1
            continue
        out = tag_text(text, str(doc_id), ctx)
        out["id"] = doc_id
        dst.write(json.dumps(out, ensure_ascii=False) + "\n")
    dst.flush()
    return status
