"""The steps for one batch, composed: read → split → classify → build → validate.

Pure composition with no orchestrator: a Prefect flow, a process pool, a test or a
benchmark calls the same functions.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from claimtag.actors import ActorResolver, year_of
from claimtag.classify import Claim, assertive_indices, classify_document
from claimtag.faults import fault
from claimtag.ingest import InputOptions, Outcome, Unit, read_unit
from claimtag.records import build_record
from claimtag.rules import RulePack
from claimtag.schemas import fast_validator, schema_version, violations
from claimtag.segment import split_sentences
from claimtag.types import Document, Previous, Sentence

if TYPE_CHECKING:
    from claimtag.learned import TextModel


def utc_now() -> str:
    """The current UTC time as RFC 3339 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


REPROCESS = ("changed", "content", "all")


def tagger_version(rules: RulePack, model: TextModel | None) -> str:
    """The rule pack(s), plus the learned model when there is one:
    ``core@1.9.1+core-text@1.0.0``."""
    return rules.version if model is None else f"{rules.version}+{model.label}"


@dataclass(frozen=True, slots=True)
class RunContext:
    """What every batch of a run shares.

    ``known``: documents already in the output (doc_id → Previous); ``reprocess`` says
    which of them to tag again: ``changed`` (new text or another rule pack), ``content``
    (new text only), ``all``.
    """

    run_id: str
    rules: RulePack
    options: InputOptions = field(default_factory=InputOptions)
    extracted_at: str = field(default_factory=utc_now)
    known: Mapping[str, Previous] = field(default_factory=dict)
    reprocess: str = "changed"
    #: The learned model that adds claims beside the rules (None: rules only).
    model: TextModel | None = None

    @property
    def version(self) -> str:
        """What tags (:func:`tagger_version`); recorded as ``rule_pack_version``."""
        return tagger_version(self.rules, self.model)

    def is_unchanged(self, doc: Document) -> bool:
        """True when ``doc`` is already in the output as this run would write it."""
        prev = self.known.get(doc.doc_id)
        if prev is None or self.reprocess == "all" or prev.status == "failed":
            return False
        if prev.sha256 != doc.sha256:
            return False
        return self.reprocess == "content" or prev.rule_pack_version == self.version


@dataclass(slots=True)
class BatchResult:
    """Everything one batch produced, ready to be written."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    n_sentences: int = 0
    n_bytes: int = 0
    n_unchanged: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    #: rule claims the learned model dropped, by claim type
    vetoed: dict[str, int] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


def document_row(
    ctx: RunContext,
    *,
    doc_id: str,
    source: str,
    status: str,
    reason: str | None,
    warnings: Sequence[str] = (),
    n_chars: int = 0,
    n_sentences: int = 0,
    n_claims: int = 0,
    n_rejects: int = 0,
    sha256: str | None = None,
    doc_date: str | None = None,
) -> dict[str, Any]:
    """A row for ``documents/`` (see schemas/document.schema.json)."""
    return {
        "doc_id": doc_id,
        "source": source,
        "status": status,
        "reason": reason,
        "warnings": list(warnings),
        "n_chars": n_chars,
        "n_sentences": n_sentences,
        "n_claims": n_claims,
        "n_rejects": n_rejects,
        "content_sha256": sha256,
        "doc_date": doc_date,
        "rule_pack_version": ctx.version,
        "run_id": ctx.run_id,
        "processed_at": utc_now(),
    }


@dataclass(frozen=True, slots=True)
class Split:
    """A document's sentences (``sentences``) and those short enough to tag (``tagged``)."""

    sentences: list[Sentence]
    tagged: list[Sentence]


def split_document(doc: Document, ctx: RunContext, warnings: list[str] | None = None) -> Split:
    """The sentences of ``doc``. Sentences longer than ``ctx.options.max_sentence_chars`` are
    counted but not tagged (run-on text such as tables or OCR noise); ``warnings`` receives
    a note saying so."""
    sentences = split_sentences(doc.text)
    limit = ctx.options.max_sentence_chars
    tagged = [s for s in sentences if s.end - s.start <= limit]
    if len(tagged) < len(sentences) and warnings is not None:
        warnings.append(
            f"{len(sentences) - len(tagged)} sentence(s) longer than {limit} characters not tagged"
        )
    return Split(sentences, tagged)


