"""Shared fixtures. Prefect never touches the user's ~/.prefect: PREFECT_HOME is temporary."""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="claimtag-prefect-home-")
# Registered before Prefect is imported, so it runs after Prefect's own exit handlers (which
# stop the embedded server that writes its database here).
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.pop("PREFECT_API_URL", None)

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    """A script of ``scripts/`` imported as a module, by file name without ``.py``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN = Path(__file__).resolve().parent / "golden"
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder (tests that need it are skipped without it)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not available")
    return CORPUS


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness (temporary database) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
