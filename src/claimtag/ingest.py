"""Reading inputs: files, directories, JSONL, CSV, Parquet and stdin → documents.

Planning turns the command line's INPUTs into ``Unit``s: small, picklable descriptions of
work (a text file, a table file, a Parquet file or a row range of one). Reading turns
units into ``Document``s and ``Outcome``s (documents that could not be read, with the
reason), so every input is accounted for. There are two ways through, with the same
documents, ids and outcomes:

* ``plan_units`` then ``read_units`` (what ``runs.run`` does): planning lists files and
  reads Parquet footers, nothing more; ``read_units`` streams the units in input order
  and settles each document's id as it meets it.
* ``plan_inputs`` then ``read_unit`` per unit (units read by other processes, in any
  order: Prefect tasks, Dask): planning streams through the table files once to learn
  their ids, so that each unit knows its duplicate rows; Parquet files are cut into row
  ranges of about ``PARQUET_SLICE_BYTES``.

Memory does not grow with the size of a file. A JSONL or CSV file is read a line (a
record) at a time, after one streamed pass that checks it decodes; a Parquet file is read
in record batches of about ``PARQUET_READ_BYTES`` of text (at most
``PARQUET_MAX_BATCH_ROWS`` rows); a text file, stdin as text, or a table row is held whole
while it is read (a text file of more than 4 bytes per allowed character is skipped
unread, see ``InputOptions.max_doc_chars``). What does grow is bookkeeping per document:
the ids given out (``DocIds``, ~100 bytes plus the id), so that they stay unique.

Every ``doc_id`` of a run is unique, because it keys the dataset and takes part in every
``claim_id``:

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
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

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

# ``plan_inputs`` cuts Parquet row groups into row ranges of about this much data, so that
# work spreads out over independent readers.
PARQUET_SLICE_BYTES = 8 * 1024 * 1024
#: Parquet is decoded in record batches of about this much text: the number of rows per
#: batch comes from the row group's footer (its text column's uncompressed size over its
#: rows; for a column of often repeated, dictionary-encoded values the batches are larger)
PARQUET_READ_BYTES = 1024 * 1024
#: ... and at most this many rows per record batch, however short the documents.
PARQUET_MAX_BATCH_ROWS = 256
#: Files are read (and their encoding checked) in chunks of this many bytes.
READ_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class InputOptions:
    """How to read table inputs and how much to accept."""

    id_column: str = "doc_id"
    text_column: str = "text"
    date_column: str | None = None  # None: use a column named "date" when there is one
    #: The document's own state (see ``claimtag.actors``): a column of table inputs holding
    #: an actor code per row (``home_column``), or one code for every document (``home``).
    home_column: str | None = None
    home: str | None = None
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
    """One piece of input to read: a file, or a row range of a Parquet file.

    Parquet: ``row_group`` None means every row group of the file (``plan_units``; a file
    without row groups has none), else rows ``row_start`` to ``row_stop`` of that group.
    """

    kind: UnitKind
    path: str
    display: str
    size: int  # bytes of input, estimated (Parquet: uncompressed text column)
    doc_id: str | None = None
    row_group: int | None = None
    row_start: int = 0
    row_stop: int | None = None
    payload: bytes | None = None  # stdin, read at planning by ``plan_inputs``
    error: str | None = None  # a file found unusable at planning: one failed row
    notes: tuple[str, ...] = ()  # warnings for the unit's document (a text file)
    #: Rows failed as duplicates: (row key, doc_id to use, reason); the key is the line
    #: number (JSONL, CSV) or the row number (Parquet). Set by ``plan_inputs``.
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


class DocIds:
    """The doc_ids given out so far in a run, each with where it was first seen.

    Where is kept as one integer (the source's index, and a line or row number), so an id
    costs about 100 bytes besides its own text: this is the part of a run's memory that
    grows with the number of documents.
    """

    __slots__ = ("_seen", "_sources", "_words")

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._sources: list[str] = []
        self._words: list[str] = []

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, doc_id: str, source: str, where: str = "") -> None:
        """Give out ``doc_id``, first seen in ``source`` at ``where`` ("line 3", "row 7")."""
        if not self._sources or (self._sources[-1] is not source and self._sources[-1] != source):
            self._sources.append(source)
        word, _, number = where.partition(" ")
        if not where:
            code = 0
        elif word in ("line", "row") and number.isdecimal() and str(int(number)) == number:
            code = int(number) << 2 | (1 if word == "line" else 2)
        else:
            if where not in self._words:
                self._words.append(where)
            code = self._words.index(where) << 2 | 3
        self._seen[doc_id] = code << 32 | (len(self._sources) - 1)

    def origin(self, doc_id: str) -> str:
        """Where ``doc_id`` was first seen: the source, and the line or row in it."""
        value = self._seen[doc_id]
        source, code = self._sources[value & 0xFFFFFFFF], value >> 32
        if code == 0:
            return source
        tag, n = code & 3, code >> 2
        where = f"line {n}" if tag == 1 else f"row {n}" if tag == 2 else self._words[n]
        return f"{source} {where}"

    def unused(self, candidate: str) -> str:
        """``candidate``, or ``candidate#2``, ``#3``... when it is taken."""
        if candidate not in self._seen:
            return candidate
        n = 2
        while f"{candidate}#{n}" in self._seen:
            n += 1
        return f"{candidate}#{n}"


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


def _parquet_metadata(path: Path, display: str) -> pq.FileMetaData | Unit:
    """The file's footer, or a unit that fails it as one row."""
    try:
        return pq.read_metadata(path)
    except Exception as e:  # pyarrow raises several types for a bad file
        return Unit(
            "parquet",
            str(path),
            display,
            _size(path),
            error=f"not a readable Parquet file: {e}",
        )


def _text_bytes(rg: pq.RowGroupMetaData, text_column: str) -> int:
    """The uncompressed size of a row group's text column (all its columns without one)."""
    for i in range(rg.num_columns):
        column = rg.column(i)
        if column.path_in_schema == text_column:
            return int(column.total_uncompressed_size)
    return int(rg.total_byte_size)


def _parquet_file_unit(path: Path, display: str, options: InputOptions) -> Unit:
    """One unit for all the row groups of a Parquet file (``plan_units``)."""
    meta = _parquet_metadata(path, display)
    if isinstance(meta, Unit):
        return meta
    size = sum(
        _text_bytes(meta.row_group(g), options.text_column) for g in range(meta.num_row_groups)
    )
    return Unit("parquet", str(path), display, size)


def _parquet_units(path: Path, display: str) -> list[Unit]:
    """Units of about ``PARQUET_SLICE_BYTES`` each: row groups, or row ranges of one."""
    meta = _parquet_metadata(path, display)
    if isinstance(meta, Unit):
        return [meta]
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


def _collect(
    inputs: Sequence[str], options: InputOptions, *, slices: bool
) -> tuple[list[Unit], list[int]]:
    """The units of each INPUT argument, and the index of the argument each comes from."""
    units: list[Unit] = []
    origins: list[int] = []  # the INPUT argument each unit comes from
    for index, arg in enumerate(inputs):
        origins += [index - 1] * (len(units) - len(origins))
        if arg == "-":
            # plan_inputs: read now, the units travel to other processes; plan_units: read
            # (spooled to a temporary file) when the unit is read
            data = sys.stdin.buffer.read() if slices else None
            size = len(data) if data is not None else 0
            units.append(Unit("stdin", "-", "-", size, doc_id="stdin", payload=data))
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
            if slices:
                units.extend(_parquet_units(path, display))
            else:
                units.append(_parquet_file_unit(path, display, options))
        elif kind is not None:
            units.append(Unit(kind, str(path), display, _size(path)))
        else:
            units.append(
                Unit("text", str(path), display, _size(path), doc_id=_rel(path, path.parent))
            )
    origins += [len(inputs) - 1] * (len(units) - len(origins))
    return units, origins


def plan_units(inputs: Sequence[str], options: InputOptions | None = None) -> list[Unit]:
    """Turn INPUT arguments into units for ``read_units``, without reading any table.

    Lists folders and reads Parquet footers; one unit per file. Raises InputError for a
    missing path. Files given twice and colliding file names are settled here; the ids
    inside tables are settled by ``read_units`` as it streams.
    """
    options = options or InputOptions()
    units, origins = _collect(inputs, options, slices=False)
    return _settle_files(units, origins)


def plan_inputs(inputs: Sequence[str], options: InputOptions | None = None) -> list[Unit]:
    """Turn INPUT arguments into units that can be read independently (``read_unit``).

    Raises InputError for a missing path. Every document id of the plan is unique (see
    the module docstring): table files are streamed through once here to learn their
    ids, and each unit carries its duplicate rows.
    """
    options = options or InputOptions()
    units, origins = _collect(inputs, options, slices=True)
    return _settle_rows(_settle_files(units, origins), options)


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


def _settle_files(units: list[Unit], origins: list[int]) -> list[Unit]:
    """Mark files given twice as duplicate inputs; colliding file names take their path."""
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
            unit = replace(unit, doc_id=qualified, notes=(*unit.notes, note))
        planned.append(unit)
    return planned


def _settle_rows(units: list[Unit], options: InputOptions) -> list[Unit]:
    """In input order, the first holder of an id keeps it; later rows record duplicates."""
    ids = DocIds()
    out: list[Unit] = []
    for unit in units:
        if _single(unit):
            out.append(_settle_unit(unit, ids))
            continue
        duplicates = []
        for row_key, where, default_id, doc_id in _scan_ids(unit, options):
            taken = _settle_row(ids, unit.display, where, default_id, doc_id)
            if taken is not None:
                duplicates.append((row_key, *taken))
        out.append(replace(unit, duplicates=tuple(duplicates)) if duplicates else unit)
    return out


def _single(unit: Unit) -> bool:
    """A unit of one row whose id is known without reading: a text file, a failed unit."""
    return unit.kind == "text" or unit.error is not None


def _settle_unit(unit: Unit, ids: DocIds) -> Unit:
    """``unit`` (see ``_single``) with its id given out: a duplicate id fails it."""
    doc_id = _failure_id(unit)
    if doc_id in ids and unit.error is None:
        reason = f"duplicate doc_id {doc_id!r} (first seen in {ids.origin(doc_id)})"
        doc_id = ids.unused(Path(unit.display).as_posix())
        unit = replace(unit, error=reason)
    elif doc_id in ids:
        doc_id = ids.unused(Path(unit.display).as_posix())
    ids.add(doc_id, unit.display)
    return replace(unit, doc_id=doc_id)


def _settle_row(
    ids: DocIds, source: str, where: str, default_id: str, doc_id: str
) -> tuple[str, str] | None:
    """Give out a table row's id; for a duplicate, (the id it gets instead, the reason)."""
    if doc_id in ids:
        reason = f"{where}: duplicate doc_id {doc_id!r} (first seen in {ids.origin(doc_id)})"
        new_id = ids.unused(default_id)
        ids.add(new_id, source, where)
        return new_id, reason
    ids.add(doc_id, source, where)
    return None


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
        rows = _parquet_rows(unit, options, ids_only=True)
        for key, where, default_id, row, _error in rows:
            yield key, where, default_id, _effective_id(row, default_id, options)
        return
    with ExitStack() as stack:
        try:
            fh = stack.enter_context(_open_binary(unit))
        except OSError:
            yield 0, "file", unit.display, unit.display
            return
        kind = _sniff(fh, options) if unit.kind == "stdin" else unit.kind
        if kind == "text":
            yield 0, "input", unit.doc_id or unit.display, unit.doc_id or unit.display
            return
        for key, where, default_id, row, _error in _table_rows(kind, unit, fh, options):
            yield key, where, default_id, _effective_id(row, default_id, options)


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


def _sniff(fh: IO[bytes], options: InputOptions) -> UnitKind:
    """``_stdin_kind`` of a whole file, from its first non-blank bytes; rewinds ``fh``."""
    if options.stdin_format != "auto":
        return "jsonl" if options.stdin_format == "jsonl" else "text"
    kind: UnitKind = "text"
    while chunk := fh.read(READ_CHUNK_BYTES):
        if stripped := chunk.lstrip():
            kind = _stdin_kind(stripped[:1], options)
            break
    fh.seek(0)
    return kind


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
    home: Any = None,
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
    if isinstance(home, str) and home.strip():
        meta["home"] = clean_text(home.strip()).upper()[:32]
    elif options.home:
        meta["home"] = options.home
    parsed = parse_date(doc_date)
    if parsed:
        meta["date"] = parsed
    elif doc_date not in (None, ""):
        shown = clean_text(repr(doc_date)[:40])
        meta["warnings"] = "\n".join([*warnings, f"unparsed date {shown}"])
    return Document(doc_id=doc_id, text=text, source=source, sha256=sha, metadata=meta)


def _read_text_unit(
    unit: Unit, options: InputOptions, fh: IO[bytes] | None = None
) -> Iterator[Document | Outcome]:
    """The one document of a text file (or of stdin as text: ``fh``, or the payload)."""
    doc_id = unit.doc_id or unit.display
    limit = 4 * options.max_doc_chars  # UTF-8 and UTF-32 take at most 4 bytes a character
    size = unit.size if fh is None else _remaining(fh)
    if unit.payload is None and size > limit:
        yield Outcome(
            doc_id,
            unit.display,
            "skipped",
            f"document too large: {size} bytes, more than {options.max_doc_chars} "
            "characters (not read)",
            warnings=unit.notes,
        )
        return
    if unit.payload is not None:
        data: bytes | Outcome = unit.payload
    else:
        data = fh.read() if fh is not None else _read_bytes(unit)
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


def _remaining(fh: IO[bytes]) -> int:
    here = fh.tell()
    size = fh.seek(0, os.SEEK_END) - here
    fh.seek(here)
    return size


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


@contextmanager
def _open_binary(unit: Unit) -> Iterator[IO[bytes]]:
    """The unit's bytes as a seekable file: its payload, stdin spooled to a temporary file
    (once, in ``read_units``), or the file itself. Raises OSError."""
    if unit.payload is not None:
        yield io.BytesIO(unit.payload)
    elif unit.kind == "stdin":
        with tempfile.TemporaryFile(prefix="claimtag-stdin-") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, READ_CHUNK_BYTES)
            spool.seek(0)
            yield spool
    else:
        with open(unit.path, "rb") as fh:
            yield fh


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
    if doc_id.isprintable():  # no control character, no surrogate: the common case
        return doc_id, None
    for c in doc_id:
        if unicodedata.category(c) in ("Cc", "Cs"):
            what = "a control character" if unicodedata.category(c) == "Cc" else "a lone surrogate"
            return default_id, f"{column!r} contains {what} (U+{ord(c):04X})"
    return doc_id, None


