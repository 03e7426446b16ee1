"""A run: batches processed and written, then a manifest that records what happened.

These are the pieces the Prefect flow composes; ``run`` composes them without Prefect
(for tests, benchmarks and embedding).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import platform
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claimtag import CLAIM_TYPES, __version__
from claimtag.dataset import Dataset
from claimtag.errors import InputError, RunError
from claimtag.faults import fault
from claimtag.ingest import InputOptions, Outcome, plan_units, read_units
from claimtag.pipeline import BatchItem, RunContext, item_bytes, process_units
from claimtag.progress import Progress
from claimtag.rules import RulePack
from claimtag.schemas import load_schema
from claimtag.store import write_batch
from claimtag.types import Document

if TYPE_CHECKING:
    from claimtag.learned import TextModel

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


def run_batch(units: Sequence[BatchItem], ctx: RunContext, out: Path, batch: int) -> dict[str, Any]:
    """Process one batch and stage its files for the run's commit; return counts and timings.

    ``units``: units to read here, or documents and outcomes read already (see
    ``pipeline.BatchItem``). The result is small, counts and file names: the documents
    written are not listed, only those that replace documents of ``ctx.known``.
    """
    started, t0 = time.time(), time.perf_counter()
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
        rule_pack_version=ctx.version,
    )
    result.add_time("write", time.perf_counter() - t1)
    fault(f"batch-{batch}-written")
    known = ctx.known
    return {
        "batch": batch,
        "files": written.files,
        "claims": written.n_claims,
        "documents": written.n_documents,
        "replaced": sorted(d["doc_id"] for d in result.documents if d["doc_id"] in known),
        "unchanged": result.n_unchanged,
        "rejects": written.n_rejects,
        "vetoed": result.vetoed,
        "sentences": result.n_sentences,
        "chars": result.n_bytes,
        "input_bytes": sum(item_bytes(u) for u in units),
        "timings": result.timings,
        "seconds": time.perf_counter() - t0,
        "started": started,  # epoch seconds: when the batch began, in process ``pid``
        "pid": os.getpid(),
    }


# A worker process keeps the last run context it was sent, unpickled once: a batch comes
# with the context pickled (small beside a batch) and a token naming it, and the worker
# unpickles it only when the token is new. Unpickling a rule pack recompiles its patterns
# (~0.2 s) and gives it a prefilter of its own, so doing it per batch cost time and memory.
_WORKER_CTX: tuple[str, RunContext] | None = None


def _context(token: str, pickled: bytes) -> RunContext:
    global _WORKER_CTX
    if _WORKER_CTX is None or _WORKER_CTX[0] != token:
        _WORKER_CTX = None  # the previous context is freed before the next is built
        _WORKER_CTX = (token, pickle.loads(pickled))
    return _WORKER_CTX[1]


def _meet(barrier: Any) -> None:
    """A new worker's first step: wait until every worker of the pool has started (30 s at
    most), so that the first one up does not take every batch while the others start."""
    if barrier is None:
        return
    with contextlib.suppress(threading.BrokenBarrierError):  # a peer did not start: go on
        barrier.wait(timeout=30)


def _warm(token: str, pickled: bytes) -> int:
    """Build what every batch needs (prefilter, actor table, schemas) in a new worker."""
    ctx = _context(token, pickled)
    from claimtag.actors import ActorResolver
    from claimtag.prefilter import prefilter_for
    from claimtag.schemas import fast_validator, schema_version

    prefilter_for(ctx.rules)
    if ctx.model is not None:  # unpickling read it; score once so numpy is warm too
        ctx.model.probabilities(["warm"])
    ActorResolver.default()
    fast_validator("claim")
    schema_version("claim")
    return os.getpid()


def _run_batch_with(
    token: str, pickled: bytes, units: Sequence[BatchItem], out: Path, batch: int
) -> dict[str, Any]:
    """``run_batch`` in a worker process, with the context ``token`` names."""
    return run_batch(units, _context(token, pickled), out, batch)


class Workers:
    """Runs batches in worker processes, or in this process when there is one worker.

    Classification is CPU-bound Python, so threads would share one core: processes (started
    with ``spawn``, safe next to an orchestrator's threads) use them all. Each process
    unpickles a run's context (rule pack, known documents) once and keeps it, rather than
    with every batch. Given ``ctx``, the processes start with the pool and build what
    batches need right away, so that their start-up overlaps the run's reading.
    """

    def __init__(self, n: int, ctx: RunContext | None = None) -> None:
        self.n = max(1, n)
        self._ctx = ctx
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._open = False
        self._pickled: tuple[RunContext, str, bytes] | None = None

    def __enter__(self) -> Workers:
        self._open = True
        if self.n > 1 and self._ctx is not None:
            pool = self._start(meet=True)
            token, pickled = self._pickle(self._ctx)
            for _ in range(self.n):  # a process starts per submission while none is idle
                pool.submit(_warm, token, pickled)
        return self

    def __exit__(self, *exc: object) -> None:
        self._open = False
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def parallel(self) -> bool:
        """True when batches run in worker processes."""
        return self.n > 1 and self._open

    def _start(self, *, meet: bool = False) -> ProcessPoolExecutor:
        """The pool; ``meet``: its processes wait for each other before taking work (all
        ``n`` are started at once by the warm-up submissions)."""
        with self._lock:
            if self._pool is None:
                spawn = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    max_workers=self.n,
                    mp_context=spawn,
                    initializer=_meet,
                    initargs=(spawn.Barrier(self.n) if meet else None,),
                )
            return self._pool

    def _pickle(self, ctx: RunContext) -> tuple[str, bytes]:
        """``ctx`` pickled, and its token: once per context."""
        with self._lock:
            if self._pickled is None or self._pickled[0] is not ctx:
                data = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
                self._pickled = (ctx, secrets.token_hex(8), data)
            return self._pickled[1], self._pickled[2]

    def _submit(
        self, units: Sequence[BatchItem], ctx: RunContext, out: Path, batch: int
    ) -> Future[dict[str, Any]]:
        pool = self._pool or self._start()
        token, pickled = self._pickle(ctx)
        return pool.submit(_run_batch_with, token, pickled, list(units), out, batch)

    def run(
        self, units: Sequence[BatchItem], ctx: RunContext, out: Path, batch: int
    ) -> dict[str, Any]:
        """One batch, in a worker process when there are several workers."""
        if not self.parallel:
            return run_batch(units, ctx, out, batch)
        try:
            return self._submit(units, ctx, out, batch).result()
        except BrokenProcessPool as e:
            raise _worker_died(ctx) from e

    def imap(
        self,
        batches: Iterable[Sequence[BatchItem]],
        ctx: RunContext,
        out: Path,
        *,
        in_flight: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Run ``batches`` (numbered in order from 0), yielding results as they finish.

        At most ``in_flight`` batches (default: one per worker, plus one waiting) are handed
        out and not done, so ``batches`` is drawn (read, when it streams the input) only
        as fast as the workers take it. With one worker, each batch runs here as it comes.
        """
        if not self.parallel:
            for i, b in enumerate(batches):
                result = run_batch(b, ctx, out, i)
                del b  # not held while the next batch is cut
                yield result
            return
        limit = max(1, in_flight or self.n + 1)
        pending: dict[Future[dict[str, Any]], int] = {}
        numbered = enumerate(batches)
        try:
            while True:
                while len(pending) < limit and (nxt := next(numbered, None)) is not None:
                    pending[self._submit(nxt[1], ctx, out, nxt[0])] = nxt[0]
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    del pending[future]
                    yield future.result()
        except BrokenProcessPool as e:
            raise _worker_died(ctx) from e
        finally:
            for future in pending:
                future.cancel()

    def map(
        self, batches: Sequence[Sequence[BatchItem]], ctx: RunContext, out: Path
    ) -> list[dict[str, Any]]:
        """All batches, in order of the results' batch numbers, with a progress bar."""
        progress = Progress(len(batches), sum(item_bytes(u) for b in batches for u in b))
        results = []
        for result in self.imap(batches, ctx, out):
            results.append(result)
            progress.update(int(result["input_bytes"]))
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


#: With several workers, ``run`` cuts batches no smaller than this (each batch writes its own
#: files), unless ``batch_bytes`` asks for smaller ones.
MIN_BATCH_BYTES = 1024 * 1024


class BatchSizes:
    """How large ``run`` cuts each batch: ``batch_bytes``, and with several workers less
    once the input left is short, so that the workers finish together (guided
    scheduling): at most the part of what is left that each worker would get twice over,
    but at least ``MIN_BATCH_BYTES``. ``total_bytes`` is the planned size of the input
    (an estimate: Parquet's is the text columns' uncompressed size)."""

    def __init__(self, batch_bytes: int, workers: int, total_bytes: int) -> None:
        self.batch_bytes = max(1, batch_bytes)
        self.workers = max(1, workers)
        self.remaining = total_bytes

    def next(self) -> int:
        """The size of the next batch."""
        if self.workers == 1:
            return self.batch_bytes
        share = self.remaining // (2 * self.workers)
        return max(1, min(self.batch_bytes, max(share, MIN_BATCH_BYTES)))

    def cut(self, n_bytes: int) -> None:
        """A batch of ``n_bytes`` was cut."""
        self.remaining -= n_bytes

    def count(self) -> int:
        """How many batches the planned input makes (for a progress bar)."""
        sizes = BatchSizes(self.batch_bytes, self.workers, self.remaining)
        n = 0
        while sizes.remaining > 0:
            sizes.cut(sizes.next())
            n += 1
        return max(n, 1)


def cut_batches(
    items: Iterable[Document | Outcome], sizes: BatchSizes | int
) -> Iterator[list[Document | Outcome]]:
    """Group documents and outcomes, in order, into batches of about ``sizes`` bytes each
    (``pipeline.item_bytes``: by text, not by number of documents). One batch is held at
    a time: the next is cut when the caller comes back for it."""
    plan = BatchSizes(sizes, 1, 0) if isinstance(sizes, int) else sizes
    target = plan.next()
    batch: list[Document | Outcome] = []
    size = 0
    for item in items:
        n = item_bytes(item)
        if batch and size + n > target:
            plan.cut(size)
            yield batch
            batch, size = [], 0
            target = plan.next()
        batch.append(item)
        size += n
    if batch:
        plan.cut(size)
        yield batch


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
class RunTotals:
    """The results of a run's batches, added up as they come: counts and file names, and
    the ids of the documents that replace documents already in the output."""

    by_status: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLAIM_TYPES, 0))
    #: rule claims the learned model dropped, by claim type
    vetoed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLAIM_TYPES, 0))
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    files: list[str] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)
    unchanged: int = 0
    sentences: int = 0
    chars: int = 0
    rejects: int = 0
    batches: int = 0
    pids: set[int] = field(default_factory=set)

    def add(self, b: Mapping[str, Any]) -> None:
        """Add one result of ``run_batch``."""
        for status, n in b["documents"].items():
            self.by_status[status] = self.by_status.get(status, 0) + n
        for claim_type, n in b["claims"].items():
            self.by_type[claim_type] = self.by_type.get(claim_type, 0) + n
        for claim_type, n in b["vetoed"].items():
            self.vetoed[claim_type] = self.vetoed.get(claim_type, 0) + n
        self.add_time(b["timings"])
        self.files += b["files"]
        self.replaced.update(b["replaced"])
        self.unchanged += b["unchanged"]
        self.sentences += b["sentences"]
        self.chars += b["chars"]
        self.rejects += b["rejects"]
        self.batches += 1
        self.pids.add(b["pid"])

    def add_time(self, timings: Mapping[str, float]) -> None:
        for stage, seconds in timings.items():
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def copy(self) -> RunTotals:
        return RunTotals(
            dict(self.by_status),
            dict(self.by_type),
            dict(self.vetoed),
            dict(self.stages),
            list(self.files),
            set(self.replaced),
            self.unchanged,
            self.sentences,
            self.chars,
            self.rejects,
            self.batches,
            set(self.pids),
        )


