"""Reading inputs: files, directories, JSONL, CSV, Parquet and stdin → documents.

Planning (``plan_inputs``) turns the command line's INPUTs into ``Unit``s: small,
picklable descriptions of work (a text file, a table file, a slice of a Parquet file).
Reading (``read_unit``) turns one unit into ``Document``s and ``Outcome``s (documents
that could not be read, with the reason), so every input is accounted for.

Every ``doc_id`` of a run is unique, because it keys the dataset and takes part in every
``claim_id``. Planning settles this before any batch runs (batches may run in parallel):

* files whose relative paths collide (``2023/report.txt`` and ``2024/report.txt``, both
  ``report.txt`` under their roots) take the path as given as their id, with a warning;
* a file given twice (directly, or also inside a given directory) is read once: the
  second is ``failed`` as a duplicate input;
* a table row whose ``doc_id`` an earlier row or file already has is ``failed`` with the
  reason ``duplicate doc_id '…' (first seen in …)``, under its position id
  (``FILE#L<line>`` / ``FILE#R<row>``).

Ids are data, never paths: outputs are named by run id and batch only.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import sys
import unicodedata
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
    #: A longer document is ``skipped`` (a file of more than 4 bytes per character
    #: allowed is skipped without being read).
    max_doc_chars: int = 20_000_000
    #: A longer sentence is not matched against the rules (see ``long_sentences``):
    #: real prose stays far below it (the longest of 370,000 corpus sentences has
    #: 3,825 characters); runs of text without punctuation (tables, OCR or encoding
    #: debris, minified data) would only make matching slow and records huge.
    max_sentence_chars: int = 10_000
    #: A table row's ``doc_id`` longer than this is ``failed``.
    max_id_chars: int = 1_000


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
    error: str | None = None  # a file found unusable at planning: one failed row
    notes: tuple[str, ...] = ()  # warnings for the unit's document (a text file)
    #: Rows failed as duplicates: (row key, doc_id to use, reason); the key is the line
    #: number (JSONL, CSV) or the row number (Parquet).
    duplicates: tuple[tuple[int, str, str], ...] = ()


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


def clean_text(value: str) -> str:
    """``value`` as valid Unicode: lone surrogates (from undecodable file names, or JSON
    escapes such as ``"\\ud800"``) become U+FFFD. Parquet cannot store them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)  # one for one: offsets stay the same
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _rel(path: Path, root: Path) -> str:
    return clean_text(path.relative_to(root).as_posix())


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
    if meta.num_row_groups == 0:  # no rows, but the file is still checked for its columns
        return [Unit("parquet", str(path), display, 0, row_group=None, row_stop=0)]
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
    """Turn INPUT arguments into units of work. Raises InputError for a missing path.

    Every document id of the plan is unique (see the module docstring): table files are
    read once here to learn their ids.
    """
    options = options or InputOptions()
    units: list[Unit] = []
    origins: list[int] = []  # the INPUT argument each unit comes from
    for index, arg in enumerate(inputs):
        origins += [index - 1] * (len(units) - len(origins))
        if arg == "-":
            data = sys.stdin.buffer.read()
            units.append(Unit("stdin", "-", "-", len(data), doc_id="stdin", payload=data))
            continue
        path = Path(arg)
        display = clean_text(arg)
        if not path.exists():
            raise InputError(f"input not found: {display}")
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in TEXT_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for p in files:
                units.append(
                    Unit("text", str(p), clean_text(str(p)), _size(p), doc_id=_rel(p, path))
                )
            continue
        if not os.access(path, os.R_OK):
            raise InputError(f"input not readable: {display}")
        kind = _table_kind(path)
        if kind == "parquet":
            units.extend(_parquet_units(path, display))
        elif kind is not None:
            units.append(Unit(kind, str(path), display, _size(path)))
        else:
            units.append(
                Unit("text", str(path), display, _size(path), doc_id=_rel(path, path.parent))
            )
    origins += [len(inputs) - 1] * (len(units) - len(origins))
    return _unique_ids(units, origins, options)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _same_file_key(unit: Unit) -> str | None:
    if unit.kind == "stdin":
        return None
    try:
        return os.path.realpath(unit.path)
    except (OSError, ValueError):
        return unit.path


