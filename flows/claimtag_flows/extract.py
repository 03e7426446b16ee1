"""The ``extract_claims`` flow: plan inputs, process batches, commit a run manifest.

Tasks are coarse (one per batch of several MB of text) so that Prefect's per-task cost
stays small; each batch task reads its own inputs and writes its own Parquet parts,
returning only paths and counts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from claimtag.errors import InputError
from claimtag.ingest import InputOptions, Unit, batch_units, plan_inputs
from claimtag.learned import choose_model
from claimtag.pipeline import RunContext
from claimtag.progress import Progress
from claimtag.rules import load_rules
from claimtag.runs import (
    RunSummary,
    Workers,
    check_run_id,
    default_workers,
    finish_run,
    new_run_id,
    open_output,
    run_batch,
)


@task(name="plan-inputs", retries=2, retry_delay_seconds=1, cache_policy=NONE, persist_result=False)
def plan_task(inputs: list[str], options: InputOptions) -> list[Unit]:
    """Find the documents to read (files, table slices)."""
    return plan_inputs(inputs, options)


# Worker-process pools of the runs in progress in this process, by run id. Batch tasks
# that run here use them; on a Dask worker there is none and the task runs in place.
_POOLS: dict[str, Workers] = {}


@task(
    name="process-batch", retries=2, retry_delay_seconds=2, cache_policy=NONE, persist_result=False
)
def batch_task(units: list[Unit], ctx: RunContext, out: str, batch: int) -> dict[str, Any]:
    """Read, tag, validate and stage one batch; return paths and counts."""
    pool = _POOLS.get(ctx.run_id)
    if pool is None:
        return run_batch(units, ctx, Path(out), batch)
    return pool.run(units, ctx, Path(out), batch)


def dask_runner(address: str, workers: int | None, api_url: str | None) -> Any:
    """A DaskTaskRunner for an existing cluster (ADDRESS) or a new LocalCluster ("local").

    Workers of a LocalCluster get PREFECT_API_URL, so they report to this run's server
    instead of each starting their own; workers of an existing cluster need it set.
    """
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as e:
        raise InputError("--dask needs prefect-dask: pip install 'claimtag[dask]'") from e
    if address != "local":
        return DaskTaskRunner(address=address)
    kwargs: dict[str, Any] = {"n_workers": workers or 2, "processes": True, "threads_per_worker": 1}
    if api_url:
        kwargs["env"] = {"PREFECT_API_URL": api_url, "DO_NOT_TRACK": "1"}
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)


@flow(name="extract_claims_batches", persist_result=False, validate_parameters=False)
def batches_flow(batches: Any, ctx: Any, out: str) -> list[dict[str, Any]]:
    """The batch tasks of a run, on whatever task runner this subflow is given (Dask).

    ``batches`` is a list of lists of Units and ``ctx`` a RunContext; they are annotated
    ``Any`` because Prefect derives a parameter schema from annotations.
    """
    futures = [batch_task.submit(b, ctx, out, i) for i, b in enumerate(batches)]
    return [f.result() for f in futures]


def _api_url() -> str | None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url).rstrip("/")


@task(name="commit-run", retries=2, retry_delay_seconds=1, cache_policy=NONE, persist_result=False)
def commit_task(summary: RunSummary, out: str) -> dict[str, Any]:
    """Commit the run's staged files and manifest atomically (idempotent on retry)."""
    return finish_run(summary, Path(out))


