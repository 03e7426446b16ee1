"""Tests for claimtag.segment: golden cases, span invariants, real corpus text and run time."""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from claimtag.segment import split_sentences, split_spans
from claimtag.types import Sentence

from .guards import deadline

GOLDEN = Path(__file__).resolve().parent / "golden" / "segment_cases.yaml"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FOREWORD = CORPUS / "japan_nato_foreword.txt"
PARQUETS = ("reuters21578", "us_state_of_the_union", "un_general_debates")


def _load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    return cases


CASES = _load_cases()


def check_invariants(text: str, spans: list[tuple[int, int, int]]) -> None:
    """Assert the span contract of split_spans on ``text``."""
    previous_end = 0
    previous_paragraph = 0
    for start, end, paragraph in spans:
        sentence = text[start:end]
        assert previous_end <= start < end <= len(text), (start, end)
        assert sentence == sentence.strip(), repr(sentence)
        assert sentence, (start, end)
        # Only whitespace lies between sentences: nothing is lost.
        assert not text[previous_end:start].strip(), repr(text[previous_end:start])
        assert previous_paragraph <= paragraph <= previous_paragraph + 1
        previous_end, previous_paragraph = end, paragraph
    assert not text[previous_end:].strip(), repr(text[previous_end:][:80])
    if spans:
        assert spans[0][2] == 0


# --------------------------------------------------------------------------------------------
# golden cases


def test_golden_file_is_well_formed() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for case in CASES:
        assert set(case) == {"id", "text", "sentences", "paragraphs"}, case["id"]
        assert len(case["sentences"]) == len(case["paragraphs"]), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    text: str = case["text"]
    spans = split_spans(text)
    check_invariants(text, spans)
    assert [text[start:end] for start, end, _ in spans] == case["sentences"]
    assert [paragraph for _, _, paragraph in spans] == case["paragraphs"]


def test_split_sentences_wraps_split_spans() -> None:
    text = "Title\n\nFirst sentence. Second one!\n\nThird?"
    sentences = split_sentences(text)
    assert sentences == [
        Sentence(position, paragraph, start, end)
        for position, (start, end, paragraph) in enumerate(split_spans(text))
    ]
    assert [s.position for s in sentences] == [0, 1, 2, 3]
    assert [s.paragraph_index for s in sentences] == [0, 1, 1, 2]
    assert [text[s.start : s.end] for s in sentences] == [
        "Title",
        "First sentence.",
        "Second one!",
        "Third?",
    ]


def test_empty_text() -> None:
    assert split_spans("") == []
    assert split_sentences("") == []
    assert split_spans("   \n\r\n\t ") == []


# --------------------------------------------------------------------------------------------
# properties

# Pieces that exercise every rule; hypothesis glues them together in any order.
PIECES = [
    "The",
    "the",
    "Japan",
    "U.S.",
    "U.S.S.R.",
    "Dr.",
    "Mr.",
    "e.g.",
    "etc.",
    "Inc.",
    "No.",
    "Jan.",
    "F.",
    "a.m.",
    "1.",
    "12.",
    "II.",
    "2.5%",
    "$1.2",
    "word",
    "It",
    "We",
    "And",
    ".",
    "!",
    "?",
    "?!",
    "...",
    ". . .",
    "…",
    '"',
    "'",
    "“",
    "”",
    "‘",
    "’",
    "(",
    ")",
    "[",
    "]",
    "(Applause.)",
    "[Laughter]",
    "(applause)",
    "—",
    "-",
    "- ",
    "* ",
    "• ",
    "1) ",
    ",",
    ";",
    ":",
    " ",
    " ",
    " ",
    "  ",
    "    ",
    "\t",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "\n\r",
    "\n\n",
    "\n    ",
    "\u00a0",
    "\u2028",
    "\x0b",
    "\x0c",
    "\x1c",
    "\u3000",
    "é",
    "É",
    "ß",
    "日本",
    "0",
    "2025",
]

