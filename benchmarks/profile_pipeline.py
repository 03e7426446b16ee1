"""Where the time of a claimtag run goes, and what the candidate fixes would gain.

    .venv/bin/python benchmarks/profile_pipeline.py                 # cProfile + micro, 20 MB
    .venv/bin/python benchmarks/profile_pipeline.py --mb 5 --only micro
    .venv/bin/python benchmarks/profile_pipeline.py --pyinstrument  # also a pyinstrument tree

``profile``: ``claimtag.runs.run`` (no Prefect) over the mixed input of bench_pipeline.py
under cProfile; prints the top functions by self time and by cumulative time.

``micro``: each stage's current code against a candidate replacement, on the same data, in
this process, timed in CPU seconds (best of 2-3), which other load disturbs less than
wall time. The candidates
live here, not in src/: they show the gain before anyone changes the library.

* validation: jsonschema ``is_valid`` vs fastjsonschema vs jsonschema-rs (if importable),
  with a check that all three agree on valid records and on mutated, invalid ones;
* Parquet reading: ``read_row_group`` + ``slice`` + row-wise ``to_pylist`` per unit (what
  ingest does) vs streaming ``iter_batches`` with column-wise ``to_pylist``;
* Arrow conversion: ``to_arrow_table`` vs ``pa.Table.from_pylist``;
* splitting per corpus, Sentence materialisation, the classifier's parts (Hyperscan
  document and sentence scans, ``re`` confirmation per rule, hedging/negation), actor
  resolution, record building;
* hedging and negation cues: ``re`` everywhere, as before the sentence scan, vs ``re`` only
  where the prefilter's sentence scan says a cue may be (same answers, checked).

``--rules FILE`` (repeatable) adds a rule pack, ``--replace-rules`` uses only those: e.g. a
frozen copy of the bundled pack, to compare two versions of the code on the same rules.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import inspect
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pipeline as bench

MB = bench.MB

# the rule packs of this run (--rules / --replace-rules); read by _load_pack()
RULES: list[Path] = []
REPLACE_RULES = False


def _load_pack() -> Any:
    from claimtag.rules import load_rules

    return load_rules(RULES, replace=REPLACE_RULES)


def _timeit(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best of ``repeat`` CPU times (this process, user + sys) of ``fn()``, and its result.

    CPU time rather than wall time: other processes on a loaded machine stretch wall time
    much more than they stretch the CPU time of the code measured.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    return best, result


def _short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


# ---------------------------------------------------------------------------------------------
# cProfile of a whole run
# ---------------------------------------------------------------------------------------------


def profile_run(path: Path, work: Path, top: int, pyinstrument: bool) -> dict[str, Any]:
    from claimtag.runs import run

    pack = _load_pack()
    # build the per-process state first, so that the profile shows the per-byte cost
    from claimtag.actors import ActorResolver
    from claimtag.prefilter import prefilter_for
    from claimtag.schemas import validator

    prefilter_for(pack)
    ActorResolver.default()
    validator("claim")

    # one process: the profiler sees only this one (runs.run would use a pool per core)
    one: dict[str, Any] = {"workers": 1} if "workers" in inspect.signature(run).parameters else {}
    out = work / "profile-out"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    plain = run([str(path)], out, pack, **one)
    plain_wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    manifest = run([str(path)], out, pack, **one)
    profiler.disable()
    wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)

    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(file)}:{line}({func})",
                "calls": nc,
                "self_s": round(tt, 3),
                "cum_s": round(ct, 3),
                "primitive_calls": cc,
            }
        )
    by_self = sorted(rows, key=lambda r: -r["self_s"])[:top]
    by_cum = sorted(rows, key=lambda r: -r["cum_s"])[:top]
    # self time grouped by package / module, to see jsonschema's share at a glance
    groups: dict[str, float] = {}
    for r in rows:
        name = r["function"]
        key = name.split("/", 1)[0] if "/" in name else name.split(":", 1)[0]
        if name.startswith("{") or name.startswith("~"):
            key = "builtins (re, hashlib, ...)"
        groups[key] = groups.get(key, 0.0) + r["self_s"]
    result: dict[str, Any] = {
        "wall_without_profiler_s": round(plain_wall, 3),
        "stage_seconds_without_profiler": plain["timings"]["stage_seconds"],
        "wall_with_profiler_s": round(wall, 3),
        "stage_seconds_with_profiler": manifest["timings"]["stage_seconds"],
        "counts": manifest["counts"],
        "rule_pack": pack.version,
        "top_self": by_self,
        "top_cumulative": by_cum,
        "self_by_package": {
            k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:15]
        },
    }
    if pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            result["pyinstrument"] = "not installed (.venv/bin/pip install pyinstrument)"
        else:
            p = Profiler(interval=0.001)
            p.start()
            run([str(path)], out, pack, **one)
            p.stop()
            shutil.rmtree(out, ignore_errors=True)
            result["pyinstrument"] = p.output_text(unicode=True, color=False, show_all=False)
    return result


# ---------------------------------------------------------------------------------------------
# micro-benchmarks: current code vs candidates
# ---------------------------------------------------------------------------------------------


def _documents(path: Path) -> list[Any]:
    import pyarrow.parquet as pq

    from claimtag.ingest import sha256_text
    from claimtag.types import Document

    table = pq.read_table(path, columns=["doc_id", "text"])
    docs = []
    for i, (doc_id, text) in enumerate(
        zip(table.column("doc_id").to_pylist(), table.column("text").to_pylist(), strict=True)
    ):
        meta = {"date": "1987-02-26"} if i % 3 == 0 else {}  # exercise the date format check
        docs.append(Document(doc_id, text, "bench", sha256_text(text), meta))
    return docs


def micro_validation(records: list[dict[str, Any]]) -> dict[str, Any]:
    import fastjsonschema

    from claimtag.schemas import load_schema, validator

    schema = load_schema("claim")
    current = validator("claim")
    out: dict[str, Any] = {"records": len(records)}

    def rate(check: Callable[[dict[str, Any]], bool], repeat: int) -> dict[str, Any]:
        seconds, valid = _timeit(lambda: sum(1 for r in records if check(r)), repeat)
        return {
            "seconds": round(seconds, 3),
            "records_per_s": round(len(records) / seconds),
            "valid": valid,
        }

    out["jsonschema (current)"] = rate(current.is_valid, 1)
    fast = fastjsonschema.compile(schema)

    def fast_ok(record: dict[str, Any]) -> bool:
        try:
            fast(record)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    checks: dict[str, Callable[[dict[str, Any]], bool]] = {"fastjsonschema": fast_ok}
    out["fastjsonschema"] = rate(fast_ok, 3)
    try:
        import jsonschema_rs
    except ImportError:
        out["jsonschema-rs"] = "not importable (pip install jsonschema-rs)"
    else:
        rs = jsonschema_rs.validator_for(schema, validate_formats=True)
        checks["jsonschema-rs"] = rs.is_valid
        out["jsonschema-rs"] = rate(rs.is_valid, 3)
    # agreement on invalid records
    rng = random.Random(7)
    mutants = []
    for r in records[:2000]:
        m = copy.deepcopy(r)
        key = rng.choice(sorted(m))
        how = rng.randrange(6)
        if how == 0:
            m[key] = None
        elif how == 1:
            del m[key]
        elif how == 2:
            m["unexpected"] = 1
        elif how == 3:
            m[key] = -1
        elif how == 4:
            m[key] = ""
        else:
            m[key] = [1]
        mutants.append(m)
    r0 = records[0]
    mutants += [
        {**r0, "extracted_at": "2024-13-01T00:00:00Z"},
        {**r0, "doc_date": "2024-02-30"},
        {**r0, "extracted_at": "yesterday"},
        {**r0, "evidence": [{"rule_id": "a", "start": 0, "end": 1, "text": ""}]},
        {**r0, "actors": ["USA", "USA"]},
        {**r0, "confidence": True},
        {**r0, "claim_id": "X" * 32},
    ]
    disagree = {
        name: sum(1 for m in mutants if check(m) != current.is_valid(m))
        for name, check in checks.items()
    }
    out["agreement"] = {
        "mutants": len(mutants),
        "invalid_by_jsonschema": sum(1 for m in mutants if not current.is_valid(m)),
        "disagreements": disagree,
    }
    return out


def _parquet_current(path: Path) -> int:
    """What ingest does per unit: read the whole row group, slice, row-wise to_pylist."""
    import pyarrow.parquet as pq

    from claimtag.ingest import InputOptions, plan_inputs

    n = 0
    for u in plan_inputs([str(path)], InputOptions()):
        pf = pq.ParquetFile(u.path)
        table = pf.read_row_group(u.row_group or 0, columns=["doc_id", "text"])
        stop = u.row_stop if u.row_stop is not None else table.num_rows
        rows = table.slice(u.row_start, stop - u.row_start).to_pylist()
        n += len(rows)
        del table, rows
    return n


def _parquet_streaming(path: Path) -> int:
    """Same units, but streamed: iter_batches(256) up to the unit's last row, column-wise."""
    import pyarrow.parquet as pq

    from claimtag.ingest import InputOptions, plan_inputs

    n = 0
    for u in plan_inputs([str(path)], InputOptions()):
        pf = pq.ParquetFile(u.path)
        stop = u.row_stop if u.row_stop is not None else pf.metadata.num_rows
        pos = 0
        for batch in pf.iter_batches(
            batch_size=256, row_groups=[u.row_group or 0], columns=["doc_id", "text"]
        ):
            lo, hi = pos, pos + batch.num_rows
            pos = hi
            if hi <= u.row_start:
                continue
            if lo >= stop:
                break
            start = max(lo, u.row_start)
            part = batch.slice(start - lo, min(hi, stop) - start)
            ids = part.column(0).to_pylist()
            texts = part.column(1).to_pylist()
            n += len([{"doc_id": i, "text": t} for i, t in zip(ids, texts, strict=True)])
    return n


