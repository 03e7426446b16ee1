"""Claim ids are deterministic and change with exactly the things that define a claim."""

from __future__ import annotations

import pytest

from claimtag.records import claim_id

BASE = {
    "doc_id": "a.txt",
    "doc_sha256": "0" * 64,
    "char_start": 0,
    "char_end": 10,
    "claim_type": "threat",
    "rule_pack_version": "core@1.0.0",
}


def test_same_inputs_same_id() -> None:
    assert claim_id(**BASE) == claim_id(**dict(BASE))  # type: ignore[arg-type]
    assert len(claim_id(**BASE)) == 32  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("doc_id", "b.txt"),
        ("doc_sha256", "1" * 64),
        ("char_start", 1),
        ("char_end", 11),
        ("claim_type", "alliance"),
        ("rule_pack_version", "core@1.0.1"),
    ],
)
def test_each_defining_field_changes_the_id(field: str, value: object) -> None:
    assert claim_id(**{**BASE, field: value}) != claim_id(**BASE)  # type: ignore[arg-type]
