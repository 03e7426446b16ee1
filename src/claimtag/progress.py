"""A progress bar for long runs: on a terminal only, silent otherwise or with --quiet."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Batches done, bytes done, throughput and time left, redrawn on one line of stderr."""

    def __init__(
        self,
        total_batches: int,
        total_bytes: int,
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = self.stream.isatty() and not os.environ.get("CLAIMTAG_QUIET")
        self.enabled = enabled and total_batches > 1
        self.total_batches = total_batches
        self.total_bytes = max(total_bytes, 1)
        self.batches = 0
        self.bytes = 0
        self.started = time.monotonic()

    def update(self, n_bytes: int) -> None:
        """One more batch done, of ``n_bytes`` of input."""
        self.batches += 1
        self.bytes += n_bytes
        if self.enabled:
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self, width: int = 28) -> str:
        done = min(self.bytes / self.total_bytes, 1.0)
        bar = "#" * int(done * width)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.bytes / elapsed / 1e6
        left = (self.total_bytes - self.bytes) / (self.bytes / elapsed) if self.bytes else 0.0
        return (
            f"[{bar:<{width}}] {done:4.0%}  batch {self.batches}/{self.total_batches}  "
            f"{self.bytes / 1e6:,.1f}/{self.total_bytes / 1e6:,.1f} MB  {rate:,.1f} MB/s  "
            f"{left:,.0f} s left "
        )

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
