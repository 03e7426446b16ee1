"""claimtag: claim extraction and tagging for geopolitical and policy text."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("claimtag")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

CLAIM_TYPES: tuple[str, ...] = ("threat", "alliance", "economic_leverage")

__all__ = ["CLAIM_TYPES", "__version__"]