def _parquet_one_pass(path: Path) -> int:
    """One streamed pass per row group (units = row groups, batches cut while streaming)."""
    import pyarrow.parquet as pq

    n = 0
    pf = pq.ParquetFile(path)
    for g in range(pf.metadata.num_row_groups):
        for batch in pf.iter_batches(batch_size=256, row_groups=[g], columns=["doc_id", "text"]):
            ids = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            n += len([{"doc_id": i, "text": t} for i, t in zip(ids, texts, strict=True)])
    return n


def _parquet_one_pass_buffered(path: Path) -> int:
    """As above, with a 1 MiB buffered input stream and no pre-buffering of column chunks."""
    import pyarrow.parquet as pq

    n = 0
    pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    for batch in pf.iter_batches(batch_size=256, columns=["doc_id", "text"]):
        ids = batch.column(0).to_pylist()
        texts = batch.column(1).to_pylist()
        n += len([{"doc_id": i, "text": t} for i, t in zip(ids, texts, strict=True)])
    return n


PARQUET_VARIANTS: dict[str, Callable[[Path], int]] = {
    "current: read_row_group + slice + to_pylist, per unit": _parquet_current,
    "iter_batches(256) per unit, column-wise": _parquet_streaming,
    "one streamed pass per row group": _parquet_one_pass,
    "one streamed pass, buffer_size=1MiB, pre_buffer=False": _parquet_one_pass_buffered,
}


