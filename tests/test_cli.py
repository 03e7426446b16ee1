"""The command line: every command's help, clean errors (exit 2, one line), tag, validate."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from claimtag.cli import build_parser, main

from .conftest import EXAMPLES

COMMANDS = [["run"], ["tag"], ["validate"], ["rules"], ["rules", "check"], ["schema"], ["model"]]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: claimtag" in capsys.readouterr().out


def test_parser_lists_all_commands() -> None:
    help_text = build_parser().format_help()
    for name in ("run", "tag", "validate", "rules", "schema"):
        assert name in help_text


ERROR_CASES = [
    (["run", "/no/such/input.txt", "--out", "{tmp}/o"], "input not found: /no/such/input.txt"),
    (["run", str(EXAMPLES), "--out", "{tmp}/o", "--rules", "{tmp}/missing.yaml"], "cannot read"),
    (["run", str(EXAMPLES), "--out", "{tmp}/o", "--rules", "{tmp}/bad.yaml"], "invalid rule pack"),
    (["run", str(EXAMPLES), "--out", "{tmp}/o", "--batch-mb", "0"], "--batch-mb must be positive"),
    (["run"], "the following arguments are required: INPUT"),
    (["tag", "/no/such/file.jsonl"], "input not found"),
    (["validate", "/no/such/dir"], "not found"),
    (["rules", "check", "{tmp}/bad.yaml"], "'weight' is a required property"),
    (["schema", "nope"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize(
    ("argv", "message"), ERROR_CASES, ids=[" ".join(a[:2]) for a, _ in ERROR_CASES]
)
def test_bad_input_is_one_clean_error(tmp_path: Path, argv: list[str], message: str) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nversion: 1.0.0\nrules:\n  - id: x\n    claim_type: threat\n"
        "    patterns: [war]\n    examples: {positive: [a], negative: [b]}\n"
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "claimtag.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert proc.stderr.startswith(("claimtag: error:", "claimtag ", "usage:"))


def test_tag_jsonl(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"id": "a", "text": "Moscow has massed troops along the border."},
        {"id": 7, "text": "The ministers met in Geneva."},
        {"id": "c", "text": "The EU adopted sanctions, and the allies held joint exercises."},
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(json.dumps(x) + "\n" for x in lines)))
    assert main(["tag"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", 7, "c"]
    assert [o["labels"] for o in out] == [["threat"], [], ["alliance", "economic_leverage"]]
    assert out[0]["claims"][0]["actors"] == ["RUS"]
    assert out[0]["claims"][0]["text"] == lines[0]["text"]


def test_tag_plain_text_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("Washington imposed tariffs on Chinese steel.\n\nRain fell.\n")
    )
    assert main(["tag", "-"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["id"], o["labels"]) for o in out] == [("1", ["economic_leverage"]), ("3", [])]


def test_tag_reports_malformed_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "a", "text": "War."}\n{oops\n'))
    assert main(["tag"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[1] == {
        "id": 2,
        "error": "line 2: invalid JSON: Expecting property name enclosed in double quotes",
    }


def test_run_no_prefect_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(EXAMPLES), "--out", str(out), "--no-prefect", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["counts"]["documents"] == 4
    assert main(["validate", str(out)]) == 0
    assert "invalid" in capsys.readouterr().out
    assert main(["validate", str(out / "claims")]) == 0


def test_validate_jsonl_with_bad_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text('{"claim_id": "x"}\nnot json\n')
    assert main(["validate", str(path)]) == 1
    report = capsys.readouterr().out
    assert "2 record(s) checked, 2 invalid" in report
    assert "line 1: $: 'actors' is a required property" in report
    assert "line 2: invalid JSON" in report


def test_rules_check_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert "valid, core@" in out
    assert ", 0 failed" in out


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "rule-pack"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Rule pack"


def test_tag_survives_a_lone_surrogate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "s", "text": "War \\ud800 broke out."}\n'))
    assert main(["tag"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["labels"] == ["threat"]
