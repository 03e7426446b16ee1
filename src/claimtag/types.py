"""Plain value types shared by every stage of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Sentence(NamedTuple):
    """One sentence: ``text[start:end]`` is the sentence; ``position`` counts from 0."""

    position: int
    paragraph_index: int
    start: int
    end: int


class ActorMention(NamedTuple):
    """An actor named in a text: ``text[start:end]`` is the surface form."""

    code: str
    start: int
    end: int
    surface: str


@dataclass(frozen=True, slots=True)
class Document:
    """A document to process, with where it came from."""

    doc_id: str
    text: str
    source: str
    sha256: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    """A rule pattern that matched inside a sentence (offsets are document offsets)."""

    rule_id: str
    claim_type: str
    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Previous:
    """What the committed output already holds for a document."""

    sha256: str | None
    rule_pack_version: str
    status: str