def micro_parquet(path: Path, work: Path, mb: float | None = None) -> dict[str, Any]:
    """Each reading variant in a fresh process: CPU seconds and peak RSS.

    Call it while this process is small: a child's ru_maxrss starts at its parent's RSS.
    """
    import pyarrow.parquet as pq

    from claimtag.ingest import InputOptions, plan_inputs

    out: dict[str, Any] = {
        "file": path.name,
        "mb_of_text": mb,
        "units": len(plan_inputs([str(path)], InputOptions())),
        "row_groups": pq.ParquetFile(path).metadata.num_row_groups,
    }
    for i, name in enumerate(PARQUET_VARIANTS):
        runs = []
        for k in range(2):
            cmd = [sys.executable, __file__, "--parquet-variant", name, "--input", str(path)]
            r = bench.run_measured(cmd, logs=work / "logs", name=f"parquet-{i}-{k}")
            if r["returncode"] != 0:
                runs.append({"error": r.get("stderr_tail")})
                break
            runs.append(r)
        ok: list[dict[str, Any]] = [r for r in runs if r.get("report")]
        if ok:
            best = min(ok, key=lambda r: float(r["report"]["seconds"]))
            report: dict[str, Any] = best["report"]
            out[name] = {
                "read_seconds": report["seconds"],
                "rows": report["rows"],
                "process_peak_rss_mb": best["peak_rss_mb"],
            }
        else:
            out[name] = runs
    return out


