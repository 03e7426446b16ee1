"""The benchmark's smoke mode runs end to end (no timing assertions: speed is measured in
benchmarks/, with figures in docs/PERFORMANCE.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_quick_benchmark_runs(tmp_path: Path, corpus: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_pipeline", ROOT / "benchmarks" / "bench_pipeline.py"
    )
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "results.json"
    results = bench.main(
        [
            "--quick",
            "--no-spacy",
            "--no-snapshot",
            "--corpus-dir",
            str(corpus),
            "--workdir",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ]
    )
    assert isinstance(results, dict)
    saved = json.loads(out.read_text())
    assert saved.keys() == results.keys()
    text = json.dumps(saved)
    assert "library-1MB" in text
    assert "library-3MB" in text
    for name, job in results["throughput"].items():
        assert job["ok"], name
        assert job["counts"]["documents"] == job["input"]["documents"], name
        stages = {"load", "split", "classify", "build", "validate", "write"}
        assert stages <= set(job["stage_seconds"]), name
    assert results["idle"]["ok"]
    assert results["marginal"] is not None
    assert all(c["ok"] for c in results["startup"].values())
