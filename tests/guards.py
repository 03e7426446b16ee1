"""Hang guards for complexity tests: fail instead of hanging, with no speed threshold."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than ``seconds``.

    The limits are generous: they tell a linear algorithm (well under a second here) from a
    quadratic or exponential one (hours), and are not speed measurements -- those live in
    ``benchmarks/``. Python's ``re`` checks for signals while it backtracks, so SIGALRM
    interrupts it.
    """

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