def _unique_ids(units: list[Unit], origins: list[int], options: InputOptions) -> list[Unit]:
    """Make every doc_id of the plan unique; mark duplicate inputs and duplicate rows."""
    # 1. the same file from two INPUTs: the later one is a failed row
    first: dict[str, tuple[int, str]] = {}
    kept: list[Unit] = []
    for unit, origin in zip(units, origins, strict=True):
        key = _same_file_key(unit)
        if key is None:
            kept.append(unit)
            continue
        earlier = first.setdefault(key, (origin, unit.display))
        if earlier[0] == origin:  # slices of one Parquet file; a symlink inside a folder
            kept.append(unit)
            continue
        if unit.kind == "parquet" and kept and kept[-1].path == unit.path and kept[-1].error:
            continue  # one failed row for all the slices of a repeated Parquet file
        kept.append(
            Unit(
                unit.kind,
                unit.path,
                unit.display,
                0,
                doc_id=unit.doc_id or unit.display,
                row_group=unit.row_group,
                error=f"duplicate input: the same file as {earlier[1]}",
            )
        )
    # 2. files whose relative ids collide take the path as given
    by_id: dict[str, int] = {}
    for unit in kept:
        if unit.kind == "text" and unit.error is None and unit.doc_id is not None:
            by_id[unit.doc_id] = by_id.get(unit.doc_id, 0) + 1
    planned: list[Unit] = []
    for unit in kept:
        if unit.kind == "text" and unit.error is None and by_id.get(unit.doc_id or "", 0) > 1:
            qualified = Path(unit.display).as_posix()
            shared = by_id[unit.doc_id or ""]
            note = f"doc_id {unit.doc_id!r} is shared by {shared} files; using the path"
            unit = _replace(unit, doc_id=qualified, notes=(*unit.notes, note))
        planned.append(unit)
    # 3. in input order, the first holder of an id keeps it
    seen: dict[str, str] = {}
    out: list[Unit] = []
    for unit in planned:
        if unit.kind == "text" or unit.error is not None:
            doc_id = _failure_id(unit)
            if doc_id in seen and unit.error is None:
                reason = f"duplicate doc_id {doc_id!r} (first seen in {seen[doc_id]})"
                doc_id = _unused(Path(unit.display).as_posix(), seen)
                unit = _replace(unit, error=reason)
            elif doc_id in seen:
                doc_id = _unused(Path(unit.display).as_posix(), seen)
            seen[doc_id] = unit.display
            out.append(_replace(unit, doc_id=doc_id))
            continue
        duplicates = []
        for row_key, where, default_id, doc_id in _scan_ids(unit, options):
            if doc_id in seen:
                reason = f"{where}: duplicate doc_id {doc_id!r} (first seen in {seen[doc_id]})"
                new_id = _unused(default_id, seen)
                duplicates.append((row_key, new_id, reason))
                seen[new_id] = f"{unit.display} {where}"
            else:
                seen[doc_id] = f"{unit.display} {where}"
        out.append(_replace(unit, duplicates=tuple(duplicates)) if duplicates else unit)
    return out


def _replace(unit: Unit, **changes: Any) -> Unit:
    from dataclasses import replace

    return replace(unit, **changes)


def _unused(candidate: str, seen: dict[str, str]) -> str:
    """``candidate``, or ``candidate#2``, ``#3``... when it is taken."""
    if candidate not in seen:
        return candidate
    n = 2
    while f"{candidate}#{n}" in seen:
        n += 1
    return f"{candidate}#{n}"


def _failure_id(unit: Unit) -> str:
    """The doc_id of the single row of a text unit, or of a unit that could not be used."""
    if unit.kind == "text" or unit.doc_id is not None:
        return unit.doc_id or unit.display
    if unit.kind == "parquet" and unit.row_group is not None and unit.error is None:
        suffix = f":{unit.row_start}" if unit.row_start else ""
        return f"{unit.display}#rg{unit.row_group}{suffix}"
    return unit.display