texts_from_pieces = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts_from_pieces)
def test_invariants_on_generated_texts(text: str) -> None:
    check_invariants(text, split_spans(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_invariants_on_arbitrary_text(text: str) -> None:
    check_invariants(text, split_spans(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts_from_pieces, min_size=1, max_size=5))
def test_blank_lines_separate_paragraphs(blocks: list[str]) -> None:
    """Text that has no blank line of its own splits into at least one paragraph per block."""
    blocks = [b for b in blocks if b.strip() and not re.search(r"[\r\n][^\S\r\n]*[\r\n]", b)]
    text = "\n\n".join(blocks)
    spans = split_spans(text)
    check_invariants(text, spans)
    paragraphs = {paragraph for _, _, paragraph in spans}
    assert len(paragraphs) >= len(blocks)


@settings(max_examples=100, deadline=None)
@given(texts_from_pieces)
def test_positions_count_from_zero(text: str) -> None:
    sentences = split_sentences(text)
    assert [s.position for s in sentences] == list(range(len(sentences)))


# --------------------------------------------------------------------------------------------
# run time: linear, never quadratic

ADVERSARIAL = [
    "x" * 200_000,  # one long word
    "word " * 40_000,  # one sentence without punctuation
    "!" * 200_000 + "x",  # a terminator run that never ends a sentence
    "." * 200_000 + "x",
    " ." * 100_000 + "x",  # a "spaced ellipsis" run
    ".”" * 100_000 + "x",
    "”" * 200_000 + "x",
    "a." + '"' * 200_000 + "x",  # closers after one stop
    ")" * 200_000,
    "\n" * 200_000 + "a",
    " " * 200_000 + "\na",
    "\n " * 100_000 + "a",
    "Aa\n" * 70_000,  # a capitalised line start on every line
    "A\r" * 100_000 + "\n",  # lone CRs in a document that also has an LF
    "U.S. " * 40_000,
    "Dr. " * 50_000,
    "1. " * 70_000,
    "(Applause) " * 20_000,
    "- item\n" * 30_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=[f"adversarial-{i}" for i in range(19)])
def test_adversarial_inputs_finish(text: str) -> None:
    with deadline(60):  # quadratic behaviour on these inputs would take hours
        spans = split_spans(text)
    check_invariants(text, spans)


def test_no_punctuation_million_characters() -> None:
    """1M characters without punctuation: one span (a quadratic scan would not finish)."""
    text = ("alliance threat " * (1_000_000 // 16 + 1))[:1_000_000]
    with deadline(60):
        assert len(split_spans(text)) == 1


def test_fifty_megabyte_single_line() -> None:
    line = "Japan and Europe deepen security ties, officials said on Monday; talks go on "
    text = line * (50_000_000 // len(line) + 1)
    with deadline(300):
        spans = split_spans(text)
    assert spans == [(0, len(text.rstrip()), 0)]


# --------------------------------------------------------------------------------------------
# real text from ../shared/corpus (read at run time, never copied here)

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not available")


@functools.cache
def _corpus_sample(per_file: int) -> tuple[tuple[str, str], ...]:
    """``per_file`` random (doc_id, text) pairs from each corpus file, read once."""
    pq = pytest.importorskip("pyarrow.parquet")
    rng = random.Random(1234)
    sample: list[tuple[str, str]] = []
    for name in PARQUETS:
        path = CORPUS / f"{name}.parquet"
        if not path.is_file():
            pytest.skip(f"{path} not available")
        table = pq.read_table(path, columns=["doc_id", "text"])
        doc_ids = table.column("doc_id").to_pylist()
        texts = table.column("text").to_pylist()
        for i in sorted(rng.sample(range(len(texts)), per_file)):
            sample.append((doc_ids[i], texts[i]))
    return tuple(sample)


@needs_corpus
def test_invariants_on_corpus_documents() -> None:
    sample = _corpus_sample(per_file=67)  # ~200 documents from the three corpora
    assert len(sample) >= 200
    for doc_id, text in sample:
        spans = split_spans(text)
        try:
            check_invariants(text, spans)
        except AssertionError as exc:  # pragma: no cover - the message names the document
            raise AssertionError(f"{doc_id}: {exc}") from exc
        assert spans, doc_id


@needs_corpus
def test_newswire_paragraphs_follow_indentation() -> None:
    """In Reuters bodies every indented line after a full stop starts a new paragraph."""
    newswire = [(d, t) for d, t in _corpus_sample(per_file=67) if d.startswith("reuters")]
    assert newswire
    for doc_id, text in newswire:
        spans = split_spans(text)
        expected = len(re.findall(r"[.!?]\"?[^\S\n]*\n(?:[ ]{2,}|\t)[^\sa-z]", text))
        assert spans[-1][2] >= expected, doc_id


@needs_corpus
def test_foreword_known_splits() -> None:
    if not FOREWORD.is_file():
        pytest.skip(f"{FOREWORD} not available")
    text = FOREWORD.read_text(encoding="utf-8")
    spans = split_spans(text)
    check_invariants(text, spans)
    sentences = [text[start:end] for start, end, _ in spans]
    lines = [line.strip() for line in text.splitlines()]
    blocks = [line for line in lines if line]

    # The title line and the date line are sentences of their own, in their own paragraphs.
    assert sentences[0] == blocks[0]
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4}", sentences[1])
    assert [paragraph for _, _, paragraph in spans[:3]] == [0, 1, 2]
    # One paragraph per non-blank line (the foreword separates paragraphs by blank lines) ...
    assert spans[-1][2] == len(blocks) - 1
    # ... and each paragraph is exactly its sentences joined by single spaces.
    for index, block in enumerate(blocks):
        joined = " ".join(s for s, (_, _, p) in zip(sentences, spans, strict=True) if p == index)
        assert joined == block, index
    # Prose sentences end with a full stop; none ends at "U.S." or at an initial ("P.").
    for sentence in sentences[2:]:
        assert sentence.endswith("."), sentence[-40:]
        assert not sentence.endswith("U.S."), sentence[-40:]
        assert not re.search(r"\s[A-Z]\.$", sentence), sentence[-40:]
    # Every "U.S." in the foreword is mid-sentence; em dashes never split.
    assert text.count("U.S.") == sum(s.count("U.S.") for s in sentences)
    assert not any(s.startswith("—") or s.endswith("—") for s in sentences)
    # The body paragraphs hold several sentences each.
    assert len(sentences) >= 3 * (len(blocks) - 3)
