"""Speed and scale benchmark for claimtag: throughput, per-stage cost, memory, start-up.

Target: >= 50 MB/s end to end on 2 cores, flat memory, scale-out on Dask.

    .venv/bin/python benchmarks/bench_pipeline.py                  # full run, 20-30 min today
    .venv/bin/python benchmarks/bench_pipeline.py --quick          # smoke run, < 60 s, for CI
    .venv/bin/python benchmarks/bench_pipeline.py --out r.json --update-doc docs/PERFORMANCE.md

Every measured job runs in a fresh subprocess; its wall time, CPU time and peak RSS come from
``os.wait4`` (the kernel's rusage of that child) and a /proc sampler that sums the RSS of the
child's whole process tree (Prefect's embedded server, pool workers).

Inputs are built from the real corpora in ``../shared/corpus`` (speeches and newswire, mixed
in fixed proportions and shuffled with a fixed seed) as Parquet files ``doc_id, text`` written
with pyarrow's defaults, like ``DataFrame.to_parquet``. "MB" is 10^6 bytes of UTF-8 text.

Jobs (see ``--help`` to switch them off):

* ``idle``: import claimtag and build everything a run needs (rules, Hyperscan database,
  actor table, validator) without processing a document: fixed in-process cost and base RSS.
* ``library-<size>``: ``claimtag.runs.run`` (no Prefect, default workers: one process per
  core, capped by the number of batches) over the small and large inputs; MB/s and
  sentences/s end to end and per stage from the run manifest; marginal per-byte cost from
  the difference of the two sizes.
* ``library-<size>-1core``: the same with ``workers=1`` (one process), for the per-core
  cost and memory flatness of a single process.
* ``dask2-<size>`` (``--dask``): the run's batches (``runs.run_batch``) on a local
  dask.distributed cluster of 2 single-threaded worker processes.
* ``spacy-<size>``: spaCy blank English + sentencizer + PhraseMatcher over the rule pack's
  literal terms, on the small input (skipped when spaCy is not installed).
* start-up: ``claimtag run`` on one sentence in Prefect's ephemeral mode (cold and warm
  PREFECT_HOME), against a ``prefect server start`` on 127.0.0.1, with ``--no-prefect`` (warm
  and cold Hyperscan cache), and ``claimtag tag`` on one sentence.
* ``prefect-server-<size>``: ``claimtag run`` on the small input against that server (and,
  with ``--dask``, ``prefect-server-dask2-<size>``: the same with ``--dask local``).
* ``library-<corpus>`` (``--corpora``): each corpus file whole.

``main(argv)`` returns the results as a dict (also written with ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MB = 1_000_000
STAGE_ORDER = ("load", "split", "classify", "build", "validate", "write")
SEED = 20250101

#: Share of each corpus (by UTF-8 bytes) in the mixed inputs. At 120 MB this takes ~all of
#: the State of the Union addresses (10.8 MB) and ~95% of Reuters (16 MB); a corpus that runs
#: out leaves the rest of its share to the UN debates.
MIX: dict[str, float] = {
    "un_general_debates": 0.79,
    "reuters21578": 0.125,
    "us_state_of_the_union": 0.085,
}
ONE_SENTENCE = "Moscow has massed troops along the border."
DOC_MARKERS = ("<!-- BEGIN GENERATED: benchmark -->", "<!-- END GENERATED: benchmark -->")

#: Used for the spaCy baseline when the rule pack's terms cannot be read.
FALLBACK_TERMS = """
troops; forces; soldiers; warships; tanks; fighter jets; bombers; submarines; missiles;
nuclear weapons; ballistic missiles; cruise missiles; chemical weapons; warheads; arms race;
attack; attacks; invasion; invaded; bombing; airstrikes; raids; incursion; offensive;
annexation; aggression; hostilities; armed conflict; war; warfare; terrorism; terrorists;
extremism; insurgency; cyberattack; sabotage; espionage; threat; threatens; NATO; alliance;
allies; ally; partnership; defence pact; security treaty; Warsaw Pact; AUKUS; Quad;
sanctions; embargo; tariffs; export controls; boycott; trade restrictions; import ban;
quotas; trade war; blockade
"""


# ---------------------------------------------------------------------------------------------
# machine and environment
# ---------------------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    """CPU, memory, Python and library versions, git state."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    mem = re.search(r"MemTotal:\s+(\d+) kB", _read("/proc/meminfo"))
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    info: dict[str, Any] = {
        "cpu_model": model,
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "mem_total_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
        "git": _git_state(),
    }
    return info


