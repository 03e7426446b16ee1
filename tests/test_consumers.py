"""The dataset as its consumers read it: pandas, pyarrow, DuckDB and Polars agree on rows,
types and the claim_type partition column; parts written by an older schema still read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from claimtag import CLAIM_TYPES
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.schemas import arrow_schema, schema_version
from claimtag.store import PARTITION, claims_dataset

from .conftest import EXAMPLES

COLUMNS = arrow_schema("claim").names


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("consumers") / "out"
    run([str(EXAMPLES)], out, default_rules(), run_id="consumers")
    return out


@pytest.fixture(scope="module")
def expected(out: Path) -> pa.Table:
    return claims_dataset(out).to_table()


def _pandas(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "claims")


def _pyarrow(out: Path) -> pd.DataFrame:
    return ds.dataset(out / "claims", format="parquet", partitioning="hive").to_table().to_pandas()


def _duckdb(out: Path) -> pd.DataFrame:
    glob = (out / "claims" / "*" / "*.parquet").as_posix()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)").df()


def _polars(out: Path) -> pd.DataFrame:
    glob = (out / "claims" / "*" / "*.parquet").as_posix()
    return pl.scan_parquet(glob, hive_partitioning=True).collect().to_pandas()


READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "pandas": _pandas,
    "pyarrow": _pyarrow,
    "duckdb": _duckdb,
    "polars": _polars,
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_every_consumer_reads_the_rows_and_the_partition_column(
    out: Path, expected: pa.Table, reader: Callable[[Path], pd.DataFrame]
) -> None:
    frame = reader(out)
    assert len(frame) == expected.num_rows > 0
    assert set(COLUMNS) <= set(frame.columns)
    assert sorted(frame[PARTITION].astype(str).unique()) == sorted(CLAIM_TYPES)
    assert sorted(zip(frame["claim_id"], frame[PARTITION].astype(str), strict=True)) == sorted(
        zip(expected["claim_id"].to_pylist(), expected[PARTITION].to_pylist(), strict=True)
    )


def _first_list(frame: pd.DataFrame, column: str) -> list[Any]:
    value = next(v for v in frame[column] if v is not None and len(v))
    return list(value)


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_every_consumer_gets_the_right_types(
    out: Path, reader: Callable[[Path], pd.DataFrame]
) -> None:
    frame = reader(out)
    extracted = frame["extracted_at"]
    assert isinstance(extracted.dtype, pd.DatetimeTZDtype), extracted.dtype
    assert str(extracted.dt.tz) == "UTC"
    assert pd.api.types.is_integer_dtype(frame["sentence_index"])
    assert pd.api.types.is_float_dtype(frame["confidence"])
    assert pd.api.types.is_bool_dtype(frame["negated"])
    assert all(isinstance(a, str) for a in _first_list(frame, "actors"))
    assert all(isinstance(r, str) for r in _first_list(frame, "rule_ids"))
    span = _first_list(frame, "evidence")[0]
    assert set(span) == {"rule_id", "start", "end", "text"}
    assert isinstance(span["start"], int | np.integer)


def test_arrow_types_match_the_derived_schema(out: Path) -> None:
    table = ds.dataset(out / "claims", format="parquet", partitioning="hive").to_table()
    derived = arrow_schema("claim", exclude=(PARTITION,))
    for field in derived:
        assert table.schema.field(field.name).type == field.type, field.name
    assert table.schema.field("extracted_at").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_struct(table.schema.field("evidence").type.value_type)


def test_duckdb_and_polars_aggregate_alike(out: Path, expected: pa.Table) -> None:
    glob = (out / "claims" / "*" / "*.parquet").as_posix()
    by_duckdb = dict(
        duckdb.sql(
            f"SELECT claim_type, count(*) FROM read_parquet('{glob}', hive_partitioning = true) "
            "GROUP BY ALL"
        ).fetchall()
    )
    by_polars = dict(
        pl.scan_parquet(glob, hive_partitioning=True)
        .group_by("claim_type")
        .len()
        .collect()
        .iter_rows()
    )
    by_arrow = {v["values"]: v["counts"] for v in pc.value_counts(expected[PARTITION]).to_pylist()}
    assert by_duckdb == by_polars == by_arrow


# --- a part written by an earlier schema version -------------------------------------------

OLD_DROPPED = ("hedge_cue", "negation_cue", "doc_date")


def _write_old_part(out: Path) -> int:
    """A part as claimtag 0.9 wrote it: fewer columns, nanosecond times, schema 0.9.0."""
    current = next((out / "claims" / "claim_type=threat").glob("part-*.parquet"))
    table = pq.read_table(current).drop_columns(list(OLD_DROPPED))
    n = table.num_rows
    table = table.set_column(
        table.schema.get_field_index("schema_version"), "schema_version", pa.array(["0.9.0"] * n)
    )
    table = table.set_column(
        table.schema.get_field_index("claim_id"),
        "claim_id",
        pa.array([f"{i:032x}" for i in range(n)]),
    )
    table = table.set_column(
        table.schema.get_field_index("extracted_at"),
        "extracted_at",
        table["extracted_at"].cast(pa.timestamp("ns", tz="UTC")),
    )
    table = table.replace_schema_metadata(
        {"claimtag.schema_version": "0.9.0", "claimtag.run_id": "old"}
    )
    pq.write_table(table, current.with_name("part-old-00000.parquet"))
    return n


def test_a_part_from_an_older_schema_still_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([str(EXAMPLES)], out, default_rules(), run_id="current")
    before = claims_dataset(out).to_table().num_rows
    n_old = _write_old_part(out)

    table = claims_dataset(out).to_table()
    assert table.num_rows == before + n_old
    assert table.schema.field("extracted_at").type == pa.timestamp("us", tz="UTC")
    old = table.filter(pc.field("schema_version") == "0.9.0")
    assert old.num_rows == n_old
    for column in OLD_DROPPED:
        assert old[column].null_count == n_old, column
    assert set(old[PARTITION].to_pylist()) == {"threat"}
    current = table.filter(pc.field("schema_version") == schema_version("claim"))
    assert current.num_rows == before
    assert current["hedge_cue"].null_count < before  # the current parts keep their values

    from claimtag.validation import validate_path

    assert validate_path(out).ok  # the old rows are valid claims too (the dropped are nullable)
