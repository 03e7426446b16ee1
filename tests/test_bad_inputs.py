"""Hostile inputs, end to end: every input row ends in ``documents/`` exactly once.

Each case builds its inputs in ``tmp_path`` and runs the library without Prefect
(``claimtag.runs.run``). The table below *is* the documented behaviour: for every input
document, the ``doc_id``, ``status`` and (part of) the ``reason`` or a warning.
``{in}`` in an expected doc_id or reason stands for the input folder.

Every case also checks the invariants that make the dataset trustworthy: one row per
input document, unique ``doc_id``s and ``claim_id``s, every claim valid against the
schema and belonging to a processed document, and nothing written outside ``--out``.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claimtag.ingest import InputOptions
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.schemas import validator
from claimtag.store import read_claims, read_documents

from .guards import deadline

THREAT = "Moscow has massed troops along the border."
SANCTIONS = "Washington imposed sweeping sanctions on Iranian oil exports."


@dataclass(frozen=True)
class Row:
    """One expected row of ``documents/``."""

    doc_id: str
    status: str
    reason: str | None = None  # a part of the reason (None: the reason must be null)
    warning: str | None = None  # a part of one of the warnings
    source: str | None = None  # default: the case's single input


@dataclass(frozen=True)
class Case:
    """Inputs to build under ``{in}`` and the rows ``documents/`` must hold for them."""

    id: str
    build: Callable[[Path], list[str]]
    rows: list[Row]
    options: InputOptions = field(default_factory=InputOptions)
    slow: bool = False


def _write(name: str, data: bytes | str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data.replace("{in}", str(root)), encoding="utf-8")
        else:
            path.write_bytes(data)
        return [str(path)]

    return build


def _jsonl(name: str, lines: list[Any]) -> Callable[[Path], list[str]]:
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return _write(name, body + "\n")


def _random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _words(n_chars: int, seed: int, vocabulary: str) -> str:
    rng = random.Random(seed)
    words = vocabulary.split()
    out: list[str] = []
    size = 0
    while size < n_chars:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:n_chars]


LOREM = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"
LOADED = "troops massed along border sanctions tariffs alliance nato threat war said would"

SCRIPTS = {
    "arabic.txt": "هددت روسيا بفرض عقوبات على الاتحاد الأوروبي. وقال الوزير إن التحالف قوي.",
    "chinese.txt": "中国宣布对进口商品征收关税。北约表示将加强防御！",
    "russian.txt": "Россия стянула войска к границе. НАТО пообещало поддержку союзникам.",
    "hindi.txt": "भारत ने आयात पर नए शुल्क लगाए। सरकार ने कहा कि गठबंधन मजबूत है।",
}


def _dirs_with_same_names(root: Path) -> list[str]:
    for year in ("2023", "2024"):
        (root / year).mkdir(parents=True)
        (root / year / "report.txt").write_text(f"{THREAT} ({year})")
    return [str(root / "2023"), str(root / "2024")]


def _duplicates_across_files(root: Path) -> list[str]:
    (root / "a.jsonl").write_text(
        json.dumps({"doc_id": "d1", "text": THREAT})
        + "\n"
        + json.dumps({"doc_id": 7, "text": SANCTIONS})
        + "\n"
    )
    (root / "b.csv").write_text(f'doc_id,text\nd1,"{SANCTIONS}"\n7,again\nd2,fresh\n')
    pq.write_table(pa.table({"doc_id": ["d2", "d3"], "text": ["x", THREAT]}), root / "c.parquet")
    return [str(root / "a.jsonl"), str(root / "b.csv"), str(root / "c.parquet")]


def _same_file_twice(root: Path) -> list[str]:
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text(THREAT)
    (root / "t.jsonl").write_text(json.dumps({"doc_id": "j", "text": "x"}) + "\n")
    return [
        str(root / "docs"),
        str(root / "docs" / "a.txt"),
        str(root / "t.jsonl"),
        str(root / "t.jsonl"),
    ]


def _undecodable_file_name(root: Path) -> list[str]:
    (root / "names").mkdir()
    fd = os.open(os.fsencode(root / "names") + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY)
    os.write(fd, THREAT.encode())
    os.close(fd)
    return [str(root / "names")]


# Found by scripts/fuzz.py (tables): a corrupt Parquet file whose row group decodes to
# fewer rows than its metadata lists. Those rows used to vanish without a trace.
PARQUET_SHORT_ROWS = base64.b64decode(
    "UEFSMRUEFQwVEEwVAhUAEgAABhQCAAAAcDEVABUSFRYsFQYVEBUGFQYcNgIoAnAxGAJwMRERAAAACSACAAAAAwMB"
    "BAAVBBUwFTRMFQQVABIAABhcDwAAAFNhbmN0aW9ucyBiaXRlLv/6AAB4FQAVEhUWLBUGFRAVBhUGHDYCKAF4GA9T"
    "YW5jdGlvbnMgYml0ZS4REQAAAAkgAgAAAAMDAQMCFQQZPDUAGAZzY2hlbWEVBAAVDCUCGAZkb2NfaWQlAEwcAAAA"
    "FQwlAhgEdGV4dCUATBwAAAAWBhkcGSwmABwVDBk1AAYQGRgGZG9jX2lkFQIWBhZ4FoABJjQmCBw2AigCcDEYAnAx"
    "EREAGSwVBBUAFQIAFQAVEBUCADwWCBkGGSYCBAAAACYgHBUMGTUABhAZGAR0ZXh0FQIWBha0ARa8ASbYASaIARw2"
    "AigBeBgPU2FuY3Rpb25zIGJpdGUuEREAGSwVBBUAFQIAFQAVEBUCADwWIBkGGSYCBAAAABasAhZAJggWvAIAGRwY"
    "DEFSUk9XOnNjaGVtYRjgAS8vLy8vNkFBQUFBUUFBQUFBQUFLQUF3QUJnQUZBQWdBQ2dBQUFBQUJCQUFNQUFBQUNB"
    "QUlBQUFBQkFBSUFBQUFCQUFBQUFJQUFBQkFBQUFBQkFBQUFOai8vLzhBQUFFRkVBQUFBQmdBQUFBRUFBQUFBQUFB"
    "QUFRQUFBQjBaWGgwQUFBQUFNai8vLzhRQUJRQUNBQUdBQWNBREFBQUFCQUFFQUFBQUFBQUFRVVFBQUFBSEFBQUFB"
    "UUFBQUFBQUFBQUJnQUFBR1J2WTE5cFpBQUFCQUFFQUFRQUFBQUFBQUFBABggcGFycXVldC1jcHAtYXJyb3cgdmVy"
    "c2lvbiAyNi4wLjEZLBwAABwAAAAGAgAAUEFSMQ=="
)


def _parquet(name: str, table: pa.Table) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        pq.write_table(table, root / name)
        return [str(root / name)]

    return build


CASES: list[Case] = [
    # --- bytes that are not text
    Case(
        "png-bytes",
        _write("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _random_bytes(4096, 1)),
        [Row("image.txt", "skipped", "binary file (contains NUL bytes)")],
    ),
    Case(
        "random-bytes-no-nul",
        _write("noise.txt", bytes(b or 1 for b in _random_bytes(8192, 2))),
        [Row("noise.txt", "skipped", "binary file (control bytes)")],
    ),
    Case(
        "text-with-one-nul",
        _write("nul.txt", THREAT.encode() + b"\x00" + SANCTIONS.encode()),
        [Row("nul.txt", "skipped", "binary file (contains NUL bytes)")],
    ),
    # --- encodings
    Case(
        "utf16-with-bom",
        _write("u16.txt", THREAT.encode("utf-16")),
        [Row("u16.txt", "processed", warning="decoded as utf-16 (byte-order mark)")],
    ),
    Case(
        "utf16-without-bom",
        _write("u16le.txt", THREAT.encode("utf-16-le")),
        [Row("u16le.txt", "skipped", "binary file (contains NUL bytes)")],
    ),
    Case(
        "utf32-with-bom",
        _write("u32.txt", THREAT.encode("utf-32")),
        [Row("u32.txt", "processed", warning="decoded as utf-32 (byte-order mark)")],
    ),
    Case(
        "utf8-with-bom",
        _write("bom.txt", b"\xef\xbb\xbf" + THREAT.encode()),
        [Row("bom.txt", "processed", warning="decoded as utf-8-sig")],
    ),
    Case(
        "latin1-prose",
        _write("latin1.txt", ("Le café de Genève. " + THREAT * 5).encode("latin-1")),
        [Row("latin1.txt", "processed", warning="invalid UTF-8: 2 sequence(s) replaced")],
    ),
    Case(
        "latin1-dense-accents",
        _write("latin1-fr.txt", ("Le café de Genève. " * 20 + THREAT).encode("latin-1")),
        [Row("latin1-fr.txt", "skipped", "not UTF-8 text (40 undecodable sequences)")],
    ),
    Case(
        "mixed-utf8-and-latin1",
        _write("mixed.txt", "Café. ".encode() + "Café. ".encode("latin-1") + THREAT.encode()),
        [Row("mixed.txt", "processed", warning="invalid UTF-8: 1 sequence(s) replaced")],
    ),
    Case(
        "cp1251-russian",
        _write("cp1251.txt", (SCRIPTS["russian.txt"] * 5).encode("cp1251")),
        [Row("cp1251.txt", "skipped", "not UTF-8 text")],
    ),
    Case(
        "utf16-bom-then-garbage",
        _write("badu16.txt", b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8"),
        [Row("badu16.txt", "skipped", "undecodable utf-16 text")],
    ),
    # --- empty and degenerate text
    Case("zero-bytes", _write("empty.txt", b""), [Row("empty.txt", "processed")]),
    Case(
        "only-whitespace",
        _write("blank.txt", " \t\r\n\u00a0\u2003\n\u3000 " * 100),
        [Row("blank.txt", "processed")],
    ),
    Case(
        "only-punctuation",
        _write("punct.txt", "?!.,;:…—–-()[]{}\"'«»“”" * 500),
        [Row("punct.txt", "processed")],
    ),
    Case(
        "2mb-sentence-no-punctuation",
        _write("long.txt", _words(2_000_000, 3, LOREM)),
        [Row("long.txt", "processed")],
    ),
    # --- characters that are valid but unusual
    Case(
        "control-and-bidi-characters",
        _write(
            "bidi.txt",
            "\u202eMoscow has\u200f massed\u2066 troops\u2069 along the border.\u202c\x0b"
            "\u2028Sanctions\u00ad were imposed\ufeff on Iran.\x0c\x1f\x7f\x85 End.",
        ),
        [Row("bidi.txt", "processed")],
    ),
    Case(
        "emoji",
        _write("emoji.txt", f"🚀🔥 {THREAT} 🇺🇦🇷🇺 👨‍👩‍👧 {SANCTIONS} 🤝" * 3),
        [Row("emoji.txt", "processed")],
    ),
    Case(
        "non-english-scripts",
        lambda root: [
            path
            for name, text in SCRIPTS.items()
            for path in _write(f"scripts/{name}", f"{text}\n\n{THREAT}")(root)
        ],
        [Row(name, "processed", source=f"{{in}}/scripts/{name}") for name in SCRIPTS],
    ),
    Case(
        "combining-marks-and-astral",
        _write("marks.txt", "Z\u0351\u0354\u0355a\u0300\u0301lgo. 𝔗𝔥𝔢 𝔴𝔞𝔯 𝔟𝔢𝔤𝔞𝔫. " * 50),
        [Row("marks.txt", "processed")],
    ),
    # --- tables
    Case(
        "csv-embedded-newlines-and-missing-columns",
        _write(
            "t.csv",
            'doc_id,text,date\nc1,"Line one.\nLine two.\r\nLine three.",2024-05-01\n'
            "c2\n"
            'c3,"three",2024-01-01,extra\n'
            ",no id here,\n"
            'c5,"",not a date\n',
        ),
        [
            Row("c1", "processed"),
            Row("c2", "failed", "line 5: missing 'text'"),
            Row("{in}/t.csv#L6", "failed", "line 6: more fields than header"),
            Row("{in}/t.csv#L7", "processed", warning="no 'doc_id'; id from position"),
            Row("c5", "processed", warning="unparsed date 'not a date'"),
        ],
    ),
    Case(
        "csv-without-text-column",
        _write("notext.csv", "doc_id,body\n1,x\n2,y\n"),
        [Row("{in}/notext.csv", "failed", "no 'text' column (columns: ['doc_id', 'body'])")],
    ),
    Case(
        "csv-binary",
        _write("bin.csv", b"doc_id,text\n\x00\x01\x02"),
        [Row("{in}/bin.csv", "failed", "binary file (contains NUL bytes)")],
    ),
    Case(
        "jsonl-broken-lines-and-wrong-types",
        _jsonl(
            "t.jsonl",
            [
                {"doc_id": "j1", "text": THREAT},
                "{not json",
                '{"doc_id": "j3", "text": "unterminated',
                ["a", "list"],
                "42",
                {"doc_id": "j6", "text": 42},
                {"doc_id": "j7", "text": None},
                {"doc_id": "j8", "body": "wrong column"},
                {"doc_id": ["a", "list"], "text": "x"},
                {"doc_id": 9.5, "text": "x"},
                {"doc_id": True, "text": "x"},
                {"doc_id": 12, "text": SANCTIONS},
                {"text": "no id"},
                {"doc_id": "j14", "text": "x", "date": {"nested": 1}},
                "[" * 100_000,
                "",
                "   ",
                {"doc_id": "j18", "text": THREAT, "extra": {"deep": [1, 2, 3]}},
            ],
        ),
        [
            Row("j1", "processed"),
            Row("{in}/t.jsonl#L2", "failed", "line 2: invalid JSON: Expecting property name"),
            Row("{in}/t.jsonl#L3", "failed", "line 3: invalid JSON: Invalid control character"),
            Row("{in}/t.jsonl#L4", "failed", "line 4: expected an object, got list"),
            Row("{in}/t.jsonl#L5", "failed", "line 5: expected an object, got int"),
            Row("j6", "failed", "line 6: 'text' is int, not text"),
            Row("j7", "failed", "line 7: missing 'text'"),
            Row("j8", "failed", "line 8: missing 'text'"),
            Row("{in}/t.jsonl#L9", "failed", "line 9: 'doc_id' is list, not text or an integer"),
            Row("{in}/t.jsonl#L10", "failed", "line 10: 'doc_id' is float"),
            Row("{in}/t.jsonl#L11", "failed", "line 11: 'doc_id' is bool"),
            Row("12", "processed"),
            Row("{in}/t.jsonl#L13", "processed", warning="no 'doc_id'; id from position"),
            Row("j14", "processed", warning="unparsed date {'nested': 1}"),
            Row("{in}/t.jsonl#L15", "failed", "line 15: invalid JSON"),
            Row("j18", "processed"),
        ],
    ),
    Case(
        "jsonl-crlf-and-unicode-line-separators",
        _write(
            "crlf.jsonl",
            json.dumps({"doc_id": "r1", "text": "A\u2028B\u2029C."}, ensure_ascii=False)
            + "\r\n"
            + json.dumps({"doc_id": "r2", "text": THREAT})
            + "\r\n",
        ),
        [Row("r1", "processed"), Row("r2", "processed")],
    ),
    Case(
        "jsonl-lone-surrogate-in-text",
        _write("sur.jsonl", '{"doc_id": "s1", "text": "Sanctions \\ud800 bite."}\n'),
        [Row("s1", "processed", warning="lone surrogate code point(s) replaced with U+FFFD")],
    ),
    Case(
        "parquet-without-text-column",
        _parquet("notext.parquet", pa.table({"doc_id": ["a", "b"], "body": ["x", "y"]})),
        [Row("{in}/notext.parquet", "failed", "no 'text' column (columns: ['doc_id', 'body'])")],
    ),
    Case(
        "parquet-wrong-types-and-nulls",
        _parquet(
            "types.parquet",
            pa.table({"doc_id": pa.array([1, None, 3]), "text": pa.array([THREAT, "x", None])}),
        ),
        [
            Row("1", "processed"),
            Row("{in}/types.parquet#R1", "processed", warning="id from position"),
            Row("3", "failed", "row 2: missing 'text'"),
        ],
    ),
    Case(
        "parquet-without-rows",
        _parquet(
            "empty.parquet",
            pa.table({"doc_id": pa.array([], pa.string()), "text": pa.array([], pa.string())}),
        ),
        [],
    ),
    Case(
        "parquet-decodes-fewer-rows-than-listed",
        _write("short.parquet", PARQUET_SHORT_ROWS),
        [Row("{in}/short.parquet#rg0", "failed", "cannot read Parquet row group 0")],
    ),
    Case(
        "parquet-corrupt",
        _write("bad.parquet", b"PAR1" + _random_bytes(1000, 4) + b"PAR1"),
        [Row("{in}/bad.parquet", "failed", "not a readable Parquet file")],
    ),
    # --- ids
    Case(
        "duplicate-ids-in-one-file",
        _jsonl(
            "dup.jsonl",
            [
                {"doc_id": "a", "text": THREAT},
                {"doc_id": "a", "text": THREAT},
                {"doc_id": "a", "text": SANCTIONS},
                {"text": "position id"},
                {"doc_id": "{in}/dup.jsonl#L4", "text": "an id that looks like a position id"},
            ],
        ),
        [
            Row("a", "processed"),
            Row("{in}/dup.jsonl#L2", "failed", "line 2: duplicate doc_id 'a' (first seen in"),
            Row("{in}/dup.jsonl#L3", "failed", "line 3: duplicate doc_id 'a'"),
            Row("{in}/dup.jsonl#L4", "processed"),
            Row("{in}/dup.jsonl#L5", "failed", "duplicate doc_id '{in}/dup.jsonl#L4'"),
        ],
    ),
    Case(
        "duplicate-ids-across-files",
        _duplicates_across_files,
        [
            Row("d1", "processed", source="{in}/a.jsonl"),
            Row("7", "processed", source="{in}/a.jsonl"),
            Row(
                "{in}/b.csv#L2",
                "failed",
                "line 2: duplicate doc_id 'd1' (first seen in {in}/a.jsonl line 1)",
                source="{in}/b.csv",
            ),
            Row("{in}/b.csv#L3", "failed", "duplicate doc_id '7'", source="{in}/b.csv"),
            Row("d2", "processed", source="{in}/b.csv"),
            Row(
                "{in}/c.parquet#R0",
                "failed",
                "row 0: duplicate doc_id 'd2' (first seen in {in}/b.csv line 4)",
                source="{in}/c.parquet",
            ),
            Row("d3", "processed", source="{in}/c.parquet"),
        ],
    ),
    Case(
        "same-file-name-in-two-folders",
        _dirs_with_same_names,
        [
            Row(
                "{in}/2023/report.txt",
                "processed",
                warning="doc_id 'report.txt' is shared by 2 files; using the path",
                source="{in}/2023/report.txt",
            ),
            Row(
                "{in}/2024/report.txt",
                "processed",
                warning="doc_id 'report.txt' is shared by 2 files; using the path",
                source="{in}/2024/report.txt",
            ),
        ],
    ),
    Case(
        "same-file-given-twice",
        _same_file_twice,
        [
            Row("a.txt", "processed", source="{in}/docs/a.txt"),
            Row(
                "{in}/docs/a.txt",
                "failed",
                "duplicate input: the same file as {in}/docs/a.txt",
                source="{in}/docs/a.txt",
            ),
            Row("j", "processed", source="{in}/t.jsonl"),
            Row(
                "{in}/t.jsonl",
                "failed",
                "duplicate input: the same file as {in}/t.jsonl",
                source="{in}/t.jsonl",
            ),
        ],
    ),
    Case(
        "ids-that-look-like-paths",
        _jsonl(
            "paths.jsonl",
            [
                {"doc_id": "../../etc/passwd", "text": THREAT},
                {"doc_id": "/etc/passwd", "text": THREAT},
                {"doc_id": "..", "text": THREAT},
                {"doc_id": "C:\\Windows\\System32", "text": THREAT},
                {"doc_id": "claims/claim_type=threat/part-x.parquet", "text": THREAT},
                {"doc_id": "~/.ssh/id_rsa", "text": THREAT},
                {"doc_id": "a" * 1000, "text": THREAT},
            ],
        ),
        [
            Row("../../etc/passwd", "processed"),
            Row("/etc/passwd", "processed"),
            Row("..", "processed"),
            Row("C:\\Windows\\System32", "processed"),
            Row("claims/claim_type=threat/part-x.parquet", "processed"),
            Row("~/.ssh/id_rsa", "processed"),
            Row("a" * 1000, "processed"),
        ],
    ),
    Case(
        "ids-that-cannot-be-ids",
        _jsonl(
            "badids.jsonl",
            [
                {"doc_id": "", "text": THREAT},
                {"doc_id": "a" * 1001, "text": THREAT},
                {"doc_id": "nul\u0000inside", "text": THREAT},
                {"doc_id": "new\nline", "text": THREAT},
                {"doc_id": "tab\there", "text": THREAT},
                {"doc_id": "del\u007f", "text": THREAT},
                '{"doc_id": "\\udc80", "text": "x"}',
                {"doc_id": "\u202eevil.txt", "text": THREAT},
            ],
        ),
        [
            Row("{in}/badids.jsonl#L1", "processed", warning="no 'doc_id'; id from position"),
            Row("{in}/badids.jsonl#L2", "failed", "'doc_id' is 1001 characters long"),
            Row("{in}/badids.jsonl#L3", "failed", "contains a control character (U+0000)"),
            Row("{in}/badids.jsonl#L4", "failed", "contains a control character (U+000A)"),
            Row("{in}/badids.jsonl#L5", "failed", "contains a control character (U+0009)"),
            Row("{in}/badids.jsonl#L6", "failed", "contains a control character (U+007F)"),
            Row("{in}/badids.jsonl#L7", "failed", "contains a lone surrogate (U+DC80)"),
            Row("\u202eevil.txt", "processed"),
        ],
    ),
    Case(
        "file-name-not-utf8",
        _undecodable_file_name,
        [Row("caf\ufffd.txt", "processed", source="{in}/names/caf\ufffd.txt")],
    ),
    # --- size limits
    Case(
        "document-over-max-doc-chars",
        _write("big.txt", THREAT * 10),
        [Row("big.txt", "skipped", "document too large: 420 characters > 200")],
        options=InputOptions(max_doc_chars=200),
    ),
    Case(
        "file-over-4x-max-doc-chars-not-read",
        _write("huge.txt", THREAT * 20),
        [Row("huge.txt", "skipped", "document too large: 840 bytes, more than 100 characters")],
        options=InputOptions(max_doc_chars=100),
    ),
    Case(
        "jsonl-row-over-max-doc-chars",
        _jsonl(
            "rows.jsonl", [{"doc_id": "small", "text": "ok"}, {"doc_id": "big", "text": "x" * 99}]
        ),
        [Row("small", "processed"), Row("big", "skipped", "document too large: 99 characters")],
        options=InputOptions(max_doc_chars=50),
    ),
    Case(
        "50mb-document-on-one-line",
        _write("one-line.txt", _words(50_000_000, 5, LOADED)),
        [Row("one-line.txt", "skipped", "document too large: 50000000 characters > 20000000")],
        slow=True,
    ),
]


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _fill(text: str | None, root: Path) -> str | None:
    return None if text is None else text.replace("{in}", str(root))


def check_run(
    case_rows: list[Row], inputs: list[str], root: Path, out: Path, options: InputOptions
) -> list[dict[str, Any]]:
    """Run the case and check its rows and the dataset's invariants; return the rows."""
    before = _snapshot(root.parent)
    manifest = run(inputs, out, default_rules(), options=options)
    written = _snapshot(root.parent) - before
    assert all(p == out.name or p.startswith(f"{out.name}/") for p in written), written
    docs = read_documents(out).to_pylist() if case_rows else []
    default_source = inputs[0] if len(inputs) == 1 else None

    # one row per input document, with the documented outcome
    want = sorted((_fill(r.doc_id, root) or "", r.status) for r in case_rows)
    assert sorted((d["doc_id"], d["status"]) for d in docs) == want
    by_id = {d["doc_id"]: d for d in docs}
    for r in case_rows:
        doc = by_id[_fill(r.doc_id, root) or ""]
        source = _fill(r.source, root) or default_source
        assert source is not None, "a case with several inputs names each row's source"
        assert doc["source"] == source
        reason = _fill(r.reason, root)
        if reason is None:
            assert doc["reason"] is None, doc["reason"]
        else:
            assert doc["reason"] is not None
            assert reason in doc["reason"], doc["reason"]
        if r.warning is not None:
            assert any(_fill(r.warning, root) in w for w in doc["warnings"]), doc["warnings"]

    # rows per input: nothing lost, nothing counted twice
    per_source = Counter(_fill(r.source, root) or default_source for r in case_rows)
    assert Counter(d["source"] for d in docs) == per_source
    assert len({d["doc_id"] for d in docs}) == len(docs)
    assert manifest["counts"]["documents"] == len(case_rows)

    # claims: unique ids, valid records, each from a processed document
    if manifest["counts"]["claims"]:
        claims = read_claims(out).to_pylist()
        assert len({c["claim_id"] for c in claims}) == len(claims)
        processed = {d["doc_id"] for d in docs if d["status"] == "processed"}
        assert {c["doc_id"] for c in claims} <= processed
        assert sum(d["n_claims"] for d in docs) == len(claims)
        check = validator("claim")
        for c in claims:
            record = {**c, "extracted_at": c["extracted_at"].isoformat().replace("+00:00", "Z")}
            if record["doc_date"] is not None:
                record["doc_date"] = record["doc_date"].isoformat()
            assert check.is_valid(record), record["claim_id"]
    return docs


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES],
)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    inputs = case.build(root)
    check_run(case.rows, inputs, root, tmp_path / "out", case.options)