def _version_of(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in ("claimtag", "pyarrow", "hyperscan", "jsonschema", "prefect", "spacy", "dask"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "dirty_files": len([ln for ln in git("status", "--porcelain").splitlines() if ln]),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def build_inputs(
    targets: Sequence[tuple[Path, float]], corpus_dir: Path = CORPUS_DIR
) -> list[dict[str, Any]]:
    """Write Parquet files (doc_id, text) of about ``mb`` MB of text each from the corpora.

    Documents are drawn per corpus in a seeded random order until that corpus' share of the
    target (MIX) is reached, then all documents are shuffled together. The file is written
    with pyarrow's defaults (one row group up to 1 Mi rows), as ``DataFrame.to_parquet`` does.
    """
    import pyarrow.parquet as pq

    # Every document of every corpus is a candidate, whatever the targets: the same size
    # always gives the same file (and the 20 MB input of the profile is the benchmark's).
    # (Row groups are read in a seeded order; docs are then drawn in a seeded order.)
    corpora = {}
    for name in MIX:
        pf = pq.ParquetFile(corpus_dir / f"{name}.parquet")
        groups = list(range(pf.metadata.num_row_groups))
        random.Random(SEED).shuffle(groups)
        ids: list[str] = []
        texts: list[str] = []
        for g in groups:
            table = pf.read_row_group(g, columns=["doc_id", "text"])
            ids += table.column("doc_id").to_pylist()
            texts += table.column("text").to_pylist()
        corpora[name] = (ids, texts)
    return [_build_one(path, mb, corpora) for path, mb in targets]


def _build_one(
    path: Path, target_mb: float, corpora: dict[str, tuple[list[str], list[str]]]
) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = int(target_mb * MB)
    rng = random.Random(SEED)
    picked: list[tuple[str, str]] = []
    by_genre: dict[str, int] = {}
    leftover = 0
    # the largest corpus last, so that it can take what the others could not fill
    for name in sorted(MIX, key=lambda n: MIX[n]):
        ids, texts = corpora[name]
        order = list(range(len(ids)))
        rng.shuffle(order)
        budget = int(target * MIX[name]) + leftover
        taken = 0
        for i in order:
            text = texts[i]
            if not text:
                continue
            size = len(text.encode("utf-8"))
            if taken and taken + size - budget > budget - taken:
                continue  # closer to the budget without it; try a smaller one
            picked.append((ids[i], text))
            taken += size
            if taken >= budget:
                break
        leftover = max(0, budget - taken)
        by_genre[name] = taken
    rng.shuffle(picked)
    table = pa.table({"doc_id": [p[0] for p in picked], "text": [p[1] for p in picked]})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    n_bytes = sum(by_genre.values())
    return {
        "path": str(path),
        "target_mb": target_mb,
        "bytes": n_bytes,
        "mb": round(n_bytes / MB, 2),
        "chars": sum(len(p[1]) for p in picked),
        "documents": len(picked),
        "mb_by_corpus": {k: round(v / MB, 2) for k, v in by_genre.items()},
        "file_mb": round(path.stat().st_size / MB, 2),
        "row_groups": pq.ParquetFile(path).metadata.num_row_groups,
    }


def corpus_input(name: str, corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    """One corpus file as it is."""
    import pyarrow.parquet as pq

    path = corpus_dir / f"{name}.parquet"
    texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    n_bytes = sum(len(t.encode("utf-8")) for t in texts if t)
    return {
        "path": str(path),
        "bytes": n_bytes,
        "mb": round(n_bytes / MB, 2),
        "chars": sum(len(t) for t in texts if t),
        "documents": len(texts),
        "mb_by_corpus": {name: round(n_bytes / MB, 2)},
        "file_mb": round(path.stat().st_size / MB, 2),
        "row_groups": pq.ParquetFile(path).metadata.num_row_groups,
    }


# ---------------------------------------------------------------------------------------------
# running one job in a fresh process
# ---------------------------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc/<pid>/task/<tid>/children)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        out += [int(c) for c in _read(f"/proc/{pid}/task/{tid}/children").split()]
    return out


def _tree_rss(root: int) -> int:
    """Sum of the resident set sizes of ``root`` and all its descendants (bytes)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        statm = _read(f"/proc/{pid}/statm").split()
        if len(statm) > 1:
            total += int(statm[1]) * _PAGE
        stack.extend(_children(pid))
    return total


class _RssSampler(threading.Thread):
    """Samples the RSS of a process tree every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.t0 = time.perf_counter()

    def run(self) -> None:
        if not Path("/proc").is_dir():
            return
        while not self.stop.is_set():
            rss = _tree_rss(self.pid)
            if rss:
                self.samples.append((time.perf_counter() - self.t0, rss))
            self.stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {"tree_peak_rss_mb": None, "rss_timeline_mb": []}
        step = max(1, len(self.samples) // 40)
        return {
            "tree_peak_rss_mb": round(max(r for _, r in self.samples) / 2**20, 1),
            "rss_timeline_mb": [
                [round(t, 1), round(r / 2**20, 1)] for t, r in self.samples[::step]
            ],
        }


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin_text: str | None = None,
    logs: Path,
    name: str,
    timeout: float = 3600.0,
) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process; wall, CPU and peak RSS of that process (and tree)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    stdin = None
    if stdin_text is not None:
        in_path = logs / f"{name}.in"
        in_path.write_text(stdin_text, encoding="utf-8")
        stdin = in_path.open("rb")
    load_before = load_average()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=err, stdin=stdin or subprocess.DEVNULL, env=env, cwd=cwd
        )
        sampler = _RssSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, lambda: _kill(proc.pid))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop.set()
        sampler.join()
    if stdin is not None:
        stdin.close()
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    result: dict[str, Any] = {
        "cmd": " ".join(_short(c) for c in cmd),
        "returncode": proc.returncode,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "user_seconds": round(usage.ru_utime, 3),
        "sys_seconds": round(usage.ru_stime, 3),
        # ru_maxrss is in KiB on Linux: the largest single process of the tree
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        **sampler.summary(),
        "load_before": load_before,
        "load_after": load_average(),
    }
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    if last.startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            result["report"] = json.loads(last)
    if proc.returncode != 0:
        result["stderr_tail"] = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    return result


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _short(arg: str) -> str:
    """Shorten long paths in a displayed command line."""
    for prefix in (str(ROOT) + "/",):
        if arg.startswith(prefix):
            return arg[len(prefix) :]
    if "/" in arg and len(arg) > 40:
        return ".../" + Path(arg).name
    return arg


def _claimtag_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("claimtag")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "claimtag.cli"]


def _worker_cmd(spec: dict[str, Any]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]


def snapshot_code(dest: Path) -> dict[str, Any]:
    """Copy the library, flows and schemas of the working tree to ``dest``.

    Every measured process imports claimtag from there (PYTHONPATH comes before the
    editable install's path), so one benchmark measures one version of the code even while
    others edit the working tree. Returns the PYTHONPATH and a fingerprint of the files.
    """
    import hashlib

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for rel in ("src/claimtag", "flows/claimtag_flows", "schemas"):
        shutil.copytree(ROOT / rel, dest / rel, ignore=ignore, dirs_exist_ok=True)
    digest = hashlib.sha256()
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes())
    return {
        "path": str(dest),
        "pythonpath": os.pathsep.join([str(dest / "src"), str(dest / "flows")]),
        "fingerprint": digest.hexdigest()[:16],
    }


def _base_env(
    work: Path, pythonpath: str | None = None, private_cache: bool = True
) -> dict[str, str]:
    """The environment of every measured process: no PREFECT_* of the caller's shell, and
    (``private_cache``) a claimtag cache of its own, so that the Hyperscan database is
    compiled once by the warm-up job and the cold-cache case is really cold."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["DO_NOT_TRACK"] = "1"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    if private_cache:
        env["CLAIMTAG_CACHE_DIR"] = str(work / "claimtag-cache")
    env["PREFECT_HOME"] = str(work / "prefect-home-default")
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    return env


# ---------------------------------------------------------------------------------------------
# workers: what runs inside the measured subprocess
# ---------------------------------------------------------------------------------------------


def _self_usage() -> dict[str, Any]:
    return {"self_peak_rss_mb": _harness_rss_mb()}


def _harness_rss_mb() -> float:
    """Peak RSS of this (harness) process: the floor of every child's ru_maxrss, since a
    child's high-water mark starts at its parent's RSS when it is forked."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this process; returns what the parent cannot see from outside."""
    kind = spec["kind"]
    t0 = time.perf_counter()
    if kind == "idle":
        return _worker_idle(t0)
    if kind == "library":
        return _worker_library(spec, t0)
    if kind == "dask":
        return _worker_parallel(spec, t0)
    if kind == "spacy":
        return _worker_spacy(spec, t0)
    if kind == "build":
        targets = [(Path(path), mb) for path, mb in spec["targets"]]
        return {"inputs": build_inputs(targets, Path(spec["corpus_dir"]))}
    if kind == "corpus":
        return corpus_input(spec["name"], Path(spec["corpus_dir"]))
    raise ValueError(f"unknown worker kind {kind!r}")


def _worker_idle(t0: float) -> dict[str, Any]:
    steps: dict[str, float] = {}

    def step(name: str, t: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - t, 4)
        return now

    import claimtag.runs  # imports pyarrow, jsonschema, yaml, ...

    t = step("import", t0)
    from claimtag.rules import load_rules

    pack = load_rules([])
    t = step("load_rules", t)
    from claimtag.prefilter import prefilter_for

    prefilter_for(pack)
    t = step("prefilter", t)
    from claimtag.actors import ActorResolver

    ActorResolver.default()
    t = step("actor_table", t)
    from claimtag.schemas import arrow_schema, validator

    validator("claim").is_valid({})
    arrow_schema("claim", exclude=("claim_type",))
    step("schemas", t)
    import claimtag

    return {
        "setup_seconds": steps,
        "total_seconds": round(time.perf_counter() - t0, 4),
        "claimtag_file": claimtag.__file__,
        "rule_pack": pack.version,
    }


