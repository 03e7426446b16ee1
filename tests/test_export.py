"""claimtag export: formats, filters, order, schema checks, atomicity, manifest; validate."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claimtag.cli import main
from claimtag.errors import ExportValidationError, InputError, StoreError
from claimtag.export import (
    ORDER_BY,
    ExportFilter,
    claim_fields,
    export_claims,
    export_filter,
    manifest_path,
    parse_since,
    read_export,
    validate_export,
)
from claimtag.schemas import arrow_schema, load_schema
from claimtag.store import PARTITION, read_claims
from claimtag.validation import jsonable

from .claim_fixtures import EVIL_DOC_ID, make_dataset

Record = dict[str, Any]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def all_records(out: Path) -> list[Record]:
    """Every claim of the dataset as a JSON record, negated ones included."""
    fields = claim_fields()
    return [{f: row[f] for f in fields} for row in map(jsonable, read_claims(out).to_pylist())]


def _key(r: Record) -> tuple[Any, ...]:
    return (r["doc_id"].encode(), r["sentence_index"], r["claim_type"], r["run_id"], r["claim_id"])


def _read(path: Path, fmt: str, compressed: bool) -> list[Record]:
    records = [r for _, r in read_export(path, fmt, compressed=compressed)]
    assert all(isinstance(r, dict) for r in records)
    return records


FORMATS = [
    ("claims.jsonl", "jsonl", False, None),
    ("claims.csv", "csv", False, None),
    ("claims.json", "json", False, None),
    ("claims.jsonl.gz", "jsonl", True, None),
    ("claims.csv", "csv", True, "--gzip"),  # --gzip appends .gz
    ("claims.txt", "json", False, "json"),  # --format wins over the suffix
]


@pytest.mark.parametrize(("name", "fmt", "compressed", "option"), FORMATS)
def test_export_round_trips_in_every_format(
    out: Path,
    all_records: list[Record],
    tmp_path: Path,
    name: str,
    fmt: str,
    compressed: bool,
    option: str | None,
) -> None:
    result = export_claims(
        out,
        tmp_path / name,
        fmt=option if option in ("jsonl", "csv", "json") else None,
        compress=option == "--gzip",
    )
    expected = sorted((r for r in all_records if not r["negated"]), key=_key)
    assert result.path.name == name + (".gz" if option == "--gzip" else "")
    assert (result.path.read_bytes()[:2] == b"\x1f\x8b") is compressed
    assert _read(result.path, fmt, compressed) == expected
    manifest = json.loads(manifest_path(result.path).read_text())
    schema = load_schema("claim")
    assert manifest["schema"] == {"id": schema["$id"], "version": schema["version"]}
    assert manifest["rule_pack_versions"] == sorted({r["rule_pack_version"] for r in expected})
    assert manifest["rows"] == len(expected) == result.rows
    assert manifest["format"] == fmt
    assert manifest["compression"] == ("gzip" if compressed else None)
    assert manifest["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert manifest["filter"]["include_negated"] is False
    assert manifest["order_by"] == list(ORDER_BY)
    assert validate_export(result.path).ok


def test_records_are_in_stable_order_with_schema_field_order(out: Path, tmp_path: Path) -> None:
    path = export_claims(out, tmp_path / "c.jsonl", flt=ExportFilter(include_negated=True)).path
    records = _read(path, "jsonl", False)
    assert [_key(r) for r in records] == sorted(_key(r) for r in records)
    assert all(list(r) == claim_fields() for r in records)


def test_same_data_gives_the_same_bytes_whatever_the_chunking(out: Path, tmp_path: Path) -> None:
    a = export_claims(out, tmp_path / "a.csv.gz")
    b = export_claims(out, tmp_path / "b.csv.gz", chunk_rows=1)  # one document per group
    assert a.sha256 == b.sha256
    assert a.path.read_bytes() == b.path.read_bytes()


Predicate = Callable[[Record], bool]
FILTERS: list[tuple[str, dict[str, Any], Predicate]] = [
    ("default drops negated", {}, lambda r: not r["negated"]),
    ("include negated", {"include_negated": True}, lambda r: True),
    (
        "one type",
        {"claim_types": ["threat"]},
        lambda r: r["claim_type"] == "threat" and not r["negated"],
    ),
    (
        "two types",
        {"claim_types": ["alliance", "economic_leverage"], "include_negated": True},
        lambda r: r["claim_type"] != "threat",
    ),
    (
        "min confidence",
        {"min_confidence": 0.85},
        lambda r: r["confidence"] >= 0.85 and not r["negated"],
    ),
    (
        "actors, any of, case-insensitive",
        {"actors": ["rus", "JPN"], "include_negated": True},
        lambda r: bool({"RUS", "JPN"} & set(r["actors"])),
    ),
    (
        "documents",
        {"doc_ids": ["doc-a", EVIL_DOC_ID]},
        lambda r: r["doc_id"] in ("doc-a", EVIL_DOC_ID) and not r["negated"],
    ),
    (
        "since a month, on doc_date; undated claims left out",
        {"since": "2024-02", "include_negated": True},
        lambda r: r["doc_date"] is not None and r["doc_date"] >= "2024-02-01",
    ),
    (
        "extracted since the epoch keeps everything",
        {"extracted_since": "1970-01-01", "include_negated": True},
        lambda r: True,
    ),
    (
        "extracted since the far future keeps nothing",
        {"extracted_since": "2999-01-01T00:00:00Z"},
        lambda r: False,
    ),
    (
        "combined",
        {"claim_types": ["threat"], "actors": ["RUS"], "since": "2024", "min_confidence": 0.5},
        lambda r: (
            r["claim_type"] == "threat"
            and "RUS" in r["actors"]
            and (r["doc_date"] or "") >= "2024-01-01"
            and not r["negated"]
        ),
    ),
]


@pytest.mark.parametrize(("kwargs", "keep"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
def test_filters(
    out: Path, all_records: list[Record], tmp_path: Path, kwargs: dict[str, Any], keep: Predicate
) -> None:
    result = export_claims(out, tmp_path / "f.jsonl", flt=export_filter(**kwargs))
    expected = sorted((r for r in all_records if keep(r)), key=_key)
    assert _read(result.path, "jsonl", False) == expected
    assert result.rows == len(expected)


def test_the_fixture_exercises_every_filter(all_records: list[Record]) -> None:
    assert {r["claim_type"] for r in all_records} == {"threat", "alliance", "economic_leverage"}
    assert any(r["negated"] for r in all_records)
    assert any(r["doc_date"] for r in all_records)
    assert any(not r["doc_date"] for r in all_records)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024", date(2024, 1, 1)), ("2024-03", date(2024, 3, 1)), ("2024-03-09", date(2024, 3, 9))],
)
def test_parse_since(text: str, expected: date) -> None:
    assert parse_since(text) == expected


BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"claim_types": ["gossip"]}, "unknown claim type"),
    ({"min_confidence": 1.5}, "between 0 and 1"),
    ({"since": "last week"}, "--since: not a date"),
    ({"extracted_since": "yesterday"}, "--extracted-since"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_bad_filter_options_are_input_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        export_filter(**kwargs)


def test_csv_json_columns_and_pandas(out: Path, tmp_path: Path) -> None:
    path = export_claims(out, tmp_path / "c.csv.gz", flt=ExportFilter(include_negated=True)).path
    frame = pd.read_csv(path, keep_default_na=False)
    assert list(frame.columns) == claim_fields()
    assert frame["negated"].dtype == bool
    assert all(isinstance(json.loads(v), list) for v in frame["evidence"])
    assert {"start", "end", "rule_id", "text"} <= set(json.loads(frame["evidence"][0])[0])
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == claim_fields()


def test_empty_export_is_valid(out: Path, tmp_path: Path) -> None:
    for name, content in [("e.jsonl", b""), ("e.json", b"[]\n"), ("e.csv", None)]:
        result = export_claims(out, tmp_path / name, flt=export_filter(doc_ids=["no-such-doc"]))
        assert result.rows == 0
        if content is not None:
            assert result.path.read_bytes() == content
        assert validate_export(result.path).ok


# --- failures leave nothing behind ---------------------------------------------------------


def _broken_dataset(tmp: Path) -> Path:
    """A dataset whose one claim breaks the schema (confidence 1.5)."""
    out = make_dataset(tmp, examples=False)
    part = next((out / "claims" / "claim_type=threat").glob("*.parquet"))
    table = pq.read_table(part)
    confidence = pa.array([1.5, *table["confidence"].to_pylist()[1:]], pa.float64())
    table = table.set_column(table.schema.get_field_index("confidence"), "confidence", confidence)
    pq.write_table(table.cast(arrow_schema("claim", exclude=(PARTITION,))), part)
    return out


def test_an_invalid_record_aborts_and_leaves_no_file(tmp_path: Path) -> None:
    out = _broken_dataset(tmp_path / "data")
    dest = tmp_path / "exports"
    dest.mkdir()
    (dest / "keep.jsonl").write_text("old export\n")
    with pytest.raises(ExportValidationError, match=r"\$\.confidence: 1\.5 is greater"):
        export_claims(out, dest / "keep.jsonl")
    with pytest.raises(ExportValidationError):
        export_claims(out, dest / "new.csv.gz")
    assert sorted(p.name for p in dest.iterdir()) == ["keep.jsonl"]  # no temp, no manifest
    assert (dest / "keep.jsonl").read_text() == "old export\n"


def test_cli_exit_1_on_an_invalid_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _broken_dataset(tmp_path / "data")
    assert main(["export", str(out), "--to", str(tmp_path / "x.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "export failed validation" in err
    assert "confidence" in err
    assert not list(tmp_path.glob("x.jsonl*"))
    assert not list(tmp_path.glob(".x.jsonl*"))


CLI_ERRORS = [
    (["export", "{tmp}/nothing", "--to", "{tmp}/x.jsonl"], "no claims dataset"),
    (["export", "{out}", "--to", "{tmp}/x.parquet"], "cannot tell the export format"),
    (["export", "{out}", "--to", "{tmp}/x.jsonl", "--min-confidence", "2"], "between 0 and 1"),
    (["export", "{out}", "--to", "{tmp}/x.jsonl", "--since", "soon"], "not a date"),
    (["export", "{out}", "--to", "{tmp}/x.jsonl", "--type", "gossip"], "invalid choice"),
    (["validate", "{tmp}/x.jsonl", "--manifest", "{tmp}/none.json"], "not found"),
]


@pytest.mark.parametrize(("argv", "message"), CLI_ERRORS, ids=[m for _, m in CLI_ERRORS])
def test_cli_errors_exit_2(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "x.jsonl").write_text("{}\n")
    args = [a.replace("{tmp}", str(tmp_path)).replace("{out}", str(out)) for a in argv]
    try:
        code = main(args)
    except SystemExit as e:  # argparse
        code = int(e.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_export(out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", str(out), "--to", str(tmp_path / "t.jsonl"), "--type", "threat"]
    assert main([*argv, "--actor", "rus", "--actor", "PRK", "--gzip"]) == 0
    printed = capsys.readouterr().out
    assert "exported" in printed
    assert "t.jsonl.gz" in printed
    records = _read(tmp_path / "t.jsonl.gz", "jsonl", True)
    assert records
    assert all(r["claim_type"] == "threat" for r in records)
    assert all({"RUS", "PRK"} & set(r["actors"]) for r in records)
    assert main(["validate", str(tmp_path / "t.jsonl.gz")]) == 0
    assert "sha256   OK" in capsys.readouterr().out


def test_store_errors_are_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        export_claims(tmp_path, tmp_path / "x.jsonl")


# --- validate an export against its manifest ------------------------------------------------


def _tamper_byte(path: Path, manifest: Path) -> None:
    data = bytearray(path.read_bytes())
    data[data.index(b"threat")] = ord("T")
    path.write_bytes(bytes(data))


def _tamper_rows(path: Path, manifest: Path) -> None:
    meta = json.loads(manifest.read_text())
    meta["rows"] += 1
    manifest.write_text(json.dumps(meta))


def _tamper_schema(path: Path, manifest: Path) -> None:
    meta = json.loads(manifest.read_text())
    meta["schema"]["id"] = "https://claimtag.dev/schemas/claim/0.9.0/claim.schema.json"
    manifest.write_text(json.dumps(meta))


def _invalid_record_with_matching_hash(path: Path, manifest: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    record = json.loads(lines[0])
    record["confidence"] = 7
    lines[0] = json.dumps(record) + "\n"
    path.write_text("".join(lines))
    meta = json.loads(manifest.read_text())
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(meta))


def _drop_a_line_with_matching_hash(path: Path, manifest: Path) -> None:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    meta = json.loads(manifest.read_text())
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(meta))


TAMPERING = [
    ("a changed byte", _tamper_byte, "sha256   MISMATCH"),
    ("row count", _tamper_rows, "rows     MISMATCH"),
    ("another schema", _tamper_schema, "schema   MISMATCH"),
    ("an invalid record", _invalid_record_with_matching_hash, "1 invalid"),
    ("a missing record", _drop_a_line_with_matching_hash, "rows     MISMATCH"),
]


@pytest.mark.parametrize(
    ("tamper", "message"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING]
)
def test_validate_catches_every_mismatch(
    out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[Path, Path], None],
    message: str,
) -> None:
    result = export_claims(out, tmp_path / "c.jsonl")
    assert main(["validate", str(result.path)]) == 0
    capsys.readouterr()
    tamper(result.path, result.manifest_path)
    assert main(["validate", str(result.path)]) == 1
    printed = capsys.readouterr().out
    assert message in printed
    assert printed.rstrip().endswith("FAILED")


def test_validate_with_a_manifest_elsewhere(out: Path, tmp_path: Path) -> None:
    result = export_claims(out, tmp_path / "c.csv")
    moved = tmp_path / "meta.json"
    result.manifest_path.rename(moved)
    assert main(["validate", str(result.path), "--manifest", str(moved)]) == 0
    report = validate_export(result.path, manifest=moved)
    assert report.ok
    assert report.checked == result.rows


def test_validate_without_a_manifest_checks_records_only(out: Path, tmp_path: Path) -> None:
    result = export_claims(out, tmp_path / "c.json.gz")
    result.manifest_path.unlink()
    report = validate_export(result.path)
    assert report.ok
    assert report.manifest is None
    assert report.checked == result.rows


def test_validate_keeps_its_dataset_and_jsonl_behaviour(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(out)]) == 0
    assert "record(s) checked, 0 invalid — OK" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim_id": "x"}\nnot json\n')
    assert main(["validate", str(bad)]) == 1
    assert "2 invalid" in capsys.readouterr().out


def test_read_export_reports_malformed_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("claim_id,doc_id\nonly-one-field\n")
    assert [r for _, r in read_export(path, "csv", compressed=False)] == [
        "1 field(s), the header has 2"
    ]


def test_gzip_export_is_reproducible_bytes(out: Path, tmp_path: Path) -> None:
    header = export_claims(out, tmp_path / "x" / "a.jsonl.gz").path.read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] & 0x08 == 0  # no file name stored
    assert header[4:8] == b"\0\0\0\0"  # no time stored


@pytest.mark.parametrize("command", ["export", "report"])
def test_new_commands_have_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: claimtag {command}" in capsys.readouterr().out
