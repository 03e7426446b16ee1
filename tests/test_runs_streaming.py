"""Runs over streamed input: batches cut by size, a bounded number in flight, results
added up as they come, and the same dataset whatever the number of workers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claimtag.ingest import InputOptions, Outcome, plan_inputs
from claimtag.pipeline import ITEM_OVERHEAD_BYTES, RunContext, item_bytes
from claimtag.rules import default_rules
from claimtag.runs import (
    MIN_BATCH_BYTES,
    BatchSizes,
    RunSummary,
    RunTotals,
    Workers,
    cut_batches,
    finish_run,
    open_output,
    run,
    run_batch,
)
from claimtag.store import read_claims, read_documents
from claimtag.types import Document

from .conftest import EXAMPLES

VOLATILE = {"run_id", "extracted_at", "processed_at"}
THREAT = "Russia threatened to cut gas supplies to Europe."
SANCTIONS = "The EU imposed sanctions on Iran."


def _doc(doc_id: str, n_chars: int) -> Document:
    return Document(doc_id=doc_id, text="x" * n_chars, source="s", sha256="0" * 64)


def snapshot(out: Path) -> tuple[list[Any], list[Any]]:
    def rows(table: Any) -> list[Any]:
        return sorted(
            tuple(sorted((k, str(v)) for k, v in r.items() if k not in VOLATILE))
            for r in table.to_pylist()
        )

    return rows(read_claims(out)), rows(read_documents(out))


def test_batches_are_cut_by_size_not_by_count() -> None:
    mb = 1024 * 1024
    items: list[Document | Outcome] = [_doc(f"big{i}", 3 * mb) for i in range(4)]
    items += [_doc(f"small{i}", 10_000) for i in range(1000)]
    items.append(Outcome("bad", "s", "failed", "no text"))
    target = 7 * mb
    batches = list(cut_batches(iter(items), target))
    sizes = [sum(item_bytes(i) for i in b) for b in batches]
    assert [i.doc_id for b in batches for i in b] == [i.doc_id for i in items]  # order kept
    counts = [len(b) for b in batches]
    assert counts[0] == 2  # two 3 MB documents
    assert counts[1] > 50  # two more, and 10 kB ones up to the size
    assert counts[2] > 600
    assert max(sizes) <= target
    # about the same size, whatever the counts (a batch is cut before the item that
    # would overflow it: the first one, before a 3 MB document)
    assert sizes[0] > 6 * mb
    assert all(s > target - 10_000 - ITEM_OVERHEAD_BYTES for s in sizes[1:-1])


def test_a_document_larger_than_a_batch_is_a_batch_of_its_own() -> None:
    items: list[Document | Outcome] = [_doc("a", 10), _doc("huge", 5000), _doc("b", 10)]
    assert [[i.doc_id for i in b] for b in cut_batches(iter(items), 1000)] == [
        ["a"],
        ["huge"],
        ["b"],
    ]


def test_batch_sizes_shrink_towards_the_end_with_several_workers() -> None:
    mb = 1024 * 1024
    one = BatchSizes(8 * mb, 1, 120 * mb)
    assert {one.next() for _ in range(3)} == {8 * mb}
    two = BatchSizes(8 * mb, 2, 120 * mb)
    sizes = []
    while two.remaining > 0:
        sizes.append(two.next())
        two.cut(sizes[-1])
    assert sizes[0] == 8 * mb
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == MIN_BATCH_BYTES
    assert BatchSizes(8 * mb, 2, 120 * mb).count() == len(sizes)
    small = BatchSizes(8 * mb, 2, 20 * mb)
    assert small.next() == 5 * mb  # a small input still gives each worker several batches
    assert BatchSizes(8 * mb, 2, 20 * mb).count() >= 8
    tiny = BatchSizes(2000, 2, 10**6)  # asked for tiny batches: tiny batches
    assert tiny.next() == 2000


def test_batch_results_do_not_list_the_documents(tmp_path: Path) -> None:
    """A batch returns counts and file names; only ids that replace known documents."""
    out = tmp_path / "out"
    src = tmp_path / "docs.jsonl"
    src.write_text(
        "".join(json.dumps({"doc_id": f"d{i}", "text": THREAT}) + "\n" for i in range(20))
    )
    run([str(src)], out, default_rules())
    with open_output(out, "r2") as dataset:
        ctx = RunContext(
            run_id="r2", rules=default_rules(), known=dataset.known_documents(), reprocess="all"
        )
        result = run_batch(plan_inputs([str(src)]), ctx, out, 0)
        assert "doc_ids" not in result
        assert result["replaced"] == sorted(f"d{i}" for i in range(20))
        assert result["documents"] == {"processed": 20}
        totals = RunTotals()
        totals.add(result)
        manifest = finish_run(
            RunSummary(ctx=ctx, inputs=[str(src)], out=str(out), started=0.0, totals=totals),
            out,
        )
    assert manifest["counts"]["documents_replaced"] == 20
    assert len(read_documents(out)) == 20


@pytest.fixture
def many_docs(tmp_path: Path) -> Path:
    """The examples, plus 60 short table rows, as one folder and one JSONL file."""
    src = tmp_path / "in"
    shutil.copytree(EXAMPLES, src)
    rows = [{"doc_id": f"row{i}", "text": (THREAT, SANCTIONS)[i % 2]} for i in range(60)]
    rows[7]["doc_id"] = "row3"  # a duplicate, failed
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_two_workers_give_the_same_dataset_as_one(many_docs: Path, tmp_path: Path) -> None:
    inputs = [str(many_docs / "in"), str(many_docs / "rows.jsonl")]
    one = run(inputs, tmp_path / "one", default_rules(), workers=1, batch_bytes=600)
    two = run(inputs, tmp_path / "two", default_rules(), workers=2, batch_bytes=600)
    assert len(two["worker_pids"]) == 2
    assert one["counts"] == {**two["counts"], "batches": one["counts"]["batches"]}
    assert two["counts"]["batches"] > 10
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    docs = read_documents(tmp_path / "two").to_pylist()
    assert Counter(d["status"] for d in docs) == {"processed": 63, "failed": 1}


def test_rerun_with_two_workers_skips_unchanged_documents(many_docs: Path, tmp_path: Path) -> None:
    inputs = [str(many_docs / "in"), str(many_docs / "rows.jsonl")]
    out = tmp_path / "out"
    first = run(inputs, out, default_rules(), workers=2, batch_bytes=600)
    speech = many_docs / "in" / "speech_minister_general_debate.txt"
    speech.write_text(speech.read_text() + "\nThe invasion must end.\n")
    again = run(inputs, out, default_rules(), workers=2, batch_bytes=600)
    counts = again["counts"]
    # the duplicate row fails again: failed documents are always retried
    assert counts["documents_replaced"] == 2
    assert counts["documents_unchanged"] == first["counts"]["documents"] - 2
    docs = read_documents(out).to_pylist()
    assert len(docs) == len({d["doc_id"] for d in docs}) == first["counts"]["documents"]
    fresh = tmp_path / "fresh"
    run(inputs, fresh, default_rules(), workers=1)
    assert snapshot(out) == snapshot(fresh)


def test_workers_hand_out_a_bounded_number_of_batches(tmp_path: Path) -> None:
    """The batches are drawn only as fast as the workers take them: never more than
    ``in_flight`` ahead of the results."""
    ctx = RunContext(run_id="bounded", rules=default_rules(), options=InputOptions())
    out = tmp_path / "out"
    drawn = 0

    def batches() -> Iterator[list[Document | Outcome]]:
        nonlocal drawn
        for i in range(12):
            drawn += 1
            yield [Document(f"d{i}", THREAT, "s", f"{i:064d}")]

    with Workers(2, ctx=ctx) as pool:
        received = 0
        ahead = []
        for result in pool.imap(batches(), ctx, out, in_flight=3):
            received += 1
            ahead.append(drawn - received)
            assert result["documents"] == {"processed": 1}
    assert received == drawn == 12
    assert max(ahead) <= 3


NO_MAIN_GUARD = """
import sys
from pathlib import Path
from claimtag.rules import default_rules
from claimtag.runs import run
run([sys.argv[1]], Path(sys.argv[2]), default_rules(), workers=2, batch_bytes=2000)
"""


@pytest.mark.slow
def test_workers_that_cannot_start_fail_the_run(tmp_path: Path) -> None:
    """A script without ``if __name__ == "__main__"`` makes each spawned worker run it
    again (and fail on the locked output): the run must fail, not wait for ever."""
    script = tmp_path / "no_guard.py"
    script.write_text(NO_MAIN_GUARD)
    proc = subprocess.run(
        [sys.executable, str(script), str(EXAMPLES), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "a worker process died" in proc.stderr