def micro_arrow(records: list[dict[str, Any]]) -> dict[str, Any]:
    import pyarrow as pa

    from claimtag.schemas import arrow_schema, to_arrow_table

    schema = arrow_schema("claim", exclude=("claim_type",))
    string_schema = pa.schema(
        [
            pa.field(f.name, pa.string(), f.nullable)
            if pa.types.is_timestamp(f.type) or pa.types.is_date32(f.type)
            else f
            for f in schema
        ]
    )

    def from_pylist() -> pa.Table:
        table = pa.Table.from_pylist(records, schema=string_schema)
        return table.cast(schema)

    current_s, t1 = _timeit(lambda: to_arrow_table("claim", records, exclude=("claim_type",)))
    cand_s, t2 = _timeit(from_pylist)
    return {
        "records": len(records),
        "to_arrow_table (current)": round(current_s, 3),
        "Table.from_pylist + cast": round(cand_s, 3),
        "equal": bool(t1.equals(t2)),
    }


def micro_stages(docs: list[Any]) -> dict[str, Any]:
    """Split, classify (prefilter scan vs confirmation), actors and records, per corpus."""
    from claimtag.actors import ActorResolver
    from claimtag.classify import classify_sentence, is_non_assertive
    from claimtag.pipeline import RunContext
    from claimtag.prefilter import prefilter_for
    from claimtag.records import build_record
    from claimtag.segment import split_sentences, split_spans

    pack = _load_pack()
    ctx = RunContext(run_id="bench", rules=pack)
    prefilter = prefilter_for(pack)
    resolver = ActorResolver.default()
    out: dict[str, Any] = {}

    def genre(doc_id: str) -> str:
        if doc_id.startswith("reuters"):
            return "reuters21578"
        if doc_id.startswith("sotu"):
            return "us_state_of_the_union"
        return "un_general_debates"

    groups: dict[str, list[Any]] = {}
    for d in docs:
        groups.setdefault(genre(d.doc_id), []).append(d)
    split: dict[str, Any] = {}
    for name, group in sorted(groups.items()):
        n_bytes = sum(len(d.text.encode("utf-8")) for d in group)

        def count_sentences(g: list[Any] = group) -> int:
            return sum(len(split_spans(d.text)) for d in g)

        seconds, n = _timeit(count_sentences, 2)
        split[name] = {
            "mb": round(n_bytes / MB, 2),
            "split_spans_mb_per_s": round(n_bytes / MB / seconds, 2),
            "sentences": n,
            "sentences_per_s": round(n / seconds),
        }
    out["split_by_corpus"] = split

    total_bytes = sum(len(d.text.encode("utf-8")) for d in docs)
    spans_s, _ = _timeit(lambda: [split_spans(d.text) for d in docs], 2)
    sents_s, sentences = _timeit(lambda: [split_sentences(d.text) for d in docs], 2)
    out["split_all"] = {
        "mb": round(total_bytes / MB, 2),
        "split_spans_s": round(spans_s, 3),
        "split_sentences_s": round(sents_s, 3),
        "sentence_namedtuples_s": round(sents_s - spans_s, 3),
    }

    # classify: the prefilter's scans (document, then candidate sentences) vs the
    # per-sentence confirmation with re
    scan_s, screened = _timeit(
        lambda: [prefilter.screen(d.text, s) for d, s in zip(docs, sentences, strict=True)],
        2,
    )
    n_candidate_sentences = sum(len(c) for c in screened)
    n_candidate_pairs = sum(len(rules) for c in screened for rules, _ in c.values())

    def confirm() -> tuple[int, int, int]:
        n_claims = n_sentences = skipped = 0
        for d, sents, found in zip(docs, sentences, screened, strict=True):
            for i, (rules, cues) in found.items():
                s = sents[i]
                if is_non_assertive(d.text, s.start, s.end):
                    skipped += 1
                    continue
                claims = classify_sentence(pack, d.text[s.start : s.end], s.start, rules, cues)
                n_sentences += bool(claims)
                n_claims += len(claims)
        return n_claims, n_sentences, skipped

    confirm_s, (n_claims, n_claim_sentences, n_skipped) = _timeit(confirm, 2)

    def pairs() -> list[tuple[Any, str, int, Any]]:
        """(rule, sentence, offset, hint) for each candidate rule of each sentence."""
        out = []
        for d, sents, found in zip(docs, sentences, screened, strict=True):
            for i, (rules, _) in found.items():
                s = sents[i]
                text = d.text[s.start : s.end]
                out += [(pack.rules[j], text, s.start, hint) for j, hint in rules.items()]
        return out

    tried = pairs()

    def matches_only() -> int:
        from claimtag.classify import rule_matches

        return sum(len(rule_matches(rule, text, start, hint)) for rule, text, start, hint in tried)

    match_s, n_matches = _timeit(matches_only, 2)

    def per_rule() -> dict[str, list[float]]:
        """CPU seconds and candidate sentences of each rule's confirmation."""
        from claimtag.classify import rule_matches

        cost: dict[str, list[float]] = {}
        for rule, text, start, hint in tried:
            t0 = time.process_time()
            hit = rule_matches(rule, text, start, hint)
            entry = cost.setdefault(rule.id, [0.0, 0, 0])
            entry[0] += time.process_time() - t0
            entry[1] += 1
            entry[2] += bool(hit)
        return cost

    _, rule_cost = _timeit(per_rule, 1)
    top_rules = sorted(rule_cost.items(), key=lambda kv: -kv[1][0])[:8]

    # Hyperscan: the scans alone, and how many match callbacks into Python they make
    candidate_texts = [
        d.text[sents[i].start : sents[i].end].encode("utf-8", "surrogatepass")
        for d, sents, found in zip(docs, sentences, screened, strict=True)
        for i in found
    ]
    callbacks = {"document": 0, "sentence": 0}
    raw_s = {"document": float("nan"), "sentence": float("nan")}
    for name, database, scratch, data in (
        (
            "document",
            getattr(prefilter, "database", None),
            getattr(prefilter, "scratch", None),
            [d.text.encode("utf-8", "surrogatepass") for d in docs],
        ),
        (
            "sentence",
            getattr(prefilter, "sentence_database", None),
            getattr(prefilter, "sentence_scratch", None),
            candidate_texts,
        ),
    ):
        if database is None:
            continue

        def count(*_args: Any, name: str = name) -> None:
            callbacks[name] += 1

        for item in data:
            database.scan(item, match_event_handler=count, scratch=scratch)
        raw_s[name], _ = _timeit(
            lambda db=database, sc=scratch, data=data: [db.scan(x, scratch=sc) for x in data], 2
        )
    n_sentences_total = sum(len(s) for s in sentences)
    out["classify"] = {
        "sentences": n_sentences_total,
        "candidate_sentences": n_candidate_sentences,
        "candidate_sentence_rule_pairs": n_candidate_pairs,
        "non_assertive_skipped": n_skipped,
        "sentences_with_claims": n_claim_sentences,
        "claims": n_claims,
        "rule_matches": n_matches,
        "prefilter_precision": round(n_claim_sentences / max(1, n_candidate_sentences), 3),
        "prefilter_screen_s (document + sentence scans, mapping)": round(scan_s, 3),
        "confirmation_s (is_non_assertive + classify_sentence)": round(confirm_s, 3),
        "of_which_rule_matches_s": round(match_s, 3),
        "rest_of_confirmation_s (hedge, negation, Claim objects)": round(confirm_s - match_s, 3),
        "costliest_rules (cpu s, candidate sentences, confirmed)": {
            rule_id: [round(c[0], 3), c[1], c[2]] for rule_id, c in top_rules
        },
        "hyperscan_callbacks": callbacks,
        "hyperscan_scan_without_callback_s": {k: round(v, 3) for k, v in raw_s.items()},
        "screen_mb_per_s": round(total_bytes / MB / scan_s, 1),
        "confirmation_us_per_candidate_sentence": round(
            confirm_s / max(1, n_candidate_sentences) * 1e6, 1
        ),
    }

    # actors and records, for the sentences with claims
    from claimtag.classify import classify_document

    found = [classify_document(pack, d.text, s) for d, s in zip(docs, sentences, strict=True)]
    claim_sentences = [
        d.text[sents[i].start : sents[i].end]
        for d, sents, f in zip(docs, sentences, found, strict=True)
        for i in f
    ]
    actors_s, _ = _timeit(lambda: [resolver.codes(t) for t in claim_sentences], 2)

    def records() -> list[dict[str, Any]]:
        out_records = []
        for d, sents, f in zip(docs, sentences, found, strict=True):
            for i in sorted(f):
                for claim in f[i]:
                    out_records.append(
                        build_record(
                            d,
                            sents[i],
                            claim,
                            [],
                            run_id=ctx.run_id,
                            extracted_at=ctx.extracted_at,
                            rule_pack_version=pack.version,
                            schema_version="1.0.0",
                        )
                    )
        return out_records

    build_s, recs = _timeit(records, 2)
    out["actors"] = {
        "sentences": len(claim_sentences),
        "seconds": round(actors_s, 3),
        "sentences_per_s": round(len(claim_sentences) / actors_s) if actors_s else None,
    }
    out["build_records"] = {"records": len(recs), "seconds": round(build_s, 3)}
    return out


