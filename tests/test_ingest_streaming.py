"""Streamed reading: the same documents as reading whole tables, with bounded memory.

``read_units`` (what ``runs.run`` uses) and ``plan_inputs`` + ``read_unit`` (units read
independently) must give the same documents, ids and outcomes as decoding each Parquet
table whole, whatever the row-group layout, while decoding a bounded number of rows at a
time and never a whole row group.
"""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claimtag import ingest
from claimtag.ingest import (
    DocIds,
    InputOptions,
    Outcome,
    plan_inputs,
    plan_units,
    read_unit,
    read_units,
    sha256_text,
)
from claimtag.types import Document

WORDS = ["the", "minister", "said", "troops", "would", "leave", "the", "border", "after"]


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words)).capitalize() + "."


def _table(n: int = 300, seed: int = 1) -> pa.Table:
    """Documents of very different lengths, null and repeated ids, a bad text, dates."""
    rng = random.Random(seed)
    ids: list[Any] = [f"d{i}" for i in range(n)]
    ids[5] = None  # position id
    ids[17] = "d3"  # duplicate of an earlier row
    ids[40] = ""  # position id
    texts: list[Any] = [_text(rng, rng.choice((3, 30, 300, 3000))) for _ in range(n)]
    texts[9] = None  # failed: missing text
    dates = [f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"] * n
    dates[11] = "soon"  # warning: unparsed date
    return pa.table({"doc_id": ids, "text": texts, "date": dates})


def _whole_table(path: Path, options: InputOptions) -> list[tuple[Any, ...]]:
    """What reading the table whole gives (the reader before streaming): row dicts from
    ``read_table(...).to_pylist()``, ids settled in row order."""
    display = str(path)
    seen: dict[str, int] = {}
    out: list[tuple[Any, ...]] = []
    for n, row in enumerate(pq.read_table(path).to_pylist()):
        default_id = f"{display}#R{n}"
        doc_id = row["doc_id"] or default_id
        if doc_id in seen:
            out.append((default_id, "failed", f"row {n}: duplicate doc_id {doc_id!r}"))
            seen[default_id] = n
            continue
        seen[doc_id] = n
        if row["text"] is None:
            out.append((doc_id, "failed", f"row {n}: missing 'text'"))
            continue
        date = ingest.parse_date(row["date"])
        out.append((doc_id, row["text"], sha256_text(row["text"]), date))
    return out


def _summary(items: list[Document | Outcome]) -> list[tuple[Any, ...]]:
    return [
        (i.doc_id, i.text, i.sha256, i.metadata.get("date"))
        if isinstance(i, Document)
        else (i.doc_id, i.status, (i.reason or "").split(" (first seen")[0])
        for i in items
    ]


def _streamed(inputs: list[str], options: InputOptions | None = None) -> list[Document | Outcome]:
    options = options or InputOptions()
    return list(read_units(plan_units(inputs, options), options))


def _planned(inputs: list[str], options: InputOptions | None = None) -> list[Document | Outcome]:
    options = options or InputOptions()
    return [item for unit in plan_inputs(inputs, options) for item in read_unit(unit, options)]


@pytest.mark.parametrize("row_group_size", [7, 1_000_000], ids=["many-small-groups", "one-group"])
def test_parquet_matches_reading_the_table_whole(tmp_path: Path, row_group_size: int) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(_table(), path, row_group_size=row_group_size)
    assert pq.ParquetFile(path).metadata.num_row_groups == (1 if row_group_size > 300 else 43)
    expected = _whole_table(path, InputOptions())
    assert _summary(_streamed([str(path)])) == expected
    assert _summary(_planned([str(path)])) == expected


def test_row_ranges_of_one_large_group_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan_inputs cuts one large row group into row ranges: same documents, same ids."""
    path = tmp_path / "docs.parquet"
    pq.write_table(_table(), path)
    monkeypatch.setattr(ingest, "PARQUET_SLICE_BYTES", 20_000)
    monkeypatch.setattr(ingest, "PARQUET_READ_BYTES", 5_000)
    units = plan_inputs([str(path)])
    assert len(units) > 5
    assert {u.row_group for u in units} == {0}
    assert _summary(_planned([str(path)])) == _whole_table(path, InputOptions())


class _Counting:
    """Wraps ``ParquetFile.iter_batches`` to count the rows decoded, and forbids reading
    a row group or a table whole."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.decoded = 0
        self.batch_sizes: list[int] = []
        original = pq.ParquetFile.iter_batches
        counter = self

        def iter_batches(pf: pq.ParquetFile, *args: Any, **kwargs: Any) -> Iterator[Any]:
            counter.batch_sizes.append(kwargs["batch_size"])
            for batch in original(pf, *args, **kwargs):
                counter.decoded += batch.num_rows
                yield batch

        def whole(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a row group or a table was read whole")

        monkeypatch.setattr(pq.ParquetFile, "iter_batches", iter_batches)
        for name in ("read", "read_row_group", "read_row_groups"):
            monkeypatch.setattr(pq.ParquetFile, name, whole)
        monkeypatch.setattr(pq, "read_table", whole)


@pytest.mark.parametrize("row_group_size", [50, 1_000_000], ids=["many-groups", "one-group"])
def test_parquet_rows_are_decoded_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group_size: int
) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(_table(n=500), path, row_group_size=row_group_size)
    monkeypatch.setattr(ingest, "PARQUET_READ_BYTES", 20_000)  # ~ 8 rows of ~2.5 kB
    counting = _Counting(monkeypatch)
    items = read_units(plan_units([str(path)]), InputOptions())
    consumed = 0
    ahead = 0
    for _item in items:
        consumed += 1
        ahead = max(ahead, counting.decoded - consumed)
    assert consumed == 500
    assert counting.decoded == 500
    assert max(counting.batch_sizes) <= ingest.PARQUET_MAX_BATCH_ROWS
    # never more rows decoded than handed out plus one record batch
    assert ahead < max(counting.batch_sizes)
    assert max(counting.batch_sizes) < 30


def test_record_batches_follow_text_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows per record batch: about PARQUET_READ_BYTES of text, at most the row cap."""
    short = tmp_path / "short.parquet"
    long = tmp_path / "long.parquet"
    pq.write_table(pa.table({"text": ["x."] * 5000}), short)
    pq.write_table(pa.table({"text": [f"{'word ' * 20_000}{i}." for i in range(20)]}), long)
    counting = _Counting(monkeypatch)
    assert len(_streamed([str(short), str(long)])) == 5020
    assert counting.batch_sizes == [ingest.PARQUET_MAX_BATCH_ROWS, 10]


def _arrow_peak(path: Path) -> int:
    """The most memory Arrow held (sampled) while ``read_units`` streamed ``path``."""
    pool = pa.default_memory_pool()
    baseline = pool.bytes_allocated()
    peak = n = 0
    for _item in read_units(plan_units([str(path)]), InputOptions()):
        n += 1
        if n % 20 == 0:
            peak = max(peak, pool.bytes_allocated() - baseline)
    assert n == pq.ParquetFile(path).metadata.num_rows
    return peak


def test_parquet_memory_does_not_grow_with_the_row_group(tmp_path: Path) -> None:
    """Arrow's memory while streaming one row group of 10 or 40 MB is the same, and far
    below the group's size (a whole-group decode holds all of it)."""
    base = _text(random.Random(3), 800)  # ~4 kB
    peaks = []
    for mb in (10, 40):
        path = tmp_path / f"{mb}.parquet"
        texts = [f"{i}: {base}" for i in range(mb * 250)]  # distinct: no dictionary
        pq.write_table(
            pa.table({"doc_id": [f"d{i}" for i in range(len(texts))], "text": texts}), path
        )
        del texts
        meta = pq.ParquetFile(path).metadata
        assert meta.num_row_groups == 1
        assert meta.row_group(0).total_byte_size > mb * 1_000_000
        peaks.append(_arrow_peak(path))
    assert peaks[1] < 16 * 1024 * 1024, peaks
    assert peaks[1] - peaks[0] < 4 * 1024 * 1024, peaks


def _jsonl(path: Path, n: int, n_words: int) -> None:
    rng = random.Random(5)
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"doc_id": f"j{i}", "text": _text(rng, n_words)}) + "\n")


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_tables_are_read_a_row_at_a_time(tmp_path: Path, kind: str) -> None:
    """Python memory while streaming a 12 MB JSONL or CSV file stays far below its size."""
    path = tmp_path / f"big.{kind}"
    _jsonl(tmp_path / "big.jsonl", 3000, 800)
    if kind == "csv":
        with path.open("w", newline="") as fh:
            fh.write("doc_id,text\n")
            for line in (tmp_path / "big.jsonl").open():
                row = json.loads(line)
                fh.write(f'{row["doc_id"]},"{row["text"]}"\n')
    assert path.stat().st_size > 12_000_000
    units = plan_units([str(path)])
    tracemalloc.start()
    try:
        n = sum(1 for _ in read_units(units, InputOptions()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 3000
    assert peak < 3_000_000, peak


def test_planning_reads_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """plan_units lists files and reads Parquet footers only."""
    (tmp_path / "a.jsonl").write_text('{"doc_id": "a", "text": "x"}\n')
    (tmp_path / "b.csv").write_text("doc_id,text\nb,y\n")
    pq.write_table(pa.table({"doc_id": ["c"], "text": ["z"]}), tmp_path / "c.parquet")
    _Counting(monkeypatch)

    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a table was opened at planning")

    monkeypatch.setattr(ingest, "_open_binary", no_open)
    monkeypatch.setattr(ingest.pq, "ParquetFile", no_open)
    units = plan_units([str(tmp_path / n) for n in ("a.jsonl", "b.csv", "c.parquet")])
    assert [u.kind for u in units] == ["jsonl", "csv", "parquet"]
    assert units[2].row_group is None
    assert units[2].size > 0


def test_a_failure_mid_group_keeps_the_rows_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows decoded before a row group breaks are documents; the rest fail as one row."""
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"doc_id": [f"d{i}" for i in range(10)], "text": ["x."] * 10}), path)
    original = pq.ParquetFile.iter_batches

    def breaking(pf: pq.ParquetFile, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for i, batch in enumerate(original(pf, *args, **{**kwargs, "batch_size": 4})):
            if i == 1:
                raise OSError("Unexpected end of stream")
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", breaking)
    got = _summary(_streamed([str(path)]))
    assert [g[0] for g in got] == ["d0", "d1", "d2", "d3", f"{path}#rg0:4"]
    assert got[-1][1:] == (
        "failed",
        "cannot read Parquet row group 0 (rows 4-10 of the group): Unexpected end of stream",
    )


def test_invalid_utf8_in_a_string_column_fails_as_one_row(tmp_path: Path) -> None:
    """A Parquet string column holding bytes that are not UTF-8 (written unvalidated, as a
    fuzzer found) is a recorded failure of its batch, not an internal error."""
    data = b"okbad\xf0(more"
    offsets = pa.array([0, 2, 7, 11], type=pa.int32()).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(data)])
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"doc_id": ["a", "b", "c"], "text": text}), path)
    got = _summary(_streamed([str(path)]))
    assert [g[0] for g in got] == [f"{path}#rg0"]
    assert got[0][1] == "failed"
    assert got[0][2].startswith("cannot read Parquet row group 0 (rows 0-3 of the group): ")
    assert "utf-8" in got[0][2]


def _mixed_inputs(root: Path) -> list[str]:
    (root / "a.jsonl").write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in (
                {"doc_id": "d1", "text": "One."},
                {"doc_id": 7, "text": "Two."},
                {"doc_id": "d1", "text": "Again."},
                {"text": "No id."},
            )
        )
        + "not json\n"
    )
    (root / "b.csv").write_text('doc_id,text\nd1,"Three."\n7,x\nd2,fresh\nreport.txt,y\n')
    pq.write_table(
        pa.table({"doc_id": ["d2", "d3", None], "text": ["x", "Four.", "y"]}),
        root / "c.parquet",
        row_group_size=2,
    )
    for year in ("2023", "2024"):
        (root / year).mkdir()
        (root / year / "report.txt").write_text(f"Report {year}.")
    (root / "solo").mkdir()
    (root / "solo" / "report.txt").write_text("Solo.")
    (root / "notext.parquet").write_bytes(b"PAR1 broken")
    (root / "latin.jsonl").write_bytes('{"doc_id": "l", "text": "caf\xe9"}\n'.encode("latin-1"))
    return [
        str(root / "a.jsonl"),
        str(root / "b.csv"),
        str(root / "c.parquet"),
        str(root / "2023"),
        str(root / "2024"),
        str(root / "solo"),
        str(root / "a.jsonl"),
        str(root / "notext.parquet"),
        str(root / "latin.jsonl"),
    ]


def test_streamed_and_planned_reading_agree(tmp_path: Path) -> None:
    """Ids, duplicates and outcomes are the same settled while streaming or at planning."""
    inputs = _mixed_inputs(tmp_path)
    full = [
        (i.doc_id, "processed", i.source, i.text)
        if isinstance(i, Document)
        else (i.doc_id, i.status, i.source, i.reason)
        for i in _streamed(inputs)
    ]
    assert full == [
        (i.doc_id, "processed", i.source, i.text)
        if isinstance(i, Document)
        else (i.doc_id, i.status, i.source, i.reason)
        for i in _planned(inputs)
    ]
    ids = [f[0] for f in full]
    assert len(ids) == len(set(ids))
    status = {f[0].replace(f"{tmp_path}/", ""): f[1] for f in full}
    assert status["a.jsonl#L3"] == status["b.csv#L2"] == status["c.parquet#R0"] == "failed"
    assert status["2024/report.txt"] == status["solo/report.txt"] == "processed"
    assert status["l"] == "processed"  # a few bytes of Latin-1: replaced, not refused
    assert status["a.jsonl"] == status["notext.parquet"] == "failed"
    assert status["c.parquet#R2"] == "processed"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"  Plain text from a pipe.", [("stdin", "processed", None)]),
        (
            b'\n{"doc_id": "s1", "text": "From JSONL."}\n{"doc_id": "s1", "text": "x"}\n',
            [("s1", "processed", None), ("-#L3", "failed", "line 3: duplicate doc_id 's1'")],
        ),
    ],
)
def test_stdin_is_streamed(
    monkeypatch: pytest.MonkeyPatch, payload: bytes, expected: list[Any]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(payload)))
    units = plan_units(["-"])
    assert units[0].payload is None  # read when the unit is read, not at planning
    got = [
        (i.doc_id, "processed", None)
        if isinstance(i, Document)
        else (i.doc_id, i.status, (i.reason or "").split(" (first seen")[0])
        for i in read_units(units, InputOptions())
    ]
    assert got == expected


def test_table_encodings_decided_before_any_row(tmp_path: Path) -> None:
    """A JSONL file that is mostly undecodable fails whole, as decode_text would decide."""
    path = tmp_path / "noise.jsonl"
    good = "".join(json.dumps({"doc_id": f"n{i}", "text": "ok"}) + "\n" for i in range(50))
    path.write_bytes(good.encode() + bytes(range(128, 256)) * 40)
    (item,) = _streamed([str(path)])
    assert isinstance(item, Outcome)
    assert (item.reason or "").startswith("not UTF-8 text")
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("doc_id,text\nu,Sanctions.\n".encode("utf-16"))
    (doc,) = _streamed([str(utf16)])
    assert isinstance(doc, Document)
    assert doc.text == "Sanctions."
    bad16 = tmp_path / "bad16.jsonl"
    bad16.write_bytes(b"\xff\xfe" + '{"text": "x"}\n'.encode("utf-16-le") + b"\x00\xd8")
    (failed,) = _streamed([str(bad16)])
    assert isinstance(failed, Outcome)
    assert failed.reason == "undecodable utf-16 text: unexpected end of data at byte 30"
    assert failed.reason == "undecodable utf-16 text: " + _whole_reason(bad16.read_bytes())


def _whole_reason(data: bytes) -> str:
    try:
        data.decode("utf-16")
    except UnicodeDecodeError as e:
        return f"{e.reason} at byte {e.start}"
    raise AssertionError("decodes")


def test_doc_ids_remember_where(tmp_path: Path) -> None:
    ids = DocIds()
    ids.add("a", "x.jsonl", "line 3")
    ids.add("b", "x.jsonl", "line 4")
    ids.add("c", "y.parquet", "row 0")
    ids.add("d", "dir/d.txt")
    ids.add("e", "z.parquet", "row group")
    assert [ids.origin(k) for k in "abcde"] == [
        "x.jsonl line 3",
        "x.jsonl line 4",
        "y.parquet row 0",
        "dir/d.txt",
        "z.parquet row group",
    ]
    assert "a" in ids
    assert "f" not in ids
    assert len(ids) == 5
    assert ids.unused("a") == "a#2"
    assert ids.unused("f") == "f"
