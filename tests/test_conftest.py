"""The suite cleans up after itself: the temporary PREFECT_HOME is removed when pytest exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INNER_TEST = """
import os
from pathlib import Path


def test_records_prefect_home():
    home = Path(os.environ["PREFECT_HOME"])
    assert home.is_dir()
    (home / "prefect.db").write_text("stands in for the embedded server's database")
    (home / "storage").mkdir()
    Path(os.environ["CLAIMTAG_PREFECT_HOME_REPORT"]).write_text(str(home))
"""


def test_temporary_prefect_home_is_removed_when_pytest_exits(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    report = tmp_path / "home.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent),
        "CLAIMTAG_PREFECT_HOME_REPORT": str(report),
    }
    env.pop("PREFECT_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    home = Path(report.read_text())
    assert home.name.startswith("claimtag-prefect-home-")
    assert home != Path(os.environ["PREFECT_HOME"])
    assert not home.exists()
