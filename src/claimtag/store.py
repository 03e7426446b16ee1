"""Writing the output dataset: Parquet parts that appear atomically, rejects, run manifests.

Layout of an output folder::

    claims/claim_type=<type>/part-<run_id>-<batch>.parquet   hive-partitioned claim records
    documents/part-<run_id>-<batch>.parquet                   one row per input document
    rejects/<run_id>-<batch>.jsonl                            records that failed validation
    runs/<run_id>.json                                        the run manifest

Every file is written under a hidden temporary name in its final folder and renamed into
place, so a reader never sees a partial file (pyarrow, DuckDB and Polars skip dot-files).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from claimtag.errors import StoreError
from claimtag.faults import fault
from claimtag.schemas import arrow_schema, load_schema, to_arrow_table

CLAIMS = "claims"
DOCUMENTS = "documents"
REJECTS = "rejects"
RUNS = "runs"
PARTITION = "claim_type"


@dataclass(slots=True)
class WrittenBatch:
    """What writing one batch produced: paths relative to the output folder, and counts."""

    files: list[str] = field(default_factory=list)
    n_claims: dict[str, int] = field(default_factory=dict)
    n_documents: dict[str, int] = field(default_factory=dict)
    n_rejects: int = 0


def _file_mode() -> int:
    """0o666 less the process umask: what open() would give a new file."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through a hidden temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _file_metadata(kind: str, extra: Mapping[str, str]) -> dict[bytes, bytes]:
    schema = load_schema(kind)
    meta = {
        "claimtag.schema_id": schema["$id"],
        "claimtag.schema_version": schema["version"],
        **extra,
    }
    return {k.encode(): v.encode() for k, v in meta.items()}


def write_parquet(path: Path, table: pa.Table, kind: str, extra: Mapping[str, str]) -> None:
    """Write ``table`` atomically with the schema ids and ``extra`` in the file metadata."""
    metadata = {**(table.schema.metadata or {}), **_file_metadata(kind, extra)}
    table = table.replace_schema_metadata(metadata)
    atomic_write(path, lambda fh: pq.write_table(table, fh, compression="zstd"))


def write_batch(
    out: Path,
    *,
    run_id: str,
    batch: int,
    claims: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
    rule_pack_version: str,
) -> WrittenBatch:
    """Write one batch's claims (per claim type), documents and rejects."""
    written = WrittenBatch()
    stem = f"part-{run_id}-{batch:05d}"
    extra = {"claimtag.rule_pack_version": rule_pack_version, "claimtag.run_id": run_id}
    try:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for record in claims:
            by_type.setdefault(record["claim_type"], []).append(record)
        for claim_type in sorted(by_type):
            rel = f"{CLAIMS}/{PARTITION}={claim_type}/{stem}.parquet"
            table = to_arrow_table("claim", by_type[claim_type], exclude=(PARTITION,))
            write_parquet(out / rel, table, "claim", extra)
            written.files.append(rel)
            fault("write-part")
            written.n_claims[claim_type] = len(by_type[claim_type])
        if documents:
            rel = f"{DOCUMENTS}/{stem}.parquet"
            write_parquet(out / rel, to_arrow_table("document", documents), "document", extra)
            written.files.append(rel)
            for doc in documents:
                written.n_documents[doc["status"]] = written.n_documents.get(doc["status"], 0) + 1
        if rejects:
            rel = f"{REJECTS}/{run_id}-{batch:05d}.jsonl"
            lines = "".join(
                json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rejects
            )
            atomic_write(out / rel, lambda fh: fh.write(lines.encode("utf-8")))
            written.files.append(rel)
            written.n_rejects = len(rejects)
    except OSError as e:
        raise StoreError(f"cannot write to {out}: {e.strerror or e}") from e
    return written


def write_manifest(out: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``runs/<run_id>.json`` atomically."""
    path = out / RUNS / f"{manifest['run_id']}.json"
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
    except OSError as e:
        raise StoreError(f"cannot write {path}: {e.strerror or e}") from e
    return path


def claims_dataset(out: Path) -> ds.Dataset:
    """The claims of an output folder as a pyarrow dataset (claim_type as a partition column)."""
    schema = arrow_schema("claim", exclude=(PARTITION,)).append(pa.field(PARTITION, pa.string()))
    root = out / CLAIMS
    if not root.is_dir():
        raise StoreError(f"no claims dataset at {root}")
    return ds.dataset(
        root,
        format="parquet",
        schema=schema,
        partitioning=ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive"),
    )


def read_claims(out: Path, columns: Iterable[str] | None = None) -> pa.Table:
    """All claims of an output folder as one table."""
    return claims_dataset(out).to_table(columns=list(columns) if columns else None)


def read_documents(out: Path) -> pa.Table:
    """All document rows of an output folder as one table."""
    root = out / DOCUMENTS
    if not root.is_dir():
        raise StoreError(f"no documents dataset at {root}")
    return ds.dataset(root, format="parquet", schema=arrow_schema("document")).to_table()


def read_manifests(out: Path) -> list[dict[str, Any]]:
    """The run manifests of an output folder, in commit order (oldest first)."""
    runs = []
    for path in sorted((out / RUNS).glob("*.json")):
        with suppress(OSError, json.JSONDecodeError):
            runs.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(runs, key=lambda m: (int(m.get("version", 0)), str(m.get("started_at", ""))))
