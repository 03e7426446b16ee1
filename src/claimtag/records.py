"""Claims → claim records: plain dicts shaped by ``schemas/claim.schema.json``."""

from __future__ import annotations

import hashlib
from typing import Any

from claimtag.classify import Claim
from claimtag.types import Document, Sentence


def claim_id(
    *,
    doc_id: str,
    doc_sha256: str,
    char_start: int,
    char_end: int,
    claim_type: str,
    rule_pack_version: str,
) -> str:
    """Deterministic id: the same document, span, claim type and rule pack give the same id."""
    key = "\x1f".join(
        (doc_id, doc_sha256, str(char_start), str(char_end), claim_type, rule_pack_version)
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def build_record(
    doc: Document,
    sentence: Sentence,
    claim: Claim,
    actors: list[str],
    *,
    run_id: str,
    extracted_at: str,
    rule_pack_version: str,
    schema_version: str,
) -> dict[str, Any]:
    """One claim record for (sentence, claim type)."""
    return {
        "claim_id": claim_id(
            doc_id=doc.doc_id,
            doc_sha256=doc.sha256,
            char_start=sentence.start,
            char_end=sentence.end,
            claim_type=claim.claim_type,
            rule_pack_version=rule_pack_version,
        ),
        "doc_id": doc.doc_id,
        "sentence_index": sentence.position,
        "paragraph_index": sentence.paragraph_index,
        "char_start": sentence.start,
        "char_end": sentence.end,
        "text": doc.text[sentence.start : sentence.end],
        "claim_type": claim.claim_type,
        "confidence": claim.confidence,
        "negated": claim.negated,
        "hedged": claim.hedged,
        "actors": actors,
        "rule_ids": claim.rule_ids,
        "evidence": [
            {"rule_id": m.rule_id, "start": m.start, "end": m.end, "text": m.text}
            for m in claim.matches
        ],
        "negation_cue": claim.negation_cue,
        "hedge_cue": claim.hedge_cue,
        "doc_date": doc.metadata.get("date"),
        "rule_pack_version": rule_pack_version,
        "schema_version": schema_version,
        "run_id": run_id,
        "extracted_at": extracted_at,
    }
