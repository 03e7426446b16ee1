"""Crash safety and concurrency with real processes: kill -9 at many points, two runs at once.

Each crashed run must leave a dataset that opens and holds no partial or duplicated
data; the next run must finish the work so that the result equals one uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from claimtag.store import read_claims, read_documents

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow

VOLATILE = {"run_id", "extracted_at", "processed_at"}


def cli(
    *args: str, fault: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process; runs use one process so a fault kills the run itself."""
    if args and args[0] == "run" and "--workers" not in args:
        args = (*args, "--workers", "1")
    env = dict(os.environ)
    env.pop("CLAIMTAG_FAULT", None)
    if fault:
        env["CLAIMTAG_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "claimtag.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_tiny(
    inputs: Path, out: Path, *extra: str, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``claimtag run`` without Prefect, in batches of about 2 kB (one per document)."""
    return cli(
        "run",
        str(inputs),
        "--out",
        str(out),
        "--no-prefect",
        "--batch-mb",
        "0.002",
        *extra,
        fault=fault,
    )


def snapshot(out: Path, ignore: frozenset[str] = frozenset()) -> tuple[list[Any], list[Any]]:
    """The dataset's content without run-specific columns (and ``ignore``), sorted."""
    skip = VOLATILE | ignore
    claims = sorted(
        tuple(sorted((k, str(v)) for k, v in r.items() if k not in skip))
        for r in read_claims(out).to_pylist()
    )
    docs = sorted(
        tuple(sorted((k, str(v)) for k, v in r.items() if k not in skip))
        for r in read_documents(out).to_pylist()
    )
    return claims, docs


def check_consistent(out: Path) -> tuple[int, int]:
    """The dataset opens; no duplicate claim ids or doc ids; returns (claims, documents)."""
    claims = read_claims(out, columns=["claim_id", "doc_id"]).to_pylist()
    docs = [d["doc_id"] for d in read_documents(out).to_pylist()]
    assert len({c["claim_id"] for c in claims}) == len(claims), "duplicate claims"
    assert len(set(docs)) == len(docs), "duplicate documents"
    claim_docs = {c["doc_id"] for c in claims}
    assert claim_docs <= set(docs), "claims without their document row"
    assert not [p for p in (out / "claims").rglob("*") if p.name.startswith(".")]
    return len(claims), len(docs)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve small documents: the examples three times under different names."""
    src = tmp_path_factory.mktemp("in")
    for copy in range(3):
        for path in EXAMPLES.rglob("*"):
            if path.is_file():
                dest = src / f"set{copy}" / path.relative_to(EXAMPLES)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(path.read_text(encoding="utf-8") + f"\nCopy {copy}.\n")
    return src


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    out = tmp_path_factory.mktemp("ref") / "out"
    proc = run_tiny(inputs, out)
    assert proc.returncode == 0, proc.stderr
    return snapshot(out)


FAULT_POINTS = [
    "read:set1/news/2026-03-04_gallium_ban.txt",  # while reading and tagging
    "batch-0-processed",  # after the first batch was classified, before it was written
    "write-part",  # between two Parquet parts of a batch
    "batch-3-written",  # after some batches were staged
    "before-commit",  # all staged, nothing committed
    "commit-carried",  # new version half built
    "commit-before-swap",  # new version complete, not yet current
    "commit-after-swap",  # committed, staging not yet cleaned
]


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_kill_9_then_rerun_equals_uninterrupted(
    point: str, inputs: Path, reference: tuple[Any, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    crashed = run_tiny(inputs, out, fault=point)
    assert crashed.returncode == -9, crashed.stderr
    n_claims, n_docs = check_consistent(out)
    committed = point == "commit-after-swap"
    assert (n_docs == 12) if committed else (n_claims, n_docs) == (0, 0)
    again = run_tiny(inputs, out)
    assert again.returncode == 0, again.stderr
    check_consistent(out)
    assert snapshot(out) == reference
    leftovers = list((out / "_claimtag" / "staging").iterdir())
    assert leftovers == []


def test_kill_9_during_an_incremental_run(
    inputs: Path, reference: tuple[Any, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    partial = tmp_path / "partial"
    shutil.copytree(inputs / "set0", partial / "set0")
    first = cli("run", str(partial), "--out", str(out), "--no-prefect")
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    crashed = run_tiny(inputs, out, fault="commit-before-swap")
    assert crashed.returncode == -9
    check_consistent(out)
    assert snapshot(out) == before  # readers still see the first run, complete
    again = cli("run", str(inputs), "--out", str(out), "--no-prefect")
    assert again.returncode == 0, again.stderr
    # the first run read set0 from another folder: only the source column differs
    without_source = frozenset({"source"})
    ref_claims, ref_docs = reference
    got_claims, got_docs = snapshot(out, without_source)
    assert got_claims == ref_claims
    assert [tuple(f for f in d if f[0] != "source") for d in ref_docs] == got_docs


def test_two_runs_at_once_serialise(
    inputs: Path, reference: tuple[Any, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "CLAIMTAG_FAULT": "batch-0-processed@sleep=6"}
    slow = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claimtag.cli",
            "run",
            str(inputs),
            "--out",
            str(out),
            "--no-prefect",
            "--batch-mb",
            "0.002",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lock = out / "_claimtag" / "lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        lock.exists() and b"pid" in lock.read_bytes() and b"checking" not in lock.read_bytes()
    ):
        time.sleep(0.1)
    refused = cli("run", str(inputs), "--out", str(out), "--no-prefect")
    assert refused.returncode == 2
    assert "in use by another claimtag run" in refused.stderr
    assert "Traceback" not in refused.stderr
    waited = cli("run", str(inputs), "--out", str(out), "--no-prefect", "--wait", "120")
    assert slow.wait(timeout=120) == 0
    assert waited.returncode == 0, waited.stderr
    assert "4 unchanged" in waited.stdout or "12 unchanged" in waited.stdout
    check_consistent(out)
    assert snapshot(out) == reference


def test_recovery_removes_leftovers(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    crashed = run_tiny(inputs, out, fault="commit-before-swap")
    assert crashed.returncode == -9
    staging = list((out / "_claimtag" / "staging").iterdir())
    versions = sorted(p.name for p in (out / "_claimtag" / "versions").iterdir())
    assert staging
    assert versions == ["v000000", "v000001"]  # v1 built but never made current
    proc = cli("run", str(EXAMPLES), "--out", str(out), "--no-prefect")
    assert proc.returncode == 0, proc.stderr
    assert list((out / "_claimtag" / "staging").iterdir()) == []
    assert "v000001" in {p.name for p in (out / "_claimtag" / "versions").iterdir()}


def test_a_killed_worker_process_fails_the_run_cleanly(
    inputs: Path, reference: tuple[Any, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    crashed = run_tiny(inputs, out, "--workers", "2", fault="batch-2-processed")
    assert crashed.returncode == 1, crashed.stderr
    assert "a worker process died" in crashed.stderr
    assert "Traceback" not in crashed.stderr
    assert check_consistent(out) == (0, 0)
    again = run_tiny(inputs, out, "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert snapshot(out) == reference