def _scan_ids(unit: Unit, options: InputOptions) -> Iterator[tuple[int, str, str, str]]:
    """(row key, where, position id, doc_id) of every row a table unit will report."""
    if unit.kind == "parquet":
        yield from _scan_parquet_ids(unit, options)
        return
    if unit.payload is not None:
        data = unit.payload
    else:
        try:
            data = Path(unit.path).read_bytes()
        except OSError:
            yield 0, "file", unit.display, unit.display
            return
    kind = _stdin_kind(data, options) if unit.kind == "stdin" else unit.kind
    if kind == "text":
        yield 0, "input", unit.doc_id or unit.display, unit.doc_id or unit.display
        return
    rows = _jsonl_rows(unit, data) if kind == "jsonl" else _csv_rows(unit, data, options)
    for key, where, default_id, row, _error in rows:
        yield key, where, default_id, _effective_id(row, default_id, options)


def _scan_parquet_ids(unit: Unit, options: InputOptions) -> Iterator[tuple[int, str, str, str]]:
    if unit.row_group is None:
        yield 0, "file", unit.display, unit.display  # no rows: at most a failed row
        return
    try:
        pf = pq.ParquetFile(unit.path)
        names = pf.schema_arrow.names
        if options.text_column not in names:
            if unit.row_group == 0 and unit.row_start == 0:
                yield 0, "file", unit.display, unit.display
            return
        ids: list[Any] | None = None
        if options.id_column in names:
            column = pf.read_row_group(unit.row_group, columns=[options.id_column]).column(0)
            _check_rows(len(column), pf, unit.row_group)
            ids = column.slice(unit.row_start, (unit.row_stop or 0) - unit.row_start).to_pylist()
        first = sum(pf.metadata.row_group(g).num_rows for g in range(unit.row_group))
    except Exception:  # the read path reports the failure
        yield 0, "row group", _failure_id(unit), _failure_id(unit)
        return
    for i in range((unit.row_stop or 0) - unit.row_start):
        n = first + unit.row_start + i
        default_id = f"{unit.display}#R{n}"
        row = {options.id_column: ids[i]} if ids is not None else {}
        yield n, f"row {n}", default_id, _effective_id(row, default_id, options)


def _effective_id(row: Any, default_id: str, options: InputOptions) -> str:
    if not isinstance(row, dict):
        return default_id
    doc_id, problem = _row_id(row, default_id, options)
    return default_id if problem else doc_id


def _stdin_kind(data: bytes, options: InputOptions) -> UnitKind:
    is_jsonl = options.stdin_format == "jsonl" or (
        options.stdin_format == "auto" and data.lstrip()[:1] == b"{"
    )
    return "jsonl" if is_jsonl else "text"


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
    # more than 1% control bytes (and more than a few: a short note may hold a form feed)
    if head and sum(b in _CONTROL for b in head) > max(8, len(head) // 100):
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
    doc_id: str,
    text: str,
    source: str,
    warnings: list[str],
    doc_date: Any,
    options: InputOptions,
    sha: str | None = None,
) -> Document | Outcome:
    sha = sha or sha256_text(text)
    if len(text) > options.max_doc_chars:
        return Outcome(
            doc_id,
            source,
            "skipped",
            f"document too large: {len(text)} characters > {options.max_doc_chars}",
            sha256=sha,
            n_chars=len(text),
            warnings=tuple(warnings),
        )
    meta: dict[str, str] = {}
    if warnings:
        meta["warnings"] = "\n".join(warnings)
    parsed = parse_date(doc_date)
    if parsed:
        meta["date"] = parsed
    elif doc_date not in (None, ""):
        shown = clean_text(repr(doc_date)[:40])
        meta["warnings"] = "\n".join([*warnings, f"unparsed date {shown}"])
    return Document(doc_id=doc_id, text=text, source=source, sha256=sha, metadata=meta)