def _row_doc(
    row: Any,
    where: str,
    default_id: str,
    source: str,
    options: InputOptions,
    row_id: tuple[str, str | None] | None = None,
) -> Document | Outcome:
    """One table row (a mapping) as a document, or an Outcome explaining why not.

    ``row_id``: ``_row_id`` of the row when the caller has it already.
    """
    if not isinstance(row, dict):
        return Outcome(
            default_id, source, "failed", f"{where}: expected an object, got {type(row).__name__}"
        )
    doc_id, problem = row_id or _row_id(row, default_id, options)
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
    try:  # encoded once: to check for lone surrogates, and for the hash
        sha: str | None = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        sha = None
        text = clean_text(text)
        warnings.append("lone surrogate code point(s) replaced with U+FFFD")
    date_col = options.date_column or "date"
    home = row.get(options.home_column) if options.home_column else None
    return _make_doc(doc_id, text, source, warnings, row.get(date_col), options, sha, home)


# A row of a table file: (row key, where, position id, the parsed row or None, error or None).
# Failures that are not one row (a Parquet row group that cannot be read) have the key -1.
_Row = tuple[int, str, str, Any, str | None]


def _decode_problem(fh: IO[bytes], encoding: str) -> str | None:
    """Why ``fh`` does not decode strictly as ``encoding`` ("reason at byte N"), or None.
    One streamed pass; rewinds ``fh``."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    try:
        while True:
            chunk = fh.read(READ_CHUNK_BYTES)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                return f"{e.reason} at byte {offset - pending + e.start}"
            if not chunk:
                return None
            offset += len(chunk)
    finally:
        fh.seek(0)


def _replaced_count(fh: IO[bytes]) -> tuple[int, int]:
    """(U+FFFD in ``fh`` decoded as UTF-8 with replacement, bytes); rewinds ``fh``."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    bad = size = 0
    while chunk := fh.read(READ_CHUNK_BYTES):
        size += len(chunk)
        bad += decoder.decode(chunk).count("\ufffd")
    bad += decoder.decode(b"", final=True).count("\ufffd")
    fh.seek(0)
    return bad, size


