"""A test hook to crash or pause a real run at a named point (see tests/test_crash.py)."""

from __future__ import annotations

import os
import signal
import time


def fault(point: str) -> None:
    """Test hook: ``CLAIMTAG_FAULT=<point>`` kills this process with SIGKILL at ``point``;
    ``CLAIMTAG_FAULT=<point>@sleep=<seconds>`` pauses there instead.

    The crash-safety and concurrency tests use it to stop a real run at a precise moment.
    """
    spec = os.environ.get("CLAIMTAG_FAULT")
    if not spec or not spec.startswith(point):
        return
    if spec == point:
        os.kill(os.getpid(), signal.SIGKILL)
    elif spec.startswith(f"{point}@sleep="):
        time.sleep(float(spec.split("=", 1)[1]))
