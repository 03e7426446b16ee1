"""Properties that hold for any text: sentence spans, valid records, stable ids.

Hypothesis generates the texts: arbitrary Unicode (control characters, bidi marks,
astral planes), and "prose-like" texts assembled from the pieces the splitter and the
rules care about (abbreviations, terminators, quotes, list markers, CRLF and lone CR
line breaks, stage directions, rule keywords, actor names).
"""

from __future__ import annotations

import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimtag import prefilter
from claimtag.pipeline import RunContext
from claimtag.rules import default_rules
from claimtag.schemas import validator
from claimtag.segment import split_sentences, split_spans
from claimtag.tagging import tag_text

# Moderate budgets: each property runs in a few seconds.
SPANS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RECORDS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECES = [
    # words, names, numbers
    "Moscow",
    "the",
    "troops",
    "massed",
    "along",
    "border",
    "sanctions",
    "tariffs",
    "NATO",
    "alliance",
    "allies",
    "threat",
    "war",
    "Beijing",
    "Washington",
    "the Kremlin",
    "EU",
    "imposed",
    "not",
    "may",
    "reportedly",
    "no",
    "defence pact",
    "3.5",
    "1,000",
    "2024",
    "Ж",
    "войска",
    "عقوبات",
    "北约",
    "भारत",
    "🚀",
    "e\u0301",
    "x\u200by",
    "ǅ",
    # abbreviations and initials
    "U.S.",
    "U.K.",
    "Dr.",
    "Mr.",
    "Jan.",
    "No.",
    "e.g.",
    "i.e.",
    "Inc.",
    "J.",
    "a.m.",
    # terminators, quotes, brackets
    ".",
    "!",
    "?",
    "...",
    "…",
    ". . .",
    "?!",
    '."',
    ".)",
    "”",
    "“",
    "'",
    "«",
    "»",
    "(",
    ")",
    "[Applause]",
    "(Laughter.)",
    "—",
    "–",
    "-",
    ",",
    ";",
    ":",
    "%",
    # whitespace and line structure
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r\n\r\n",
    "\r",
    "\n    ",
    "\n- ",
    "\n1. ",
    "\n(a) ",
    "\n# ",
    "\u00a0",
    "\u2028",
    "\u2029",
    "\x0b",
    "\x0c",
    "\x85",
    "\u3000",
    # controls and bidi
    "\u202e",
    "\u202c",
    "\u200f",
    "\u2066",
    "\ufeff",
    "\x00",
    "\x1b",
    "\x7f",
]

prose = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
any_text = st.text(max_size=300)
mixed = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=40).map("".join)
texts = st.one_of(prose, any_text, mixed)


def check_spans(text: str) -> None:
    spans = split_spans(text)
    covered = 0
    previous_end = 0
    previous_paragraph = 0
    for start, end, paragraph in spans:
        assert previous_end <= start < end <= len(text)  # in order, non-empty, no overlap
        sentence = text[start:end]
        assert sentence == sentence.strip()  # no leading or trailing whitespace
        assert text[previous_end:start].strip() == ""  # only whitespace between sentences
        assert paragraph >= previous_paragraph
        covered += sum(not c.isspace() for c in sentence)
        previous_end, previous_paragraph = end, paragraph
    assert text[previous_end:].strip() == ""
    assert covered == sum(not c.isspace() for c in text)  # every non-whitespace character


@SPANS
@given(texts)
def test_sentence_spans_partition_the_text(text: str) -> None:
    check_spans(text)


@SPANS
@given(texts, st.sampled_from(["\n", "\r\n", "\r"]))
def test_line_endings_do_not_change_the_sentences(text: str, newline: str) -> None:
    """The same text with LF, CRLF or CR line breaks splits into the same sentences."""
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    other = lf.replace("\n", newline)
    check_spans(other)

    def normalised(t: str) -> list[str]:
        return [" ".join(t[s:e].split()) for s, e, _ in split_spans(t)]

    assert normalised(other) == normalised(lf)


@SPANS
@given(texts)
def test_splitting_is_deterministic(text: str) -> None:
    assert split_sentences(text) == split_sentences(text)
    assert [s.position for s in split_sentences(text)] == list(range(len(split_spans(text))))


def _contexts() -> tuple[RunContext, RunContext]:
    rules = default_rules()
    return (
        RunContext(run_id="run-a", rules=rules, extracted_at="2024-01-01T00:00:00.000000Z"),
        RunContext(run_id="run-b", rules=rules, extracted_at="2025-06-30T12:34:56.000001Z"),
    )


CTX_A, CTX_B = _contexts()
VOLATILE = ("run_id", "extracted_at")
doc_ids = st.one_of(
    st.text(alphabet=string.ascii_letters + "/._-", min_size=1, max_size=20),
    st.text(min_size=1, max_size=20),
)


@RECORDS
@given(texts, doc_ids)
def test_every_record_is_valid_and_points_into_the_text(text: str, doc_id: str) -> None:
    out = tag_text(text, doc_id, CTX_A)  # raises when a record breaks the schema
    check = validator("claim")
    ids = set()
    for record in out["claims"]:
        assert check.is_valid(record)
        assert text[record["char_start"] : record["char_end"]] == record["text"]
        for ev in record["evidence"]:
            assert record["char_start"] <= ev["start"] < ev["end"] <= record["char_end"]
            assert text[ev["start"] : ev["end"]] == ev["text"]
        ids.add(record["claim_id"])
    assert len(ids) == len(out["claims"])
    assert out["labels"] == sorted({r["claim_type"] for r in out["claims"]})


@RECORDS
@given(texts, doc_ids)
def test_tagging_is_deterministic_and_claim_ids_are_stable(text: str, doc_id: str) -> None:
    first = tag_text(text, doc_id, CTX_A)
    again = tag_text(text, doc_id, CTX_A)
    other_run = tag_text(text, doc_id, CTX_B)
    assert first == again
    strip = [{k: v for k, v in r.items() if k not in VOLATILE} for r in first["claims"]]
    assert strip == [{k: v for k, v in r.items() if k not in VOLATILE} for r in other_run["claims"]]


@RECORDS
@given(prose, st.text(min_size=1, max_size=10))
def test_claim_ids_change_with_the_document(text: str, suffix: str) -> None:
    """The same sentence in another document (other id or other text) gets other ids."""
    base = {r["claim_id"] for r in tag_text(text, "doc", CTX_A)["claims"]}
    other_id = {r["claim_id"] for r in tag_text(text, "doc2", CTX_A)["claims"]}
    other_text = {r["claim_id"] for r in tag_text(text + " " + suffix, "doc", CTX_A)["claims"]}
    assert not base & other_id
    if text + " " + suffix != text:
        assert not base & other_text


FUZZ = Path(__file__).resolve().parents[1] / "scripts" / "fuzz.py"


@pytest.mark.slow
@pytest.mark.parametrize("target", ["split", "decode", "tables", "packs"])
def test_fuzz_target_smoke(target: str, tmp_path: Path) -> None:
    """Each fuzz target runs for two seconds without a finding (atheris, or the fallback)."""
    env = dict(os.environ)
    if target == "tables":  # tags with the bundled pack: reuse its Hyperscan database
        cache = prefilter._cache_dir()  # instead of compiling it again in the fuzz cache
        if cache is not None:
            env["CLAIMTAG_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, str(FUZZ), target, "--seconds", "2", "--artifacts", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert not list(tmp_path.iterdir())