def test_table_covers_every_outcome() -> None:
    """The table exercises every status, and more than 40 hostile documents."""
    statuses = Counter(r.status for c in CASES for r in c.rows)
    assert set(statuses) == {"processed", "skipped", "failed"}
    assert sum(statuses.values()) > 40


def test_all_cases_in_one_run(tmp_path: Path) -> None:
    """Every fast case's inputs together: still one row each, ids still unique."""
    inputs: list[str] = []
    expected = 0
    for i, case in enumerate(c for c in CASES if not c.slow and c.options == InputOptions()):
        root = tmp_path / f"in{i}"
        root.mkdir()
        inputs += case.build(root)
        expected += len(case.rows)
    manifest = run(inputs, tmp_path / "out", default_rules())
    docs = read_documents(tmp_path / "out").to_pylist()
    # ids shared between cases (the same JSONL ids in two cases) fail as duplicates; the
    # total is unchanged: nothing is lost and nothing is counted twice
    assert len(docs) == expected == manifest["counts"]["documents"]
    assert len({d["doc_id"] for d in docs}) == len(docs)


def test_doc_ids_never_name_output_files(tmp_path: Path) -> None:
    """Output files are named by run id and batch only, whatever the doc_ids say."""
    hostile = ["../../escape", "/abs/path", "x/../../y", "claims", "documents/part-x"]
    layouts = []
    for name, ids in (("hostile", hostile), ("plain", [f"d{i}" for i in range(len(hostile))])):
        src = tmp_path / f"{name}.jsonl"
        src.write_text("".join(json.dumps({"doc_id": i, "text": THREAT}) + "\n" for i in ids))
        out = tmp_path / f"out-{name}"
        manifest = run([str(src)], out, default_rules(), run_id="r1")
        assert manifest["counts"]["documents_by_status"] == {"processed": len(ids)}
        layouts.append(sorted(p.relative_to(out).as_posix() for p in out.rglob("*")))
    assert layouts[0] == layouts[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hostile.jsonl",
        "out-hostile",
        "out-plain",
        "plain.jsonl",
    ]


