"""The document's own state and date reach actor resolution in a run (--home-column, --home)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claimtag.cli import main
from claimtag.ingest import InputOptions
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.store import read_claims

ROWS = [
    ("bol-1970", "BOL", "1970", "My delegation condemns the invasion of the neighbouring state."),
    ("usa-1987", "", "1987", "Moscow massed troops on the border, the Legislature heard."),
    ("usa-2015", "USA", "2015", "Moscow massed troops on the border, the Legislature heard."),
]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "speeches.parquet"
    ids, homes, years, texts = zip(*ROWS, strict=True)
    pq.write_table(pa.table({"doc_id": ids, "country": homes, "year": years, "text": texts}), path)
    return path


def _actors(out: Path) -> dict[str, list[str]]:
    claims = read_claims(out).to_pylist()
    return {c["doc_id"]: sorted(c["actors"]) for c in claims}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            InputOptions(date_column="year", home_column="country"),
            {"bol-1970": ["BOL"], "usa-1987": ["SUN"], "usa-2015": ["RUS", "USA"]},
        ),
        (
            InputOptions(date_column="year", home_column="country", home="USA"),
            {"bol-1970": ["BOL"], "usa-1987": ["SUN", "USA"], "usa-2015": ["RUS", "USA"]},
        ),
        (
            InputOptions(),
            {"bol-1970": [], "usa-1987": ["RUS"], "usa-2015": ["RUS"]},
        ),
    ],
    ids=["home-column", "column-then-default", "no-metadata"],
)
def test_home_and_year_resolve_actors(
    table: Path, tmp_path: Path, options: InputOptions, expected: dict[str, list[str]]
) -> None:
    out = tmp_path / "out"
    run([str(table)], out, default_rules(), options=options, workers=1)
    assert _actors(out) == expected


def test_unknown_home_code_is_refused(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(table), "--out", str(tmp_path / "o"), "--no-prefect", "--home", "XQ"])
    assert code == 2
    assert "--home 'XQ' is not an actor code" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
