"""Checking written data against the published schemas: datasets and JSONL files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from claimtag.errors import InputError
from claimtag.schemas import violations


@dataclass(slots=True)
class ValidationReport:
    """How many records were checked and what was wrong with the bad ones."""

    path: str
    checked: int = 0
    invalid: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.invalid == 0

    def render(self) -> str:
        head = f"{self.path}: {self.checked} record(s) checked, {self.invalid} invalid" + (
            " — OK" if self.ok else ""
        )
        return "\n".join([head, *(f"  {e}" for e in self.errors)])


def jsonable(value: Any) -> Any:
    """Arrow values as JSON values: timestamps and dates as RFC 3339 strings."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def _dataset_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    from claimtag.store import CLAIMS, claims_dataset

    out = path.parent if path.name == CLAIMS else path
    for batch in claims_dataset(out).to_batches():
        for i, row in enumerate(batch.to_pylist()):
            yield f"claim {row.get('claim_id', i)}", jsonable(row)


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {n}", json.loads(line)
            except json.JSONDecodeError as e:
                yield f"line {n}", _Malformed(f"invalid JSON: {e.msg}")


@dataclass(frozen=True, slots=True)
class _Malformed:
    message: str


def validate_path(path: Path, *, max_errors: int = 20) -> ValidationReport:
    """Validate a claims dataset (output folder or its claims/) or a JSONL file of claims."""
    if not path.exists():
        raise InputError(f"not found: {path}")
    records = _dataset_records(path) if path.is_dir() else _jsonl_records(path)
    report = ValidationReport(str(path))
    for where, record in records:
        report.checked += 1
        problems = (
            [record.message]
            if isinstance(record, _Malformed)
            else [f"{v.json_path}: {v.message}" for v in violations("claim", record)]
        )
        if problems:
            report.invalid += 1
            if len(report.errors) < max_errors:
                report.errors += [f"{where}: {p}" for p in problems[:3]]
    return report
