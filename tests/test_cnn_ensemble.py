"""scripts/cnn_ensemble.py: its arguments and word splitting, without PyTorch or training."""

from __future__ import annotations

from types import ModuleType

import pytest

from .conftest import load_script


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("cnn_ensemble")


@pytest.mark.parametrize(
    "weights",
    [
        ["0.5", "0.5"],  # neither one share nor one per type
        ["0.5", "0.5", "0.5", "0.5"],
        ["1.5"],  # not a share
        ["-0.1", "0.5", "0.5"],
    ],
)
def test_bad_weights_are_refused_before_anything_runs(
    script: ModuleType, weights: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--vectors", "/nonexistent.npz", "--weight", *weights])
    assert exit_info.value.code == 2
    assert "--weight takes 1 or 3 shares from 0 to 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Moscow has massed troops.", ["moscow", "has", "massed", "troops", "."]),
        ("U.S.-Japan chip pact", ["u", ".", "s", ".", "-", "japan", "chip", "pact"]),
        ("", []),
        ("word " * 200, ["word"] * 150),  # at most MAX_TOKENS words are read
    ],
)
def test_words(script: ModuleType, text: str, expected: list[str]) -> None:
    assert script.words(text) == expected


def test_write_needs_one_seed(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--vectors", "/nonexistent.npz", "--seeds", "3", "--write", "9.9.9"])
    assert exit_info.value.code == 2
    assert "--write stores one network: use --seeds 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fraction", "0"], "--fraction takes a share above 0 and at most 1"),
        (["--fraction", "1.5"], "--fraction takes a share above 0 and at most 1"),
        (["--first-seed", "-1"], "--first-seed takes a seed of 0 or more"),
        (
            ["--write", "9.9.9", "--seeds", "1", "--fraction", "0.5"],
            "--write makes the bundled model: it takes neither --leave-out nor --fraction",
        ),
        (
            ["--write", "9.9.9", "--seeds", "1", "--leave-out"],
            "--write makes the bundled model: it takes neither --leave-out nor --fraction",
        ),
    ],
)
def test_exploration_options_are_checked_before_anything_runs(
    script: ModuleType, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exploring options are checked before anything runs; the bundled model is made
    without --fraction and --leave-out."""
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--vectors", "/nonexistent.npz", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