def micro_cues(docs: list[Any]) -> dict[str, Any]:
    """Hedging and negation cues: ``re`` everywhere (as before the prefilter's sentence
    scan) vs ``re`` only where the scan says a cue may be, on the sentences with claims;
    checks that the answers are the same."""
    from claimtag.classify import (
        _Clauses,
        classify_sentence,
        hedge_cue,
        is_non_assertive,
        negation_cue,
    )
    from claimtag.prefilter import prefilter_for
    from claimtag.segment import split_sentences

    pack = _load_pack()
    prefilter = prefilter_for(pack)
    found: list[tuple[str, Any, list[tuple[int, int]]]] = []  # sentence, cues, strongest
    for d in docs:
        sents = split_sentences(d.text)
        for i, (rules, cues) in prefilter.screen(d.text, sents).items():
            s = sents[i]
            if is_non_assertive(d.text, s.start, s.end):
                continue
            text = d.text[s.start : s.end]
            claims = classify_sentence(pack, text, 0, rules, cues)
            if claims:
                strongest = [max(c.matches, key=lambda m: (m.weight, -m.start)) for c in claims]
                found.append((text, cues, [(m.start, m.end) for m in strongest]))

    def hedge_before() -> list[str | None]:
        return [hedge_cue(pack, t) for t, _, _ in found]

    def hedge_now() -> list[str | None]:
        return [None if c.hedging is None else hedge_cue(pack, t, c.hedging) for t, c, _ in found]

    def negation_before() -> list[str | None]:
        return [negation_cue(pack, t, a, b) for t, _, spans in found for a, b in spans]

    def negation_now() -> list[str | None]:
        out = []
        for t, c, spans in found:
            clauses = _Clauses(t)
            out += [negation_cue(pack, t, a, b, c, clauses) for a, b in spans]
        return out

    hedge_old_s, hedge_old = _timeit(hedge_before, 2)
    hedge_new_s, hedge_new = _timeit(hedge_now, 2)
    neg_old_s, neg_old = _timeit(negation_before, 2)
    neg_new_s, neg_new = _timeit(negation_now, 2)
    return {
        "sentences_with_claims": len(found),
        "claims": len(neg_old),
        "hedged": sum(h is not None for h in hedge_old),
        "hedge_searched_with_re_now": sum(c.hedging is not None for _, c, _ in found),
        "hedge_same_answers": hedge_old == hedge_new,
        "hedge_re_on_every_sentence_s (before)": round(hedge_old_s, 3),
        "hedge_re_from_scan_offset_s (now)": round(hedge_new_s, 3),
        "negated": sum(n is not None for n in neg_old),
        "sentences_with_no_negation_cue_end": sum(c.negation == () for _, c, _ in found),
        "negation_same_answers": neg_old == neg_new,
        "negation_every_window_s (before)": round(neg_old_s, 3),
        "negation_windows_where_a_cue_may_end_s (now)": round(neg_new_s, 3),
    }


