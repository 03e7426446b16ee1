"""Regenerate the field tables in README.md from the JSON Schemas."""

from __future__ import annotations

import sys
from pathlib import Path

from claimtag.schema_docs import update_readme

if __name__ == "__main__":
    readme = Path(__file__).resolve().parents[1] / "README.md"
    changed = update_readme(readme)
    print(f"{readme}: {'updated' if changed else 'up to date'}")
    sys.exit(0)
