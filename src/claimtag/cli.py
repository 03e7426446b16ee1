"""The ``claimtag`` command line: argument parsing only; every command calls the library.

Errors the user can fix (a missing path, a malformed rule pack, a bad option) print one
line on stderr and exit with code 2. Set CLAIMTAG_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from claimtag import CLAIM_TYPES
from claimtag.errors import ClaimtagError, InputError, RunError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """``--version``: the installed version, read only when asked for (it costs ~50 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        from claimtag import __version__

        print(f"claimtag {__version__}")  # on stdout, as argparse's "version" action does
        parser.exit()


def _rules_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE",
        type=Path,
        help="extra rule pack (YAML/JSON); repeatable; added to the bundled pack",
    )
    p.add_argument(
        "--replace-rules",
        action="store_true",
        help="use only the --rules packs, not the bundled one",
    )
    p.add_argument(
        "--model",
        metavar="FILE",
        type=Path,
        help="learned model (Parquet, from scripts/train_model.py) instead of the bundled one",
    )
    p.add_argument(
        "--no-model",
        action="store_true",
        help="rules only: no learned model adds claims",
    )
    p.add_argument(
        "--fast-model",
        action="store_true",
        help="the learned model without its encoder (core-text@1.15.0 for the bundled one): "
        "about fifty times faster, less accurate (docs/QUALITY.md)",
    )


def _load_rules(args: argparse.Namespace) -> Any:
    from claimtag.rules import load_rules

    return load_rules(args.rules, replace=args.replace_rules)


def _load_model(args: argparse.Namespace) -> Any:
    from claimtag.learned import choose_model

    if args.no_model and args.model is not None:
        raise InputError("--model and --no-model exclude each other")
    if args.no_model and args.fast_model:
        raise InputError("--fast-model and --no-model exclude each other")
    return choose_model(args.model, enabled=not args.no_model, fast=args.fast_model)


# --- run --------------------------------------------------------------------------------------