def collect_records(docs: list[Any]) -> list[dict[str, Any]]:
    from claimtag.pipeline import RunContext, extract_records

    ctx = RunContext(run_id="bench", rules=_load_pack())
    records: list[dict[str, Any]] = []
    for d in docs:
        records += extract_records(d, ctx)[1]
    return records


# ---------------------------------------------------------------------------------------------


def render(results: dict[str, Any], top: int = 25) -> str:
    """A readable text report."""
    buf = io.StringIO()
    w = buf.write
    prof = results.get("profile")
    if prof:
        w(f"## cProfile of claimtag.runs.run on {results['input']['mb']} MB\n\n")
        w(
            f"wall without profiler {prof['wall_without_profiler_s']} s, stages "
            f"{json.dumps(prof['stage_seconds_without_profiler'])}\n"
        )
        w(
            f"wall with profiler {prof['wall_with_profiler_s']} s, stages "
            f"{json.dumps(prof['stage_seconds_with_profiler'])}\n\n"
        )
        w("self time by package/module:\n")
        for k, v in prof["self_by_package"].items():
            w(f"  {v:8.3f} s  {k}\n")
        for title, key in (("by self time", "top_self"), ("by cumulative time", "top_cumulative")):
            w(f"\ntop {top} {title}:\n  {'self s':>8} {'cum s':>8} {'calls':>9}  function\n")
            for r in prof[key][:top]:
                w(f"  {r['self_s']:8.3f} {r['cum_s']:8.3f} {r['calls']:9d}  {r['function']}\n")
        if isinstance(prof.get("pyinstrument"), str):
            w("\npyinstrument:\n" + prof["pyinstrument"] + "\n")
    micro = results.get("micro")
    if micro:
        w(f"\n## micro-benchmarks on {results['input']['mb']} MB\n\n")
        w(json.dumps(micro, indent=2) + "\n")
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="profile_pipeline.py", description=__doc__)
    p.add_argument("--mb", type=float, default=20.0, help="input size (default 20)")
    p.add_argument("--input", type=Path, help="a Parquet file (doc_id, text) instead")
    p.add_argument("--only", choices=["profile", "micro", "parquet"], help="run only one part")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--pyinstrument", action="store_true", help="also a pyinstrument call tree")
    p.add_argument("--parquet-mb", type=float, nargs="*", default=None, help="extra Parquet sizes")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.add_argument("--corpus-dir", type=Path, default=bench.CORPUS_DIR)
    p.add_argument(
        "--rules",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="extra rule pack (repeatable), added to the bundled one",
    )
    p.add_argument("--replace-rules", action="store_true", help="use only the --rules packs")
    p.add_argument(
        "--snapshot",
        action="store_true",
        help="profile a copy of src/, flows/ and schemas/ taken now (others may be editing)",
    )
    p.add_argument("--parquet-variant", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    global REPLACE_RULES
    RULES[:] = [path.resolve() for path in args.rules]
    REPLACE_RULES = args.replace_rules
    if args.snapshot and not os.environ.get("CLAIMTAG_BENCH_SNAPSHOT"):
        with tempfile.TemporaryDirectory(prefix="claimtag-profile-code-") as tmp:
            snap = bench.snapshot_code(Path(tmp))
            env = {**os.environ, "CLAIMTAG_BENCH_SNAPSHOT": snap["fingerprint"]}
            env["PYTHONPATH"] = os.pathsep.join(
                x for x in (snap["pythonpath"], os.environ.get("PYTHONPATH")) if x
            )
            rest = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--snapshot"]
            print(
                f"profiling a copy of the code, fingerprint {snap['fingerprint']}", file=sys.stderr
            )
            code = subprocess.run([sys.executable, __file__, *rest], env=env, check=False)
            raise SystemExit(code.returncode)
    if args.parquet_variant:
        import pyarrow.parquet  # noqa: F401  (import time is not reading time)

        t0 = time.process_time()
        rows = PARQUET_VARIANTS[args.parquet_variant](args.input)
        report = {"seconds": round(time.process_time() - t0, 3), "rows": rows}
        print(json.dumps(report))
        return report

    work = Path(tempfile.mkdtemp(prefix="claimtag-profile-"))
    try:
        if args.input:
            path = args.input
            info: dict[str, Any] = {"path": str(path), "mb": round(path.stat().st_size / MB, 2)}
        else:
            path = work / f"mixed-{args.mb:g}MB.parquet"
            spec = {
                "kind": "build",
                "targets": [[str(path), args.mb]],
                "corpus_dir": str(args.corpus_dir),
            }
            info = bench.in_subprocess(spec, work, "build")["inputs"][0]
        import claimtag

        results: dict[str, Any] = {
            "input": info,
            "claimtag_imported_from": claimtag.__file__,
            "code_fingerprint": os.environ.get("CLAIMTAG_BENCH_SNAPSHOT"),
            "machine": bench.machine_info(),
            "load_start": bench.load_average(),
        }
        if args.only in (None, "micro", "parquet"):
            # first, while this process is small (see micro_parquet)
            print("micro: parquet ...", file=sys.stderr)
            parquet = [micro_parquet(path, work, info.get("mb"))]
            for extra in args.parquet_mb or []:
                extra_path = work / f"mixed-{extra:g}MB.parquet"
                in_child = bench.in_subprocess(
                    {
                        "kind": "build",
                        "targets": [[str(extra_path), extra]],
                        "corpus_dir": str(args.corpus_dir),
                    },
                    work,
                    f"build-{extra:g}",
                )
                parquet.append(micro_parquet(extra_path, work, in_child["inputs"][0]["mb"]))
        if args.only in (None, "profile"):
            print("profile ...", file=sys.stderr)
            results["profile"] = profile_run(path, work, args.top, args.pyinstrument)
        if args.only in (None, "micro"):
            print("micro: documents and records ...", file=sys.stderr)
            docs = _documents(path)
            records = collect_records(docs)
            micro: dict[str, Any] = {}
            print("micro: validation ...", file=sys.stderr)
            micro["validation"] = micro_validation(records)
            print("micro: arrow ...", file=sys.stderr)
            micro["arrow"] = micro_arrow(records)
            print("micro: stages ...", file=sys.stderr)
            micro["stages"] = micro_stages(docs)
            print("micro: cues ...", file=sys.stderr)
            micro["cues"] = micro_cues(docs)
            micro["parquet"] = parquet
            results["micro"] = micro
        elif args.only == "parquet":
            results["micro"] = {"parquet": parquet}
        results["load_end"] = bench.load_average()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = render(results, args.top)
    print(text)
    print(f"load average: start {results['load_start']}, end {results['load_end']}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
