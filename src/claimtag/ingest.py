"""Reading inputs: files, directories, JSONL, CSV, Parquet and stdin → documents.

Planning (``plan_inputs``) turns the command line's INPUTs into ``Unit``s: small,
picklable descriptions of work (a text file, a table file, a slice of a Parquet file).
Reading (``read_unit``) turns one unit into ``Document``s and ``Outcome``s (documents
that could not be read, with the reason), so every input is accounted for.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from claimtag.errors import InputError
from claimtag.types import Document

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
TABLE_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
UnitKind = Literal["text", "jsonl", "csv", "parquet", "stdin"]
Status = Literal["processed", "skipped", "failed"]

# Parquet files are cut into slices of about this much text, so that work spreads out.
PARQUET_SLICE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InputOptions:
    """How to read table inputs and how much to accept."""

    id_column: str = "doc_id"
    text_column: str = "text"
    date_column: str | None = None  # None: use a column named "date" when there is one
    stdin_format: Literal["auto", "text", "jsonl"] = "auto"
    max_doc_chars: int = 20_000_000


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece of input to read: a file, or a row range of a Parquet file."""

    kind: UnitKind
    path: str
    display: str
    size: int
    doc_id: str | None = None
    row_group: int | None = None
    row_start: int = 0
    row_stop: int | None = None
    payload: bytes | None = None  # stdin, read once at planning
    error: str | None = None  # a file found unreadable at planning


@dataclass(frozen=True, slots=True)
class Outcome:
    """A document that was not processed, or a note about one that was."""

    doc_id: str
    source: str
    status: Status
    reason: str | None
    sha256: str | None = None
    n_chars: int = 0
    warnings: tuple[str, ...] = field(default=())


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- planning -------------------------------------------------------------------------------


