"""The public contract: schema files ship in the wheel, and every schema version has a
CHANGELOG entry."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from claimtag.schemas import SCHEMA_FILES, load_schema, schema_version

from .conftest import ROOT

CHANGELOG = ROOT / "CHANGELOG.md"
ENTRY = re.compile(
    r"^## \[(?P<kind>[a-z-]+) schema (?P<version>\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$"
)


def _changelog_entries() -> set[tuple[str, str]]:
    lines = CHANGELOG.read_text(encoding="utf-8").splitlines()
    return {(m["kind"], m["version"]) for m in map(ENTRY.match, lines) if m}


@pytest.mark.parametrize("kind", SCHEMA_FILES)
def test_every_schema_version_has_a_changelog_entry(kind: str) -> None:
    assert (kind, schema_version(kind)) in _changelog_entries(), (
        f"add '## [{kind} schema {schema_version(kind)}] - YYYY-MM-DD' to CHANGELOG.md"
    )


@pytest.mark.parametrize("kind", SCHEMA_FILES)
def test_schema_id_names_its_version(kind: str) -> None:
    schema = load_schema(kind)
    assert f"/{kind}/{schema['version']}/" in schema["$id"]


def test_changelog_has_an_unreleased_section_first() -> None:
    headings = [
        line
        for line in CHANGELOG.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    ]
    assert headings[0] == "## [Unreleased]"
    assert all(h == "## [Unreleased]" or ENTRY.match(h) for h in headings)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel (offline when hatchling is installed, else pip fetches it)."""
    dest = tmp_path_factory.mktemp("wheel")
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(dest), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (path,) = dest.glob("claimtag-*.whl")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", SCHEMA_FILES.values())
def test_schema_files_ship_in_the_wheel(wheel: Path, name: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read(f"claimtag/_schemas/{name}")
    assert packaged == (ROOT / "schemas" / name).read_bytes()


@pytest.mark.slow
def test_the_installed_package_finds_its_own_schemas(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    code = (
        "from claimtag.schemas import load_schema, schema_dir\n"
        "load_schema('claim')\n"
        "print(schema_dir())"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == tmp_path / "site" / "claimtag" / "_schemas"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "rules/core.yaml",
        "data/actors.json",
        "data/core-text.parquet",
        "data/core-text.network.npz",
        "data/core-text.encoder.npz",
    ],
)
def test_bundled_data_ships_in_the_wheel(wheel: Path, name: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read(f"claimtag/{name}")
    assert packaged == (ROOT / "src" / "claimtag" / name).read_bytes()
