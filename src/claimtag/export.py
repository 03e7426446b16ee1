"""Exporting claims: filtered, ordered, schema-checked JSONL, CSV or JSON files with a manifest.

An export reads the claims dataset of an output folder (``claimtag.store.claims_dataset``),
keeps the claims that pass an :class:`ExportFilter` (pushed down to pyarrow where it can
be), orders them by ``doc_id, sentence_index, claim_type`` (then ``run_id, claim_id``, so
the order is total), checks every record against the published claim JSON Schema and
writes them to one file. Beside it, ``<file>.manifest.json`` records the schema ``$id`` and
version, the rule-pack versions, the filter, the row count, the format and the file's
SHA-256, so that ``claimtag validate <file>`` can check the file later.

The export file is written under a hidden temporary name in its folder and renamed at the
end; if any record fails the schema, nothing is left behind. The same dataset and filter
give the same bytes (gzip headers carry no time or name), hence the same SHA-256.

Memory stays bounded: a first pass counts the matching rows per document (one column);
the second reads, sorts and writes groups of whole documents of at most ``chunk_rows``
rows (a single larger document is one group).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from claimtag import CLAIM_TYPES
from claimtag.errors import ExportValidationError, InputError
from claimtag.schemas import fast_validator, load_schema, validator
from claimtag.store import CLAIMS, claims_dataset
from claimtag.validation import jsonable

FORMATS: tuple[str, ...] = ("jsonl", "csv", "json")
ORDER_BY: tuple[str, ...] = ("doc_id", "sentence_index", "claim_type", "run_id", "claim_id")
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_KIND = "claimtag.export"
MANIFEST_VERSION = 1
CSV_NULL = ""
CSV_LINE_END = "\n"


def claim_fields() -> list[str]:
    """The claim record's fields in the schema's order (the column order of every export)."""
    return list(load_schema("claim")["properties"])


def csv_json_columns() -> list[str]:
    """Claim fields written to CSV as JSON text: the arrays and objects of the schema."""
    props = load_schema("claim")["properties"]
    return [name for name, p in props.items() if p.get("type") in ("array", "object")]


# --- filter -------------------------------------------------------------------------------


def parse_since(text: str) -> date:
    """A ``--since`` value: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` → the first day it names."""
    s = text.strip()
    try:
        if len(s) == 4 and s.isdigit():
            return date(int(s), 1, 1)
        if len(s) == 7 and s[4] == "-":
            return date(int(s[:4]), int(s[5:]), 1)
        return date.fromisoformat(s)
    except ValueError as e:
        raise InputError(f"--since: not a date (YYYY, YYYY-MM or YYYY-MM-DD): {text!r}") from e


def parse_instant(text: str) -> datetime:
    """An ``--extracted-since`` value: an RFC 3339 time or a date; naive means UTC."""
    s = text.strip()
    try:
        value = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(f"--extracted-since: not a date or date-time: {text!r}") from e
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Which claims an export keeps. Empty tuples and ``None`` mean "no condition".

    ``since`` is compared with ``doc_date`` (the date the document speaks for): claims
    without a ``doc_date`` are left out when it is set. ``extracted_since`` is compared
    with ``extracted_at`` (when claimtag built the record). Negated claims are left out
    unless ``include_negated``.
    """

    claim_types: tuple[str, ...] = ()
    min_confidence: float | None = None
    actors: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    since: date | None = None
    extracted_since: datetime | None = None
    include_negated: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.claim_types) - set(CLAIM_TYPES))
        if unknown:
            raise InputError(
                f"unknown claim type(s) {', '.join(unknown)}; choose from {', '.join(CLAIM_TYPES)}"
            )
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"--min-confidence must be between 0 and 1, not {self.min_confidence}")
        object.__setattr__(self, "actors", tuple(sorted({a.strip().upper() for a in self.actors})))

    def expression(self) -> ds.Expression | None:
        """The conditions pyarrow can evaluate while scanning (all but ``actors``)."""
        parts: list[ds.Expression] = []
        if self.claim_types:
            parts.append(pc.field("claim_type").isin(list(self.claim_types)))
        if self.min_confidence is not None:
            parts.append(pc.field("confidence") >= self.min_confidence)
        if self.doc_ids:
            parts.append(pc.field("doc_id").isin(list(self.doc_ids)))
        if self.since is not None:
            parts.append(pc.field("doc_date") >= pa.scalar(self.since, pa.date32()))
        if self.extracted_since is not None:
            stamp = pa.scalar(self.extracted_since, pa.timestamp("us", tz="UTC"))
            parts.append(pc.field("extracted_at") >= stamp)
        if not self.include_negated:
            parts.append(pc.field("negated") == pa.scalar(False))
        if not parts:
            return None
        expr = parts[0]
        for part in parts[1:]:
            expr = expr & part
        return expr

    def keep_actors(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` naming at least one of ``actors`` (all rows when none given).

        pyarrow has no list-membership kernel for scan filters, so this runs on each group
        of documents after the scan.
        """
        if not self.actors or table.num_rows == 0:
            return table
        column = table.column("actors").combine_chunks()
        hits = pc.is_in(pc.list_flatten(column), value_set=pa.array(self.actors, pa.string()))
        return table.take(pc.unique(pc.filter(pc.list_parent_indices(column), hits)))

    def as_dict(self) -> dict[str, Any]:
        """The filter as JSON, for the manifest."""
        return {
            "claim_types": list(self.claim_types),
            "min_confidence": self.min_confidence,
            "actors": list(self.actors),
            "doc_ids": list(self.doc_ids),
            "since": self.since.isoformat() if self.since else None,
            "since_field": "doc_date",
            "extracted_since": jsonable(self.extracted_since) if self.extracted_since else None,
            "include_negated": self.include_negated,
        }


# --- reading the dataset in order ---------------------------------------------------------


def _dataset(out: Path) -> ds.Dataset:
    return claims_dataset(out.parent if out.name == CLAIMS else out)


def _doc_groups(
    dataset: ds.Dataset, expr: ds.Expression | None, chunk_rows: int
) -> list[list[str]]:
    """Sorted doc ids of the matching claims, grouped so a group has <= chunk_rows rows."""
    counts: Counter[str] = Counter()
    scanner = dataset.scanner(columns=["doc_id"], filter=expr)
    for batch in scanner.to_batches():
        if batch.num_rows:
            for item in pc.value_counts(batch.column(0)).to_pylist():
                counts[item["values"]] += item["counts"]
    groups: list[list[str]] = []
    size = 0
    for doc_id in sorted(counts, key=lambda d: d.encode("utf-8")):
        if not groups or size + counts[doc_id] > chunk_rows:
            groups.append([])
            size = 0
        groups[-1].append(doc_id)
        size += counts[doc_id]
    return groups


def ordered_tables(
    dataset: ds.Dataset, flt: ExportFilter, *, chunk_rows: int = 100_000
) -> Iterator[pa.Table]:
    """The matching claims as tables in export order, each holding whole documents."""
    expr = flt.expression()
    groups = _doc_groups(dataset, expr, chunk_rows)
    for group in groups:
        group_expr = expr
        if len(groups) > 1:
            in_group = pc.field("doc_id").isin(group)
            group_expr = in_group if expr is None else expr & in_group
        table = flt.keep_actors(dataset.to_table(filter=group_expr))
        if table.num_rows:
            yield table.sort_by([(key, "ascending") for key in ORDER_BY])


def ordered_records(
    out: Path, flt: ExportFilter, *, chunk_rows: int = 100_000
) -> Iterator[dict[str, Any]]:
    """The claims of output folder ``out`` that pass ``flt``, as JSON records (fields in
    schema order), in export order. Raises StoreError at once when ``out`` has no claims."""
    return _records(_dataset(out), flt, chunk_rows)


def _json_columns(table: pa.Table) -> pa.Table:
    """Dates and UTC times as the RFC 3339 strings of the JSON records, computed by Arrow
    (the same text as ``validation.jsonable``, without building Python datetimes)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            utc = table.column(i).cast(pa.timestamp("us", tz="UTC"))
            text = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")  # %S carries the microseconds
            table = table.set_column(i, f.name, text)
        elif pa.types.is_date(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def _records(dataset: ds.Dataset, flt: ExportFilter, chunk_rows: int) -> Iterator[dict[str, Any]]:
    fields = claim_fields()
    for table in ordered_tables(dataset, flt, chunk_rows=chunk_rows):
        for batch in _json_columns(table.select(fields)).to_batches(max_chunksize=4096):
            yield from batch.to_pylist()


# --- writing ------------------------------------------------------------------------------


def _csv_cell(value: Any, as_json: bool) -> str:
    if value is None:
        return CSV_NULL
    if as_json:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _RecordWriter:
    """Writes records in one format to a text stream."""

    def __init__(self, fh: IO[str], fmt: str) -> None:
        self.fh, self.fmt, self.rows = fh, fmt, 0
        self.fields = claim_fields()
        self.json_columns = set(csv_json_columns())
        self.csv = csv.writer(fh, lineterminator=CSV_LINE_END) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(self.fields)
        elif fmt == "json":
            fh.write("[")

    def write(self, record: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow([_csv_cell(record[f], f in self.json_columns) for f in self.fields])
        elif self.fmt == "json":
            self.fh.write(
                ("\n" if self.rows == 0 else ",\n") + json.dumps(record, ensure_ascii=False)
            )
        else:
            self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.fh.write("\n]\n" if self.rows else "]\n")


def infer_format(path: Path) -> tuple[str | None, bool]:
    """(format, gzip) from a file name such as ``claims.csv.gz``; format None when unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    return (ext if ext in FORMATS else None), gz


def manifest_path(path: Path) -> Path:
    """Where the manifest of export file ``path`` lives: ``<path>.manifest.json``."""
    return path.with_name(path.name + MANIFEST_SUFFIX)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, _new_file_mode())
    os.close(fd)
    return Path(tmp)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote."""

    path: Path
    manifest_path: Path
    rows: int
    sha256: str
    manifest: dict[str, Any] = field(repr=False)


def _check(record: dict[str, Any]) -> None:
    if fast_validator("claim").is_valid(record):
        return
    errors = sorted(validator("claim").iter_errors(record), key=lambda e: (e.json_path, e.message))
    problems = [f"{e.json_path}: {e.message}" for e in errors]
    where = (
        f"claim {record.get('claim_id')!r} ({record.get('doc_id')!r}, sentence "
        f"{record.get('sentence_index')}, {record.get('claim_type')})"
    )
    raise ExportValidationError(where, problems)


def export_claims(
    out: Path,
    to: Path,
    *,
    fmt: str | None = None,
    flt: ExportFilter | None = None,
    compress: bool = False,
    chunk_rows: int = 100_000,
) -> ExportResult:
    """Export the claims of output folder ``out`` to ``to``; write the manifest beside it.

    ``fmt`` defaults to the file's suffix (``.jsonl``, ``.csv``, ``.json``, optionally
    ``.gz``). ``compress`` (or a ``.gz`` suffix) gzips the file; with ``compress`` a
    missing ``.gz`` is appended to the name. Raises :class:`ExportValidationError` when
    a record breaks the claim schema (nothing is written then), :class:`InputError` for
    unusable options and :class:`StoreError` when ``out`` holds no claims.
    """
    flt = flt or ExportFilter()
    inferred, gz_suffix = infer_format(to)
    fmt = fmt or inferred
    if fmt not in FORMATS:
        raise InputError(
            f"cannot tell the export format of {to.name}; pass --format {'|'.join(FORMATS)}"
        )
    compress = compress or gz_suffix
    if compress and not gz_suffix:
        to = to.with_name(to.name + ".gz")
    if to.is_dir():
        raise InputError(f"--to is a directory: {to}")
    if chunk_rows < 1:
        raise InputError("chunk_rows must be positive")
    records = ordered_records(out, flt, chunk_rows=chunk_rows)  # fails early on a bad `out`
    schema = load_schema("claim")
    try:
        to.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create {to.parent}: {e.strerror or e}") from e
    final_manifest = manifest_path(to)
    temps: list[Path] = []
    try:
        tmp = _temp_beside(to)
        temps.append(tmp)
        rule_packs: set[str] = set()
        run_ids: set[str] = set()
        record_versions: set[str] = set()
        with ExitStack() as stack:
            raw = stack.enter_context(tmp.open("wb"))
            binary: IO[bytes] = raw
            if compress:
                gz = stack.enter_context(
                    gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
                )
                binary = cast(IO[bytes], gz)
            text = stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8", newline=""))
            writer = _RecordWriter(text, fmt)
            for record in records:
                _check(record)
                writer.write(record)
                rule_packs.add(record["rule_pack_version"])
                run_ids.add(record["run_id"])
                record_versions.add(record["schema_version"])
            writer.close()
            text.flush()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        digest = sha256_file(tmp)
        manifest: dict[str, Any] = {
            "kind": MANIFEST_KIND,
            "manifest_version": MANIFEST_VERSION,
            "file": to.name,
            "format": fmt,
            "compression": "gzip" if compress else None,
            "rows": writer.rows,
            "bytes": tmp.stat().st_size,
            "sha256": digest,
            "schema": {"id": schema["$id"], "version": schema["version"]},
            "record_schema_versions": sorted(record_versions),
            "rule_pack_versions": sorted(rule_packs),
            "run_ids": sorted(run_ids),
            "filter": flt.as_dict(),
            "order_by": list(ORDER_BY),
            "source": str(out.resolve()),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "claimtag_version": _version(),
        }
        if fmt == "csv":
            manifest["csv"] = {
                "columns": claim_fields(),
                "json_columns": csv_json_columns(),
                "null": CSV_NULL,
                "booleans": ["true", "false"],
                "line_end": CSV_LINE_END,
                "encoding": "utf-8",
            }
        tmp_manifest = _temp_beside(final_manifest)
        temps.append(tmp_manifest)
        tmp_manifest.write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        os.replace(tmp, to)
        os.replace(tmp_manifest, final_manifest)
    except OSError as e:
        raise InputError(f"cannot write {to}: {e.strerror or e}") from e
    finally:
        for path in temps:
            with suppress(OSError):
                path.unlink()
    return ExportResult(to, final_manifest, writer.rows, digest, manifest)


def _version() -> str:
    import claimtag

    return str(claimtag.__version__)


# --- reading and checking an export -------------------------------------------------------


def _csv_value(text: str, prop: dict[str, Any]) -> Any:
    """One CSV cell back to its JSON value, by the claim schema's type for the column."""
    types = prop.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    if text == CSV_NULL and "null" in types:
        return None
    kind = next((t for t in types if t != "null"), "string")
    try:
        if kind in ("array", "object"):
            return json.loads(text)
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            return {"true": True, "false": False}.get(text, text)
    except ValueError:
        return text  # left as text: the schema check then reports the column
    return text


def read_export(path: Path, fmt: str, *, compressed: bool) -> Iterator[tuple[str, Any]]:
    """(where, record) for every record of an export file; malformed input yields a str."""
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            if fmt == "jsonl":
                for n, line in enumerate(fh, start=1):
                    if line.strip():
                        try:
                            yield f"line {n}", json.loads(line)
                        except json.JSONDecodeError as e:
                            yield f"line {n}", f"invalid JSON: {e.msg}"
            elif fmt == "json":
                try:
                    data = json.load(fh)
                except json.JSONDecodeError as e:
                    yield "file", f"invalid JSON: {e.msg} (line {e.lineno})"
                    return
                if not isinstance(data, list):
                    yield "file", "a JSON export is an array of claim records"
                    return
                for i, record in enumerate(data):
                    yield f"record {i}", record
            else:
                props = load_schema("claim")["properties"]
                reader = csv.reader(fh)
                header = next(reader, None)
                if header is None:
                    return
                for n, row in enumerate(reader, start=2):
                    if len(row) != len(header):
                        yield f"row {n}", f"{len(row)} field(s), the header has {len(header)}"
                        continue
                    yield (
                        f"row {n}",
                        {
                            name: _csv_value(cell, props.get(name, {}))
                            for name, cell in zip(header, row, strict=True)
                        },
                    )
    except (OSError, EOFError, UnicodeDecodeError) as e:
        yield "file", f"cannot read: {e}"


@dataclass(slots=True)
class ExportCheck:
    """The result of checking an export file: manifest checks and per-record schema checks."""

    path: str
    manifest: str | None
    checked: int = 0
    invalid: int = 0
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.invalid == 0 and all(passed for _, passed, _ in self.checks)

    def render(self) -> str:
        against = f" against {self.manifest}" if self.manifest else " (no manifest: records only)"
        lines = [f"{self.path}: export checked{against}"]
        lines += [
            f"  {name:<8} {'OK' if passed else 'MISMATCH'}  {detail}"
            for name, passed, detail in self.checks
        ]
        lines.append(f"  records  {self.checked} checked, {self.invalid} invalid")
        lines += [f"    {e}" for e in self.errors]
        lines.append("OK" if self.ok else "FAILED")
        return "\n".join(lines)


def applies(path: Path, manifest: Path | None) -> bool:
    """True when ``validate`` should treat ``path`` as an export file (not a dataset or JSONL)."""
    if manifest is not None:
        return True
    if not path.is_file():
        return False
    fmt, gz = infer_format(path)
    return manifest_path(path).is_file() or gz or fmt in ("csv", "json")


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"manifest not found: {path}") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read manifest {path}: {e}") from e
    missing = (
        [k for k in ("format", "rows", "sha256", "schema") if k not in data]
        if isinstance(data, dict)
        else ["(not an object)"]
    )
    if missing or data.get("kind") != MANIFEST_KIND:
        raise InputError(
            f"{path} is not a claimtag export manifest"
            + (f" (missing {', '.join(missing)})" if missing else "")
        )
    return data


def validate_export(
    path: Path, *, manifest: Path | None = None, max_errors: int = 20
) -> ExportCheck:
    """Check an export file: its SHA-256, row count and schema against its manifest, and
    every record against the claim schema. Without a manifest beside it (and none given)
    only the records are checked, in the format its suffix names."""
    if not path.is_file():
        raise InputError(f"not found: {path}")
    if manifest is None and manifest_path(path).is_file():
        manifest = manifest_path(path)
    meta = _load_manifest(manifest) if manifest is not None else None
    report = ExportCheck(str(path), str(manifest) if manifest else None)
    if meta is not None:
        fmt, compressed = str(meta["format"]), meta.get("compression") == "gzip"
        if fmt not in FORMATS:
            raise InputError(f"{manifest}: unknown format {fmt!r}")
        digest = sha256_file(path)
        report.checks.append(
            (
                "sha256",
                digest == meta["sha256"],
                digest if digest == meta["sha256"] else f"file {digest}, manifest {meta['sha256']}",
            )
        )
        current = load_schema("claim")
        same = meta["schema"].get("id") == current["$id"]
        report.checks.append(
            (
                "schema",
                same,
                current["$id"]
                if same
                else f"export written for {meta['schema'].get('id')}, this claimtag has "
                f"{current['$id']}",
            )
        )
    else:
        inferred, compressed = infer_format(path)
        fmt = inferred or "jsonl"
    fast, check = fast_validator("claim"), validator("claim")
    for where, record in read_export(path, fmt, compressed=compressed):
        report.checked += 1
        if isinstance(record, str):
            problems = [record]
        elif fast.is_valid(record):
            continue
        else:
            errors = sorted(check.iter_errors(record), key=lambda e: (e.json_path, e.message))
            problems = [f"{e.json_path}: {e.message}" for e in errors]
        report.invalid += 1
        if len(report.errors) < max_errors:
            report.errors += [f"{where}: {p}" for p in problems[:3]]
    if meta is not None:
        rows = int(meta["rows"])
        report.checks.insert(
            1,
            (
                "rows",
                rows == report.checked,
                str(rows) if rows == report.checked else f"file {report.checked}, manifest {rows}",
            ),
        )
    return report


def export_filter(
    *,
    claim_types: Sequence[str] = (),
    min_confidence: float | None = None,
    actors: Sequence[str] = (),
    doc_ids: Sequence[str] = (),
    since: str | None = None,
    extracted_since: str | None = None,
    include_negated: bool = False,
) -> ExportFilter:
    """An :class:`ExportFilter` from command-line strings."""
    return ExportFilter(
        claim_types=tuple(claim_types),
        min_confidence=min_confidence,
        actors=tuple(actors),
        doc_ids=tuple(doc_ids),
        since=parse_since(since) if since else None,
        extracted_since=parse_instant(extracted_since) if extracted_since else None,
        include_negated=include_negated,
    )
