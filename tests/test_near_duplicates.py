"""scripts/near_duplicates.py: held-out and validation sentences that retell a development one."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ROOT, load_script


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("near_duplicates")


POOL = [
    "Armenia froze its participation in the Moscow-led CSTO.",
    "A magnitude 7.8 earthquake struck southern Turkey before dawn.",
    "",
]


@pytest.mark.parametrize(
    ("text", "score", "index"),
    [
        # the same words in another case and order: identical sets
        ("the moscow-led CSTO: Armenia froze its participation in", 1.0, 0),
        # 7 shared words of 11 distinct ones
        ("Armenia froze its membership in the Moscow-led bloc.", 7 / 11, 0),
        # 5 shared words of 15 ("6", "1" and "7", "8" are words too)
        ("A magnitude 6.1 earthquake struck northern Chile at dawn.", 5 / 15, 1),
        # one shared word of 12
        ("Nothing in common here", 1 / 12, 0),
        ("Nothing whatsoever common", 0.0, -1),
        ("", 0.0, -1),
    ],
)
def test_closest(script: ModuleType, text: str, score: float, index: int) -> None:
    [(got, where)] = script.closest([text], POOL)
    assert got == pytest.approx(score)
    assert where == index


def test_closest_with_an_empty_pool(script: ModuleType) -> None:
    assert script.closest(["Armenia froze it"], []) == [(0.0, -1)]


def test_flag_uses_the_cutoff(script: ModuleType) -> None:
    items = [{"text": "Armenia froze its membership in the Moscow-led bloc."}]  # 0.64
    assert script.flag(items, POOL, cutoff=0.5) == [True]
    assert script.flag(items, POOL, cutoff=0.7) == [False]


@pytest.mark.slow  # materialises every gold file from the corpus: about 7 s
def test_the_report_counts_every_heldout_file(
    script: ModuleType, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main(["--corpus", str(corpus)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| heldout")]
    heldout = (ROOT / "gold" / "splits-heldout.txt").read_text().split()
    assert [r.split("`")[1] for r in rows] == heldout
    # events18_heldout retells well-known events that development sets also tell
    counts = {r.split("`")[1]: int(r.rstrip(" |").rsplit("|", 1)[1]) for r in rows}
    assert counts["events18_heldout"] > 0
    assert all(0 <= n <= 300 for n in counts.values())
