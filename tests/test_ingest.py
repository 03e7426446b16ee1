"""Reading inputs: every kind of INPUT, every kind of bad document, all accounted for."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claimtag.errors import InputError
from claimtag.ingest import (
    InputOptions,
    Outcome,
    batch_units,
    check_inputs,
    decode_text,
    parse_date,
    plan_inputs,
    read_unit,
)
from claimtag.types import Document


def read_all(inputs: list[str], options: InputOptions | None = None) -> list[Document | Outcome]:
    options = options or InputOptions()
    return [item for unit in plan_inputs(inputs, options) for item in read_unit(unit, options)]


def summary(items: list[Document | Outcome]) -> list[tuple[str, str, str | None]]:
    """(doc_id, status, reason) per item."""
    return [
        (item.doc_id, "processed", None)
        if isinstance(item, Document)
        else (item.doc_id, item.status, item.reason)
        for item in items
    ]


def assert_outcomes(got: list[tuple[str, str, str | None]], want: list[Any]) -> None:
    """Compare outcomes; a wanted reason is a prefix of the reason given."""
    assert len(got) == len(want), got
    for (g_id, g_status, g_reason), (w_id, w_status, w_reason) in zip(got, want, strict=True):
        assert (g_id, g_status) == (w_id, w_status)
        if w_reason is None:
            assert g_reason is None
        else:
            assert g_reason is not None
            assert g_reason.startswith(w_reason), g_reason


FILE_CASES: list[tuple[str, bytes, tuple[str, str | None]]] = [
    ("plain.txt", b"Troops massed on the border.", ("processed", None)),
    ("notes.md", b"# Title\n\nText.", ("processed", None)),
    ("empty.txt", b"", ("processed", None)),
    ("utf16.txt", "Sanctions bite.".encode("utf-16"), ("processed", None)),
    ("bom8.txt", b"\xef\xbb\xbfHello.", ("processed", None)),
    (
        "binary.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        ("skipped", "binary file (contains NUL"),
    ),
    ("latin1.txt", "Caf\xe9 talks on sanctions.".encode("latin-1"), ("processed", None)),
    ("junk.txt", bytes(range(128, 256)) * 20, ("skipped", "not UTF-8 text")),
]


@pytest.mark.parametrize(("name", "data", "expected"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_text_file(
    tmp_path: Path, name: str, data: bytes, expected: tuple[str, str | None]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    items = read_all([str(path)])
    assert len(items) == 1
    assert_outcomes(summary(items), [(name, *expected)])


def test_invalid_utf8_is_replaced_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Caf\xe9 talks.".encode("latin-1"))
    (doc,) = read_all([str(path)])
    assert isinstance(doc, Document)
    assert "\ufffd" in doc.text
    assert "invalid UTF-8" in doc.metadata["warnings"]


def test_directory_is_walked_with_relative_posix_ids(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("One.")
    (tmp_path / "a" / "y.md").write_text("Two.")
    (tmp_path / "a" / "skip.pdf").write_bytes(b"%PDF")
    (tmp_path / "a" / ".hidden.txt").write_text("Hidden.")
    items = read_all([str(tmp_path / "a")])
    assert [d.doc_id for d in items] == ["b/x.txt", "y.md"]


def test_jsonl_with_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"doc_id": "d1", "text": "Fine."}),
                "{not json",
                json.dumps({"doc_id": "d3", "text": 42}),
                json.dumps(["a", "list"]),
                json.dumps({"text": "No id."}),
                "",
                json.dumps({"doc_id": "d7", "body": "wrong column"}),
            ]
        )
    )
    assert_outcomes(
        summary(read_all([str(path)])),
        [
            ("d1", "processed", None),
            (f"{path}#L2", "failed", "line 2: invalid JSON: Exp"),
            ("d3", "failed", "line 3: 'text' is int, no"),
            (f"{path}#L4", "failed", "line 4: expected an objec"),
            (f"{path}#L5", "processed", None),
            ("d7", "failed", "line 7: missing 'text'"),
        ],
    )


def test_csv_with_embedded_newlines_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        'doc_id,text,date\nc1,"Line one.\nLine two.",2024-05-01\nc2,"Ok.",\nc3,"x","y",extra\n'
    )
    items = read_all([str(path)])
    assert_outcomes(
        summary(items),
        [
            ("c1", "processed", None),
            ("c2", "processed", None),
            (f"{path}#L5", "failed", "line 5: more fields than header"),
        ],
    )
    first = items[0]
    assert isinstance(first, Document)
    assert first.text == "Line one.\nLine two."
    assert first.metadata["date"] == "2024-05-01"


def test_csv_without_text_column_fails_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text("doc_id,body\n1,x\n")
    assert_outcomes(
        summary(read_all([str(path)])), [(str(path), "failed", "no 'text' column (column")]
    )


def test_custom_columns(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"id": "k", "body": "Hello."}) + "\n")
    options = InputOptions(id_column="id", text_column="body")
    assert_outcomes(summary(read_all([str(path)], options)), [("k", "processed", None)])


def test_parquet_rows_and_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "docs.parquet"
    table = pa.table(
        {
            "doc_id": [f"p{i}" for i in range(10)],
            "text": [f"Text {i}." for i in range(10)],
            "date": ["26-FEB-1987 15:01:01.79"] * 10,
        }
    )
    pq.write_table(table, path, row_group_size=4)
    monkeypatch.setattr("claimtag.ingest.PARQUET_SLICE_BYTES", 1)
    units = plan_inputs([str(path)])
    assert len(units) == 10  # every row its own slice
    items = read_all([str(path)])
    assert [d.doc_id for d in items] == [f"p{i}" for i in range(10)]
    assert all(isinstance(d, Document) and d.metadata["date"] == "1987-02-26" for d in items)


def test_parquet_without_text_column(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"doc_id": ["a"], "body": ["x"]}), path)
    assert_outcomes(
        summary(read_all([str(path)])), [(str(path), "failed", "no 'text' column (column")]
    )


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    assert_outcomes(
        summary(read_all([str(path)])), [(str(path), "failed", "not a readable Parquet file")]
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"Plain text from a pipe.", [("stdin", "processed", None)]),
        (b'{"doc_id": "s1", "text": "From JSONL."}\n', [("s1", "processed", None)]),
    ],
)
def test_stdin(monkeypatch: pytest.MonkeyPatch, payload: bytes, expected: list[Any]) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(payload)))
    assert_outcomes(summary(read_all(["-"])), expected)


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="input not found"):
        check_inputs([str(tmp_path / "nope.txt")])
    with pytest.raises(InputError, match="input not found"):
        plan_inputs([str(tmp_path / "nope.txt")])


def test_document_too_large_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 100)
    (item,) = read_all([str(path)], InputOptions(max_doc_chars=50))
    assert isinstance(item, Outcome)
    assert item.status == "skipped"
    assert item.reason is not None
    assert "too large" in item.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", "2024-05-01"),
        ("2024-05-01T10:00:00Z", "2024-05-01"),
        ("26-FEB-1987 15:01:01.79", "1987-02-26"),
        ("05-MAR-1987", "1987-03-05"),
        (1987, "1987-01-01"),
        ("1987", "1987-01-01"),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_date(value: Any, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("data", "text", "reason"),
    [
        (b"abc", "abc", None),
        (b"\xff\xfea\x00b\x00", "ab", None),
        (b"a\x00b", None, "binary file (contains NUL bytes)"),
    ],
)
def test_decode_text(data: bytes, text: str | None, reason: str | None) -> None:
    got_text, got_reason, _ = decode_text(data)
    assert (got_text, got_reason) == (text, reason)


def test_batches_keep_order_and_respect_size(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text("x" * 100)
    units = plan_inputs([str(tmp_path)])
    batches = batch_units(units, target_bytes=250)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [u.doc_id for b in batches for u in b] == [f"{i}.txt" for i in range(5)]
