"""The Prefect flow: same dataset as the library run, summary artifact, CLI in ephemeral mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claimtag.learned import bundled_model
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.store import read_claims, read_documents

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow

VOLATILE = {"run_id", "extracted_at", "processed_at"}


def stable_rows(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in r.items() if k not in VOLATILE} for r in rows),
        key=lambda r: (r[key], r.get("claim_type", "")),
    )


@pytest.mark.usefixtures("prefect_harness")
def test_flow_matches_library_run(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from claimtag_flows.extract import extract_claims

    flow_out, lib_out = tmp_path / "flow", tmp_path / "lib"
    manifest = extract_claims(inputs=[str(EXAMPLES)], out=str(flow_out), batch_mb=0.001)
    run([str(EXAMPLES)], lib_out, default_rules(), model=bundled_model())
    assert manifest["versions"]["model"] == bundled_model().label  # on by default
    assert manifest["counts"]["batches"] == 4  # tiny batches: one task per document
    assert stable_rows(read_claims(flow_out).to_pylist(), "claim_id") == stable_rows(
        read_claims(lib_out).to_pylist(), "claim_id"
    )
    assert stable_rows(read_documents(flow_out).to_pylist(), "doc_id") == stable_rows(
        read_documents(lib_out).to_pylist(), "doc_id"
    )

    async def artifact_keys() -> list[str | None]:
        async with get_client() as client:
            return [a.key for a in await client.read_artifacts()]

    import asyncio

    assert "claimtag-run-summary" in asyncio.run(artifact_keys())


@pytest.mark.usefixtures("prefect_harness")
def test_flow_raises_input_error_for_missing_path(tmp_path: Path) -> None:
    from claimtag.errors import InputError
    from claimtag_flows.extract import extract_claims

    with pytest.raises(InputError):
        extract_claims(inputs=[str(tmp_path / "missing")], out=str(tmp_path / "o"))


def test_cli_run_in_ephemeral_mode(tmp_path: Path) -> None:
    """`claimtag run` as a user runs it: a fresh process, Prefect's embedded server."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "claimtag.cli",
            "run",
            str(EXAMPLES),
            "--out",
            str(tmp_path / "o"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads(proc.stdout)
    assert manifest["counts"]["documents"] == 4
    assert manifest["counts"]["claims"] > 0
    assert (tmp_path / "o" / "runs" / f"{manifest['run_id']}.json").is_file()


@pytest.mark.usefixtures("prefect_harness")
def test_flow_on_a_local_dask_cluster_matches_local_run(tmp_path: Path) -> None:
    pytest.importorskip("prefect_dask")
    from claimtag_flows.extract import extract_claims

    dask_out, lib_out = tmp_path / "dask", tmp_path / "lib"
    manifest = extract_claims(
        inputs=[str(EXAMPLES)], out=str(dask_out), batch_mb=0.001, dask="local", workers=2
    )
    run([str(EXAMPLES)], lib_out, default_rules(), workers=1, model=bundled_model())
    assert manifest["counts"]["batches"] == 4
    assert os.getpid() not in manifest["worker_pids"]
    assert stable_rows(read_claims(dask_out).to_pylist(), "claim_id") == stable_rows(
        read_claims(lib_out).to_pylist(), "claim_id"
    )
    assert stable_rows(read_documents(dask_out).to_pylist(), "doc_id") == stable_rows(
        read_documents(lib_out).to_pylist(), "doc_id"
    )


@pytest.mark.usefixtures("prefect_harness")
def test_flow_with_two_worker_processes(tmp_path: Path) -> None:
    from claimtag_flows.extract import extract_claims

    out = tmp_path / "out"
    manifest = extract_claims(inputs=[str(EXAMPLES)], out=str(out), batch_mb=0.001, workers=2)
    assert len(manifest["worker_pids"]) == 2
    assert os.getpid() not in manifest["worker_pids"]