def _text_stream(fh: IO[bytes], newline: str) -> tuple[IO[str] | None, str | None]:
    """A table file as text, decoded as ``decode_text`` decodes a whole file (checked in a
    streamed pass first, so that no row is read from a file that is then refused), or
    None and the reason the file is refused."""
    head = fh.read(65536)
    fh.seek(0)
    errors = "strict"
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            problem = _decode_problem(fh, encoding)
            if problem is not None:
                return None, f"undecodable {encoding} text: {problem}"
            break
    else:
        if b"\x00" in head:
            return None, "binary file (contains NUL bytes)"
        if head and sum(b in _CONTROL for b in head) > max(8, len(head) // 100):
            return None, "binary file (control bytes)"
        encoding = "utf-8"
        if _decode_problem(fh, encoding) is not None:
            bad, size = _replaced_count(fh)
            if bad > max(16, size // 20):
                return None, f"not UTF-8 text ({bad} undecodable sequences)"
            errors = "replace"
    stream = io.TextIOWrapper(fh, encoding=encoding, errors=errors, newline=newline)
    return stream, None


def _table_rows(kind: UnitKind, unit: Unit, fh: IO[bytes], options: InputOptions) -> Iterator[_Row]:
    rows = _jsonl_rows(unit, fh) if kind == "jsonl" else _csv_rows(unit, fh, options)
    try:
        yield from rows
    except (OSError, UnicodeDecodeError) as e:  # the file changed, or the disk failed
        reason = e.strerror if isinstance(e, OSError) else None
        yield -1, "file", unit.display, None, f"cannot read: {reason or e}; rest not read"


def _jsonl_rows(unit: Unit, fh: IO[bytes]) -> Iterator[_Row]:
    text, reason = _text_stream(fh, "\n")
    if text is None:
        yield 0, "file", unit.display, None, reason
        return
    for n, line in enumerate(text, start=1):
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


def _csv_rows(unit: Unit, fh: IO[bytes], options: InputOptions) -> Iterator[_Row]:
    text, reason = _text_stream(fh, "")
    if text is None:
        yield 0, "file", unit.display, None, reason
        return
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(text)
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


def _parquet_rows(unit: Unit, options: InputOptions, *, ids_only: bool = False) -> Iterator[_Row]:
    """The rows of a Parquet unit, decoded a record batch at a time.

    ``ids_only``: decode the id column alone (rows without it are ``{}``), to scan ids.
    """
    try:
        pf = pq.ParquetFile(unit.path, buffer_size=READ_CHUNK_BYTES, pre_buffer=False)
    except Exception as e:  # the file changed since it was planned
        message = f"not a readable Parquet file: {clean_text(str(e))}"
        yield -1, "file", _failure_id(unit), None, message
        return
    with pf:
        try:
            names = pf.schema_arrow.names
            meta = pf.metadata
        except Exception as e:
            message = f"not a readable Parquet file: {clean_text(str(e))}"
            yield -1, "file", _failure_id(unit), None, message
            return
        if options.text_column not in names:
            if not unit.row_group and unit.row_start == 0:  # once per file, not per slice
                columns = list(map(clean_text, names))
                message = f"no {options.text_column!r} column (columns: {columns})"
                yield -1, "file", unit.display, None, message
            return
        date_col = options.date_column or ("date" if "date" in names else None)
        if options.date_column and options.date_column not in names:
            date_col = None
        wanted = [options.id_column] if ids_only else [options.id_column, options.text_column]
        if date_col and not ids_only:
            wanted.append(date_col)
        if options.home_column and not ids_only:
            wanted.append(options.home_column)
        columns = [c for c in dict.fromkeys(wanted) if c in names]
        whole = unit.row_group is None
        groups = list(range(meta.num_row_groups)) if whole else [unit.row_group or 0]
        first = sum(meta.row_group(g).num_rows for g in range(groups[0])) if groups else 0
        for g in groups:
            n_rows = meta.row_group(g).num_rows
            start, stop = (0, n_rows) if whole else (unit.row_start, n_rows)
            if not whole and unit.row_stop is not None:
                stop = min(unit.row_stop, n_rows)
            yield from _group_rows(pf, g, first, start, stop, columns, unit, options)
            first += n_rows


def _group_rows(
    pf: pq.ParquetFile,
    g: int,
    first: int,
    start: int,
    stop: int,
    columns: list[str],
    unit: Unit,
    options: InputOptions,
) -> Iterator[_Row]:
    """Rows ``start`` to ``stop`` of row group ``g`` (``first``: the file's row number of
    the group's first row), one record batch decoded at a time.

    A row group that cannot be decoded fails as one row from where decoding stopped: the
    rows before it were read. The footer's row count is checked against the column chunks
    first, so that a group the file lists more rows for than it holds fails whole.
    """
    display = unit.display

    def failed(at: int, why: str) -> _Row:
        suffix = f":{at}" if at else ""
        return (
            -1,
            "row group",
            f"{display}#rg{g}{suffix}",
            None,
            f"cannot read Parquet row group {g} (rows {at}-{stop} of the group): "
            + clean_text(why),
        )

    if start >= stop:
        return
    try:
        problem = _group_problem(pf, g, columns)
        batch_rows = _batch_rows(pf.metadata.row_group(g), options.text_column)
    except Exception as e:
        problem = str(e)
    if problem is not None:
        yield failed(start, problem)
        return
    if not columns:  # scanning the ids of a file without an id column: nothing to decode
        for r in range(first + start, first + stop):
            yield r, f"row {r}", f"{display}#R{r}", {}, None
        return
    batches = pf.iter_batches(
        batch_size=batch_rows, row_groups=[g], columns=columns, use_threads=False
    )
    decoded = 0  # rows of the group decoded so far
    while decoded < stop:
        try:
            batch = next(batches, None)
        except Exception as e:  # pyarrow raises several types for a corrupt file
            yield failed(max(decoded, start), str(e))
            return
        if batch is None:
            break
        low, decoded = decoded, decoded + batch.num_rows
        if decoded <= start:
            continue
        begin, end = max(low, start), min(decoded, stop)
        part = batch.slice(begin - low, end - begin)
        del batch
        names = part.schema.names
        try:  # a string column with invalid UTF-8 fails here, not in the decoder
            values = [part.column(i).to_pylist() for i in range(part.num_columns)]
        except Exception as e:
            yield failed(begin, str(e))
            return
        del part
        for i, row in enumerate(zip(*values, strict=True)):
            r = first + begin + i
            yield r, f"row {r}", f"{display}#R{r}", dict(zip(names, row, strict=True)), None
    if decoded < stop:
        expected = pf.metadata.row_group(g).num_rows
        yield failed(max(decoded, start), f"{decoded} row(s) decoded, the file lists {expected}")


def _group_problem(pf: pq.ParquetFile, g: int, columns: list[str]) -> str | None:
    """Why row group ``g`` cannot hold the rows it lists, from the footer alone: a flat
    column chunk holds one value (or null) per row."""
    rg = pf.metadata.row_group(g)
    schema = pf.schema
    for i in range(rg.num_columns):
        chunk = rg.column(i)
        if chunk.path_in_schema not in columns or schema.column(i).max_repetition_level:
            continue
        if chunk.num_values != rg.num_rows:
            return (
                f"column {clean_text(chunk.path_in_schema)!r} holds {chunk.num_values} "
                f"value(s), the row group lists {rg.num_rows} row(s)"
            )
    return None


def _batch_rows(rg: pq.RowGroupMetaData, text_column: str) -> int:
    """Rows per record batch: about ``PARQUET_READ_BYTES`` of text."""
    rows = PARQUET_READ_BYTES * int(rg.num_rows) // max(_text_bytes(rg, text_column), 1)
    return max(1, min(PARQUET_MAX_BATCH_ROWS, rows))


# How a reader settles the id of each table row: (key, where, position id, the row's
# ``_row_id``) -> None (the row keeps its id), or (the id it gets, the duplicate reason).
_Settle = Callable[[int, str, str, str], tuple[str, str] | None]


def _planned(unit: Unit) -> _Settle:
    """The duplicates ``plan_inputs`` found for ``unit``."""
    duplicates = {key: (doc_id, reason) for key, doc_id, reason in unit.duplicates}

    def settle(key: int, where: str, default_id: str, doc_id: str) -> tuple[str, str] | None:
        return duplicates.get(key) if key >= 0 else None

    return settle


def _live(unit: Unit, ids: DocIds) -> _Settle:
    """Duplicates found while reading, in input order (``read_units``)."""

    def settle(key: int, where: str, default_id: str, doc_id: str) -> tuple[str, str] | None:
        return _settle_row(ids, unit.display, where, default_id, doc_id)

    return settle


def _read_table(unit: Unit, options: InputOptions, settle: _Settle) -> Iterator[Document | Outcome]:
    """The documents of a table unit (JSONL, CSV, Parquet, stdin), streamed."""
    if unit.kind == "parquet":
        yield from _emit(_parquet_rows(unit, options), unit, options, settle)
        return
    with ExitStack() as stack:
        try:
            fh = stack.enter_context(_open_binary(unit))
        except OSError as e:
            row: _Row = (0, "file", unit.display, None, f"cannot read: {e.strerror or e}")
            yield from _emit(iter([row]), unit, options, settle)
            return
        kind = _sniff(fh, options) if unit.kind == "stdin" else unit.kind
        if kind == "text":  # stdin as one text document
            doc_id = unit.doc_id or unit.display
            taken = settle(0, "input", doc_id, doc_id)
            if taken is not None:
                yield Outcome(taken[0], unit.display, "failed", taken[1])
            else:
                yield from _read_text_unit(unit, options, fh)
            return
        yield from _emit(_table_rows(kind, unit, fh, options), unit, options, settle)


def _emit(
    rows: Iterable[_Row], unit: Unit, options: InputOptions, settle: _Settle
) -> Iterator[Document | Outcome]:
    for key, where, default_id, row, error in rows:
        row_id = _row_id(row, default_id, options) if isinstance(row, dict) else None
        doc_id = row_id[0] if row_id is not None and row_id[1] is None else default_id
        taken = settle(key, where, default_id, doc_id)
        if taken is not None:
            yield Outcome(taken[0], unit.display, "failed", taken[1])
        elif error is not None:
            yield Outcome(default_id, unit.display, "failed", error)
        else:
            yield _row_doc(row, where, default_id, unit.display, options, row_id)


def read_unit(unit: Unit, options: InputOptions) -> Iterator[Document | Outcome]:
    """Documents (and outcomes for unreadable ones) of one unit of ``plan_inputs``, in
    input order."""
    if unit.error is not None:
        yield Outcome(unit.doc_id or _failure_id(unit), unit.display, "failed", unit.error)
        return
    if unit.kind == "text":
        yield from _read_text_unit(unit, options)
        return
    yield from _read_table(unit, options, _planned(unit))


def read_units(
    units: Iterable[Unit], options: InputOptions, ids: DocIds | None = None
) -> Iterator[Document | Outcome]:
    """Documents (and outcomes) of the units of ``plan_units``, streamed in input order.

    Ids are settled as they are met (``ids``: those given out already), with the same
    results as ``plan_inputs``. At most one Parquet record batch, one text file or one
    table row is held at a time besides what the caller keeps.
    """
    ids = DocIds() if ids is None else ids
    for unit in units:
        if _single(unit):
            yield from read_unit(_settle_unit(unit, ids), options)
        else:
            yield from _read_table(unit, options, _live(unit, ids))


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