def extract_records(
    doc: Document,
    ctx: RunContext,
    timings: dict[str, float] | None = None,
    warnings: list[str] | None = None,
    split: Split | None = None,
    probabilities: Any = None,
    vetoed: list[Claim] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Split, classify and build the claim records of one document: (n_sentences, records).

    ``split``: the document split already (:func:`split_document`, whose ``warnings`` it
    gave); ``probabilities``: the learned model's scores of its assertive sentences, scored
    already (:func:`score_documents`); ``vetoed``: a list that receives the rule claims the
    model dropped.
    """
    t0 = time.perf_counter()
    if split is None:
        split = split_document(doc, ctx, warnings)
    sentences, tagged = split.sentences, split.tagged
    t1 = time.perf_counter()
    found = classify_document(
        ctx.rules, doc.text, tagged, model=ctx.model, probabilities=probabilities, vetoed=vetoed
    )
    t2 = time.perf_counter()
    resolver = ActorResolver.default()
    home = doc.metadata.get("home")
    year = year_of(doc.metadata.get("date"))
    version = schema_version("claim")
    records = []
    for i in sorted(found):
        s = tagged[i]
        actors = resolver.codes(doc.text[s.start : s.end], home, year)
        for claim in found[i]:
            records.append(
                build_record(
                    doc,
                    s,
                    claim,
                    actors,
                    run_id=ctx.run_id,
                    extracted_at=ctx.extracted_at,
                    rule_pack_version=ctx.version,
                    schema_version=version,
                )
            )
    if timings is not None:
        t3 = time.perf_counter()
        for stage, seconds in (("split", t1 - t0), ("classify", t2 - t1), ("build", t3 - t2)):
            timings[stage] = timings.get(stage, 0.0) + seconds
    return len(sentences), records


#: How much text the learned model scores in one call (characters): a call costs about a
#: millisecond before any text, so the sentences of short documents are scored together.
SCORE_CHARS = 256 * 1024


def score_documents(
    docs: Sequence[Document], ctx: RunContext, timings: dict[str, float] | None = None
) -> list[tuple[Split, list[str], Any]]:
    """Split ``docs`` and score their assertive sentences with ``ctx.model`` in one call:
    (split, warnings, probabilities) per document, for :func:`process_document`."""
    t0 = time.perf_counter()
    splits, notes, texts, bounds = [], [], [], [0]
    for doc in docs:
        warnings: list[str] = []
        split = split_document(doc, ctx, warnings)
        for i in assertive_indices(doc.text, split.tagged):
            s = split.tagged[i]
            texts.append(doc.text[s.start : s.end])
        splits.append(split)
        notes.append(warnings)
        bounds.append(len(texts))
    t1 = time.perf_counter()
    assert ctx.model is not None
    probs = ctx.model.probabilities(texts)
    if timings is not None:
        timings["split"] = timings.get("split", 0.0) + t1 - t0
        timings["classify"] = timings.get("classify", 0.0) + time.perf_counter() - t1
    return [
        (split, warnings, probs[bounds[k] : bounds[k + 1]])
        for k, (split, warnings) in enumerate(zip(splits, notes, strict=True))
    ]


def process_document(
    doc: Document,
    ctx: RunContext,
    result: BatchResult,
    scored: tuple[Split, list[str], Any] | None = None,
) -> None:
    """Tag one document and add its claims, rejects and document row to ``result``.

    ``scored``: the document split and scored already (:func:`score_documents`).
    """
    notes: list[str] = []
    vetoed: list[Claim] = []
    if scored is None:
        n_sentences, records = extract_records(doc, ctx, result.timings, notes, vetoed=vetoed)
    else:
        split, notes, probabilities = scored
        n_sentences, records = extract_records(
            doc, ctx, result.timings, split=split, probabilities=probabilities, vetoed=vetoed
        )
    for claim in vetoed:
        result.vetoed[claim.claim_type] = result.vetoed.get(claim.claim_type, 0) + 1
    t0 = time.perf_counter()
    check = fast_validator("claim")
    n_rejects = 0
    for record in records:
        if check.is_valid(record):
            result.claims.append(record)
        else:
            n_rejects += 1
            result.rejects.append(
                {
                    "doc_id": doc.doc_id,
                    "errors": [v.as_dict() for v in violations("claim", record)],
                    "record": record,
                }
            )
    result.add_time("validate", time.perf_counter() - t0)
    warnings = doc.metadata.get("warnings", "")
    result.documents.append(
        document_row(
            ctx,
            doc_id=doc.doc_id,
            source=doc.source,
            status="processed",
            reason=None,
            warnings=[*(warnings.split("\n") if warnings else ()), *notes],
            n_chars=len(doc.text),
            n_sentences=n_sentences,
            n_claims=len(records) - n_rejects,
            n_rejects=n_rejects,
            sha256=doc.sha256,
            doc_date=doc.metadata.get("date"),
        )
    )
    result.n_sentences += n_sentences
    result.n_bytes += len(doc.text)


def process_items(items: Iterable[Document | Outcome], ctx: RunContext) -> BatchResult:
    """Process documents; record outcomes of the ones that could not be read.

    With a learned model, documents are held until about :data:`SCORE_CHARS` of text has
    come (or an outcome, or the end) and their sentences are scored together.
    """
    result = BatchResult()
    pending: list[Document] = []
    pending_chars = 0

    def flush() -> None:
        nonlocal pending_chars
        if pending:
            for doc, scored in zip(
                pending, score_documents(pending, ctx, result.timings), strict=True
            ):
                process_document(doc, ctx, result, scored)
        pending.clear()
        pending_chars = 0

    for item in _timed(items, result):
        if isinstance(item, Outcome):
            flush()  # document rows stay in input order
            result.documents.append(
                document_row(
                    ctx,
                    doc_id=item.doc_id,
                    source=item.source,
                    status=item.status,
                    reason=item.reason,
                    warnings=item.warnings,
                    n_chars=item.n_chars,
                    sha256=item.sha256,
                )
            )
        elif ctx.is_unchanged(item):
            result.n_unchanged += 1
        else:
            fault(f"read:{item.doc_id}")
            if ctx.model is None:
                process_document(item, ctx, result)
                continue
            pending.append(item)
            pending_chars += len(item.text)
            if pending_chars >= SCORE_CHARS:
                flush()
    flush()
    return result


def _timed(
    items: Iterable[Document | Outcome], result: BatchResult
) -> Iterator[Document | Outcome]:
    """Yield from ``items``, adding the time spent producing them to the "load" stage."""
    it = iter(items)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            result.add_time("load", time.perf_counter() - t0)
            return
        result.add_time("load", time.perf_counter() - t0)
        yield item


#: What a batch holds: units to read where the batch runs (``ingest.plan_inputs``), or
#: documents and outcomes read already (``ingest.read_units``, in the run's process).
BatchItem = Unit | Document | Outcome

#: What an item of a batch counts for, besides its text: an outcome, a short document.
ITEM_OVERHEAD_BYTES = 256


def item_bytes(item: BatchItem) -> int:
    """How much input ``item`` is, to cut batches of about equal work: the characters of a
    document's text (a unit: its size in bytes) plus ``ITEM_OVERHEAD_BYTES``."""
    if isinstance(item, Document):
        return len(item.text) + ITEM_OVERHEAD_BYTES
    if isinstance(item, Unit):
        return item.size + ITEM_OVERHEAD_BYTES
    return ITEM_OVERHEAD_BYTES


def read_items(items: Iterable[BatchItem], options: InputOptions) -> Iterator[Document | Outcome]:
    """The documents and outcomes of a batch: units are read, the rest passes through."""
    for item in items:
        if isinstance(item, Unit):
            yield from read_unit(item, options)
        else:
            yield item


def process_units(units: Sequence[BatchItem], ctx: RunContext) -> BatchResult:
    """Read and process a batch: input units, or documents and outcomes read already."""
    return process_items(read_items(units, ctx.options), ctx)
