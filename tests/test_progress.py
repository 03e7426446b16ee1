"""The progress bar draws on a terminal only."""

from __future__ import annotations

import io

import pytest

from claimtag.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "quiet", "drawn"),
    [(FakeTTY(), False, True), (io.StringIO(), False, False), (FakeTTY(), True, False)],
)
def test_draws_only_on_a_terminal_and_not_when_quiet(
    stream: io.StringIO, quiet: bool, drawn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if quiet:
        monkeypatch.setenv("CLAIMTAG_QUIET", "1")
    else:
        monkeypatch.delenv("CLAIMTAG_QUIET", raising=False)
    progress = Progress(2, 2_000_000, stream=stream)
    progress.update(1_000_000)
    progress.update(1_000_000)
    progress.close()
    text = stream.getvalue()
    assert ("batch 2/2" in text) is drawn
    assert ("100%" in text) is drawn


def test_line_shows_share_and_sizes() -> None:
    progress = Progress(4, 4_000_000, enabled=True, stream=FakeTTY())
    progress.update(1_000_000)
    line = progress.line()
    assert " 25%" in line
    assert "1.0/4.0 MB" in line
    assert "batch 1/4" in line
