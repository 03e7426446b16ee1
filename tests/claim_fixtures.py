"""A small claims dataset for export, report and consumer tests: every claim type, negated
and hedged claims, dated and undated documents, and text that tries to inject HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claimtag.rules import default_rules
from claimtag.runs import run

from .conftest import EXAMPLES

INJECTION = (
    "<script>alert(1)</script> Russia threatened war against Ukraine & </script><img src=x>."
)
EVIL_DOC_ID = '<b onmouseover="alert(3)">evil</b>'

DOCUMENTS: list[dict[str, Any]] = [
    {
        "doc_id": "doc-a",
        "date": "2024-01-15",
        "text": "Moscow has massed troops along the border. "
        "Tokyo and Canberra signed a reciprocal access agreement.",
    },
    {
        "doc_id": "doc-b",
        "date": "2024-03-02",
        "text": "The EU adopted a new package of sanctions against Russian banks. "
        "Beijing does not pose a military threat to its neighbours. "
        "Moscow may impose sanctions on Japanese firms.",
    },
    {
        "doc_id": "doc-c",
        "date": "2023-11-20",
        "text": "Pyongyang test-fired two ballistic missiles over the sea on Tuesday. "
        "China refused to join the sanctions, weakening the Western coalition. "
        "No sanctions were imposed on Iran.",
    },
    {
        "doc_id": "doc-d",
        "text": "\U0001f642 Moscow has massed troops along the border. " + INJECTION,
    },
    {"doc_id": EVIL_DOC_ID, "date": "2024-02-10", "text": INJECTION},
]


def make_dataset(tmp: Path, *, examples: bool = True, run_id: str = "fixture-run") -> Path:
    """Run claimtag (no Prefect) over the fixture documents (and examples/); return ``out``."""
    tmp.mkdir(parents=True, exist_ok=True)
    docs = tmp / "docs.jsonl"
    docs.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS), encoding="utf-8")
    out = tmp / "out"
    inputs = [str(EXAMPLES), str(docs)] if examples else [str(docs)]
    run(inputs, out, default_rules(), run_id=run_id)
    return out
