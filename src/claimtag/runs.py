"""A run: batches processed and written, then a manifest that records what happened.

These are the pieces the Prefect flow composes; ``run`` composes them without Prefect
(for tests, benchmarks and embedding).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimtag import CLAIM_TYPES, __version__
from claimtag.dataset import Dataset
from claimtag.errors import InputError, RunError
from claimtag.faults import fault
from claimtag.ingest import InputOptions, Unit, batch_units, plan_inputs
from claimtag.pipeline import RunContext, process_units
from claimtag.progress import Progress
from claimtag.rules import RulePack
from claimtag.schemas import load_schema
from claimtag.store import write_batch

STAGES = ("load", "split", "classify", "build", "validate", "write")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


_RUN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,99}")


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is safe in file names (it names staging folders and manifests)."""
    if not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise InputError(
            f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-' (at most 100)"
        )
    return run_id


def run_batch(units: Sequence[Unit], ctx: RunContext, out: Path, batch: int) -> dict[str, Any]:
    """Process one batch and stage its files for the run's commit; return counts and timings."""
    t0 = time.perf_counter()
    result = process_units(units, ctx)
    fault(f"batch-{batch}-processed")
    t1 = time.perf_counter()
    written = write_batch(
        Dataset(out).staging(ctx.run_id),
        run_id=ctx.run_id,
        batch=batch,
        claims=result.claims,
        documents=result.documents,
        rejects=result.rejects,
        rule_pack_version=ctx.rules.version,
    )
    result.add_time("write", time.perf_counter() - t1)
    fault(f"batch-{batch}-written")
    return {
        "batch": batch,
        "files": written.files,
        "claims": written.n_claims,
        "documents": written.n_documents,
        "doc_ids": [d["doc_id"] for d in result.documents],
        "unchanged": result.n_unchanged,
        "rejects": written.n_rejects,
        "sentences": result.n_sentences,
        "chars": result.n_bytes,
        "timings": result.timings,
        "seconds": time.perf_counter() - t0,
        "pid": os.getpid(),
    }


class Workers:
    """Runs batches in worker processes, or in this process when there is one worker.

    Classification is CPU-bound Python, so threads would share one core: processes (started
    with ``spawn``, safe next to an orchestrator's threads) use them all.
    """

    def __init__(self, n: int) -> None:
        self.n = max(1, n)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.n > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.n, mp_context=multiprocessing.get_context("spawn")
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, units: Sequence[Unit], ctx: RunContext, out: Path, batch: int) -> dict[str, Any]:
        """One batch, in a worker process when there is a pool."""
        if self._pool is None:
            return run_batch(units, ctx, out, batch)
        try:
            return self._pool.submit(run_batch, list(units), ctx, out, batch).result()
        except BrokenProcessPool as e:
            raise _worker_died(ctx) from e

    def map(
        self, batches: Sequence[Sequence[Unit]], ctx: RunContext, out: Path
    ) -> list[dict[str, Any]]:
        """All batches, in order of the results' batch numbers, with a progress bar."""
        progress = Progress(len(batches), sum(u.size for b in batches for u in b))
        results: list[dict[str, Any]] = []
        if self._pool is None:
            for i, b in enumerate(batches):
                results.append(run_batch(b, ctx, out, i))
                progress.update(sum(u.size for u in b))
        else:
            futures = {
                self._pool.submit(run_batch, list(b), ctx, out, i): sum(u.size for u in b)
                for i, b in enumerate(batches)
            }
            try:
                for future in as_completed(futures):
                    results.append(future.result())
                    progress.update(futures[future])
            except BrokenProcessPool as e:
                raise _worker_died(ctx) from e
        progress.close()
        return sorted(results, key=lambda r: int(r["batch"]))


def _worker_died(ctx: RunContext) -> RunError:
    return RunError(
        f"run {ctx.run_id}: a worker process died (killed, or out of memory); nothing of this "
        "run was committed and the next run starts over"
    )


def default_workers(n_batches: int) -> int:
    """One worker per core, but no more than there are batches."""
    return max(1, min(os.cpu_count() or 1, n_batches))


