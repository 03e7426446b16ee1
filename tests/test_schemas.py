"""The JSON Schemas and the Arrow schemas derived from them agree; records validate."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pytest
from jsonschema import Draft202012Validator

from claimtag.schemas import (
    SCHEMA_FILES,
    arrow_schema,
    load_schema,
    schema_dir,
    to_arrow_table,
    violations,
)

JSON_TO_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}


def valid_claim() -> dict[str, Any]:
    return {
        "claim_id": "0123456789abcdef0123456789abcdef",
        "doc_id": "news/a.txt",
        "sentence_index": 3,
        "paragraph_index": 1,
        "char_start": 10,
        "char_end": 52,
        "text": "Moscow has massed troops along the border.",
        "claim_type": "threat",
        "confidence": 0.8,
        "negated": False,
        "hedged": False,
        "actors": ["RUS"],
        "rule_ids": ["threat.force_posture"],
        "evidence": [
            {"rule_id": "threat.force_posture", "start": 21, "end": 33, "text": "massed troops"}
        ],
        "negation_cue": None,
        "hedge_cue": None,
        "doc_date": "2026-03-04",
        "rule_pack_version": "core@1.0.0",
        "schema_version": "1.0.0",
        "run_id": "20260304T000000Z-abcdef",
        "extracted_at": "2026-03-04T10:00:00.000000Z",
    }


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schema_is_valid_2020_12_with_id_and_version(kind: str) -> None:
    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://")
    assert schema["version"] in schema["$id"]
    assert schema["additionalProperties"] is False


def test_schema_files_are_found() -> None:
    assert (schema_dir() / "claim.schema.json").is_file()


@pytest.mark.parametrize("kind", ["claim", "document"])
def test_arrow_schema_agrees_with_json_schema(kind: str) -> None:
    schema = load_schema(kind)
    arrow = arrow_schema(kind)
    assert arrow.names == list(schema["properties"])
    assert set(schema["required"]) == set(schema["properties"])
    for name, prop in schema["properties"].items():
        field = arrow.field(name)
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert field.nullable == ("null" in types), name
        assert field.metadata[b"description"].decode() == prop["description"]
        json_type = next(t for t in types if t != "null")
        if json_type == "array":
            assert pa.types.is_list(field.type), name
        elif prop.get("format") == "date-time":
            assert field.type == pa.timestamp("us", tz="UTC")
        elif prop.get("format") == "date":
            assert field.type == pa.date32()
        else:
            assert field.type == JSON_TO_ARROW[json_type], name
    meta = arrow.metadata
    assert meta[b"claimtag.schema_version"].decode() == schema["version"]
    assert meta[b"claimtag.schema_id"].decode() == schema["$id"]


def test_partition_column_can_be_left_out() -> None:
    assert "claim_type" not in arrow_schema("claim", exclude=("claim_type",)).names


def test_valid_claim_has_no_violations() -> None:
    assert violations("claim", valid_claim()) == []


MUTATIONS = [
    ("claim_id", "not-a-hash", "$.claim_id"),
    ("claim_type", "weather", "$.claim_type"),
    ("confidence", 1.5, "$.confidence"),
    ("confidence", "high", "$.confidence"),
    ("sentence_index", -1, "$.sentence_index"),
    ("text", "", "$.text"),
    ("actors", ["russia"], "$.actors[0]"),
    ("actors", ["RUS", "RUS"], "$.actors"),
    ("rule_ids", [], "$.rule_ids"),
    ("evidence", [{"rule_id": "x", "start": 0}], "$.evidence[0]"),
    ("negated", "no", "$.negated"),
    ("doc_date", "04/03/2026", "$.doc_date"),
    ("extracted_at", "yesterday", "$.extracted_at"),
    ("schema_version", "1", "$.schema_version"),
    ("unexpected", 1, "$"),
]


@pytest.mark.parametrize(("field", "value", "path"), MUTATIONS)
def test_invalid_claim_reports_json_path(field: str, value: Any, path: str) -> None:
    record = copy.deepcopy(valid_claim())
    record[field] = value
    found = violations("claim", record)
    assert found
    assert path in {v.json_path for v in found}


def test_missing_field_is_reported() -> None:
    record = valid_claim()
    del record["actors"]
    assert any("'actors' is a required property" in v.message for v in violations("claim", record))


def test_to_arrow_table_round_trips() -> None:
    record = valid_claim()
    table = to_arrow_table("claim", [record])
    row = table.to_pylist()[0]
    assert row["text"] == record["text"]
    assert row["evidence"] == record["evidence"]
    assert row["extracted_at"].year == 2026
    assert str(row["doc_date"]) == "2026-03-04"


def test_readme_field_tables_are_generated_from_the_schemas() -> None:
    from claimtag.schema_docs import render_readme

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_readme(readme) == readme, "run: python scripts/update_readme.py"
    assert "| `claim_id` |" in readme


def _corpus_of_records() -> list[dict[str, Any]]:
    """Valid records and, from each, the invalid mutations of MUTATIONS and more."""
    base = valid_claim()
    records = [base, {**base, "doc_date": None, "actors": [], "hedge_cue": "may"}]
    for field, value, _ in MUTATIONS:
        records.append({**base, field: value})
    extra = [
        ("doc_date", "2026-02-30"),
        ("doc_date", "2026-2-3"),
        ("extracted_at", "2026-03-04T10:00:00"),
        ("extracted_at", "2026-03-04 10:00:00Z"),
        ("extracted_at", "2026-03-04T25:00:00Z"),
        ("confidence", True),
        ("confidence", 0),
        ("confidence", 1),
        ("char_end", 0),
        ("sentence_index", 1.0),
        ("sentence_index", 1.5),
        ("evidence", []),
        ("evidence", [{"rule_id": "r", "start": 0, "end": 1, "text": "x", "extra": 1}]),
        ("rule_ids", ["a", "a"]),
        ("actors", ["A"]),
        ("actors", ["ABCDEFGHIJKLMNOPQRSTU"]),
        ("negation_cue", 3),
        ("text", "x" * 10_000),
        ("doc_id", "é/ü/中文"),
    ]
    records += [{**base, f: v} for f, v in extra]
    missing = dict(base)
    del missing["claim_id"]
    records.append(missing)
    return records


def test_fast_validator_agrees_with_jsonschema() -> None:
    from claimtag.schemas import fast_validator, validator

    fast, reference = fast_validator("claim"), validator("claim")
    assert type(fast) is not type(reference), "jsonschema-rs should be installed"
    outcomes = [(fast.is_valid(r), reference.is_valid(r)) for r in _corpus_of_records()]
    assert all(f == ref for f, ref in outcomes)
    assert {ref for _, ref in outcomes} == {True, False}
