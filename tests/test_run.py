"""A whole run without Prefect: the dataset on disk, read back by pyarrow, pandas and DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from claimtag import CLAIM_TYPES
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.schemas import load_schema, violations
from claimtag.store import read_claims, read_documents, read_manifests
from claimtag.validation import jsonable

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("out")
    manifest = run([str(EXAMPLES)], out, default_rules(), run_id="test-run")
    return out, manifest


def test_every_example_document_is_accounted_for(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = example_run
    docs = read_documents(out).to_pylist()
    files = sorted(
        p.relative_to(EXAMPLES).as_posix()
        for p in EXAMPLES.rglob("*")
        if p.suffix in {".txt", ".md"}
    )
    assert sorted(d["doc_id"] for d in docs) == files
    assert {d["status"] for d in docs} == {"processed"}
    assert manifest["counts"]["documents"] == len(files)


def test_claims_cover_every_type_and_validate(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = example_run
    rows = read_claims(out).to_pylist()
    assert {r["claim_type"] for r in rows} == set(CLAIM_TYPES)
    assert len(rows) == manifest["counts"]["claims"]
    for row in rows:
        assert violations("claim", jsonable(row)) == [], row["claim_id"]


def test_offsets_map_back_onto_the_documents(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = example_run
    texts = {
        p.relative_to(EXAMPLES).as_posix(): p.read_text(encoding="utf-8")
        for p in EXAMPLES.rglob("*")
        if p.is_file()
    }
    for row in read_claims(out).to_pylist():
        text = texts[row["doc_id"]]
        assert text[row["char_start"] : row["char_end"]] == row["text"]
        for ev in row["evidence"]:
            assert text[ev["start"] : ev["end"]] == ev["text"]
            assert row["char_start"] <= ev["start"] < ev["end"] <= row["char_end"]


def test_claim_ids_unique(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = example_run
    ids = [r["claim_id"] for r in read_claims(out, columns=["claim_id"]).to_pylist()]
    assert len(ids) == len(set(ids))


def test_hive_dataset_reads_with_pyarrow_pandas_duckdb(
    example_run: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = example_run
    plain = ds.dataset(out / "claims", partitioning="hive").to_table()
    assert plain.num_rows == manifest["counts"]["claims"]
    assert set(plain.column("claim_type").to_pylist()) == set(CLAIM_TYPES)
    frame = plain.to_pandas()
    assert frame["confidence"].between(0, 1).all()
    con = duckdb.connect()
    counts = dict(
        con.execute(
            "select claim_type, count(*) from read_parquet(?, hive_partitioning=true) group by 1",
            [str(out / "claims" / "*" / "*.parquet")],
        ).fetchall()
    )
    assert counts == {t: n for t, n in manifest["counts"]["claims_by_type"].items() if n}


def test_file_metadata_carries_versions(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = example_run
    part = next((out / "claims").rglob("*.parquet"))
    meta = pq.read_schema(part).metadata
    assert meta[b"claimtag.schema_version"].decode() == load_schema("claim")["version"]
    assert meta[b"claimtag.rule_pack_version"].decode() == default_rules().version
    field = pq.read_schema(part).field("text")
    assert field.metadata[b"description"]


def test_no_temporary_files_left(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = example_run
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]


def test_manifest(example_run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = example_run
    (saved,) = read_manifests(out)
    assert saved["run_id"] == "test-run" == manifest["run_id"]
    assert saved["versions"]["rule_pack"] == default_rules().version
    assert set(saved["timings"]["stage_seconds"]) >= {"load", "split", "classify", "validate"}
    assert all((out / f).is_file() for f in saved["files"])


def test_invalid_records_go_to_rejects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import claimtag.pipeline as pipeline

    real = pipeline.build_record

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        record = real(*args, **kwargs)
        if record["claim_type"] == "threat":
            record["confidence"] = 7.0
            record["actors"] = ["not a code"]
        return record

    monkeypatch.setattr(pipeline, "build_record", broken)
    src = tmp_path / "in.txt"
    src.write_text("Troops invaded the town. Sanctions were imposed on the regime.")
    manifest = run([str(src)], tmp_path / "out", default_rules())
    assert manifest["counts"]["rejects"] == 1
    assert manifest["counts"]["claims_by_type"]["threat"] == 0
    assert manifest["counts"]["claims_by_type"]["economic_leverage"] == 1
    (reject_file,) = (tmp_path / "out" / "rejects").glob("*.jsonl")
    reject = json.loads(reject_file.read_text())
    assert {e["json_path"] for e in reject["errors"]} == {"$.confidence", "$.actors[0]"}
    (doc,) = read_documents(tmp_path / "out").to_pylist()
    assert (doc["n_claims"], doc["n_rejects"]) == (1, 1)


def test_rerun_gives_same_claim_ids(tmp_path: Path) -> None:
    a = run([str(EXAMPLES)], tmp_path / "a", default_rules())
    b = run([str(EXAMPLES)], tmp_path / "b", default_rules())
    assert a["run_id"] != b["run_id"]
    ids_a = sorted(read_claims(tmp_path / "a", columns=["claim_id"]).column(0).to_pylist())
    ids_b = sorted(read_claims(tmp_path / "b", columns=["claim_id"]).column(0).to_pylist())
    assert ids_a == ids_b


def test_schema_of_written_files_is_the_derived_schema(
    example_run: tuple[Path, dict[str, Any]],
) -> None:
    from claimtag.schemas import arrow_schema

    out, _ = example_run
    part = next((out / "documents").glob("*.parquet"))
    assert pq.read_schema(part).remove_metadata() == arrow_schema("document").remove_metadata()