@flow(
    name="extract_claims",
    persist_result=False,
    validate_parameters=False,
    task_runner=ThreadPoolTaskRunner(max_workers=4),  # type: ignore[arg-type]
)
def extract_claims(
    inputs: list[str],
    out: str = "outputs",
    rules: list[str] | None = None,
    replace_rules: bool = False,
    model: str | None = None,
    no_model: bool = False,
    fast_model: bool = False,
    id_column: str = "doc_id",
    text_column: str = "text",
    date_column: str | None = None,
    home_column: str | None = None,
    home: str | None = None,
    batch_mb: float = 8.0,
    run_id: str | None = None,
    reprocess: str = "changed",
    wait: float = 0.0,
    workers: int | None = None,
    dask: str | None = None,
    max_doc_chars: int = 20_000_000,
    max_sentence_chars: int = 10_000,
) -> dict[str, Any]:
    """Tag claims in INPUTs and commit them to the Parquet dataset under ``out``.

    Documents already in ``out`` with the same text and rule pack are not tagged again
    (``reprocess``: ``changed``, ``content`` or ``all``). The output folder is locked for
    the run; ``wait`` is how many seconds to wait for another run to finish. Batches run
    in ``workers`` local processes (default: one per core), or on a Dask cluster when
    ``dask`` is an address or ``"local"`` (a new LocalCluster of ``workers`` processes).
    The learned model ``model`` (a file; default: the bundled one) adds claims beside the
    rules unless ``no_model``; ``fast_model`` leaves out its encoder (much faster, less
    accurate).
    """
    logger = get_run_logger()
    started = time.time()
    options = InputOptions(
        id_column=id_column,
        text_column=text_column,
        date_column=date_column,
        home_column=home_column,
        home=home,
        max_doc_chars=max_doc_chars,
        max_sentence_chars=max_sentence_chars,
    )
    pack = load_rules([Path(p) for p in rules or []], replace=replace_rules)
    learned = choose_model(model, enabled=not no_model, fast=fast_model)
    run_id = check_run_id(run_id or new_run_id())

    def waiting(holder: str) -> None:
        logger.warning("waiting for the output folder %s: in use by %s", out, holder)

    with open_output(Path(out), run_id, wait=wait, on_wait=waiting) as dataset:
        known = dataset.known_documents()
        ctx = RunContext(
            run_id=run_id,
            rules=pack,
            options=options,
            known=known,
            reprocess=reprocess,
            model=learned,
        )
        units = plan_task(inputs, options)
        batches = batch_units(units, target_bytes=int(batch_mb * 1024 * 1024))
        logger.info(
            "run %s: %d input unit(s) in %d batch(es), rules %s, %d document(s) already in %s",
            run_id,
            len(units),
            len(batches),
            ctx.version,
            len(known),
            out,
        )
        if dask:
            runner = dask_runner(dask, workers, _api_url())
            results = batches_flow.with_options(task_runner=runner)(batches, ctx, out)
        else:
            n = workers if workers is not None else default_workers(len(batches))
            with Workers(min(n, len(batches))) as pool:
                _POOLS[run_id] = pool
                try:
                    futures = [batch_task.submit(b, ctx, out, i) for i, b in enumerate(batches)]
                    progress = Progress(len(batches), sum(u.size for b in batches for u in b))
                    results = []
                    for future, b in zip(futures, batches, strict=True):
                        results.append(future.result())
                        progress.update(sum(u.size for u in b))
                    progress.close()
                finally:
                    _POOLS.pop(run_id, None)
        summary = RunSummary(
            ctx=ctx, inputs=list(inputs), out=out, started=started, batches=results
        )
        manifest = commit_task(summary, out)
    counts = manifest["counts"]
    logger.info(
        "run %s: %d document(s) (%s, %d unchanged), %d sentence(s), %d claim(s) "
        "(%d rule claim(s) vetoed by the learned model), %d reject(s); committed as version %d",
        run_id,
        counts["documents"],
        counts["documents_by_status"],
        counts["documents_unchanged"],
        counts["sentences"],
        counts["claims"],
        sum(counts["claims_vetoed_by_type"].values()),
        counts["rejects"],
        manifest["version"],
    )
    create_table_artifact(
        key="claimtag-run-summary",
        table=[{"metric": k, "value": str(v)} for k, v in manifest["summary_table"].items()],
        description=f"claimtag run {run_id} into {out}",
    )
    return manifest


def run_here(**parameters: Any) -> dict[str, Any]:
    """Run :func:`extract_claims` in this process, as ``claimtag run`` does.

    Without flow-run heartbeats unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set: they let
    an automation mark the runs of a deployment whose process died as crashed, and
    stopping their thread costs up to a second at the end of every run. Runs of the
    deployment (``claimtag serve``) keep Prefect's default.
    """
    from prefect.context import SettingsContext, get_settings_context

    manifest: dict[str, Any]
    context = get_settings_context()
    flows = context.settings.flows
    if "heartbeat_frequency" in flows.model_fields_set:
        manifest = extract_claims(**parameters)
        return manifest
    # what prefect.settings.temporary_settings does, without validating every setting
    # again (~0.1 s): None is a valid value
    settings = context.settings.model_copy(
        update={"flows": flows.model_copy(update={"heartbeat_frequency": None})}
    )
    with SettingsContext(profile=context.profile, settings=settings):
        manifest = extract_claims(**parameters)
    return manifest