def _worker_library(spec: dict[str, Any], t0: float) -> dict[str, Any]:
    from claimtag.rules import load_rules
    from claimtag.runs import run

    t1 = time.perf_counter()
    kwargs: dict[str, Any] = {}
    if spec.get("workers") is not None:
        if "workers" not in inspect.signature(run).parameters:
            raise SystemExit("this claimtag's runs.run has no workers= parameter")
        kwargs["workers"] = spec["workers"]
    manifest = run(
        [spec["input"]],
        Path(spec["out"]),
        load_rules([]),
        batch_bytes=int(spec.get("batch_mb", 8) * 1024 * 1024),
        **kwargs,
    )
    t2 = time.perf_counter()
    return {
        "import_seconds": round(t1 - t0, 3),
        "run_seconds": round(t2 - t1, 3),
        "workers": spec.get("workers"),
        "worker_pids": len(manifest.get("worker_pids", [])) or None,
        "counts": manifest["counts"],
        "timings": manifest["timings"],
        **_self_usage(),
    }


def _run_batch_job(args: tuple[Any, ...]) -> dict[str, Any]:
    from claimtag.runs import run_batch

    units, ctx, out, batch = args
    result: dict[str, Any] = run_batch(units, ctx, Path(out), batch)
    return result


def _worker_parallel(spec: dict[str, Any], t0: float) -> dict[str, Any]:
    """Batches of one run on ``workers`` processes (a pool, or a local Dask cluster)."""
    import claimtag.runs
    from claimtag.ingest import InputOptions, batch_units, plan_inputs
    from claimtag.pipeline import RunContext
    from claimtag.rules import load_rules
    from claimtag.runs import RunSummary, finish_run, new_run_id

    t1 = time.perf_counter()
    started = time.time()
    options = InputOptions()
    run_id = new_run_id()
    out = Path(spec["out"])
    # newer claimtag: the output folder is locked and committed by the run (runs.open_output)
    open_output = getattr(claimtag.runs, "open_output", None)
    with open_output(out, run_id) if open_output else contextlib.nullcontext():
        ctx = RunContext(run_id=run_id, rules=load_rules([]), options=options)
        batches = batch_units(
            plan_inputs([spec["input"]], options),
            target_bytes=int(spec.get("batch_mb", 8) * 1024 * 1024),
        )
        results = _map_batches(spec, [(b, ctx, spec["out"], i) for i, b in enumerate(batches)])
        summary = RunSummary(
            ctx=ctx, inputs=[spec["input"]], out=spec["out"], started=started, batches=results
        )
        manifest = finish_run(summary, out)
    t2 = time.perf_counter()
    return {
        "import_seconds": round(t1 - t0, 3),
        "run_seconds": round(t2 - t1, 3),
        "workers": int(spec.get("workers", 2)),
        "batches": len(batches),
        "counts": manifest["counts"],
        "timings": manifest["timings"],
        **_self_usage(),
    }


