#!/usr/bin/env python3
"""What the learned model costs a run: the same input tagged with the rules alone and with
the rules and the bundled model, without its encoder (``--fast-model``) and with it (and
each ``--model`` file), in one worker process, without Prefect.

    .venv/bin/python benchmarks/bench_model.py [--mb 10] [--repeat 3] [--model FILE ...]

The input is real text: documents of the UN General Debate and Reuters corpora in
``../shared/corpus``, written once as a JSONL file. Each configuration runs ``--repeat``
times into a fresh output folder; the table gives the best wall time of the whole run and
the run manifest's per-stage seconds (classify includes the model's scoring), and the
claims found.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def _input(path: Path, mb: float) -> int:
    import pyarrow.parquet as pq

    budget = int(mb * 1_000_000)
    size = 0
    with path.open("w", encoding="utf-8") as fh:
        for name in ("un_general_debates", "reuters21578"):
            table = pq.read_table(CORPUS / f"{name}.parquet", columns=["doc_id", "text"])
            for row in table.to_pylist():
                text = row["text"] or ""
                if size >= budget * (1 if name == "reuters21578" else 0.7) or not text:
                    break
                fh.write(json.dumps({"doc_id": f"{name}/{row['doc_id']}", "text": text}) + "\n")
                size += len(text)
    return size


def _once(inputs: Path, out: Path, model: Any) -> dict[str, Any]:
    from claimtag.rules import load_rules
    from claimtag.runs import run

    t0 = time.perf_counter()
    manifest = run([str(inputs)], out, load_rules([]), workers=1, model=model)
    wall = time.perf_counter() - t0
    return {"wall": wall, "manifest": manifest}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=10.0, help="MB of text (default 10)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--model", action="append", default=[], help="another model file to time (repeatable)"
    )
    args = ap.parse_args(argv)

    from claimtag.learned import bundled_model, load_model
    from claimtag.rules import load_rules

    load_rules([])  # compiled (and its Hyperscan database cached) before any timing
    model = bundled_model()
    taggers: list[tuple[str, Any]] = [("rules alone", None), (f"rules + {model.label}", model)]
    fast = model.without_encoder()
    if fast is not model:
        taggers.insert(1, (f"rules + {fast.label} (--fast-model)", fast))
    for path in args.model:
        other = load_model(path)
        taggers.append((f"rules + {other.label} ({path})", other))
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "input.jsonl"
        chars = _input(inputs, args.mb)
        print(f"input: {chars / 1e6:.1f} million characters\n")
        print("| tagger | best wall s | MB/s | classify s | classify MB/s | claims |")
        print("|---|---:|---:|---:|---:|---:|")
        for k, (label, m) in enumerate(taggers):
            runs = []
            for i in range(args.repeat):
                runs.append(_once(inputs, Path(tmp) / f"out-{k}-{i}", m))
            best = min(runs, key=lambda r: r["wall"])
            stages = best["manifest"]["timings"]["stage_seconds"]
            claims = best["manifest"]["counts"]["claims"]
            mb = chars / 1e6
            print(
                f"| {label} | {best['wall']:.2f} | {mb / best['wall']:.2f} | "
                f"{stages['classify']:.2f} | {mb / stages['classify']:.2f} | {claims} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
