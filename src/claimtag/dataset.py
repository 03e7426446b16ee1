"""The output folder as a versioned dataset with an atomic commit protocol.

Layout::

    OUT/claims     -> _claimtag/current/claims       (symlinks: what readers open)
    OUT/documents  -> _claimtag/current/documents
    OUT/rejects    -> _claimtag/current/rejects
    OUT/runs       -> _claimtag/current/runs
    OUT/_claimtag/current -> versions/v000007        (the commit point)
    OUT/_claimtag/versions/v000007/{claims,documents,rejects,runs}/...
    OUT/_claimtag/staging/<run_id>/...               (a run's files before commit)
    OUT/_claimtag/lock                               (one run at a time)

A run writes its Parquet parts under ``staging/<run_id>``. Committing builds the next
version folder from hard links to the current version's files (rewriting only the parts
that hold documents being replaced) plus the staged files, renames it into place, and
then swaps the ``current`` symlink with one atomic rename. Readers that open
``OUT/claims`` (pyarrow, pandas, DuckDB, Polars) therefore always see one committed
version: never a partial file, a partial run or a duplicate. A run killed at any moment
leaves staging and temporary folders that the next run removes before it starts.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from claimtag.errors import StoreError
from claimtag.faults import fault
from claimtag.store import (
    CLAIMS,
    DOCUMENTS,
    PARTITION,
    REJECTS,
    RUNS,
    atomic_write,
    write_parquet,
)
from claimtag.types import Previous

META = "_claimtag"
SECTIONS = (CLAIMS, DOCUMENTS, REJECTS, RUNS)
KEEP_VERSIONS = 2


class LockTimeout(StoreError):
    """Another run holds the output folder's lock and did not release it in time."""


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Dataset:
    """An output folder: its versions, its lock and its commit protocol."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.meta = self.out / META
        self.versions = self.meta / "versions"
        self.staging_root = self.meta / "staging"

    # --- layout -------------------------------------------------------------------------

    def init(self) -> None:
        """Create an empty dataset (version 0) if there is none; check the layout."""
        for section in SECTIONS:
            path = self.out / section
            if path.exists() and not path.is_symlink():
                raise StoreError(
                    f"{path} is a plain folder, not a claimtag dataset "
                    "(written by an older claimtag?); use a new --out folder"
                )
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            self.staging_root.mkdir(parents=True, exist_ok=True)
            if not (self.meta / "current").is_symlink():
                first = self.versions / "v000000"
                for section in SECTIONS:
                    (first / section).mkdir(parents=True, exist_ok=True)
                self._point_current(first.name)
            for section in SECTIONS:
                link = self.out / section
                if not link.is_symlink():
                    tmp = self.out / f".{section}.link"
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
                    tmp.symlink_to(Path(META) / "current" / section)
                    os.replace(tmp, link)
        except OSError as e:
            raise StoreError(f"cannot create the dataset in {self.out}: {e.strerror or e}") from e

    def current(self) -> Path:
        """The folder of the committed version."""
        return (self.meta / "current").resolve()

    def version_number(self) -> int:
        return int(self.current().name[1:])

    def staging(self, run_id: str) -> Path:
        return self.staging_root / run_id

    def _point_current(self, version_name: str) -> None:
        tmp = self.meta / ".current.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(Path("versions") / version_name)
        os.replace(tmp, self.meta / "current")
        _fsync_dir(self.meta)

    # --- lock and recovery --------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, run_id: str, *, wait: float = 0.0, on_wait: Any = None) -> Iterator[None]:
        """Hold the folder's exclusive lock (released by the OS if the process dies).

        ``wait`` seconds to wait for another run (0: fail at once); ``on_wait(holder)`` is
        called once when the lock is busy, with what the holder wrote into the lock file.
        """
        self.meta.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.meta / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"{self.out} is in use by another claimtag run ({holder or 'unknown'})"
                            + (f"; waited {wait:.0f} s" if wait else "; use --wait SECONDS to wait")
                        ) from None
                    if not told and on_wait is not None:
                        on_wait(holder)
                        told = True
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"run {run_id}, pid {os.getpid()}".encode(), 0)
            yield
        finally:
            os.close(fd)

    def recover(self) -> list[str]:
        """Remove what crashed runs left behind; call with the lock held. Returns the actions."""
        actions: list[str] = []
        current = self.current().name
        for path in sorted(self.staging_root.iterdir()) if self.staging_root.is_dir() else []:
            shutil.rmtree(path, ignore_errors=True)
            actions.append(f"removed uncommitted staging {path.name}")
        for path in sorted(self.versions.iterdir()):
            if path.name.startswith(".") or (path.name > current):
                shutil.rmtree(path, ignore_errors=True)
                actions.append(f"removed uncommitted version {path.name}")
        for section in (CLAIMS, DOCUMENTS, REJECTS, RUNS):
            for tmp in (self.current() / section).rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        self._prune()
        return actions

    def _prune(self) -> None:
        versions = sorted(p for p in self.versions.iterdir() if p.name.startswith("v"))
        for old in versions[:-KEEP_VERSIONS]:
            shutil.rmtree(old, ignore_errors=True)

    # --- what is committed ----------------------------------------------------------------

    def known_documents(self) -> dict[str, Previous]:
        """doc_id → what the committed version holds for it."""
        folder = self.current() / DOCUMENTS
        files = sorted(folder.glob("*.parquet"))
        if not files:
            return {}
        cols = ["doc_id", "content_sha256", "rule_pack_version", "status"]
        table = ds.dataset([str(f) for f in files], format="parquet").to_table(columns=cols)
        return {
            d: Previous(s, v, st)
            for d, s, v, st in zip(*(table.column(c).to_pylist() for c in cols), strict=True)
        }

    # --- commit ---------------------------------------------------------------------------

    def commit(self, run_id: str, manifest: Mapping[str, Any], *, replace: set[str]) -> int:
        """Make a run's staged files part of the dataset, atomically; return the new version.

        ``replace``: doc_ids whose earlier rows (claims and documents) the run supersedes.
        Call with the lock held.
        """
        staged = self.staging(run_id)
        current = self.current()
        if (current / RUNS / f"{run_id}.json").exists():  # a retried commit: already done
            shutil.rmtree(staged, ignore_errors=True)
            return int(current.name[1:])
        number = int(current.name[1:]) + 1
        final = self.versions / f"v{number:06d}"
        tmp = self.versions / f".v{number:06d}.{run_id}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            for section in SECTIONS:
                (tmp / section).mkdir(parents=True)
            for section in (CLAIMS, DOCUMENTS):
                kind = "claim" if section == CLAIMS else "document"
                for part in sorted((current / section).rglob("*.parquet")):
                    rel = part.relative_to(current)
                    _carry(part, tmp / rel, kind, replace)
            for section in (REJECTS, RUNS):
                for part in sorted((current / section).glob("*")):
                    os.link(part, tmp / section / part.name)
            fault("commit-carried")
            if staged.is_dir():
                for part in sorted(p for p in staged.rglob("*") if p.is_file()):
                    dest = tmp / part.relative_to(staged)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.link(part, dest)
            record = {**manifest, "version": number}
            text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            atomic_write(tmp / RUNS / f"{run_id}.json", lambda fh: fh.write(text.encode()))
            for folder in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
                _fsync_dir(folder)
            os.rename(tmp, final)
            _fsync_dir(self.versions)
            fault("commit-before-swap")
            self._point_current(final.name)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"cannot commit run {run_id} in {self.out}: {e.strerror or e}") from e
        fault("commit-after-swap")
        shutil.rmtree(staged, ignore_errors=True)
        self._prune()
        return number

    def compact(self, run_id: str, *, rows_per_file: int = 1_000_000) -> dict[str, int]:
        """Merge small Parquet files into few large ones; the data stays the same.

        Returns the number of files before and after. Call with the lock held.
        """
        current = self.current()
        number = int(current.name[1:]) + 1
        tmp = self.versions / f".v{number:06d}.{run_id}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        before = after = 0
        try:
            for section in SECTIONS:
                (tmp / section).mkdir(parents=True)
            for section, kind in ((CLAIMS, "claim"), (DOCUMENTS, "document")):
                groups: dict[Path, list[Path]] = {}
                for part in sorted((current / section).rglob("*.parquet")):
                    groups.setdefault(part.parent.relative_to(current), []).append(part)
                for rel_dir, parts in sorted(groups.items()):
                    before += len(parts)
                    after += _merge(parts, tmp / rel_dir, kind, run_id, rows_per_file)
            for section in (REJECTS, RUNS):
                for part in sorted((current / section).glob("*")):
                    os.link(part, tmp / section / part.name)
            for folder in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
                _fsync_dir(folder)
            os.rename(tmp, self.versions / f"v{number:06d}")
            self._point_current(f"v{number:06d}")
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"cannot compact {self.out}: {e.strerror or e}") from e
        self._prune()
        return {"files_before": before, "files_after": after, "version": number}


def _carry(part: Path, dest: Path, kind: str, replace: set[str]) -> None:
    """Hard-link ``part`` into the new version, or rewrite it without replaced documents."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        ids = pq.ParquetFile(part).read(columns=["doc_id"]).column(0).to_pylist()
        if not replace.isdisjoint(ids):
            import pyarrow.compute as pc

            table = pq.ParquetFile(part).read()
            keep = pc.invert(pc.is_in(table.column("doc_id"), value_set=_array(replace)))
            table = table.filter(keep)
            if table.num_rows:
                extra = _string_metadata(pq.read_schema(part).metadata or {})
                write_parquet(dest, table, kind, extra)
            return
    os.link(part, dest)


def _merge(parts: list[Path], dest_dir: Path, kind: str, run_id: str, rows_per_file: int) -> int:
    import pyarrow as pa

    tables = [pq.ParquetFile(p).read() for p in parts]
    table = pa.concat_tables(tables, promote_options="default") if tables else None
    if table is None or table.num_rows == 0:
        return 0
    extra = {
        k: v
        for k, v in _string_metadata(pq.read_schema(parts[-1]).metadata or {}).items()
        if k.startswith("claimtag.")
    }
    extra["claimtag.compacted_by"] = run_id
    written = 0
    for i, start in enumerate(range(0, table.num_rows, rows_per_file)):
        chunk = table.slice(start, rows_per_file)
        write_parquet(dest_dir / f"part-{run_id}-c{i:05d}.parquet", chunk, kind, extra)
        written += 1
    return written


def _array(values: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(values), type=pa.string())


def _string_metadata(meta: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in meta.items() if k.startswith(b"claimtag.")}


__all__ = ["PARTITION", "Dataset", "LockTimeout", "fault"]