@dataclass(slots=True)
class RunSummary:
    """What the batches of a run returned, to be committed as a manifest.

    ``totals``: results added up as they came (``run``); ``batches``: results kept whole
    (the Prefect flow). ``finish_run`` takes both.
    """

    ctx: RunContext
    inputs: list[str]
    out: str
    started: float
    batches: list[dict[str, Any]] = field(default_factory=list)
    totals: RunTotals = field(default_factory=RunTotals)


def finish_run(summary: RunSummary, out: Path) -> dict[str, Any]:
    """Aggregate the batches' counts and commit the run atomically; return the manifest.

    The run's documents replace earlier rows of the same doc_ids. Call with the lock held.
    """
    ctx = summary.ctx
    totals = summary.totals.copy()  # the summary stays as it is: a retry commits the same
    for b in summary.batches:
        totals.add(b)
    by_status, by_type, stages = totals.by_status, totals.by_type, totals.stages
    replaced = totals.replaced & set(ctx.known)
    unchanged = totals.unchanged
    finished = time.time()
    counts = {
        "documents": sum(by_status.values()) + unchanged,
        "documents_by_status": by_status,
        "documents_unchanged": unchanged,
        "documents_replaced": len(replaced),
        "sentences": totals.sentences,
        "chars": totals.chars,
        "claims": sum(by_type.values()),
        "claims_by_type": by_type,
        # rule claims the learned model dropped (not written): the rules alone would have
        # written these too (``--no-model``)
        "claims_vetoed_by_type": totals.vetoed,
        "rejects": totals.rejects,
        "batches": totals.batches,
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
            "home_column": ctx.options.home_column,
            "home": ctx.options.home,
        },
        "versions": {
            "claimtag": __version__,
            "claim_schema": load_schema("claim")["version"],
            "document_schema": load_schema("document")["version"],
            "rule_pack": ctx.version,
            "rule_pack_sources": list(ctx.rules.sources),
            "model": None if ctx.model is None else ctx.model.label,
            "model_source": None if ctx.model is None else ctx.model.source,
            "python": platform.python_version(),
        },
        "counts": counts,
        "timings": {
            "wall_seconds": round(wall, 3),
            "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
            "chars_per_second": round(totals.chars / wall) if wall > 0 else None,
        },
        "reprocess": ctx.reprocess,
        "worker_pids": sorted(totals.pids),
        "files": sorted(totals.files),
    }
    manifest["summary_table"] = {
        "run_id": ctx.run_id,
        "documents": counts["documents"],
        **{f"documents_{k}": v for k, v in sorted(by_status.items())},
        "documents_unchanged": unchanged,
        "sentences": counts["sentences"],
        **{f"claims_{k}": v for k, v in by_type.items()},
        "claims_vetoed": sum(totals.vetoed.values()),
        "rejects": counts["rejects"],
        "wall_seconds": round(wall, 2),
        "rule_pack": ctx.version,
    }
    fault("before-commit")
    manifest["version"] = Dataset(out).commit(ctx.run_id, manifest, replace=replaced)
    return manifest


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _to_process(
    items: Iterable[Document | Outcome], ctx: RunContext, totals: RunTotals
) -> Iterator[Document | Outcome]:
    """The items that need processing. Documents already in the output as this run would
    write them are counted, not passed on; ids that replace documents are noted. The time
    spent reading is the run's load stage."""
    it = iter(items)
    while True:
        t0 = time.perf_counter()
        item = next(it, None)
        totals.add_time({"load": time.perf_counter() - t0})
        if item is None:
            return
        if isinstance(item, Document) and ctx.is_unchanged(item):
            totals.unchanged += 1
            continue
        if item.doc_id in ctx.known:
            totals.replaced.add(item.doc_id)
        yield item


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
    model: TextModel | None = None,
) -> dict[str, Any]:
    """The whole job without Prefect (batches in ``workers`` processes); returns the manifest.

    The input is streamed: this process reads it in order (``ingest.read_units``), leaves
    out documents unchanged in the output, and cuts batches of about ``batch_bytes`` of
    text (``BatchSizes``) that the workers take as they are cut. Memory does not grow
    with the input. This process holds the batch being cut and at most ``workers + 1``
    batches handed out (with one worker: the batch it is processing), each of at most
    ``batch_bytes`` of text or a single larger document (at most ``max_doc_chars``); a
    worker holds one batch and its records. What grows is bookkeeping: about a hundred
    bytes per document (ids, kept unique), the names of the files written, and the
    output's documents that an incremental run compares with (``known_documents``).
    """
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
            model=model,
        )
        units = plan_units(inputs, options)
        total = sum(u.size for u in units)
        # no more workers than batches, at the smallest batches would be cut
        most = max(1, -(-total // min(batch_bytes, MIN_BATCH_BYTES)))
        n = default_workers(most) if workers is None else max(1, min(workers, most))
        sizes = BatchSizes(batch_bytes, n, total)
        # unchanged documents are left out here: the workers need not know the output
        worker_ctx = replace(ctx, known={})
        summary = RunSummary(ctx=ctx, inputs=list(inputs), out=str(out), started=started)
        totals = summary.totals
        progress = Progress(sizes.count(), total)
        batches = cut_batches(_to_process(read_units(units, options), ctx, totals), sizes)
        with Workers(n, ctx=worker_ctx) as pool:
            for result in pool.imap(batches, worker_ctx, out):
                totals.add(result)
                progress.update(int(result["input_bytes"]))
        progress.close()
        return finish_run(summary, out)
