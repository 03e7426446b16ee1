"""The JSON Schemas: loading them, building validators once, deriving the Arrow schema.

The JSON Schema files in ``schemas/`` are the single source of truth. The Parquet
(Arrow) schema of every dataset claimtag writes is derived from them here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError

from claimtag.errors import SchemaError

SCHEMA_FILES: dict[str, str] = {
    "claim": "claim.schema.json",
    "document": "document.schema.json",
    "rule-pack": "rule_pack.schema.json",
}


def schema_dir() -> Path:
    """Where the schema files are: inside the installed wheel, or the source tree's ``schemas/``."""
    packaged = Path(str(resources.files("claimtag"))) / "_schemas"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / "schemas"
    if source_tree.is_dir():
        return source_tree
    raise SchemaError("schema files not found (neither claimtag/_schemas nor ./schemas)")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    """Load and check one bundled schema: ``claim``, ``document`` or ``rule-pack``."""
    if kind not in SCHEMA_FILES:
        raise SchemaError(f"unknown schema {kind!r}; choose one of {', '.join(SCHEMA_FILES)}")
    path = schema_dir() / SCHEMA_FILES[kind]
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, json.JSONDecodeError, JsonSchemaError) as e:
        raise SchemaError(f"cannot load schema {path}: {e}") from e
    return schema


def schema_version(kind: str) -> str:
    """The ``version`` of a bundled schema."""
    return str(load_schema(kind)["version"])


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator for one schema, built once per process, with format checking on."""
    return Draft202012Validator(
        load_schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def fast_validator(kind: str) -> Any:
    """A compiled validator for the hot path (jsonschema-rs, ~200x the pure-Python speed).

    It answers only valid/invalid; the ``jsonschema`` library stays the reference and gives
    the full error report for rejects (``violations``). A test checks that both accept and
    reject exactly the same records. Falls back to ``jsonschema`` when jsonschema-rs is
    not installed.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional speed-up
        return validator(kind)
    return jsonschema_rs.Draft202012Validator(load_schema(kind), validate_formats=True)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a record breaks its schema."""

    json_path: str
    message: str
    validator: str

    def as_dict(self) -> dict[str, str]:
        return {"json_path": self.json_path, "message": self.message, "validator": self.validator}


def violations(kind: str, record: Mapping[str, Any]) -> list[Violation]:
    """Every error of ``record`` against schema ``kind`` (empty when valid), in a stable order."""
    errors = sorted(validator(kind).iter_errors(record), key=lambda e: (e.json_path, e.message))
    return [Violation(e.json_path, e.message, str(e.validator)) for e in errors]


def is_valid(kind: str, record: Mapping[str, Any]) -> bool:
    """True when ``record`` is valid against schema ``kind``."""
    return bool(validator(kind).is_valid(record))


# --- Arrow schema derivation -------------------------------------------------------------

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}
_FORMATS: dict[str, pa.DataType] = {
    "date-time": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def _split_type(node: Mapping[str, Any], where: str) -> tuple[str, bool]:
    """Return (the one non-null JSON type, whether null is allowed)."""
    declared = node.get("type")
    if declared is None and "enum" in node:
        declared = "string"
    types = [declared] if isinstance(declared, str) else list(declared or [])
    nullable = "null" in types
    rest = [t for t in types if t != "null"]
    if len(rest) != 1:
        raise SchemaError(f"{where}: cannot derive an Arrow type from type {declared!r}")
    return rest[0], nullable


def _arrow_type(node: Mapping[str, Any], where: str) -> tuple[pa.DataType, bool]:
    json_type, nullable = _split_type(node, where)
    if json_type == "array":
        item_type, _ = _arrow_type(node.get("items", {}), f"{where}[]")
        return pa.list_(item_type), nullable
    if json_type == "object":
        return pa.struct(_arrow_fields(node, where)), nullable
    if json_type == "string" and node.get("format") in _FORMATS:
        return _FORMATS[node["format"]], nullable
    if json_type not in _SCALARS:
        raise SchemaError(f"{where}: no Arrow type for JSON type {json_type!r}")
    return _SCALARS[json_type], nullable


def _arrow_fields(node: Mapping[str, Any], where: str) -> list[pa.Field]:
    required = set(node.get("required", []))
    fields = []
    for name, prop in node.get("properties", {}).items():
        arrow_type, nullable = _arrow_type(prop, f"{where}.{name}")
        metadata = {"description": prop["description"]} if "description" in prop else None
        fields.append(
            pa.field(name, arrow_type, nullable=nullable or name not in required, metadata=metadata)
        )
    return fields


@cache
def arrow_schema(kind: str, *, exclude: tuple[str, ...] = ()) -> pa.Schema:
    """The Arrow schema derived from JSON schema ``kind``, with versions in its metadata.

    ``exclude`` drops columns that live elsewhere, such as a hive partition column.
    """
    schema = load_schema(kind)
    fields = [f for f in _arrow_fields(schema, "$") if f.name not in exclude]
    metadata = {
        "claimtag.schema_id": schema["$id"],
        "claimtag.schema_version": schema["version"],
        "claimtag.schema_title": schema.get("title", kind),
    }
    return pa.schema(fields, metadata=metadata)


def to_arrow_table(
    kind: str, records: Iterable[Mapping[str, Any]], *, exclude: tuple[str, ...] = ()
) -> pa.Table:
    """Records (dicts valid against ``kind``) as an Arrow table of the derived schema."""
    schema = arrow_schema(kind, exclude=exclude)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for record in records:
        for name, column in columns.items():
            column.append(record[name])
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_timestamp(field.type) or pa.types.is_date32(field.type):
            arrays.append(pa.array(values, type=pa.string()).cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