def _prefect_environment(quiet: bool, *, ephemeral: bool = False) -> None:
    """Settings for the Prefect runs claimtag starts (before prefect is imported).

    ``ephemeral``: also for the temporary server Prefect starts when no server is set:
    claimtag uses no blocks, so unless PREFECT_SERVER_REGISTER_BLOCKS_ON_START says
    otherwise, that server does not register Prefect's block types (nor import every
    installed collection to check whether they changed).
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    register = ("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "PREFECT_API_BLOCKS_REGISTER_ON_START")
    if ephemeral and not any(name in os.environ for name in register):
        os.environ["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] = "false"
        os.environ.setdefault("PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION", "false")
    if quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
        os.environ["CLAIMTAG_QUIET"] = "1"


def _check_job_args(args: argparse.Namespace) -> None:
    """The checks of the options ``_job_args`` adds."""
    if args.batch_mb <= 0:
        raise InputError("--batch-mb must be positive")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    if args.max_doc_chars < 1 or args.max_sentence_chars < 1:
        raise InputError("--max-doc-chars and --max-sentence-chars must be positive")
    args.home = _home_code(args.home)


def cmd_run(args: argparse.Namespace) -> int:
    from claimtag.dataset import Dataset
    from claimtag.ingest import InputOptions, check_inputs

    check_inputs(args.inputs)
    _load_rules(args)  # fail fast, before the orchestrator starts, on a broken pack
    _load_model(args)
    _check_job_args(args)
    out = Path(args.out)
    if args.wait <= 0:  # fail fast if another run holds the folder (the run re-checks)
        probe = Dataset(out)
        with probe.lock("(checking)"):
            probe.init()
    params: dict[str, Any] = {
        "inputs": list(args.inputs),
        "out": str(out),
        "rules": [str(p) for p in args.rules],
        "replace_rules": args.replace_rules,
        "model": None if args.model is None else str(args.model.resolve()),
        "no_model": args.no_model,
        "fast_model": args.fast_model,
        "id_column": args.id_column,
        "text_column": args.text_column,
        "date_column": args.date_column,
        "home_column": args.home_column,
        "home": args.home,
        "batch_mb": args.batch_mb,
        "reprocess": args.reprocess,
        "wait": args.wait,
        "workers": args.workers,
        "dask": args.dask,
        "max_doc_chars": args.max_doc_chars,
        "max_sentence_chars": args.max_sentence_chars,
    }

    if args.no_prefect and args.dask:
        raise InputError("--dask runs through Prefect; drop --no-prefect")
    if args.quiet:
        os.environ["CLAIMTAG_QUIET"] = "1"
    if args.no_prefect:
        from claimtag.runs import run

        options = InputOptions(
            id_column=args.id_column,
            text_column=args.text_column,
            date_column=args.date_column,
            home_column=args.home_column,
            home=args.home,
            max_doc_chars=args.max_doc_chars,
            max_sentence_chars=args.max_sentence_chars,
        )
        manifest = run(
            args.inputs,
            out,
            _load_rules(args),
            options=options,
            batch_bytes=int(args.batch_mb * 1024 * 1024),
            reprocess=args.reprocess,
            wait=args.wait,
            workers=args.workers,
            model=_load_model(args),
        )
    else:
        _prefect_environment(args.quiet, ephemeral=True)
        from claimtag_flows.extract import run_here

        manifest = run_here(**params)
    _print_summary(manifest, out, as_json=args.json, quiet=args.quiet)
    return EXIT_OK


def _print_summary(manifest: dict[str, Any], out: Path, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        print(json.dumps(manifest, indent=2, sort_keys=True))
        return
    if quiet:
        return
    c = manifest["counts"]
    by_status = {**c["documents_by_status"], "unchanged": c["documents_unchanged"]}
    status = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()) if n) or "none"
    types = ", ".join(f"{t}={n}" for t, n in c["claims_by_type"].items())
    print(f"run {manifest['run_id']}: {c['documents']} document(s) ({status})")
    print(
        f"  {c['sentences']} sentence(s), {c['claims']} claim(s) ({types}), "
        f"{c['rejects']} reject(s), {manifest['timings']['wall_seconds']:.2f} s"
    )
    vetoed = sum(c.get("claims_vetoed_by_type", {}).values())
    if vetoed:
        print(f"  {vetoed} rule claim(s) dropped by the learned model (--no-model keeps them)")
    print(f"  claims:    {out / 'claims'}")
    print(f"  documents: {out / 'documents'}")
    print(f"  manifest:  {out / 'runs' / (manifest['run_id'] + '.json')}")


# --- tag --------------------------------------------------------------------------------------


def cmd_tag(args: argparse.Namespace) -> int:
    from claimtag.tagging import tag_lines

    rules, model = _load_rules(args), _load_model(args)
    if args.input == "-":
        stream: TextIO = sys.stdin
        return tag_lines(stream, sys.stdout, rules, whole=args.whole, model=model)
    path = Path(args.input)
    if not path.is_file():
        raise InputError(f"input not found: {args.input}")
    with path.open(encoding="utf-8", errors="replace") as fh:
        return tag_lines(fh, sys.stdout, rules, whole=args.whole, model=model)


# --- validate, rules, schema ------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from claimtag.export import applies, validate_export
    from claimtag.validation import validate_path

    path = Path(args.path)
    manifest = Path(args.manifest) if args.manifest else None
    if applies(path, manifest):
        checked = validate_export(path, manifest=manifest, max_errors=args.max_errors)
        print(checked.render())
        return EXIT_OK if checked.ok else EXIT_FAILED
    report = validate_path(path, max_errors=args.max_errors)
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAILED


# --- export, report ---------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from claimtag.errors import ExportValidationError
    from claimtag.export import export_claims, export_filter

    flt = export_filter(
        claim_types=args.type,
        min_confidence=args.min_confidence,
        actors=args.actor,
        doc_ids=args.doc,
        since=args.since,
        extracted_since=args.extracted_since,
        include_negated=args.include_negated,
    )
    try:
        result = export_claims(
            Path(args.out), Path(args.to), fmt=args.format, flt=flt, compress=args.gzip
        )
    except ExportValidationError as e:
        print(f"claimtag: export failed validation: {e}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(f"exported {result.rows} claim(s) to {result.path} ({result.manifest['format']})")
        print(f"  sha256:   {result.sha256}")
        print(f"  manifest: {result.manifest_path}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from claimtag.report import write_report

    summary = write_report(
        Path(args.out), Path(args.to), top=args.top, max_rows=args.max_rows, title=args.title
    )
    if not args.quiet:
        print(
            f"report of {summary.claims} claim(s) in {summary.documents} document(s) "
            f"written to {summary.path} ({summary.table_rows} in the table)"
        )
    return EXIT_OK


def cmd_rules_check(args: argparse.Namespace) -> int:
    from claimtag.classify import check_examples
    from claimtag.rules import bundled_pack, compile_packs, read_pack

    # a full check every time, not the pack cache's earlier verdict
    if args.file:
        raw = read_pack(Path(args.file), use_cache=False)
    else:
        raw = bundled_pack(use_cache=False)
    pack = compile_packs([raw])
    failures = check_examples(pack)
    n_examples = sum(len(r.positive) + len(r.negative) for r in pack.rules)
    per_type = {t: sum(r.claim_type == t for r in pack.rules) for t in CLAIM_TYPES}
    print(
        f"{raw.source}: valid, {pack.version}, {len(pack.rules)} rule(s) "
        f"({', '.join(f'{t}={n}' for t, n in per_type.items())}), {n_examples} example(s)"
    )
    for f in failures:
        print(f"  FAIL {f}")
    print(f"examples: {n_examples - len(failures)} passed, {len(failures)} failed")
    return EXIT_OK if not failures else EXIT_FAILED


def cmd_model(args: argparse.Namespace) -> int:
    from claimtag.learned import choose_model

    model = choose_model(args.file)
    assert model is not None
    thresholds: dict[str, float] = dict(zip(model.types, model.thresholds.tolist(), strict=True))
    info: dict[str, Any] = {
        "model": model.label,
        "source": model.source,
        "types": list(model.types),
        "thresholds": thresholds,
        "vetoes": dict(zip(model.types, model.vetoes.tolist(), strict=True)),
        "features": {
            "words": len(model.word_index),
            "characters": len(model.char_index),
            "word_vectors": len(model.vectors),
        },
        "network": None
        if model.network is None
        else {
            "words": len(model.network.index),
            "dims": model.network.dims,
            "widths": [w for w, _, _ in model.network.convs],
            "filters": int(model.network.convs[0][2].shape[0]),
            "shares": dict(zip(model.types, model.shares.tolist(), strict=True)),
        },
        "encoder": None
        if model.encoder is None
        else {
            "layers": model.encoder.layers,
            "hidden": model.encoder.hidden,
            "heads": model.encoder.heads,
            "word_pieces": len(model.encoder.pieces.ids),
            "max_pieces": model.encoder.pieces.max_pieces,
            "shares": dict(zip(model.types, model.encoder_shares.tolist(), strict=True)),
            "without_it": None if model.fast is None else model.fast.get("version"),
        },
        "training": model.lineage,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    training = model.lineage
    print(f"{model.label} ({model.source})")
    print(
        f"  features: {len(model.word_index)} word n-grams, "
        f"{len(model.char_index)} character n-grams"
        + (f", the mean vector of {len(model.vectors)} words" if len(model.vectors) else "")
    )
    net = info["network"]
    if net is not None:
        print(
            f"  a convolutional network over {net['words']} words ({net['dims']} dimensions, "
            f"widths {', '.join(map(str, net['widths']))}, {net['filters']} filters each); "
            "probability = share x n-grams + (1 - share) x network, share "
            + ", ".join(f"{t} {v:.2f}" for t, v in net["shares"].items())
        )
    enc = info["encoder"]
    if enc is not None:
        print(
            f"  a transformer encoder ({enc['layers']} layers of {enc['hidden']}, "
            f"{enc['word_pieces']} word pieces, at most {enc['max_pieces']} a sentence); "
            "probability = share x the above + (1 - share) x encoder, share "
            + ", ".join(f"{t} {v:.2f}" for t, v in enc["shares"].items())
            + (f"; --fast-model: {model.name}@{enc['without_it']}" if enc["without_it"] else "")
        )
    print(
        "  adds a claim where no rule of its type fired, at probability >= "
        + ", ".join(f"{t} {k:.2f}" if k < 1 else f"{t} (never)" for t, k in thresholds.items())
    )
    if any(model.vetoes):
        print(
            "  drops a rule claim whose type's probability is below "
            + ", ".join(f"{t} {v:.2f}" for t, v in zip(model.types, model.vetoes, strict=True))
        )
    if training:
        files = training.get("gold_files", [])
        print(
            f"  trained on the {training.get('split', '?')} split: "
            f"{training.get('sentences', '?')} sentences from {len(files)} gold file(s), "
            f"C={training.get('C', '?')}, rules {training.get('rules', '?')}"
        )
        chosen = training.get("thresholds_chosen_on") or {}
        if chosen.get("files"):
            print(f"  chosen on {', '.join(chosen['files'])}: {chosen.get('rule', '')}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from claimtag.ingest import check_inputs

    check_inputs(args.inputs)
    _check_job_args(args)
    if "-" in args.inputs:
        raise InputError("serve cannot read stdin; give files or folders")
    _load_rules(args)
    _load_model(args)
    parameters: dict[str, Any] = {
        "inputs": [str(Path(p).resolve()) for p in args.inputs],
        "out": str(Path(args.out).resolve()),
        "rules": [str(p.resolve()) for p in args.rules],
        "replace_rules": args.replace_rules,
        "model": None if args.model is None else str(args.model.resolve()),
        "no_model": args.no_model,
        "fast_model": args.fast_model,
        "id_column": args.id_column,
        "text_column": args.text_column,
        "date_column": args.date_column,
        "home_column": args.home_column,
        "home": args.home,
        "reprocess": args.reprocess,
        "wait": args.wait,
        "batch_mb": args.batch_mb,
        "workers": args.workers,
        "max_doc_chars": args.max_doc_chars,
        "max_sentence_chars": args.max_sentence_chars,
    }
    _prefect_environment(quiet=False)
    from claimtag_flows.serve import local_server, serve

    api_url = os.environ.get("PREFECT_API_URL")
    if api_url:
        print(f"claimtag serve: using the Prefect server at {api_url}", flush=True)
        serve(name=args.name, cron=args.cron, parameters=parameters)
        return EXIT_OK
    with local_server(port=args.port) as url:
        print(
            f"claimtag serve: started a local Prefect server at {url} "
            f"(UI: {url.removesuffix('/api')}); it stops when this command stops",
            flush=True,
        )
        serve(name=args.name, cron=args.cron, parameters=parameters, api_url=url)
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from claimtag.store import read_manifests

    out = Path(args.out)
    if not (out / "runs").is_dir():
        raise InputError(f"no claimtag dataset at {out}")
    manifests = read_manifests(out)
    if args.json:
        print(json.dumps(manifests, indent=2, sort_keys=True))
        return EXIT_OK
    print(
        f"{'run_id':<26} {'finished':<21} {'ver':>4} {'docs':>7} {'new':>6} {'same':>6} "
        f"{'claims':>8} {'rejects':>7}  rule pack"
    )
    for m in manifests:
        c = m["counts"]
        print(
            f"{m['run_id']:<26} {m.get('finished_at', ''):<21} {m.get('version', 0):>4} "
            f"{c['documents']:>7} {c['documents'] - c.get('documents_unchanged', 0):>6} "
            f"{c.get('documents_unchanged', 0):>6} {c['claims']:>8} {c['rejects']:>7}  "
            f"{m['versions']['rule_pack']}"
        )
    return EXIT_OK


def cmd_compact(args: argparse.Namespace) -> int:
    from claimtag.dataset import Dataset
    from claimtag.runs import new_run_id

    out = Path(args.out)
    dataset = Dataset(out)
    if not (out / "_claimtag" / "current").is_symlink():
        raise InputError(f"no claimtag dataset at {out}")
    run_id = new_run_id()
    with dataset.lock(f"compact {run_id}", wait=args.wait):
        dataset.recover()
        result = dataset.compact(run_id, rows_per_file=args.rows_per_file)
    print(
        f"{out}: {result['files_before']} file(s) merged into {result['files_after']} "
        f"(version {result['version']})"
    )
    return EXIT_OK


def _gold(args: argparse.Namespace) -> list[dict[str, Any]]:
    from claimtag.gold import load_gold

    corpus = Path(args.corpus) if args.corpus else None
    if corpus is None:
        default = Path(os.environ.get("CLAIMTAG_CORPUS", "../shared/corpus"))
        corpus = default if default.is_dir() else None
    items: list[dict[str, Any]] = []
    for path in args.gold:
        items += load_gold(Path(path), corpus)
    if not items:
        raise InputError("the gold file(s) hold no sentences")
    return items


def cmd_evaluate(args: argparse.Namespace) -> int:
    from claimtag.evaluate import evaluate, render

    result = evaluate(_load_rules(args), _gold(args), model=_load_model(args))
    print(json.dumps(result, indent=2) if args.json else render(result))
    failures = []
    rules = result["rules"]
    if args.min_macro_f1 is not None and rules["macro_f1"] < args.min_macro_f1:
        failures.append(f"macro F1 {rules['macro_f1']:.3f} < {args.min_macro_f1}")
    if args.min_precision is not None:
        for t, s in rules["per_type"].items():
            if s["precision"] < args.min_precision:
                failures.append(f"{t} precision {s['precision']:.3f} < {args.min_precision}")
    for f in failures:
        print(f"claimtag: quality below the floor: {f}", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK


def cmd_rules_report(args: argparse.Namespace) -> int:
    from claimtag.evaluate import predict, render_rules, rule_report

    rules, model = _load_rules(args), _load_model(args)
    gold = _gold(args)
    rows = rule_report(
        rules,
        gold,
        [
            predict(rules, g["text"], home=g.get("home"), year=g.get("year"), model=model)
            for g in gold
        ],
        model,
    )
    print(json.dumps(rows, indent=2) if args.json else render_rules(rows))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from claimtag.schemas import load_schema

    print(json.dumps(load_schema(args.kind), indent=2))
    return EXIT_OK


def _home_code(code: str | None) -> str | None:
    """``--home``: an actor code of the actor table, upper-cased."""
    if code is None:
        return None
    from claimtag.actors import ActorResolver

    known = ActorResolver.default().actors
    if code.upper() not in known:
        raise InputError(f"--home {code!r} is not an actor code (e.g. USA, GBR, JPN, EU)")
    return code.upper()


# --- parser -----------------------------------------------------------------------------------


def _job_args(p: argparse.ArgumentParser, *, wait_default: float) -> None:
    """Options shared by ``run`` and ``serve``: how to read inputs and how to run a job."""
    p.add_argument("--id-column", default="doc_id", help="id column of table inputs")
    p.add_argument("--text-column", default="text", help="text column of table inputs")
    p.add_argument(
        "--date-column",
        default=None,
        help="date column of table inputs (default: 'date' when present); the year also "
        "dates state names ('Moscow' in 1987 is the Soviet Union)",
    )
    p.add_argument(
        "--home-column",
        default=None,
        metavar="COLUMN",
        help="column of table inputs with each document's own state as an actor code (the "
        "speaker's country): 'my delegation', 'our Government' then resolve to it",
    )
    p.add_argument(
        "--home",
        default=None,
        metavar="CODE",
        help="one actor code as every document's own state (e.g. USA for presidential "
        "addresses); --home-column wins where it has a value",
    )
    p.add_argument(
        "--batch-mb", type=float, default=8.0, help="megabytes of input per batch task (default: 8)"
    )
    p.add_argument(
        "--reprocess",
        choices=["changed", "content", "all"],
        default="changed",
        help="which documents already in --out to tag again: changed (new text or another "
        "rule pack; default), content (new text only), all",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=wait_default,
        metavar="SECONDS",
        help="wait this long for another run on the same --out to finish "
        f"(default: {'fail' if not wait_default else f'{wait_default:.0f}'})",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: one per core, at most one per batch)",
    )
    p.add_argument(
        "--max-doc-chars",
        type=int,
        default=20_000_000,
        help="skip longer documents, with the reason (default: 20,000,000)",
    )
    p.add_argument(
        "--max-sentence-chars",
        type=int,
        default=10_000,
        help="do not tag longer sentences (run-on tables, OCR debris); noted (default: 10,000)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="claimtag",
        description="Tag claims about threats, alliances and economic leverage in "
        "geopolitical and policy text.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "run",
        help="tag documents and write the Parquet dataset (Prefect flow)",
        description="Tag INPUTs (text/Markdown files, directories, JSONL, CSV, "
        "Parquet, or - for stdin) and write claims/, documents/, rejects/ "
        "and runs/ under --out.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    _rules_args(p)
    _job_args(p, wait_default=0.0)
    p.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run the batches on a Dask cluster (tcp://host:8786), or 'local' for a new "
        "LocalCluster of --workers processes (needs claimtag[dask])",
    )
    p.add_argument(
        "--no-prefect",
        action="store_true",
        help="run without Prefect (same output)",
    )
    p.add_argument("--json", action="store_true", help="print the run manifest as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "tag",
        help="tag JSONL or plain-text lines; no Prefect; JSON lines out",
        description='Read JSONL lines {"id": ..., "text": ...} (or plain '
        "text, one input per line) and write one JSON line per input: "
        '{"id", "labels", "claims"}.',
    )
    p.add_argument("input", nargs="?", default="-", metavar="FILE", help="file, or - for stdin")
    p.add_argument(
        "--whole",
        action="store_true",
        help="treat a plain-text input as one document instead of one per line",
    )
    _rules_args(p)
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser(
        "validate",
        help="check a claims dataset or JSONL file against the schema",
        description="Validate every record of a claims dataset (an output "
        "folder or its claims/ folder) or a JSONL file against the claim schema.",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--max-errors", type=int, default=20, help="errors to print (default: 20)")
    p.add_argument(
        "--manifest",
        default=None,
        metavar="FILE",
        help="export manifest to check PATH against (default: PATH.manifest.json when present)",
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "export",
        help="write filtered claims to JSONL, CSV or JSON, with a manifest",
        description="Export the claims of an output folder to one JSONL, CSV or JSON file "
        "(optionally gzipped), ordered by doc_id, sentence_index, claim_type. Every record "
        "is checked against the claim schema first; if one fails, nothing is written and "
        "the exit code is 1. PATH.manifest.json records the schema, rule packs, filter, "
        "row count and SHA-256. Negated claims are left out unless --include-negated.",
    )
    p.add_argument("out", metavar="DIR", help="output folder of a run (or its claims/)")
    p.add_argument("--to", required=True, metavar="PATH", help="export file to write")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "json"],
        default=None,
        help="file format (default: from the suffix of --to)",
    )
    p.add_argument(
        "--gzip", action="store_true", help="gzip the file (also implied by a .gz suffix)"
    )
    p.add_argument(
        "--type",
        action="append",
        default=[],
        choices=list(CLAIM_TYPES),
        help="keep this claim type; repeatable",
    )
    p.add_argument("--min-confidence", type=float, default=None, metavar="X")
    p.add_argument(
        "--actor",
        action="append",
        default=[],
        metavar="CODE",
        help="keep claims naming this actor code (e.g. RUS, NATO); repeatable: any of them",
    )
    p.add_argument(
        "--doc", action="append", default=[], metavar="DOC_ID", help="keep this doc_id; repeatable"
    )
    p.add_argument(
        "--since",
        default=None,
        metavar="DATE",
        help="keep claims whose doc_date is on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD); "
        "claims without a doc_date are left out",
    )
    p.add_argument(
        "--extracted-since",
        default=None,
        metavar="TIME",
        help="keep claims extracted at or after TIME (RFC 3339 or a date; UTC if no zone)",
    )
    p.add_argument("--include-negated", action="store_true", help="keep negated claims too")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a claims dataset",
        description="Write one self-contained HTML page (no network needed to view it) with "
        "counts per claim type and document, claims over time, top actors and actor pairs, "
        "the confidence distribution, rule hits and a searchable table of claims.",
    )
    p.add_argument("out", metavar="DIR", help="output folder of a run")
    p.add_argument("--to", required=True, metavar="PATH", help="HTML file to write")
    p.add_argument("--top", type=int, default=15, help="rows of the top-N charts (default: 15)")
    p.add_argument(
        "--max-rows",
        type=int,
        default=5000,
        help="claims in the table, most confident first (default: 5000)",
    )
    p.add_argument("--title", default=None, help="page title (default: from DIR)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("rules", help="work with rule packs")
    rsub = p.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    rp = rsub.add_parser(
        "check",
        help="validate a rule pack and run its examples",
        description="Validate a rule pack (the bundled one by default) "
        "against its schema and run every rule's examples.",
    )
    rp.add_argument("file", nargs="?", default=None, metavar="FILE")
    rp.set_defaults(func=cmd_rules_check)
    rp = rsub.add_parser(
        "report",
        help="per-rule diagnostics on gold sentences",
        description="For every rule: hits on the gold set, coverage, precision, unique hits, "
        "the rules it overlaps and conflicts with, and the rules that never fire.",
    )
    rp.add_argument("--gold", action="append", required=True, metavar="FILE")
    rp.add_argument("--corpus", default=None, metavar="DIR")
    rp.add_argument("--json", action="store_true")
    _rules_args(rp)
    rp.set_defaults(func=cmd_rules_report)

    p = sub.add_parser(
        "model",
        help="show the learned model: version, thresholds, how it was trained",
        description="Read a learned model file (default: the bundled one), check it, and "
        "show its version, features, thresholds and training lineage.",
    )
    p.add_argument("file", nargs="?", type=Path, metavar="FILE", help="a model file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser(
        "serve",
        help="run on a cron schedule as a Prefect deployment",
        description="Register the extract_claims deployment with a cron schedule and serve "
        "it until interrupted. Uses the Prefect server at PREFECT_API_URL, or starts a local "
        "one on 127.0.0.1 (database under $CLAIMTAG_HOME/prefect) and stops it on exit.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--cron", required=True, help='cron schedule, e.g. "0 * * * *" (UTC)')
    p.add_argument("--name", default="claimtag", help="deployment name (default: claimtag)")
    p.add_argument("--port", type=int, default=None, help="port of the local server")
    _rules_args(p)
    _job_args(p, wait_default=600.0)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "runs",
        help="list the committed runs of an output folder",
        description="List the committed runs of an output folder with their counts.",
    )
    p.add_argument("out", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the manifests as JSON")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "compact",
        help="merge small Parquet files of an output folder",
        description="Merge the Parquet parts of an output folder into few large files, "
        "atomically; the data does not change.",
    )
    p.add_argument("out", metavar="DIR")
    p.add_argument("--rows-per-file", type=int, default=1_000_000)
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser(
        "evaluate",
        help="score the rules against gold sentences",
        description="Score the rules on gold sentences (JSONL: id, text, labels, and "
        "optionally negated, hedged, actors; or corpus references): per-type precision, "
        "recall, F1, micro/macro F1, exact match, confusion, attribute accuracy, "
        "reliability by confidence, worst errors, and the keyword baseline.",
    )
    p.add_argument("--gold", action="append", required=True, metavar="FILE")
    p.add_argument(
        "--corpus",
        default=None,
        metavar="DIR",
        help="corpus folder for gold references (default: $CLAIMTAG_CORPUS or ../shared/corpus)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--min-macro-f1", type=float, default=None, help="exit 1 below this")
    p.add_argument(
        "--min-precision",
        type=float,
        default=None,
        help="exit 1 if any type's precision is below this",
    )
    _rules_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "schema", help="print a JSON Schema", description="Print one of the published JSON Schemas."
    )
    p.add_argument("kind", nargs="?", default="claim", choices=["claim", "document", "rule-pack"])
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``claimtag`` console script.

    As the program (``argv`` None), it ends with :func:`gc.freeze`: the process is about to
    exit, and the garbage collections of the interpreter's shutdown would otherwise walk
    every object still alive (0.1-0.3 s with pyarrow imported, 0.5-1 s with Prefect).
    """
    status = _main(argv)
    if argv is None:
        gc.freeze()
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except RunError as e:
        print(f"claimtag: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except ClaimtagError as e:
        print(f"claimtag: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("claimtag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:
        if os.environ.get("CLAIMTAG_DEBUG"):
            raise
        print(
            f"claimtag: internal error: {type(e).__name__}: {e} "
            "(set CLAIMTAG_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
