"""Incremental runs: unchanged documents are skipped, changed ones replaced, never duplicated."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from claimtag.errors import StoreError
from claimtag.rules import default_rules, load_rules
from claimtag.runs import run
from claimtag.store import read_claims, read_documents, read_manifests

from .conftest import EXAMPLES

VOLATILE = {"run_id", "extracted_at", "processed_at"}


def snapshot(out: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The dataset's content without run-specific columns, sorted."""
    claims = [
        tuple(sorted((k, str(v)) for k, v in r.items() if k not in VOLATILE))
        for r in read_claims(out).to_pylist()
    ]
    docs = [
        tuple(sorted((k, str(v)) for k, v in r.items() if k not in VOLATILE))
        for r in read_documents(out).to_pylist()
    ]
    return sorted(claims), sorted(docs)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    shutil.copytree(EXAMPLES, src)
    return src


def test_rerun_adds_nothing(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run([str(inputs)], out, default_rules())
    before = snapshot(out)
    second = run([str(inputs)], out, default_rules())
    assert second["counts"]["documents_unchanged"] == first["counts"]["documents"] == 4
    assert second["counts"]["claims"] == 0
    assert snapshot(out) == before
    assert [m["run_id"] for m in read_manifests(out)] == [first["run_id"], second["run_id"]]


def test_changed_document_is_replaced_not_duplicated(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([str(inputs)], out, default_rules())
    speech = inputs / "speech_minister_general_debate.txt"
    speech.write_text(speech.read_text() + "\nThe invasion must end, and the sanctions stay.\n")
    manifest = run([str(inputs)], out, default_rules())
    assert manifest["counts"]["documents_replaced"] == 1
    assert manifest["counts"]["documents_unchanged"] == 3
    docs = read_documents(out).to_pylist()
    assert Counter(d["doc_id"] for d in docs).most_common(1)[0][1] == 1
    claims = read_claims(out).to_pylist()
    assert len({c["claim_id"] for c in claims}) == len(claims)
    assert any("invasion must end" in c["text"] for c in claims)
    # equals a fresh run over the changed inputs
    fresh = tmp_path / "fresh"
    run([str(inputs)], fresh, default_rules())
    assert snapshot(out) == snapshot(fresh)


def test_new_rule_pack_version_reprocesses(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the new pack gets the re prefilter (same claims, see test_prefilter.py): a Hyperscan
    # database for it would be compiled from scratch, a minute and more of this test
    monkeypatch.setenv("CLAIMTAG_PREFILTER", "regex")
    out = tmp_path / "out"
    run([str(inputs)], out, default_rules())
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "name: extra\nversion: 1.0.0\nrules:\n  - id: extra.fishermen\n    claim_type: threat\n"
        "    patterns: ['\\bfishermen\\b']\n    weight: 0.5\n"
        "    examples: {positive: ['Fishermen fled.'], negative: ['Farmers stayed.']}\n"
    )
    pack = load_rules([extra])
    content_only = run([str(inputs)], out, pack, reprocess="content")
    assert content_only["counts"]["documents_unchanged"] == 4
    changed = run([str(inputs)], out, pack)
    assert changed["counts"]["documents_replaced"] == 4
    versions = {c["rule_pack_version"] for c in read_claims(out).to_pylist()}
    assert versions == {pack.version}
    ids = [c["claim_id"] for c in read_claims(out).to_pylist()]
    assert len(ids) == len(set(ids))


def test_reprocess_all(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([str(inputs)], out, default_rules())
    before = snapshot(out)
    again = run([str(inputs)], out, default_rules(), reprocess="all")
    assert again["counts"]["documents_replaced"] == 4
    assert snapshot(out) == before


def test_compact_keeps_the_data(inputs: Path, tmp_path: Path) -> None:
    from claimtag.dataset import Dataset

    out = tmp_path / "out"
    for name in sorted(p.name for p in inputs.iterdir() if p.is_file()):
        run([str(inputs / name)], out, default_rules())
    before = snapshot(out)
    files_before = len(list((out / "claims").rglob("*.parquet")))
    dataset = Dataset(out)
    with dataset.lock("compact"):
        result = dataset.compact("compact-test")
    assert result["files_before"] > result["files_after"]
    assert files_before > len(list((out / "claims").rglob("*.parquet")))
    assert snapshot(out) == before


def test_plain_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "claims").mkdir(parents=True)
    with pytest.raises(StoreError, match="plain folder"):
        run([str(EXAMPLES)], out, default_rules())


@pytest.mark.parametrize("run_id", ["../../escaped", "a/b", ".hidden", "x" * 101, "a..b", "a b"])
def test_unsafe_run_ids_are_refused(tmp_path: Path, run_id: str) -> None:
    from claimtag.errors import InputError

    with pytest.raises(InputError, match="invalid run id"):
        run([str(EXAMPLES)], tmp_path / "out", default_rules(), run_id=run_id)
    assert not (tmp_path / "escaped.json").exists()