# --- the command line: errors the user can fix are one line on stderr and exit 2 ------------


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claimtag.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


CLI_ERRORS = [
    (["run", "missing.txt", "--out", "o", "--no-prefect"], "input not found: missing.txt"),
    (["run", "ok.txt", "--out", "o", "--no-prefect", "--batch-mb", "0"], "--batch-mb must be"),
    (["run", "ok.txt", "--out", "o", "--no-prefect", "--batch-mb", "x"], "invalid float value"),
    (["run", "ok.txt", "--out", "o", "--no-prefect", "--frobnicate"], "unrecognized arguments"),
    (["run", "-", "-", "--out", "o", "--no-prefect"], "stdin (-) can be given only once"),
    (["run", "ok.txt", "--out", "o", "--no-prefect", "--rules", "nope.yaml"], "cannot read"),
    (["run", "--out", "o"], "the following arguments are required: INPUT"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "message"), CLI_ERRORS, ids=[m for _, m in CLI_ERRORS])
def test_cli_usage_errors_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    (tmp_path / "ok.txt").write_text(THREAT)
    proc = _cli(argv, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3  # argparse adds a usage line
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_unreadable_input_exits_2(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "a.txt").write_text(THREAT)
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("running as root: permissions do not stop this user from reading")
        proc = _cli(["run", str(secret), "--out", "o", "--no-prefect"], tmp_path)
        assert proc.returncode == 2
        assert "input not readable" in proc.stderr
    finally:
        secret.chmod(0o755)


# --- limits: an over-long sentence, a 50 MB document -------------------------------------------


@pytest.mark.slow
def test_over_long_sentence_is_not_tagged_and_noted(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    inputs = _write("long.txt", f"{THREAT} Then " + _words(2_000_000, 6, LOADED) + f" {SANCTIONS}")(
        root
    )
    with deadline(300):  # a hang guard, not a speed check (see benchmarks/)
        (doc,) = check_run(
            [Row("long.txt", "processed", warning="1 sentence(s) longer than 10000 characters")],
            inputs,
            root,
            tmp_path / "out",
            InputOptions(),
        )
    assert doc["n_sentences"] == 2
    assert doc["n_claims"] == 1  # the threat sentence before the run-on one


MEMORY_SCRIPT = """
import random, resource, sys, time
from pathlib import Path
from claimtag.ingest import InputOptions
from claimtag.rules import default_rules
from claimtag.runs import run

src, out, max_chars = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()
with src.open("w") as fh:  # 50 MB on one line, written in pieces
    for _ in range(50):
        fh.write(" ".join(rng.choice(words) for _ in range(180_000))[:1_000_000])
rules = default_rules()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
started = time.perf_counter()
manifest = run([str(src)], out, rules, options=InputOptions(max_doc_chars=max_chars))
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
status = ",".join(manifest["counts"]["documents_by_status"])
print(f"{status} {before} {peak} {seconds:.1f}")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("max_chars", "status"), [(20_000_000, "skipped"), (60_000_000, "processed")]
)
def test_memory_stays_bounded_on_a_50mb_one_line_document(
    tmp_path: Path, max_chars: int, status: str
) -> None:
    """Peak RSS grows by a few copies of the document, not more (measured in a child)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_SCRIPT,
            str(tmp_path / "one-line.txt"),
            str(tmp_path / "out"),
            str(max_chars),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    got, before, peak, _seconds = proc.stdout.split()
    assert got == status
    # 50 MB of ASCII: the bytes read, the str, and the sentence's slice for matching
    assert int(peak) - int(before) < 400, proc.stdout