def _map_batches(spec: dict[str, Any], jobs: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    workers = int(spec.get("workers", 2))
    if spec["kind"] == "dask":
        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            results: list[dict[str, Any]] = client.gather(
                client.map(_run_batch_job, jobs, pure=False)
            )
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        return list(ex.map(_run_batch_job, jobs))


def _worker_spacy(spec: dict[str, Any], t0: float) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import spacy
    from spacy.matcher import PhraseMatcher

    t1 = time.perf_counter()
    column = pq.read_table(spec["input"], columns=["text"]).column("text")
    texts = [t for t in column.to_pylist() if t]
    t2 = time.perf_counter()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = max([nlp.max_length, *(len(t) + 1 for t in texts)])
    try:
        terms, source = rule_pack_terms(), "rule pack"
    except Exception:  # the pack's layout changed: fall back to a fixed list
        terms, source = [], ""
    if len(terms) < 20:
        terms, source = fallback_terms(), "fixed list"
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("CLAIM_TERM", [nlp.make_doc(t) for t in terms])
    t3 = time.perf_counter()
    n_sentences = n_hit_sentences = n_matches = n_tokens = 0
    for doc in nlp.pipe(texts, batch_size=32):
        n_tokens += len(doc)
        matches = matcher(doc)
        n_matches += len(matches)
        starts = sorted(start for _, start, _ in matches)
        k = 0
        for sent in doc.sents:
            n_sentences += 1
            hit = False
            while k < len(starts) and starts[k] < sent.end:
                hit = hit or starts[k] >= sent.start
                k += 1
            n_hit_sentences += hit
    t4 = time.perf_counter()
    return {
        "import_seconds": round(t1 - t0, 3),
        "read_seconds": round(t2 - t1, 3),
        "setup_seconds": round(t3 - t2, 3),
        "process_seconds": round(t4 - t3, 3),
        "terms": len(terms),
        "terms_source": source,
        "terms_sample": terms[:: max(1, len(terms) // 25)],
        "documents": len(texts),
        "tokens": n_tokens,
        "sentences": n_sentences,
        "sentences_with_match": n_hit_sentences,
        "matches": n_matches,
        "spacy": _version_of("spacy"),
        **_self_usage(),
    }


# ---------------------------------------------------------------------------------------------
# the rule pack's literal terms (for the spaCy baseline)
# ---------------------------------------------------------------------------------------------


def _expand(items: list[Any], limit: int) -> list[str] | None:
    """Every string a parsed regex (re._parser items) can match, or None if not finite/small.

    Word boundaries and look-arounds match the empty string; ``\\s`` stands for a space.
    """
    import re._constants as c

    out = [""]
    for op, arg in items:
        if op is c.LITERAL:
            alts = [chr(arg)]
        elif op is c.AT or op in (c.ASSERT, c.ASSERT_NOT):
            continue
        elif op is c.IN:
            alts = []
            for iop, iarg in arg:
                if iop is c.LITERAL:
                    alts.append(chr(iarg))
                elif iop is c.CATEGORY and iarg is c.CATEGORY_SPACE:
                    alts.append(" ")
                else:
                    return None
            alts = alts[:1] if alts == [" "] * len(alts) else alts
        elif op is c.SUBPATTERN:
            sub = _expand(list(arg[-1]), limit)
            if sub is None:
                return None
            alts = sub
        elif op is c.BRANCH:
            alts = []
            for branch in arg[1]:
                sub = _expand(list(branch), limit)
                if sub is None:
                    return None
                alts += sub
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            lo, hi, body = arg
            sub = _expand(list(body), limit)
            if sub is None:
                return None
            if sub == [" "]:  # \s+ and friends: one space
                alts = [" "] if lo >= 1 else ["", " "]
            elif hi > 1:
                return None
            else:
                alts = ([""] if lo == 0 else []) + sub
        else:
            return None
        out = [a + b for a in out for b in alts]
        if len(out) > limit:
            return None
    return out


def rule_pack_terms(limit_per_pattern: int = 48) -> list[str]:
    """Literal words and phrases of the bundled rule pack: lexicon entries and rule patterns
    whose language is finite and small, expanded (``sanctions?`` → sanction, sanctions)."""
    import re._parser as parser

    from claimtag.rules import bundled_pack

    data = bundled_pack().data
    lexicons = {k: list(v) for k, v in data.get("lexicons", {}).items()}

    def inline(pattern: str) -> str:
        return re.sub(
            r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}",
            lambda m: "(?:" + "|".join(lexicons.get(m.group(1), [])) + ")",
            pattern,
        )

    patterns = [p for entries in lexicons.values() for p in entries]
    for rule in data.get("rules", []):
        patterns += [inline(p) for p in rule.get("patterns", [])]
    terms: set[str] = set()
    for pattern in patterns:
        try:
            expanded = _expand(list(parser.parse(pattern)), limit_per_pattern)
        except (re.error, RecursionError, TypeError, ValueError):
            continue
        for term in expanded or ():
            term = " ".join(term.split()).strip(" -")
            if len(term) >= 2:
                terms.add(term.lower())
    return sorted(terms)


def fallback_terms() -> list[str]:
    return sorted({t.strip().lower() for t in FALLBACK_TERMS.replace("\n", " ").split(";")} - {""})


# ---------------------------------------------------------------------------------------------
# start-up: Prefect modes, --no-prefect, tag
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrefectServer:
    """``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME; stopped on exit."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.home = work / "prefect-server-home"
        self.port = _free_port()
        self.env = {
            **env,
            "PREFECT_HOME": str(self.home),
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(self.port),
        }
        self.log = work / "logs" / "prefect-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> PrefectServer:
        prefect = Path(sys.executable).with_name("prefect")
        cmd = [str(prefect)] if prefect.exists() else [sys.executable, "-m", "prefect"]
        cmd += ["server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        deadline = t0 + 240
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited; see {self.log}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r,
            ):
                if r.status == 200:
                    self.startup_seconds = round(time.perf_counter() - t0, 2)
                    return self
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"prefect server not healthy after 240 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        # the server runs in its own session (process group = its pid): stop that group only
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def startup_benchmarks(
    work: Path,
    env: dict[str, str],
    *,
    repeat: int,
    quick: bool,
    server: bool,
    on_server: Callable[[dict[str, str]], None] | None = None,
) -> dict[str, Any]:
    """Fixed start-up cost of each way of running claimtag on one sentence.

    ``on_server(env)`` is called while the Prefect server runs, with the environment that
    points a client at it (for a throughput run through Prefect)."""
    one = work / "startup" / "one.txt"
    one.parent.mkdir(parents=True, exist_ok=True)
    one.write_text(ONE_SENTENCE + "\n", encoding="utf-8")
    logs = work / "logs"
    cases: dict[str, Any] = {}
    counter = iter(range(10**6))

    def run_cli(args: list[str], case_env: dict[str, str], stdin: str | None = None) -> Any:
        i = next(counter)
        out = work / "out" / f"startup-{i}"
        cmd = [*_claimtag_cmd(), *args]
        if args[0] == "run":
            cmd += ["--out", str(out), "-q"]
        r = run_measured(cmd, env=case_env, stdin_text=stdin, logs=logs, name=f"startup-{i}")
        shutil.rmtree(out, ignore_errors=True)
        return r

    def case(
        key: str,
        label: str,
        args: list[str],
        env_for_run: Any,
        *,
        warmup: bool,
        stdin: str | None = None,
        runs: int = repeat,
    ) -> None:
        if warmup and not quick:
            run_cli(args, env_for_run(-1), stdin)
        results = [run_cli(args, env_for_run(i), stdin) for i in range(runs)]
        ok = [r for r in results if r["returncode"] == 0]
        cases[key] = {
            "label": label,
            "runs": results,
            "ok": len(ok) == len(results),
            "wall": _stats([r["wall_seconds"] for r in ok]) if ok else None,
            "cpu": _stats([r["cpu_seconds"] for r in ok]) if ok else None,
            "tree_peak_rss_mb": max((r["tree_peak_rss_mb"] or 0) for r in ok) if ok else None,
            "load": [r["load_before"] for r in results],
        }
        wall = cases[key]["wall"]
        _log(f"  {label}: " + (f"median {wall['median']:.2f} s" if wall else "FAILED"))

    run_args = ["run", str(one)]
    if not quick:
        case(
            "ephemeral_cold",
            "claimtag run, Prefect ephemeral, fresh PREFECT_HOME",
            run_args,
            lambda i: {**env, "PREFECT_HOME": str(work / f"prefect-home-cold-{i}")},
            warmup=False,
        )
        warm_home = str(work / "prefect-home-warm")
        case(
            "ephemeral_warm",
            "claimtag run, Prefect ephemeral, reused PREFECT_HOME",
            run_args,
            lambda i: {**env, "PREFECT_HOME": warm_home},
            warmup=True,
        )
    if server and not quick:
        try:
            with PrefectServer(work, env) as srv:
                cases["server_startup_seconds"] = srv.startup_seconds
                _log(f"  prefect server healthy after {srv.startup_seconds} s on {srv.api_url}")
                client_home = str(work / "prefect-home-client")
                server_env = {**env, "PREFECT_HOME": client_home, "PREFECT_API_URL": srv.api_url}
                case(
                    "server",
                    "claimtag run, against prefect server (127.0.0.1)",
                    run_args,
                    lambda i: server_env,
                    warmup=True,
                )
                if on_server is not None:
                    on_server(server_env)
        except RuntimeError as e:
            cases["server"] = {"label": "claimtag run, against prefect server", "error": str(e)}
            _log(f"  prefect server: {e}")
    case(
        "no_prefect",
        "claimtag run --no-prefect",
        [*run_args, "--no-prefect"],
        lambda i: env,
        warmup=True,
        runs=repeat if not quick else 1,
    )
    if not quick:
        case(
            "no_prefect_cold_cache",
            "claimtag run --no-prefect, empty claimtag cache (Hyperscan compile)",
            [*run_args, "--no-prefect"],
            lambda i: {**env, "CLAIMTAG_CACHE_DIR": str(work / f"claimtag-cache-cold-{i}")},
            warmup=False,
            runs=repeat,
        )
    case(
        "tag",
        "claimtag tag (one sentence on stdin)",
        ["tag"],
        lambda i: env,
        warmup=True,
        stdin=json.dumps({"id": "s1", "text": ONE_SENTENCE}) + "\n",
        runs=repeat if not quick else 1,
    )
    return cases


# ---------------------------------------------------------------------------------------------
# throughput jobs
# ---------------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def in_subprocess(
    spec: dict[str, Any], work: Path, name: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a worker in a child process (keeps this process small: a child's ru_maxrss
    starts from its parent's RSS at fork time)."""
    r = run_measured(_worker_cmd(spec), env=env, logs=work / "logs", name=name)
    if r["returncode"] != 0 or "report" not in r:
        raise RuntimeError(f"{name} failed: {r.get('stderr_tail', '')}")
    report: dict[str, Any] = r["report"]
    return report


def throughput_job(
    name: str,
    spec: dict[str, Any],
    data: dict[str, Any],
    work: Path,
    env: dict[str, str],
    repeat: int,
) -> dict[str, Any]:
    """Run a worker job ``repeat`` times in fresh processes; summarise."""
    runs = []
    for i in range(repeat):
        out = work / "out" / f"{name}-{i}"
        shutil.rmtree(out, ignore_errors=True)
        r = run_measured(
            _worker_cmd({**spec, "input": data["path"], "out": str(out)}),
            env=env,
            logs=work / "logs",
            name=f"{name}-{i}",
        )
        shutil.rmtree(out, ignore_errors=True)
        runs.append(r)
        if r["returncode"] != 0:
            _log(f"  {name} #{i}: FAILED (exit {r['returncode']}): {r.get('stderr_tail', '')}")
            break
        _log(
            f"  {name} #{i}: {r['wall_seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU, "
            f"{data['mb'] / r['wall_seconds']:.2f} MB/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
            f"load {r['load_before']}"
        )
    return summarise(name, runs, data)


def summarise(name: str, runs: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    ok = [r for r in runs if r["returncode"] == 0]
    out: dict[str, Any] = {"name": name, "input": _input_brief(data), "runs": runs}
    if not ok:
        out["ok"] = False
        return out
    walls = [r["wall_seconds"] for r in ok]
    cpus = [r["cpu_seconds"] for r in ok]
    best = min(ok, key=lambda r: r["wall_seconds"])
    out.update(
        ok=True,
        wall=_stats(walls),
        cpu=_stats(cpus),
        mb_per_s=round(data["mb"] / min(walls), 3),
        mb_per_s_median=round(data["mb"] / statistics.median(walls), 3),
        mb_per_cpu_s=round(data["mb"] / min(cpus), 3),
        peak_rss_mb=max(r["peak_rss_mb"] for r in ok),
        tree_peak_rss_mb=max((r["tree_peak_rss_mb"] or 0) for r in ok),
        rss_timeline_mb=best.get("rss_timeline_mb", []),
        load=[r["load_before"] for r in ok],
    )
    report = best.get("report") or {}
    counts = report.get("counts")
    if counts:
        out["counts"] = counts
        out["sentences_per_s"] = round(counts["sentences"] / min(walls))
        out["in_run_seconds"] = report.get("run_seconds")
        out["import_seconds"] = report.get("import_seconds")
    stage_runs = [(r.get("report") or {}).get("timings", {}).get("stage_seconds") for r in ok]
    stage_runs = [s for s in stage_runs if s]
    if stage_runs:
        names = [k for k in STAGE_ORDER if k in stage_runs[0]]
        names += [k for k in stage_runs[0] if k not in names]
        stages = {k: statistics.median(s.get(k, 0.0) for s in stage_runs) for k in names}
        out["stage_seconds"] = {k: round(v, 3) for k, v in stages.items()}
        walls_in_run = [(r.get("report") or {}).get("timings", {}).get("wall_seconds") for r in ok]
        walls_in_run = [w for w in walls_in_run if w is not None]
        if walls_in_run:
            out["run_wall_seconds"] = round(statistics.median(walls_in_run), 3)
            out["outside_stages_seconds"] = round(out["run_wall_seconds"] - sum(stages.values()), 3)
        n_sent = counts["sentences"] if counts else 0
        out["stages"] = {
            k: {
                "seconds": round(v, 3),
                "mb_per_s": round(data["mb"] / v, 2) if v > 0 else None,
                "sentences_per_s": round(n_sent / v) if v > 0 else None,
            }
            for k, v in stages.items()
        }
    if "process_seconds" in report:  # spaCy
        out["spacy"] = report
        out["process_mb_per_s"] = round(data["mb"] / report["process_seconds"], 3)
    return out


def _input_brief(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "path"} | {"file": Path(data["path"]).name}


def marginal(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any] | None:
    """Per-byte cost from two sizes: (t_large - t_small) / (bytes_large - bytes_small)."""
    if not (small.get("ok") and large.get("ok")):
        return None
    db = large["input"]["bytes"] - small["input"]["bytes"]
    if db <= 0:
        return None
    out: dict[str, Any] = {}
    for key in ("wall", "cpu"):
        t_small, t_large = small[key]["min"], large[key]["min"]
        per_byte = (t_large - t_small) / db
        fixed = t_small - per_byte * small["input"]["bytes"]
        out[key] = {
            "seconds_per_mb": round(per_byte * MB, 4),
            "marginal_mb_per_s": round(1 / (per_byte * MB), 3) if per_byte > 0 else None,
            "fixed_seconds": round(fixed, 3),
        }
    if small.get("stage_seconds") and large.get("stage_seconds"):
        out["stages"] = {}
        for k, t_large in large["stage_seconds"].items():
            per = (t_large - small["stage_seconds"].get(k, 0.0)) / db
            out["stages"][k] = {
                "seconds_per_mb": round(per * MB, 4),
                "marginal_mb_per_s": round(1 / (per * MB), 2) if per > 0 else None,
            }
    return out


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _f(value: Any, fmt: str = "{:.2f}") -> str:
    if value is None:
        return "–"
    return fmt.format(value)


def render_markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables (what docs/PERFORMANCE.md shows)."""
    m = results["machine"]
    lines = [
        f"Measured {results['started_at']} with `{results['command']}`"
        f" (git {m['git']['commit']}, {m['git']['dirty_files']} uncommitted file(s); "
        + (
            f"code measured: a copy of src/, flows/ and schemas/ taken at start, fingerprint "
            f"`{results['code']['fingerprint']}`"
            if results.get("code", {}).get("fingerprint")
            else "code measured: the live working tree"
        )
        + (f"; rule pack {results['rule_pack']}" if results.get("rule_pack") else "")
        + ").",
        "",
        f"Machine: {m['nproc']} usable core(s) ({m['cpu_model']}), {m['mem_total_gb']} GB RAM, "
        f"Python {m['python']}; pyarrow {m['versions']['pyarrow']}, hyperscan "
        f"{m['versions']['hyperscan']}, prefect {m['versions']['prefect']}, spaCy "
        f"{m['versions']['spacy'] or 'not installed'}.",
        f"Load average (1/5/15 min) at start {results['load_start']}, at end "
        f"{results['load_end']} on {m['nproc']} core(s); each job's own figure is in the tables. "
        "The measured job itself adds about 1 per busy process; a 1-min load well above the "
        "core count means other processes were competing for the CPU, which stretches wall "
        "times much more than CPU times.",
        "",
        "Inputs (MB = 10^6 bytes of UTF-8 text):",
        "",
        "| input | MB of text | documents | Parquet MB | row groups | mix (MB) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for data in results["inputs"].values():
        mix = ", ".join(f"{k} {v}" for k, v in data["mb_by_corpus"].items())
        lines.append(
            f"| {Path(data['path']).name} | {data['mb']} | {data['documents']} | "
            f"{data['file_mb']} | {data['row_groups']} | {mix} |"
        )
    jobs = results["throughput"]
    if jobs:
        lines += [
            "",
            "### End to end (fresh process per run)",
            "",
            "MB/s = MB of text / wall seconds of the whole process (interpreter start, imports, "
            "run, exit), best of the runs; CPU MB/s uses user+sys seconds instead, which "
            "other load disturbs less. Peak RSS: the largest process (wait4 ru_maxrss); tree: "
            "sum over the process tree, sampled every 0.2 s.",
            "",
            "| job | runs | wall s (min / median) | CPU s (min) | MB/s | CPU MB/s | "
            "sentences/s | peak RSS MB | tree RSS MB | load at start |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for job in jobs.values():
            if not job.get("ok"):
                lines.append(f"| {job['name']} | failed | | | | | | | | |")
                continue
            lines.append(
                f"| {job['name']} | {len(job['runs'])} | {job['wall']['min']:.2f} / "
                f"{job['wall']['median']:.2f} | {job['cpu']['min']:.2f} | "
                f"{job['mb_per_s']:.2f} | {job['mb_per_cpu_s']:.2f} | "
                f"{_f(job.get('sentences_per_s'), '{:,}')} | {job['peak_rss_mb']:.0f} | "
                f"{job['tree_peak_rss_mb']:.0f} | {job['load'][0]} |"
            )
        stage_jobs = [j for j in jobs.values() if j.get("stages")]
        if stage_jobs:
            names = [k for k in STAGE_ORDER if any(k in j["stages"] for j in stage_jobs)]
            names += sorted({k for j in stage_jobs for k in j["stages"]} - set(names))
            lines += [
                "",
                "### Per stage (from the run manifest's `timings.stage_seconds`, median of runs)",
                "",
                "Seconds, and MB/s of that stage alone (MB of text / stage seconds). For the "
                "parallel jobs the stage seconds are summed over workers.",
                "",
                "| job | " + " | ".join(names) + " | sum of stages | run wall (manifest) "
                "| outside stages (plan, commit; parallel: negative) |",
                "|---|" + "---:|" * (len(names) + 3),
            ]
            for job in stage_jobs:
                cells = [
                    f"{s['seconds']:.2f} s ({_f(s['mb_per_s'], '{:.1f}')} MB/s)"
                    if (s := job["stages"].get(name))
                    else "–"
                    for name in names
                ]
                total = sum(s["seconds"] for s in job["stages"].values())
                lines.append(
                    f"| {job['name']} | " + " | ".join(cells) + f" | {total:.2f} s | "
                    f"{_f(job.get('run_wall_seconds'))} s | "
                    f"{_f(job.get('outside_stages_seconds'))} s |"
                )
            sentence_cells = [
                _f(stage_jobs[0]["stages"].get(name, {}).get("sentences_per_s"), "{:,}")
                for name in names
            ]
            lines += [
                "",
                f"Sentences/s per stage ({stage_jobs[0]['name']}): "
                + ", ".join(f"{k} {v}" for k, v in zip(names, sentence_cells, strict=True))
                + ".",
            ]
    marginals = [
        (label, results.get(key))
        for key, label in (("marginal", "default workers"), ("marginal_1core", "workers=1"))
    ]
    if any(mg for _, mg in marginals):
        lines += [
            "",
            "### Marginal cost (large run minus small run, best wall / CPU of each)",
            "",
            "| run | measure | s per MB | marginal MB/s | fixed cost s (intercept) |",
            "|---|---|---:|---:|---:|",
        ]
        for label, mg in marginals:
            if not mg:
                continue
            for key in ("wall", "cpu"):
                v = mg[key]
                lines.append(
                    f"| {label} | {key} | {v['seconds_per_mb']:.3f} | "
                    f"{_f(v['marginal_mb_per_s'])} | {v['fixed_seconds']:.2f} |"
                )
        for label, mg in marginals:
            if mg and mg.get("stages"):
                lines += [
                    "",
                    f"Per stage, marginal ({label}; stage seconds are summed over workers): "
                    + ", ".join(
                        f"{k} {v['seconds_per_mb']:.3f} s/MB "
                        f"({_f(v['marginal_mb_per_s'], '{:.1f}')} MB/s)"
                        for k, v in mg["stages"].items()
                    )
                    + ".",
                ]
    mem = results.get("memory")
    if mem:
        lines += [
            "",
            "### Memory",
            "",
            f"Peak RSS: {mem['idle_mb']} MB after imports and set-up with no document; "
            + ", ".join(f"{k}: {v} MB" for k, v in mem["library_peak_mb"].items())
            + f". Growth from small to large input: {_f(mem.get('growth_mb'), '{:.0f}')} MB "
            f"for {_f(mem.get('extra_input_mb'), '{:.0f}')} MB more text "
            f"({_f(mem.get('growth_per_input_mb'), '{:.2f}')} MB of RSS per MB of input; "
            f"0 is flat). (The harness itself peaked at {results.get('harness_peak_rss_mb')} MB, "
            "the floor of every child's ru_maxrss.)",
            "",
            "Whole process tree (sampled, pool workers included): "
            + ", ".join(f"{k}: {v} MB" for k, v in mem.get("tree_peak_mb", {}).items())
            + ".",
        ]
    idle = results.get("idle")
    if idle and idle.get("ok"):
        rep = idle["runs"][0].get("report", {})
        steps = rep.get("setup_seconds", {})
        lines += [
            "",
            "In-process set-up (idle job, no document): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items())
            + f"; whole process {idle['wall']['min']:.2f} s wall.",
        ]
    sp = results.get("spacy")
    if sp:
        lines += ["", "### spaCy baseline", ""]
        if sp.get("skipped"):
            lines.append(f"Skipped: {sp['skipped']}")
        elif sp.get("ok"):
            rep = sp["spacy"]
            lines += [
                f"spaCy {rep['spacy']} `blank('en')` + `sentencizer` + `PhraseMatcher` "
                f"(attr LOWER) over {rep['terms']} literal terms ({rep.get('terms_source')}: "
                "lexicon entries and finite rule patterns, expanded), on "
                f"{sp['input']['file']} ({sp['input']['mb']} MB). It tokenises, splits and "
                "matches; it does not classify, resolve actors, validate or write.",
                "",
                "| | MB/s end to end (process) | CPU MB/s end to end | MB/s of processing only "
                "| sentences |",
                "|---|---:|---:|---:|---:|",
                f"| spaCy | {sp['mb_per_s']:.2f} | {sp['mb_per_cpu_s']:.2f} | "
                f"{sp['process_mb_per_s']:.2f} (nlp.pipe + matcher) | {rep['sentences']:,} |",
            ]
            ct = results.get("spacy_ratio", {})
            if ct:
                lines.append(
                    f"| claimtag ({ct.get('claimtag_job', '')}) | {ct['claimtag_mb_per_s']:.2f} | "
                    f"{_f(ct.get('claimtag_mb_per_cpu_s'))} | "
                    f"{_f(ct.get('claimtag_split_classify_mb_per_s'))} (split + classify) | "
                    f"{_f(ct.get('claimtag_sentences'), '{:,}')} |"
                )
                lines += [
                    "",
                    f"Ratio claimtag / spaCy (> 1: claimtag is faster): "
                    f"**{_f(ct.get('end_to_end_cpu'))}× by CPU time** end to end, "
                    f"{ct['end_to_end']:.2f}× by wall time (the two jobs may have run under "
                    f"different loads), {_f(ct.get('split_classify_vs_processing'))}× for "
                    "claimtag's split + classify stages against spaCy's processing.",
                ]
        else:
            lines.append("Failed: see the JSON results.")
    st = results.get("startup")
    if st:
        lines += [
            "",
            "### Start-up: one sentence, fresh process",
            "",
            "| how | runs | wall s min | wall s median | CPU s median | tree RSS MB | "
            "load at start |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for case in st.values():
            if not isinstance(case, dict):
                continue
            if case.get("error") or not case.get("wall"):
                lines.append(f"| {case['label']} | failed: {case.get('error', '')} | | | | | |")
                continue
            lines.append(
                f"| {case['label']} | {len(case['runs'])} | {case['wall']['min']:.2f} | "
                f"{case['wall']['median']:.2f} | {case['cpu']['median']:.2f} | "
                f"{_f(case['tree_peak_rss_mb'], '{:.0f}')} | {case['load'][0]} |"
            )
        if st.get("server_startup_seconds") is not None:
            lines += [
                "",
                f"`prefect server start` took {st['server_startup_seconds']} s to answer "
                "`/api/health` (not included above).",
            ]
    return "\n".join(lines) + "\n"


def render_comparison(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A table of the jobs both results have: MB/s (wall and CPU) then and now."""
    lines = [
        "",
        f"### Compared with {old.get('started_at')} (git {old['machine']['git']['commit']}, "
        f"code {old.get('code', {}).get('fingerprint', '?')}, rule pack {old.get('rule_pack')})",
        "",
        "| job | MB/s then | MB/s now | CPU MB/s then | CPU MB/s now | CPU speed-up | "
        "load then | load now |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, job in new.get("throughput", {}).items():
        was = old.get("throughput", {}).get(name)
        if not (was and was.get("ok") and job.get("ok")):
            continue
        lines.append(
            f"| {name} | {was['mb_per_s']:.2f} | {job['mb_per_s']:.2f} | "
            f"{was['mb_per_cpu_s']:.2f} | {job['mb_per_cpu_s']:.2f} | "
            f"{job['mb_per_cpu_s'] / was['mb_per_cpu_s']:.2f}× | {was['load'][0]} | "
            f"{job['load'][0]} |"
        )
    return "\n".join(lines) + "\n"


def update_doc(path: Path, markdown: str) -> None:
    """Replace the generated block of ``path`` (between DOC_MARKERS) with ``markdown``."""
    begin, end = DOC_MARKERS
    text = path.read_text(encoding="utf-8") if path.exists() else f"{begin}\n{end}\n"
    if begin not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{markdown}{end}{tail}", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench_pipeline.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    p.add_argument("--quick", action="store_true", help="smoke run: ~1 and 3 MB, no Prefect")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.add_argument("--markdown", type=Path, help="write the Markdown tables here ('-': stdout)")
    p.add_argument(
        "--update-doc", type=Path, help="replace the generated block of this Markdown file"
    )
    p.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    p.add_argument("--workdir", type=Path, help="keep inputs and logs here (default: a temp dir)")
    p.add_argument("--small-mb", type=float, help="small input (default 20; quick 1)")
    p.add_argument("--large-mb", type=float, help="large input (default 120; quick 3)")
    p.add_argument("--repeat", type=int, help="runs per job (default 3; quick 1)")
    p.add_argument("--large-repeat", type=int, help="runs of the large job (default 1)")
    p.add_argument("--batch-mb", type=float, default=8.0, help="batch size (default 8, as the CLI)")
    p.add_argument("--no-startup", action="store_true", help="skip the start-up jobs")
    p.add_argument("--no-server", action="store_true", help="skip `prefect server start`")
    p.add_argument("--no-spacy", action="store_true", help="skip the spaCy baseline")
    p.add_argument("--no-single-core", action="store_true", help="skip the workers=1 library runs")
    p.add_argument(
        "--dask",
        action="store_true",
        help="also run the batches on a local Dask cluster (library, and the CLI's --dask local "
        "against the Prefect server)",
    )
    p.add_argument(
        "--corpora", action="store_true", help="also run each corpus file whole (~230 MB in all)"
    )
    p.add_argument(
        "--no-snapshot",
        action="store_true",
        help="import claimtag from the working tree as it changes, not from a copy made at start",
    )
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="RESULTS",
        help="run nothing: render the Markdown of an earlier --out file (with --markdown, "
        "--update-doc)",
    )
    p.add_argument(
        "--compare",
        type=Path,
        metavar="OLD_RESULTS",
        help="add a table comparing these results with an earlier --out file",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return the results (and write/print them as asked)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        report = worker(json.loads(args.worker))
        print(json.dumps(report))
        return report
    if args.from_json:
        earlier = json.loads(args.from_json.read_text(encoding="utf-8"))
        return _emit(earlier, args, print_default=argv is None)
    if not args.corpus_dir.is_dir():
        raise SystemExit(f"bench_pipeline: corpus not found at {args.corpus_dir}")
    quick = args.quick
    small_mb = args.small_mb or (1.0 if quick else 20.0)
    large_mb = args.large_mb or (3.0 if quick else 120.0)
    sizes = (small_mb, large_mb)
    repeat = args.repeat or (1 if quick else 3)
    large_repeat = args.large_repeat or 1
    keep = args.workdir is not None
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="claimtag-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    snapshot = None if args.no_snapshot else snapshot_code(work / "code")
    # --quick uses the user's claimtag cache: a warm one spares CI the Hyperscan compile
    env = _base_env(work, snapshot["pythonpath"] if snapshot else None, private_cache=not quick)
    started = time.time()
    command = "benchmarks/bench_pipeline.py " + " ".join(
        a for a in (sys.argv[1:] if argv is None else argv)
    )
    results: dict[str, Any] = {
        "command": command.strip(),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "machine": machine_info(),
        "code": {k: v for k, v in (snapshot or {}).items() if k != "pythonpath"}
        or {"snapshot": False},
        "load_start": load_average(),
        "inputs": {},
        "throughput": {},
    }
    _log(f"bench: work dir {work}; load {results['load_start']}")
    try:
        _log("bench: building inputs")
        targets = [[str(work / "inputs" / f"mixed-{mb:g}MB.parquet"), mb] for mb in sizes]
        built = in_subprocess(
            {"kind": "build", "targets": targets, "corpus_dir": str(args.corpus_dir)},
            work,
            "build-inputs",
        )
        small, large = built["inputs"]
        results["inputs"] = {"small": small, "large": large}
        size_s, size_l = f"{small['mb']:.0f}MB", f"{large['mb']:.0f}MB"
        jobs = results["throughput"]

        _log("bench: idle (imports and set-up; --quick: includes a Hyperscan compile if cold)")
        idle_data = {**small, "mb": 0.0, "bytes": 0}
        if not quick:  # compiles the Hyperscan database into the private cache
            in_subprocess({"kind": "idle"}, work, "idle-warmup", env)
        idle = throughput_job("idle", {"kind": "idle"}, idle_data, work, env, 1)
        results["idle"] = idle
        idle_report = idle["runs"][0].get("report") or {}
        results["rule_pack"] = idle_report.get("rule_pack")
        results["claimtag_imported_from"] = idle_report.get("claimtag_file")

        lib = {"kind": "library", "batch_mb": args.batch_mb}
        _log(f"bench: library run on {small['mb']} MB")
        jobs[f"library-{size_s}"] = throughput_job(
            f"library-{size_s}", lib, small, work, env, repeat
        )
        _log(f"bench: library run on {large['mb']} MB")
        jobs[f"library-{size_l}"] = throughput_job(
            f"library-{size_l}", lib, large, work, env, large_repeat
        )
        results["marginal"] = marginal(jobs[f"library-{size_s}"], jobs[f"library-{size_l}"])
        if not args.no_single_core and not quick:
            one = {**lib, "workers": 1}
            for data, size, n in ((small, size_s, 1), (large, size_l, 1)):
                name = f"library-{size}-1core"
                _log(f"bench: library run, workers=1, on {data['mb']} MB")
                jobs[name] = throughput_job(name, one, data, work, env, n)
            results["marginal_1core"] = marginal(
                jobs[f"library-{size_s}-1core"], jobs[f"library-{size_l}-1core"]
            )
        if args.dask:
            _log(f"bench: local Dask cluster (2 workers) on {large['mb']} MB")
            jobs[f"dask2-{size_l}"] = throughput_job(
                f"dask2-{size_l}",
                {"kind": "dask", "workers": 2, "batch_mb": args.batch_mb},
                large,
                work,
                env,
                1,
            )
        if args.corpora:
            for name in MIX:
                data = in_subprocess(
                    {"kind": "corpus", "name": name, "corpus_dir": str(args.corpus_dir)},
                    work,
                    f"corpus-{name}",
                )
                results["inputs"][name] = data
                _log(f"bench: library run on the whole {name} ({data['mb']} MB)")
                jobs[f"library-{name}"] = throughput_job(f"library-{name}", lib, data, work, env, 1)
        lib_small = jobs[f"library-{size_s}"]
        lib_large = jobs[f"library-{size_l}"]
        # one process (workers=1) shows whether memory is flat; default runs add the pool
        one_small = jobs.get(f"library-{size_s}-1core", {})
        one_large = jobs.get(f"library-{size_l}-1core", {})
        mem_small, mem_large = (
            (one_small, one_large)
            if one_small.get("ok") and one_large.get("ok")
            else (lib_small, lib_large)
        )
        if mem_small.get("ok") and mem_large.get("ok") and idle.get("ok"):
            growth = mem_large["peak_rss_mb"] - mem_small["peak_rss_mb"]
            extra = large["mb"] - small["mb"]
            results["memory"] = {
                "idle_mb": idle["peak_rss_mb"],
                "library_peak_mb": {
                    mem_small["name"]: mem_small["peak_rss_mb"],
                    mem_large["name"]: mem_large["peak_rss_mb"],
                },
                "growth_mb": round(growth, 1),
                "extra_input_mb": round(extra, 1),
                "growth_per_input_mb": round(growth / extra, 3) if extra > 0 else None,
                "tree_peak_mb": {
                    j["name"]: j.get("tree_peak_rss_mb")
                    for j in (lib_small, lib_large, one_small, one_large)
                    if j.get("ok")
                },
            }

        # spaCy baseline
        if args.no_spacy:
            results["spacy"] = {"skipped": "--no-spacy"}
        else:
            if importlib.util.find_spec("spacy") is None:  # not imported here: see run_measured
                results["spacy"] = {
                    "skipped": "spaCy is not installed (.venv/bin/pip install 'spacy>=3.7')"
                }
                _log("bench: spaCy not installed; baseline skipped")
            else:
                _log(f"bench: spaCy baseline on {small['mb']} MB")
                sp = throughput_job(
                    f"spacy-{size_s}",
                    {"kind": "spacy"},
                    small,
                    work,
                    env,
                    1 if quick else min(repeat, 2),
                )
                results["spacy"] = sp
                # spaCy runs in one process: compare with claimtag on one core when measured
                ref = one_small if one_small.get("ok") else lib_small
                if sp.get("ok") and ref.get("ok"):
                    stages = ref.get("stage_seconds", {})
                    sc = stages.get("split", 0) + stages.get("classify", 0)
                    sc_rate = small["mb"] / sc if sc else None
                    results["spacy_ratio"] = {
                        "claimtag_job": ref["name"],
                        "claimtag_default_workers_mb_per_s": lib_small.get("mb_per_s"),
                        "claimtag_mb_per_s": ref["mb_per_s"],
                        "spacy_mb_per_s": sp["mb_per_s"],
                        "end_to_end": round(ref["mb_per_s"] / sp["mb_per_s"], 3),
                        # CPU seconds: the two jobs may have run under different loads
                        "end_to_end_cpu": round(ref["mb_per_cpu_s"] / sp["mb_per_cpu_s"], 3),
                        "claimtag_mb_per_cpu_s": ref["mb_per_cpu_s"],
                        "spacy_mb_per_cpu_s": sp["mb_per_cpu_s"],
                        "claimtag_split_classify_mb_per_s": round(sc_rate, 3) if sc_rate else None,
                        "spacy_processing_mb_per_s": sp["process_mb_per_s"],
                        "split_classify_vs_processing": round(sc_rate / sp["process_mb_per_s"], 3)
                        if sc_rate
                        else None,
                        "claimtag_sentences": (ref.get("counts") or {}).get("sentences"),
                        "spacy_sentences": sp["spacy"]["sentences"],
                    }

        # start-up, and a Prefect run on the small input against the server
        if not args.no_startup:
            _log("bench: start-up")

            def on_server(server_env: dict[str, str]) -> None:
                variants: list[tuple[str, list[str]]] = [(f"prefect-server-{size_s}", [])]
                if args.dask:
                    variants.append(
                        (f"prefect-server-dask2-{size_s}", ["--dask", "local", "--workers", "2"])
                    )
                for name, extra in variants:
                    _log(f"bench: {name}")
                    out = work / "out" / name
                    cmd = [*_claimtag_cmd(), "run", small["path"], "--out", str(out), "-q"]
                    cmd += ["--batch-mb", str(args.batch_mb), *extra]
                    r = run_measured(cmd, env=server_env, logs=work / "logs", name=name)
                    manifests = sorted((out / "runs").glob("*.json"))
                    if manifests:
                        m = json.loads(manifests[-1].read_text(encoding="utf-8"))
                        r["report"] = {"counts": m["counts"], "timings": m["timings"]}
                    shutil.rmtree(out, ignore_errors=True)
                    jobs[name] = summarise(name, [r], small)
                    if r["returncode"] == 0:
                        _log(
                            f"  {name}: {r['wall_seconds']:.1f} s, "
                            f"{small['mb'] / r['wall_seconds']:.2f} MB/s"
                        )
                    else:
                        _log(f"  {name}: FAILED: {r.get('stderr_tail', '')[-500:]}")

            results["startup"] = startup_benchmarks(
                work,
                env,
                repeat=repeat,
                quick=quick,
                server=not args.no_server,
                on_server=on_server,
            )
    finally:
        results["load_end"] = load_average()
        results["harness_peak_rss_mb"] = _harness_rss_mb()
        results["elapsed_seconds"] = round(time.time() - started, 1)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            results["workdir"] = str(work)

    results = _emit(results, args, print_default=argv is None)
    _log(f"bench: done in {results['elapsed_seconds']} s")
    return results


def _emit(results: dict[str, Any], args: argparse.Namespace, print_default: bool) -> dict[str, Any]:
    """Render the Markdown; write the JSON, the Markdown and the doc as asked."""
    ratio, sp = results.get("spacy_ratio"), results.get("spacy") or {}
    if ratio and "end_to_end_cpu" not in ratio:  # results of an older harness
        ref = results["throughput"].get(ratio.get("claimtag_job", ""), {})
        if ref.get("mb_per_cpu_s") and sp.get("mb_per_cpu_s"):
            ratio["claimtag_mb_per_cpu_s"] = ref["mb_per_cpu_s"]
            ratio["spacy_mb_per_cpu_s"] = sp["mb_per_cpu_s"]
            ratio["end_to_end_cpu"] = round(ref["mb_per_cpu_s"] / sp["mb_per_cpu_s"], 3)
    markdown = render_markdown(results)
    if getattr(args, "compare", None):
        markdown += render_comparison(json.loads(args.compare.read_text(encoding="utf-8")), results)
    results["markdown"] = markdown
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    if args.markdown:
        if str(args.markdown) == "-":
            sys.stdout.write(markdown)
        else:
            args.markdown.write_text(markdown, encoding="utf-8")
    if args.update_doc:
        update_doc(args.update_doc, markdown)
    if print_default and not args.markdown:
        sys.stdout.write(markdown)
    return results


if __name__ == "__main__":
    main()