def _table_kind(path: Path) -> UnitKind | None:
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    return kind  # type: ignore[return-value]


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _parquet_units(path: Path, display: str) -> list[Unit]:
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as e:  # pyarrow raises several types for a bad file
        return [
            Unit(
                "parquet",
                str(path),
                display,
                path.stat().st_size,
                error=f"not a readable Parquet file: {e}",
            )
        ]
    units = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        n_rows, size = rg.num_rows, max(rg.total_byte_size, 1)
        pieces = max(1, min(n_rows, -(-size // PARQUET_SLICE_BYTES)))
        step = -(-n_rows // pieces) if n_rows else 1
        for start in range(0, max(n_rows, 1), step):
            stop = min(start + step, n_rows)
            units.append(
                Unit(
                    "parquet",
                    str(path),
                    display,
                    size * (stop - start) // max(n_rows, 1),
                    row_group=g,
                    row_start=start,
                    row_stop=stop,
                )
            )
    return units


def plan_inputs(inputs: Sequence[str], options: InputOptions | None = None) -> list[Unit]:
    """Turn INPUT arguments into units of work. Raises InputError for a missing path."""
    units: list[Unit] = []
    for arg in inputs:
        if arg == "-":
            data = sys.stdin.buffer.read()
            units.append(Unit("stdin", "-", "-", len(data), doc_id="stdin", payload=data))
            continue
        path = Path(arg)
        if not path.exists():
            raise InputError(f"input not found: {arg}")
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in TEXT_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for p in files:
                units.append(Unit("text", str(p), str(p), p.stat().st_size, doc_id=_rel(p, path)))
            continue
        if not os.access(path, os.R_OK):
            raise InputError(f"input not readable: {arg}")
        kind = _table_kind(path)
        if kind == "parquet":
            units.extend(_parquet_units(path, arg))
        elif kind is not None:
            units.append(Unit(kind, str(path), arg, path.stat().st_size))
        else:
            units.append(Unit("text", str(path), arg, path.stat().st_size, doc_id=path.name))
    return units


def batch_units(units: Sequence[Unit], *, target_bytes: int) -> list[list[Unit]]:
    """Group units into batches of about ``target_bytes`` of input, keeping their order."""
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for unit in units:
        if current and size + unit.size > target_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(unit)
        size += unit.size
    if current:
        batches.append(current)
    return batches


# --- decoding -------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13}


def decode_text(data: bytes) -> tuple[str | None, str | None, list[str]]:
    """Decode a file's bytes: (text, reason it was skipped, warnings).

    A byte-order mark selects UTF-8/16/32. Without one, NUL bytes or many control bytes mean
    a binary file (skipped). Invalid UTF-8 is replaced (U+FFFD) and noted when it is a small
    share of the bytes; otherwise the file is skipped as undecodable.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None, [f"decoded as {encoding} (byte-order mark)"]
            except UnicodeDecodeError as e:
                return None, f"undecodable {encoding} text: {e.reason} at byte {e.start}", []
    head = data[:65536]
    if b"\x00" in head:
        return None, "binary file (contains NUL bytes)", []
    if head and sum(b in _CONTROL for b in head) > len(head) // 100:
        return None, "binary file (control bytes)", []
    try:
        return data.decode("utf-8"), None, []
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        if bad > max(16, len(data) // 20):
            return None, f"not UTF-8 text ({bad} undecodable sequences)", []
        return text, None, [f"invalid UTF-8: {bad} sequence(s) replaced with U+FFFD"]


def parse_date(value: Any) -> str | None:
    """A date as YYYY-MM-DD from common forms (ISO, Reuters' 26-FEB-1987, a year), else None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and 1000 <= value <= 9999:
        return f"{value:04d}-01-01"
    s = str(value).strip()
    if len(s) == 4 and s.isdigit():
        return f"{s}-01-01"
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for fmt in ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(s.title() if "%b" in fmt else s, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# --- reading --------------------------------------------------------------------------------


def _make_doc(
    doc_id: str, text: str, source: str, warnings: list[str], doc_date: Any, options: InputOptions
) -> Document | Outcome:
    sha = sha256_text(text)
    if len(text) > options.max_doc_chars:
        return Outcome(
            doc_id,
            source,
            "skipped",
            f"document too large: {len(text)} characters > {options.max_doc_chars}",
            sha256=sha,
            n_chars=len(text),
        )
    meta: dict[str, str] = {}
    if warnings:
        meta["warnings"] = "\n".join(warnings)
    parsed = parse_date(doc_date)
    if parsed:
        meta["date"] = parsed
    elif doc_date not in (None, ""):
        meta["warnings"] = "\n".join([*warnings, f"unparsed date {str(doc_date)[:40]!r}"])
    return Document(doc_id=doc_id, text=text, source=source, sha256=sha, metadata=meta)


def _read_text_unit(unit: Unit, data: bytes, options: InputOptions) -> Iterator[Document | Outcome]:
    doc_id = unit.doc_id or unit.display
    text, reason, warnings = decode_text(data)
    if text is None:
        yield Outcome(doc_id, unit.display, "skipped", reason)
        return
    yield _make_doc(doc_id, text, unit.display, warnings, None, options)


def _row_doc(
    row: Any, where: str, default_id: str, source: str, options: InputOptions
) -> Document | Outcome:
    """One table row (a mapping) as a document, or an Outcome explaining why not."""
    if not isinstance(row, dict):
        return Outcome(
            default_id, source, "failed", f"{where}: expected an object, got {type(row).__name__}"
        )
    raw_id = row.get(options.id_column)
    doc_id = default_id if raw_id in (None, "") else str(raw_id)
    text = row.get(options.text_column)
    if text is None:
        return Outcome(doc_id, source, "failed", f"{where}: missing {options.text_column!r}")
    if not isinstance(text, str):
        return Outcome(
            doc_id,
            source,
            "failed",
            f"{where}: {options.text_column!r} is {type(text).__name__}, not text",
        )
    warnings = [] if raw_id not in (None, "") else [f"no {options.id_column!r}; id from position"]
    date_col = options.date_column or "date"
    return _make_doc(doc_id, text, source, warnings, row.get(date_col), options)


def _read_jsonl(unit: Unit, data: bytes, options: InputOptions) -> Iterator[Document | Outcome]:
    text, reason, _ = decode_text(data)
    if text is None:
        yield Outcome(unit.display, unit.display, "failed", reason)
        return
    for n, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        where, default_id = f"line {n}", f"{unit.display}#L{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield Outcome(default_id, unit.display, "failed", f"{where}: invalid JSON: {e.msg}")
            continue
        yield _row_doc(row, where, default_id, unit.display, options)


def _read_csv(unit: Unit, data: bytes, options: InputOptions) -> Iterator[Document | Outcome]:
    text, reason, _ = decode_text(data)
    if text is None:
        yield Outcome(unit.display, unit.display, "failed", reason)
        return
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or options.text_column not in reader.fieldnames:
        yield Outcome(
            unit.display,
            unit.display,
            "failed",
            f"no {options.text_column!r} column (columns: {reader.fieldnames or []})",
        )
        return
    line = 1
    try:
        for row in reader:
            where, default_id = f"line {line + 1}", f"{unit.display}#L{line + 1}"
            line = reader.line_num
            if None in row:
                yield Outcome(
                    default_id, unit.display, "failed", f"{where}: more fields than header"
                )
                continue
            yield _row_doc(dict(row), where, default_id, unit.display, options)
    except csv.Error as e:
        yield Outcome(
            f"{unit.display}#L{reader.line_num}",
            unit.display,
            "failed",
            f"line {reader.line_num}: malformed CSV: {e}; rest of file not read",
        )


def _read_parquet(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    if unit.error is not None:
        yield Outcome(unit.display, unit.display, "failed", unit.error)
        return
    try:
        pf = pq.ParquetFile(unit.path)
        names = pf.schema_arrow.names
        if options.text_column not in names:
            if unit.row_group == 0 and unit.row_start == 0:
                yield Outcome(
                    unit.display,
                    unit.display,
                    "failed",
                    f"no {options.text_column!r} column (columns: {names})",
                )
            return
        date_col = options.date_column or ("date" if "date" in names else None)
        if options.date_column and options.date_column not in names:
            date_col = None
        cols = [c for c in (options.id_column, options.text_column, date_col) if c and c in names]
        table = pf.read_row_group(unit.row_group or 0, columns=cols)
    except Exception as e:  # pyarrow raises several types for a corrupt file
        yield Outcome(
            f"{unit.display}#rg{unit.row_group}",
            unit.display,
            "failed",
            f"cannot read Parquet row group {unit.row_group}: {e}",
        )
        return
    stop = unit.row_stop if unit.row_stop is not None else table.num_rows
    rows = table.slice(unit.row_start, stop - unit.row_start).to_pylist()
    first = sum(pf.metadata.row_group(g).num_rows for g in range(unit.row_group or 0))
    for i, row in enumerate(rows):
        n = first + unit.row_start + i
        yield _row_doc(row, f"row {n}", f"{unit.display}#R{n}", unit.display, options)


def read_unit(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    """Documents (and outcomes for unreadable ones) of one unit, in input order."""
    if unit.kind == "parquet":
        yield from _read_parquet(unit, options)
        return
    if unit.payload is not None:
        data = unit.payload
    else:
        try:
            data = Path(unit.path).read_bytes()
        except OSError as e:
            yield Outcome(
                unit.doc_id or unit.display,
                unit.display,
                "failed",
                f"cannot read: {e.strerror or e}",
            )
            return
    kind = unit.kind
    if kind == "stdin":
        is_jsonl = options.stdin_format == "jsonl" or (
            options.stdin_format == "auto" and data.lstrip()[:1] == b"{"
        )
        kind = "jsonl" if is_jsonl else "text"
    if kind == "jsonl":
        yield from _read_jsonl(unit, data, options)
    elif kind == "csv":
        yield from _read_csv(unit, data, options)
    else:
        yield from _read_text_unit(unit, data, options)


def check_inputs(inputs: Sequence[str]) -> None:
    """Fail early, with InputError, on an INPUT that does not exist or cannot be read."""
    if list(inputs).count("-") > 1:
        raise InputError("stdin (-) can be given only once")
    for arg in inputs:
        if arg == "-":
            continue
        path = Path(arg)
        if not path.exists():
            raise InputError(f"input not found: {arg}")
        if not os.access(path, os.R_OK):
            raise InputError(f"input not readable: {arg}")