def _read_text_unit(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    doc_id = unit.doc_id or unit.display
    limit = 4 * options.max_doc_chars  # UTF-8 and UTF-32 take at most 4 bytes a character
    if unit.payload is None and unit.size > limit:
        yield Outcome(
            doc_id,
            unit.display,
            "skipped",
            f"document too large: {unit.size} bytes, more than {options.max_doc_chars} "
            "characters (not read)",
            warnings=unit.notes,
        )
        return
    data = unit.payload if unit.payload is not None else _read_bytes(unit)
    if isinstance(data, Outcome):
        yield data
        return
    text, reason, warnings = decode_text(data)
    # the text is exactly the file's UTF-8 bytes: hash them instead of encoding it again
    sha = hashlib.sha256(data).hexdigest() if text is not None and not warnings else None
    del data  # a large file is not held twice while it is processed
    if text is None:
        yield Outcome(doc_id, unit.display, "skipped", reason, warnings=unit.notes)
        return
    yield _make_doc(doc_id, text, unit.display, [*unit.notes, *warnings], None, options, sha)


def _read_bytes(unit: Unit) -> bytes | Outcome:
    try:
        return Path(unit.path).read_bytes()
    except OSError as e:
        return Outcome(
            unit.doc_id or unit.display,
            unit.display,
            "failed",
            f"cannot read: {e.strerror or e}",
        )


def _row_id(row: dict[Any, Any], default_id: str, options: InputOptions) -> tuple[str, str | None]:
    """The doc_id of a table row, and why it cannot be used (then ``default_id`` is used)."""
    column = options.id_column
    raw = row.get(column)
    if raw is None or (isinstance(raw, str) and raw == ""):
        return default_id, None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return default_id, f"{column!r} is {type(raw).__name__}, not text or an integer"
    doc_id = str(raw)
    if len(doc_id) > options.max_id_chars:
        return (
            default_id,
            f"{column!r} is {len(doc_id)} characters long (at most {options.max_id_chars})",
        )
    for c in doc_id:
        if unicodedata.category(c) in ("Cc", "Cs"):
            what = "a control character" if unicodedata.category(c) == "Cc" else "a lone surrogate"
            return default_id, f"{column!r} contains {what} (U+{ord(c):04X})"
    return doc_id, None


def _row_doc(
    row: Any, where: str, default_id: str, source: str, options: InputOptions
) -> Document | Outcome:
    """One table row (a mapping) as a document, or an Outcome explaining why not."""
    if not isinstance(row, dict):
        return Outcome(
            default_id, source, "failed", f"{where}: expected an object, got {type(row).__name__}"
        )
    doc_id, problem = _row_id(row, default_id, options)
    if problem:
        return Outcome(default_id, source, "failed", f"{where}: {problem}")
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
    warnings = [] if doc_id != default_id else [f"no {options.id_column!r}; id from position"]
    cleaned = clean_text(text)
    if cleaned is not text:
        warnings.append("lone surrogate code point(s) replaced with U+FFFD")
    date_col = options.date_column or "date"
    return _make_doc(doc_id, cleaned, source, warnings, row.get(date_col), options)


# A row of a table file: (row key, where, position id, the parsed row or None, error or None)
_Row = tuple[int, str, str, Any, str | None]


def _jsonl_rows(unit: Unit, data: bytes) -> Iterator[_Row]:
    text, reason, _ = decode_text(data)
    if text is None:
        yield 0, "file", unit.display, None, reason
        return
    for n, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        where, default_id = f"line {n}", f"{unit.display}#L{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, where, default_id, None, f"{where}: invalid JSON: {e.msg}"
            continue
        except RecursionError:
            yield n, where, default_id, None, f"{where}: invalid JSON: nested too deeply"
            continue
        yield n, where, default_id, row, None


def _csv_rows(unit: Unit, data: bytes, options: InputOptions) -> Iterator[_Row]:
    text, reason, _ = decode_text(data)
    if text is None:
        yield 0, "file", unit.display, None, reason
        return
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as e:
        yield 0, "file", unit.display, None, f"line 1: malformed CSV header: {e}"
        return
    if not fieldnames or options.text_column not in fieldnames:
        columns = [clean_text(c) for c in fieldnames or []]
        yield (
            0,
            "file",
            unit.display,
            None,
            f"no {options.text_column!r} column (columns: {columns})",
        )
        return
    line = 1
    try:
        for row in reader:
            n = line + 1
            where, default_id = f"line {n}", f"{unit.display}#L{n}"
            line = reader.line_num
            if None in row:
                yield n, where, default_id, None, f"{where}: more fields than header"
                continue
            yield n, where, default_id, dict(row), None
    except csv.Error as e:
        n = reader.line_num
        yield (
            n,
            f"line {n}",
            f"{unit.display}#L{n}",
            None,
            f"line {n}: malformed CSV: {e}; rest of file not read",
        )


def _read_rows(
    rows: Iterator[_Row], unit: Unit, options: InputOptions
) -> Iterator[Document | Outcome]:
    duplicates = {key: (doc_id, reason) for key, doc_id, reason in unit.duplicates}
    for key, where, default_id, row, error in rows:
        if key in duplicates:
            doc_id, reason = duplicates[key]
            yield Outcome(doc_id, unit.display, "failed", reason)
        elif error is not None:
            yield Outcome(default_id, unit.display, "failed", error)
        else:
            yield _row_doc(row, where, default_id, unit.display, options)


def _read_parquet(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    try:
        pf = pq.ParquetFile(unit.path)
        names = pf.schema_arrow.names
        if options.text_column not in names:
            if not unit.row_group and unit.row_start == 0:
                yield Outcome(
                    unit.display,
                    unit.display,
                    "failed",
                    f"no {options.text_column!r} column (columns: {list(map(clean_text, names))})",
                )
            return
        if unit.row_group is None:
            return  # a file without rows
        date_col = options.date_column or ("date" if "date" in names else None)
        if options.date_column and options.date_column not in names:
            date_col = None
        cols = [c for c in (options.id_column, options.text_column, date_col) if c and c in names]
        table = pf.read_row_group(unit.row_group, columns=cols)
        _check_rows(table.num_rows, pf, unit.row_group)
        stop = unit.row_stop if unit.row_stop is not None else table.num_rows
        rows = table.slice(unit.row_start, stop - unit.row_start).to_pylist()
        first = sum(pf.metadata.row_group(g).num_rows for g in range(unit.row_group))
    except Exception as e:  # pyarrow raises several types for a corrupt file
        stop_row = unit.row_stop if unit.row_stop is not None else "end"
        yield Outcome(
            _failure_id(unit),
            unit.display,
            "failed",
            f"cannot read Parquet row group {unit.row_group} (rows {unit.row_start}-{stop_row} "
            f"of the group): {clean_text(str(e))}",
        )
        return
    parsed: Iterator[_Row] = (
        (n, f"row {n}", f"{unit.display}#R{n}", row, None)
        for n, row in enumerate(rows, start=first + unit.row_start)
    )
    yield from _read_rows(parsed, unit, options)


def _check_rows(decoded: int, pf: pq.ParquetFile, row_group: int) -> None:
    """A corrupt file can decode fewer rows than its metadata lists: those rows would be
    lost without a trace, so the row group fails as a whole instead."""
    expected = pf.metadata.row_group(row_group).num_rows
    if decoded != expected:
        raise ValueError(f"{decoded} row(s) decoded, the file lists {expected}")


def read_unit(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    """Documents (and outcomes for unreadable ones) of one unit, in input order."""
    if unit.error is not None:
        yield Outcome(unit.doc_id or _failure_id(unit), unit.display, "failed", unit.error)
        return
    if unit.kind == "parquet":
        yield from _read_parquet(unit, options)
        return
    if unit.kind == "text":
        yield from _read_text_unit(unit, options)
        return
    data = unit.payload if unit.payload is not None else _read_bytes(unit)
    if isinstance(data, Outcome):
        yield data
        return
    kind = _stdin_kind(data, options) if unit.kind == "stdin" else unit.kind
    if kind == "text":
        yield from _read_text_unit(unit, options)
    elif kind == "jsonl":
        yield from _read_rows(_jsonl_rows(unit, data), unit, options)
    else:
        yield from _read_rows(_csv_rows(unit, data, options), unit, options)


def check_inputs(inputs: Sequence[str]) -> None:
    """Fail early, with InputError, on an INPUT that does not exist or cannot be read."""
    if list(inputs).count("-") > 1:
        raise InputError("stdin (-) can be given only once")
    for arg in inputs:
        if arg == "-":
            continue
        path = Path(arg)
        if not path.exists():
            raise InputError(f"input not found: {clean_text(arg)}")
        if not os.access(path, os.R_OK):
            raise InputError(f"input not readable: {clean_text(arg)}")
