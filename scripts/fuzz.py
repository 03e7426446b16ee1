"""Fuzz claimtag's input edges: the sentence splitter, the input readers, the rule-pack loader.

    python scripts/fuzz.py split --seconds 60        # one target
    python scripts/fuzz.py all --seconds 60          # every target, one after the other
    python scripts/fuzz.py packs --seconds 600 --corpus fuzz-corpus/packs   # keep findings

Targets (each checks invariants, not just "no exception"):

* ``split``   text → sentences: in order, no overlap, exact offsets, every non-space
  character covered, LF/CRLF/CR give the same sentences.
* ``decode``  bytes → ``decode_text``: text or a reason, never an exception; decoded text
  is valid Unicode (Parquet cannot store lone surrogates).
* ``tables``  bytes read as JSONL, CSV and Parquet, then tagged and converted to Arrow
  rows like a batch: every row accounted once, unique ids, nothing Arrow rejects.
* ``packs``   mutated YAML rule packs → ``parse_pack``/``compile_packs``: a pack or a
  ``RulePackError``, never another exception, and a loaded pack tags a hostile
  text within the time limit.

With atheris (``pip install -e '.[fuzz]'``) the targets are coverage guided (libFuzzer);
without it, a seeded random mutator runs the same checks. A finding is written to
``--artifacts`` (default: ``fuzz-artifacts/`` under the system temp folder) and the
exit code is 1.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "claimtag-fuzz"  # seeds, scratch files, Hyperscan cache
TARGETS = ("split", "decode", "tables", "packs")
SLOW_INPUT_SECONDS = 10  # an input that takes longer is a finding (a hang)

try:
    import atheris
except ImportError:  # pragma: no cover - the fallback mutator runs instead
    atheris = None


def _import_claimtag(instrument: bool) -> dict[str, Any]:
    """Import the modules under test (instrumented for coverage with atheris)."""

    def load() -> dict[str, Any]:
        import pyarrow.parquet as pq

        from claimtag import ingest, pipeline, rules, schemas, segment

        return {
            "pq": pq,
            "ingest": ingest,
            "pipeline": pipeline,
            "rules": rules,
            "schemas": schemas,
            "segment": segment,
        }

    if instrument and atheris is not None:
        with atheris.instrument_imports(include=["claimtag"]):
            return load()
    return load()


# --- seeds ------------------------------------------------------------------------------------


def seeds(target: str) -> list[bytes]:
    """Starting inputs: real documents, tables and packs, plus known troublemakers."""
    texts = [p.read_bytes() for p in sorted((ROOT / "examples").rglob("*")) if p.is_file()]
    texts = [t[:4000] for t in texts]
    tricky = [
        b'U.S. troops. Dr. No. 5 arrived... Then (Applause.) "Yes." she said.\r\nNext',
        b"Moscow\r\nthe troops\r\n\r\n  Indented\n- item\n1. first\r\r\n\x0b\x0c\x85",
        "Ж войска. 北约！ भारत। \u202eevil\u202c \U0001f680 e\u0301.".encode(),
        b"\xff\xfeh\x00i\x00",
        b"\xef\xbb\xbfbom",
        b"caf\xe9 \xc3\xa9",
        b"",
    ]
    if target in ("split", "decode"):
        return texts + tricky
    if target == "tables":
        return [
            b'{"doc_id": "a", "text": "Troops massed."}\n{"doc_id": "a", "text": 1}\n{bad\n',
            b'doc_id,text,date\nc1,"Line one.\nLine two.",2024-05-01\nc2\nc3,"x","y",z\n',
            _parquet_bytes(),
            b'{"doc_id": "\\ud800", "text": "\\udc80"}\n[1]\n"s"\n',
        ]
    pack_dir = ROOT / "tests" / "golden" / "bad_packs"
    packs = [_bundled_pack_head(12)]
    packs += [p.read_bytes() for p in sorted(pack_dir.glob("*.yaml"))]
    packs.append(
        b"name: h\nversion: 1.0.0\nlexicons: {w: ['a+', 'b']}\nrules:\n"
        b"  - id: h.x\n    claim_type: threat\n    weight: 0.5\n"
        b"    patterns: ['({{w}})+$', '(\\\\w+\\\\s?)*x']\n"
        b"    examples: {positive: [aa], negative: [zz]}\n"
    )
    return packs


def _bundled_pack_head(n_rules: int) -> bytes:
    """The bundled pack cut after its first ``n_rules`` rules (all its lexicons and cues).

    The whole pack takes seconds to check as an untrusted pack (every pattern analysed with
    its lexicons), several times that under the fuzzer's instrumentation: each mutation of
    it would be a "slow input". The head keeps its structure and vocabulary at a fraction
    of the cost."""
    text = (ROOT / "src" / "claimtag" / "rules" / "core.yaml").read_bytes()
    starts = [m.start() for m in re.finditer(rb"\n  - id: ", text)]
    return text[: starts[n_rules] + 1] if len(starts) > n_rules else text


def _parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(
        pa.table({"doc_id": ["p1", "p1", None], "text": ["Sanctions bite.", "x", None]}), sink
    )
    return sink.getvalue()


# --- targets ----------------------------------------------------------------------------------


def check_spans(split_spans: Callable[[str], list[tuple[int, int, int]]], text: str) -> None:
    spans = split_spans(text)
    previous_end = 0
    covered = 0
    for start, end, _paragraph in spans:
        assert previous_end <= start < end <= len(text), (start, end)
        sentence = text[start:end]
        assert sentence == sentence.strip(), repr(sentence)
        assert not text[previous_end:start].strip(), "text between sentences"
        covered += sum(not c.isspace() for c in sentence)
        previous_end = end
    assert not text[previous_end:].strip(), "text after the last sentence"
    assert covered == sum(not c.isspace() for c in text), "a character is in no sentence"


def make_split(m: dict[str, Any]) -> Callable[[bytes], None]:
    split_spans = m["segment"].split_spans

    def target(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        check_spans(split_spans, text)
        lf = text.replace("\r\n", "\n").replace("\r", "\n")
        for newline in ("\r\n", "\r"):
            other = lf.replace("\n", newline)
            check_spans(split_spans, other)
            a = [" ".join(lf[s:e].split()) for s, e, _ in split_spans(lf)]
            b = [" ".join(other[s:e].split()) for s, e, _ in split_spans(other)]
            assert a == b, f"line endings change the sentences: {a} != {b}"

    return target


def make_decode(m: dict[str, Any]) -> Callable[[bytes], None]:
    decode_text = m["ingest"].decode_text

    def target(data: bytes) -> None:
        text, reason, warnings = decode_text(data)
        assert (text is None) != (reason is None)
        if text is not None:
            text.encode("utf-8")  # no lone surrogates
        else:
            assert not warnings

    return target


def make_tables(m: dict[str, Any]) -> Callable[[bytes], None]:
    ingest, pipeline, schemas = m["ingest"], m["pipeline"], m["schemas"]
    rules = m["rules"].default_rules()
    ctx = pipeline.RunContext(run_id="fuzz", rules=rules)
    folder = WORK / "tables-input"
    folder.mkdir(parents=True, exist_ok=True)
    from claimtag.prefilter import prefilter_for

    prefilter_for(rules)  # built (or loaded from the cache) before the clock starts

    def check(units: list[Any]) -> None:
        result = pipeline.process_units(units, ctx)
        ids = [d["doc_id"] for d in result.documents]
        assert len(ids) == len(set(ids)), f"duplicate doc_ids {ids}"
        schemas.to_arrow_table("document", result.documents)
        if result.claims:
            schemas.to_arrow_table("claim", result.claims, exclude=("claim_type",))
            claim_ids = [c["claim_id"] for c in result.claims]
            assert len(claim_ids) == len(set(claim_ids))

    def target(data: bytes) -> None:
        for suffix in (".jsonl", ".csv", ".parquet"):
            path = folder / f"input{suffix}"
            path.write_bytes(data)
            units = ingest.plan_inputs([str(path)], ctx.options)
            check(units)
            if suffix == ".jsonl":  # every non-blank line is one row
                expected = sum(
                    1 for line in io.StringIO(data.decode("utf-8", "replace")) if line.strip()
                )
                text, _, _ = ingest.decode_text(data)
                if text is not None:
                    got = sum(1 for _ in ingest.read_unit(units[0], ctx.options))
                    assert got == expected or expected == 0, (got, expected)

    return target


def make_packs(m: dict[str, Any]) -> Callable[[bytes], None]:
    rules = m["rules"]
    # Every mutated pack would compile its own Hyperscan database (seconds each): the
    # re prefilter gives the same answer, and exercises the pack's union patterns.
    os.environ["CLAIMTAG_PREFILTER"] = "regex"
    from claimtag.classify import classify_document
    from claimtag.errors import RulePackError

    split = m["segment"].split_sentences
    hostile = ("a" * 2000 + "!" + " ab" * 700 + "\n" + "1" * 2000 + "x ") * 2

    def target(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        for source in ("fuzz.yaml", "fuzz.json"):
            try:
                raw = rules.parse_pack(text, source)
                pack = rules.compile_packs([raw])
            except RulePackError:
                continue
            classify_document(pack, hostile, split(hostile))

    return target


MAKERS: dict[str, Callable[[dict[str, Any]], Callable[[bytes], None]]] = {
    "split": make_split,
    "decode": make_decode,
    "tables": make_tables,
    "packs": make_packs,
}


# --- drivers ----------------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    """A few random edits: flip, insert, delete, duplicate, splice with another seed."""
    buf = bytearray(data)
    interesting = [
        b"\r\n",
        b"\n\n",
        b". ",
        b"\x00",
        b"\xff",
        b"{",
        b"}",
        b'"',
        b",",
        b"*",
        b"+",
        b"(",
        b")",
        b"|",
        b"\\",
        b"&a",
        b"*a",
        b"[",
        b"]",
        b"\xe2\x80\xae",
        b"?",
    ]
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice(interesting)
        elif op == 2 and buf:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 64)] * rng.randint(1, 20)
        elif op == 4:
            other = rng.choice(pool)
            cut = rng.randint(0, len(other))
            buf[pos:] = other[cut : cut + rng.randint(0, 2000)]
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(buf[:200_000])


def run_fallback(target: str, seconds: float, artifacts: Path, seed: int) -> int:
    check = MAKERS[target](_import_claimtag(instrument=False))
    pool = seeds(target)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        data = pool[runs] if runs < len(pool) else mutate(rng.choice(pool), rng, pool)
        started = time.monotonic()
        try:
            check(data)
        except Exception:
            return _finding(target, data, artifacts, traceback.format_exc())
        if time.monotonic() - started > SLOW_INPUT_SECONDS:
            return _finding(target, data, artifacts, "slow input")
        runs += 1
        if runs % 50 == 0 and len(pool) < 500:
            pool.append(data)
    print(f"{target}: {runs} inputs in {seconds:.0f} s, no finding (random mutation)")
    return 0


def _finding(target: str, data: bytes, artifacts: Path, what: str) -> int:
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{target}-{int(time.time())}.bin"
    path.write_bytes(data)
    print(f"{target}: FINDING, input saved to {path}\n{what}", file=sys.stderr)
    return 1


def run_atheris(target: str, seconds: float, artifacts: Path, corpus: Path | None) -> int:
    check = MAKERS[target](_import_claimtag(instrument=True))
    seed_dir = WORK / f"seeds-{target}"
    shutil.rmtree(seed_dir, ignore_errors=True)
    seed_dir.mkdir(parents=True)
    for i, data in enumerate(seeds(target)):
        (seed_dir / f"seed-{i}").write_bytes(data)
    dirs = [str(corpus)] if corpus else []
    if corpus:
        corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        f"-max_total_time={max(1, int(seconds))}",
        f"-timeout={SLOW_INPUT_SECONDS}",
        "-rss_limit_mb=4096",
        "-max_len=200000",
        f"-artifact_prefix={artifacts}/{target}-",
        "-print_final_stats=1",
        *dirs,
        str(seed_dir),
    ]

    def one_input(data: bytes) -> None:
        check(data)

    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0  # pragma: no cover - libFuzzer exits the process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=[*TARGETS, "all"])
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target")
    parser.add_argument("--corpus", type=Path, default=None, help="folder to keep inputs in")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fuzz-artifacts",
        help="where findings are written",
    )
    parser.add_argument("--engine", choices=["auto", "atheris", "random"], default="auto")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random mutator")
    args = parser.parse_args(argv)
    if args.target == "all":
        status = 0
        for target in TARGETS:
            cmd = [
                sys.executable,
                __file__,
                target,
                "--seconds",
                str(args.seconds),
                "--artifacts",
                str(args.artifacts),
                "--engine",
                args.engine,
            ]
            if args.corpus:
                cmd += ["--corpus", str(args.corpus / target)]
            status |= subprocess.run(cmd, check=False).returncode
        return status
    use_atheris = args.engine == "atheris" or (args.engine == "auto" and atheris is not None)
    os.environ.setdefault("CLAIMTAG_CACHE_DIR", str(WORK / "cache"))
    if use_atheris:
        if atheris is None:
            parser.error("atheris is not installed: pip install -e '.[fuzz]'")
        return run_atheris(args.target, args.seconds, args.artifacts, args.corpus)
    return run_fallback(args.target, args.seconds, args.artifacts, args.seed)


if __name__ == "__main__":
    sys.exit(main())
