"""Named exceptions. Each maps to a clear one-line message at the CLI."""


class ClaimtagError(Exception):
    """Base class of every error claimtag raises on purpose."""


class InputError(ClaimtagError):
    """An input path or option cannot be used (missing file, unknown format, bad column)."""


class RulePackError(ClaimtagError):
    """A rule pack is malformed; the message lists every error with its location."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid rule pack {source}: {len(errors)} error(s)\n{lines}")


class SchemaError(ClaimtagError):
    """A bundled or user-supplied JSON Schema cannot be loaded or is not valid."""


class StoreError(ClaimtagError):
    """The output dataset cannot be written or read."""


class ExportValidationError(ClaimtagError):
    """A record of an export breaks the claim schema; the export was not written."""

    def __init__(self, where: str, errors: list[str]) -> None:
        self.where = where
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors[:10])
        super().__init__(f"{where} breaks the claim schema; nothing written\n{lines}")


class RunError(ClaimtagError):
    """A run failed part-way (e.g. a worker process died); nothing of it was committed."""
