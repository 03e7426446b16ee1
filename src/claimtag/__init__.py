"""claimtag: claim extraction and tagging for geopolitical and policy text."""

from __future__ import annotations

CLAIM_TYPES: tuple[str, ...] = ("threat", "alliance", "economic_leverage")

__all__ = ["CLAIM_TYPES", "__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use (it costs ~50 ms)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("claimtag")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'claimtag' has no attribute {name!r}")