@contextmanager
def open_output(
    out: Path, run_id: str, *, wait: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[Dataset]:
    """Lock the output folder for a run, create it if new, and clean up after crashed runs."""
    dataset = Dataset(out)
    with dataset.lock(run_id, wait=wait, on_wait=on_wait):
        dataset.init()
        dataset.recover()
        yield dataset


@dataclass(slots=True)
class RunSummary:
    """What the batches of a run returned, to be committed as a manifest."""

    ctx: RunContext
    inputs: list[str]
    out: str
    started: float
    batches: list[dict[str, Any]] = field(default_factory=list)


def finish_run(summary: RunSummary, out: Path) -> dict[str, Any]:
    """Aggregate the batches' counts and commit the run atomically; return the manifest.

    The run's documents replace earlier rows of the same doc_ids. Call with the lock held.
    """
    ctx = summary.ctx
    by_status: dict[str, int] = {}
    by_type = dict.fromkeys(CLAIM_TYPES, 0)
    stages = dict.fromkeys(STAGES, 0.0)
    files: list[str] = []
    for b in summary.batches:
        for status, n in b["documents"].items():
            by_status[status] = by_status.get(status, 0) + n
        for claim_type, n in b["claims"].items():
            by_type[claim_type] = by_type.get(claim_type, 0) + n
        for stage, seconds in b["timings"].items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        files += b["files"]
    written_ids = {doc_id for b in summary.batches for doc_id in b["doc_ids"]}
    unchanged = sum(b["unchanged"] for b in summary.batches)
    finished = time.time()
    counts = {
        "documents": sum(by_status.values()) + unchanged,
        "documents_by_status": by_status,
        "documents_unchanged": unchanged,
        "documents_replaced": len(written_ids & set(ctx.known)),
        "sentences": sum(b["sentences"] for b in summary.batches),
        "chars": sum(b["chars"] for b in summary.batches),
        "claims": sum(by_type.values()),
        "claims_by_type": by_type,
        "rejects": sum(b["rejects"] for b in summary.batches),
        "batches": len(summary.batches),
    }
    wall = finished - summary.started
    manifest: dict[str, Any] = {
        "run_id": ctx.run_id,
        "status": "committed",
        "started_at": _iso(summary.started),
        "finished_at": _iso(finished),
        "inputs": summary.inputs,
        "output": str(summary.out),
        "options": {
            "id_column": ctx.options.id_column,
            "text_column": ctx.options.text_column,
            "date_column": ctx.options.date_column,
        },
        "versions": {
            "claimtag": __version__,
            "claim_schema": load_schema("claim")["version"],
            "document_schema": load_schema("document")["version"],
            "rule_pack": ctx.rules.version,
            "rule_pack_sources": list(ctx.rules.sources),
            "python": platform.python_version(),
        },
        "counts": counts,
        "timings": {
            "wall_seconds": round(wall, 3),
            "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
            "chars_per_second": round(counts["chars"] / wall) if wall > 0 else None,
        },
        "reprocess": ctx.reprocess,
        "worker_pids": sorted({b["pid"] for b in summary.batches}),
        "files": sorted(files),
    }
    manifest["summary_table"] = {
        "run_id": ctx.run_id,
        "documents": counts["documents"],
        **{f"documents_{k}": v for k, v in sorted(by_status.items())},
        "documents_unchanged": unchanged,
        "sentences": counts["sentences"],
        **{f"claims_{k}": v for k, v in by_type.items()},
        "rejects": counts["rejects"],
        "wall_seconds": round(wall, 2),
        "rule_pack": ctx.rules.version,
    }
    fault("before-commit")
    manifest["version"] = Dataset(out).commit(
        ctx.run_id, manifest, replace=written_ids & set(ctx.known)
    )
    return manifest


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run(
    inputs: Sequence[str],
    out: Path,
    rules: RulePack,
    *,
    options: InputOptions | None = None,
    batch_bytes: int = 8 * 1024 * 1024,
    run_id: str | None = None,
    reprocess: str = "changed",
    wait: float = 0.0,
    workers: int | None = None,
) -> dict[str, Any]:
    """The whole job without Prefect (batches in ``workers`` processes); returns the manifest."""
    started = time.time()
    options = options or InputOptions()
    run_id = check_run_id(run_id or new_run_id())
    with open_output(out, run_id, wait=wait) as dataset:
        ctx = RunContext(
            run_id=run_id,
            rules=rules,
            options=options,
            known=dataset.known_documents(),
            reprocess=reprocess,
        )
        batches = batch_units(plan_inputs(inputs, options), target_bytes=batch_bytes)
        n = workers if workers is not None else default_workers(len(batches))
        with Workers(min(n, len(batches))) as pool:
            results = pool.map(batches, ctx, out)
        summary = RunSummary(
            ctx=ctx, inputs=list(inputs), out=str(out), started=started, batches=results
        )
        return finish_run(summary, out)
