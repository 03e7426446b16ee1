"""The ``claimtag`` command line: argument parsing only; every command calls the library.

Errors the user can fix (a missing path, a malformed rule pack, a bad option) print one
line on stderr and exit with code 2. Set CLAIMTAG_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from claimtag import CLAIM_TYPES, __version__
from claimtag.errors import ClaimtagError, InputError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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


def _load_rules(args: argparse.Namespace) -> Any:
    from claimtag.rules import load_rules

    return load_rules(args.rules, replace=args.replace_rules)


# --- run --------------------------------------------------------------------------------------


def _prefect_environment(quiet: bool) -> None:
    """Settings for the Prefect runs claimtag starts (before prefect is imported)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"


def cmd_run(args: argparse.Namespace) -> int:
    from claimtag.ingest import InputOptions, check_inputs

    check_inputs(args.inputs)
    _load_rules(args)  # fail fast, before the orchestrator starts, on a broken pack
    if args.batch_mb <= 0:
        raise InputError("--batch-mb must be positive")
    out = Path(args.out)
    params: dict[str, Any] = {
        "inputs": list(args.inputs),
        "out": str(out),
        "rules": [str(p) for p in args.rules],
        "replace_rules": args.replace_rules,
        "id_column": args.id_column,
        "text_column": args.text_column,
        "date_column": args.date_column,
        "batch_mb": args.batch_mb,
    }
    if args.no_prefect:
        from claimtag.runs import run

        options = InputOptions(
            id_column=args.id_column, text_column=args.text_column, date_column=args.date_column
        )
        manifest = run(
            args.inputs,
            out,
            _load_rules(args),
            options=options,
            batch_bytes=int(args.batch_mb * 1024 * 1024),
        )
    else:
        _prefect_environment(args.quiet)
        from claimtag_flows.extract import extract_claims

        manifest = extract_claims(**params)
    _print_summary(manifest, out, as_json=args.json, quiet=args.quiet)
    return EXIT_OK


def _print_summary(manifest: dict[str, Any], out: Path, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        print(json.dumps(manifest, indent=2, sort_keys=True))
        return
    if quiet:
        return
    c = manifest["counts"]
    status = ", ".join(f"{n} {s}" for s, n in sorted(c["documents_by_status"].items())) or "none"
    types = ", ".join(f"{t}={n}" for t, n in c["claims_by_type"].items())
    print(f"run {manifest['run_id']}: {c['documents']} document(s) ({status})")
    print(
        f"  {c['sentences']} sentence(s), {c['claims']} claim(s) ({types}), "
        f"{c['rejects']} reject(s), {manifest['timings']['wall_seconds']:.2f} s"
    )
    print(f"  claims:    {out / 'claims'}")
    print(f"  documents: {out / 'documents'}")
    print(f"  manifest:  {out / 'runs' / (manifest['run_id'] + '.json')}")


# --- tag --------------------------------------------------------------------------------------


def cmd_tag(args: argparse.Namespace) -> int:
    from claimtag.tagging import tag_lines

    rules = _load_rules(args)
    if args.input == "-":
        stream: TextIO = sys.stdin
        return tag_lines(stream, sys.stdout, rules, whole=args.whole)
    path = Path(args.input)
    if not path.is_file():
        raise InputError(f"input not found: {args.input}")
    with path.open(encoding="utf-8", errors="replace") as fh:
        return tag_lines(fh, sys.stdout, rules, whole=args.whole)


# --- validate, rules, schema ------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from claimtag.validation import validate_path

    report = validate_path(Path(args.path), max_errors=args.max_errors)
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_rules_check(args: argparse.Namespace) -> int:
    from claimtag.classify import check_examples
    from claimtag.rules import bundled_pack, compile_packs, read_pack

    raw = read_pack(Path(args.file)) if args.file else bundled_pack()
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


def cmd_schema(args: argparse.Namespace) -> int:
    from claimtag.schemas import load_schema

    print(json.dumps(load_schema(args.kind), indent=2))
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="claimtag",
        description="Tag claims about threats, alliances and economic leverage in "
        "geopolitical and policy text.",
    )
    parser.add_argument("--version", action="version", version=f"claimtag {__version__}")
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
    p.add_argument("--id-column", default="doc_id", help="id column of table inputs")
    p.add_argument("--text-column", default="text", help="text column of table inputs")
    p.add_argument(
        "--date-column",
        default=None,
        help="date column of table inputs (default: 'date' when present)",
    )
    p.add_argument(
        "--batch-mb", type=float, default=8.0, help="megabytes of input per batch task (default: 8)"
    )
    p.add_argument(
        "--no-prefect",
        action="store_true",
        help="run in this process without Prefect (same output)",
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
    p.set_defaults(func=cmd_validate)

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

    p = sub.add_parser(
        "schema", help="print a JSON Schema", description="Print one of the published JSON Schemas."
    )
    p.add_argument("kind", nargs="?", default="claim", choices=["claim", "document", "rule-pack"])
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``claimtag`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
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
