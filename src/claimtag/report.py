"""A self-contained HTML report of a claims dataset: one page, no network needed to view it.

The page holds inline CSS, inline SVG charts and a little vanilla JavaScript for the
claims table; nothing is fetched when it is opened. Every piece of text that comes from
the data (sentences, document ids, rule ids) is HTML-escaped, and the table's data is
embedded as JSON with ``<``, ``>`` and ``&`` escaped, so document text cannot inject
markup or script.

Aggregation uses pyarrow and pandas. Only the columns the charts need are read for every
claim; the sentence text and evidence are read for the claims shown in the table (the
``max_rows`` most confident) only.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.compute as pc

from claimtag import CLAIM_TYPES
from claimtag.errors import InputError, StoreError
from claimtag.store import CLAIMS, atomic_write, claims_dataset, read_documents

TYPE_LABELS: dict[str, str] = {
    "threat": "Threat",
    "alliance": "Alliance",
    "economic_leverage": "Economic leverage",
}
TYPE_COLORS: dict[str, str] = {
    "threat": "#c2414b",
    "alliance": "#2e6db4",
    "economic_leverage": "#d18b0f",
}
_LIGHT_COLUMNS = (
    "claim_id",
    "doc_id",
    "sentence_index",
    "claim_type",
    "confidence",
    "negated",
    "hedged",
    "actors",
    "rule_ids",
    "doc_date",
    "rule_pack_version",
    "schema_version",
    "run_id",
)
_TABLE_COLUMNS = ("claim_id", "text", "char_start", "evidence", "negation_cue", "hedge_cue")
_FULL, _HALF, _THIRD = 1110, 530, 330  # SVG widths that match the page's grid at 1200 px
_BINS = 20
_CHAR_PX = 8.0  # generous width of a 12 px character (upper-case codes are wide)


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report page and what it covers."""

    html: str
    claims: int
    documents: int
    table_rows: int


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """What a written report covers and where it is."""

    path: Path
    claims: int
    documents: int
    table_rows: int


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element (no '</script>', no '<!--')."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _actor_names() -> dict[str, str]:
    """Display names of actor codes from the bundled actor table (empty when unavailable)."""
    try:
        raw = resources.files("claimtag").joinpath("data", "actors.json").read_text("utf-8")
        actors = json.loads(raw).get("actors", {})
        return {str(code): str(info["name"]) for code, info in actors.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


# --- SVG charts ---------------------------------------------------------------------------


def _nice_ticks(top: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``top`` (whole numbers only with ``integer``)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _tick_label(value: float) -> str:
    return _fmt(value) if value == int(value) else f"{value:g}"


def _svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )


def _legend(items: Sequence[tuple[str, str, float]]) -> str:
    """An HTML legend: (label, colour, opacity)."""
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{c};opacity:{o}"></i>{_esc(label)}</span>'
            for label, c, o in items
        )
        + "</div>"
    )


def _label_width(labels: Sequence[str], *, limit: int) -> int:
    """Pixels for a column of 12 px labels: the longest one, at most ``limit``."""
    return int(min(limit, 16 + _CHAR_PX * max((len(s) for s in labels), default=4)))


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float], str]],
    colors: Sequence[tuple[str, float]],
    *,
    width: int,
    label_width: int,
    title: str,
    series: Sequence[str],
    bar_height: int = 18,
    scale_max: float | None = None,
) -> str:
    """Horizontal (stacked) bars: rows of (label, values per series, tooltip label).

    ``scale_max`` fixes the value of a full-width bar (so several charts share a scale).
    """
    if not rows:
        return '<p class="empty">Nothing to show.</p>'
    gap, value_width = 7, 64
    top = scale_max or max(sum(values) for _, values, _ in rows) or 1
    plot = width - label_width - value_width
    height = len(rows) * (bar_height + gap) + gap
    body = []
    for i, (label, values, full) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        shown = _short(label, max(4, int((label_width - 12) / _CHAR_PX)))
        body.append(
            f'<text x="{label_width - 8}" y="{y + bar_height / 2}" class="lbl" '
            f'text-anchor="end" dominant-baseline="central">{_esc(shown)}'
            f"<title>{_esc(full)}</title></text>"
        )
        x = float(label_width)
        for value, name, (color, opacity) in zip(values, series, colors, strict=True):
            if value <= 0:
                continue
            w = max(plot * value / top, 1.0)
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="2" '
                f'fill="{color}" fill-opacity="{opacity}"><title>{_esc(full)} — {_esc(name)}: '
                f"{_fmt(value)}</title></rect>"
            )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + bar_height / 2}" class="val" '
            f'dominant-baseline="central">{_fmt(sum(values))}</text>'
        )
    return _svg(width, height, title, body)


def _axis_left(top_value: float) -> int:
    """Room for the y-axis labels of counts up to ``top_value``."""
    return int(18 + 7 * len(_tick_label(_nice_ticks(top_value, integer=True)[-1])))


def _axes(
    width: int, height: int, left: int, bottom: int, top_value: float
) -> tuple[list[str], float]:
    """Horizontal grid lines with y labels; returns the SVG parts and the y-axis top."""
    ticks = _nice_ticks(top_value, integer=True)
    y_top = ticks[-1] or 1.0
    plot_h = height - bottom - 10
    parts = []
    for t in ticks:
        y = 10 + plot_h * (1 - t / y_top)
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y:.1f}" class="tick" text-anchor="end" '
            f'dominant-baseline="central">{_tick_label(t)}</text>'
        )
    return parts, y_top


def line_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], *, width: int, title: str
) -> str:
    """One line per claim type over ``labels`` (periods), with a hover target per period."""
    top_value = max((max(v) for v in series.values() if len(v)), default=0)
    height, left, bottom = 280, _axis_left(top_value), 28
    parts, y_top = _axes(width, height, left, bottom, top_value)
    n = len(labels)
    plot_w = width - left - 16
    plot_h = height - bottom - 10
    step = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + 8 + i * step * (plot_w - 16) / plot_w, 10 + plot_h * (1 - v / y_top)

    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or (i == n - 1 and n - 1 - (n - 1) // every * every > every * 0.7):
            x, _ = xy(i, 0)
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" class="tick" text-anchor="middle">'
                f"{_esc(label)}</text>"
            )
    for claim_type, values in series.items():
        color = TYPE_COLORS.get(claim_type, "#666")
        points = " ".join("{:.1f},{:.1f}".format(*xy(i, v)) for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
        if n <= 40:
            parts += [
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.8" fill="{color}"/>'
                for cx, cy in (xy(i, v) for i, v in enumerate(values))
            ]
    for i, label in enumerate(labels):
        x, _ = xy(i, 0)
        tip = f"{label}: " + ", ".join(
            f"{TYPE_LABELS.get(t, t)} {_fmt(v[i])}" for t, v in series.items()
        )
        parts.append(
            f'<rect x="{x - step / 2:.1f}" y="10" width="{max(step, 1):.1f}" height="{plot_h}" '
            f'class="hover"><title>{_esc(tip)}</title></rect>'
        )
    return _svg(width, height, title, parts)


def histogram(
    counts: Mapping[str, Sequence[int]], *, width: int, title: str, bins: int = _BINS
) -> str:
    """Stacked bars of confidence bins 0–1, one colour per claim type."""
    totals = [sum(c[i] for c in counts.values()) for i in range(bins)]
    height, left, bottom = 240, _axis_left(max(totals, default=0)), 28
    parts, y_top = _axes(width, height, left, bottom, max(totals, default=0))
    plot_w, plot_h = width - left - 16, height - bottom - 10
    bw = plot_w / bins
    for i in range(bins):
        y0 = 10.0 + plot_h
        lo, hi = i / bins, (i + 1) / bins
        for claim_type, c in counts.items():
            if c[i] <= 0:
                continue
            h = plot_h * c[i] / y_top
            parts.append(
                f'<rect x="{left + i * bw + 1:.1f}" y="{y0 - h:.1f}" width="{bw - 2:.1f}" '
                f'height="{h:.1f}" fill="{TYPE_COLORS.get(claim_type, "#666")}">'
                f"<title>{lo:.2f}–{hi:.2f} {_esc(TYPE_LABELS.get(claim_type, claim_type))}: "
                f"{_fmt(c[i])}</title></rect>"
            )
            y0 -= h
    for k in range(0, 11, 2):
        x = left + plot_w * k / 10
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" class="tick" text-anchor="middle">'
            f"{k / 10:.1f}</text>"
        )
    return _svg(width, height, title, parts)


# --- aggregation --------------------------------------------------------------------------


@dataclass(slots=True)
class _Data:
    """What the page shows, aggregated. ``claims`` holds the scalar columns of every claim;
    the list columns (actors, rule ids, evidence) are counted in Arrow, not in pandas."""

    claims: pd.DataFrame
    actors: pd.DataFrame  # claim_type, item, n
    pairs: pd.DataFrame  # claim_type, item, n
    rules: pd.DataFrame  # claim_type, item, n
    rule_spans: dict[str, int]
    with_actors: dict[str, int]
    lineage: dict[str, list[str]]
    table: list[dict[str, Any]]
    documents: dict[str, int]


def _segments(text: str, char_start: int, evidence: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The sentence as [[piece, is_evidence], ...]; evidence offsets are document offsets."""
    spans = sorted(
        (max(0, int(e["start"]) - char_start), min(len(text), int(e["end"]) - char_start))
        for e in evidence or []
        if e and e.get("start") is not None and e.get("end") is not None
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Any] = []
    pos = 0
    for start, end in merged:
        if start > pos:
            out.append([text[pos:start], 0])
        out.append([text[start:end], 1])
        pos = end
    if pos < len(text):
        out.append([text[pos:], 0])
    return out


def _exploded_counts(table: pa.Table, column: str) -> pd.DataFrame:
    """(claim_type, item, n): how many claims of each type hold each item of a list column."""
    values = table.column(column).combine_chunks()
    flat = pa.table(
        {
            "claim_type": pc.take(table.column("claim_type"), pc.list_parent_indices(values)),
            "item": pc.list_flatten(values),
        }
    )
    counts = flat.group_by(["claim_type", "item"]).aggregate([([], "count_all")])
    frame = counts.rename_columns(["claim_type", "item", "n"]).to_pandas()
    return frame.sort_values(["n", "item"], ascending=[False, True], kind="stable")


def _pair_counts(table: pa.Table) -> pd.DataFrame:
    """(claim_type, item, n) for every two actors named by one claim, as "A–B" (sorted)."""
    many = table.filter(pc.greater_equal(pc.list_value_length(table.column("actors")), 2))
    rows = [
        (t, f"{a}–{b}")
        for t, actors in zip(
            many.column("claim_type").to_pylist(), many.column("actors").to_pylist(), strict=True
        )
        for a, b in combinations(sorted(set(actors)), 2)
    ]
    frame = pd.DataFrame(rows, columns=["claim_type", "item"])
    counts = frame.groupby(["claim_type", "item"]).size().reset_index(name="n")
    return counts.sort_values(["n", "item"], ascending=[False, True], kind="stable")


def _table_rows(dataset: Any, table: pa.Table, max_rows: int) -> list[dict[str, Any]]:
    """The ``max_rows`` most confident claims, with their sentence split at the evidence."""
    if max_rows == 0 or table.num_rows == 0:
        return []
    order = pc.sort_indices(
        table,
        sort_keys=[
            ("confidence", "descending"),
            ("doc_id", "ascending"),
            ("sentence_index", "ascending"),
            ("claim_type", "ascending"),
        ],
    )
    top = table.take(order[:max_rows]).to_pylist()
    ids = pa.array(sorted({r["claim_id"] for r in top}), pa.string())
    detail = dataset.to_table(columns=list(_TABLE_COLUMNS), filter=pc.field("claim_id").isin(ids))
    by_id = {d["claim_id"]: d for d in detail.to_pylist()}
    rows = []
    for rec in top:
        d = by_id.get(rec["claim_id"])
        if d is None:
            continue
        rows.append(
            {
                "i": rec["claim_id"],
                "d": rec["doc_id"],
                "s": rec["sentence_index"],
                "t": rec["claim_type"],
                "c": round(float(rec["confidence"]), 4),
                "n": bool(rec["negated"]),
                "h": bool(rec["hedged"]),
                "nc": d["negation_cue"],
                "hc": d["hedge_cue"],
                "a": list(rec["actors"] or []),
                "r": list(rec["rule_ids"] or []),
                "dt": rec["doc_date"].isoformat() if rec["doc_date"] else None,
                "x": _segments(d["text"] or "", int(d["char_start"] or 0), d["evidence"] or []),
            }
        )
    return rows


def _load(out: Path, max_rows: int) -> _Data:
    dataset = claims_dataset(out)
    table = dataset.to_table(columns=list(_LIGHT_COLUMNS))
    evidence = dataset.to_table(columns=["evidence"]).column("evidence").combine_chunks()
    rule_spans: dict[str, int] = {}
    flat = pc.list_flatten(evidence)
    if len(flat):
        counts = pc.value_counts(pc.struct_field(flat, "rule_id"))
        rule_spans = {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}
    del evidence, flat
    named = table.filter(pc.greater(pc.list_value_length(table.column("actors")), 0))
    with_actors = {
        str(v["values"]): int(v["counts"])
        for v in pc.value_counts(named.column("claim_type")).to_pylist()
    }
    lineage = {
        name: sorted(str(v) for v in pc.unique(table.column(name)).to_pylist() if v is not None)
        for name in ("rule_pack_version", "schema_version", "run_id")
    }
    scalars = ["doc_id", "claim_type", "confidence", "negated", "hedged", "doc_date"]
    claims = table.select(scalars).to_pandas(strings_to_categorical=True)
    claims["confidence"] = claims["confidence"].astype(float)
    claims["claim_type"] = claims["claim_type"].astype(str)
    documents: dict[str, int] = {}
    try:
        status = read_documents(out).column("status")
        documents = {
            str(v["values"]): int(v["counts"]) for v in pc.value_counts(status).to_pylist()
        }
    except StoreError:
        pass
    return _Data(
        claims=claims,
        actors=_exploded_counts(table, "actors"),
        pairs=_pair_counts(table),
        rules=_exploded_counts(table, "rule_ids"),
        rule_spans=rule_spans,
        with_actors=with_actors,
        lineage=lineage,
        table=_table_rows(dataset, table, max_rows),
        documents=documents,
    )


def _period_series(claims: pd.DataFrame) -> tuple[str, list[str], dict[str, list[float]]]:
    """(granularity, period labels, counts per claim type) over doc_date; empty without dates."""
    dated = claims[claims["doc_date"].notna()]
    if dated.empty:
        return "", [], {}
    when = pd.to_datetime(dated["doc_date"])
    first, last = when.min(), when.max()
    months = (last.year - first.year) * 12 + last.month - first.month
    if months > 36:
        granularity, key = "year", when.dt.year.astype(int)
        periods = [str(y) for y in range(int(first.year), int(last.year) + 1)]
        key = key.astype(str)
    else:
        granularity, key = "month", when.dt.strftime("%Y-%m")
        periods = [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]
    counts = dated.assign(period=key.to_numpy()).groupby(["claim_type", "period"]).size()
    series = {
        t: [float(counts.get((t, p), 0)) for p in periods]
        for t in CLAIM_TYPES
        if t in set(dated["claim_type"])
    }
    return granularity, periods, series


# --- the page -----------------------------------------------------------------------------


def _panel(title: str, body: str, *, span: int, note: str = "", pid: str = "") -> str:
    ident = f' id="{pid}"' if pid else ""
    sub = f'<p class="sub">{note}</p>' if note else ""
    return f'<section class="panel span-{span}"{ident}><h2>{_esc(title)}</h2>{sub}{body}</section>'


def _type_legend() -> str:
    return _legend([(TYPE_LABELS[t], TYPE_COLORS[t], 1.0) for t in CLAIM_TYPES])


def build_report(
    out: Path, *, top: int = 15, max_rows: int = 5000, title: str | None = None
) -> Report:
    """The report of output folder ``out`` (or its claims/) as one HTML page."""
    if top < 1 or max_rows < 0:
        raise InputError("--top must be at least 1 and --max-rows at least 0")
    out = out.parent if out.name == CLAIMS else out
    data = _load(out, max_rows)
    c = data.claims
    n_claims = len(c)
    title = title or f"claimtag report — {out.resolve().name}"
    names = _actor_names()
    present = [t for t in CLAIM_TYPES if t in set(c["claim_type"])] or list(CLAIM_TYPES)

    # summary cards
    by_type = c["claim_type"].value_counts()
    n_docs_with = int(c["doc_id"].nunique())
    n_docs = sum(data.documents.values())
    doc_note = (
        f"of {_fmt(n_docs)} read ("
        + ", ".join(f"{_fmt(v)} {_esc(k)}" for k, v in sorted(data.documents.items()))
        + ")"
        if data.documents
        else "documents with claims"
    )
    cards = [
        (
            "",
            "Claims",
            _fmt(n_claims),
            f"{_fmt(c['negated'].sum())} negated · {_fmt(c['hedged'].sum())} hedged",
        ),
        ("", "Documents with claims", _fmt(n_docs_with), doc_note),
        *[
            (
                f" t-{t}",
                TYPE_LABELS[t],
                _fmt(by_type.get(t, 0)),
                f"{100 * by_type.get(t, 0) / max(n_claims, 1):.0f}% of claims",
            )
            for t in CLAIM_TYPES
        ],
    ]
    cards_html = (
        '<div class="cards">'
        + "".join(
            f'<div class="card{cls}"><div class="k">{_esc(label)}</div>'
            f'<div class="v">{value}</div><div class="s">{sub}</div></div>'
            for cls, label, value, sub in cards
        )
        + "</div>"
    )

    panels: list[str] = []

    # claims per type: asserted / hedged / negated
    asserted = c[~c["negated"] & ~c["hedged"]]["claim_type"].value_counts()
    hedged = c[~c["negated"] & c["hedged"]]["claim_type"].value_counts()
    negated = c[c["negated"]]["claim_type"].value_counts()
    rows = [
        (
            TYPE_LABELS[t],
            [float(asserted.get(t, 0)), float(hedged.get(t, 0)), float(negated.get(t, 0))],
            TYPE_LABELS[t],
        )
        for t in present
    ]
    type_svgs = "".join(
        stacked_bars(
            [row],
            [(TYPE_COLORS[t], 1.0), (TYPE_COLORS[t], 0.5), (TYPE_COLORS[t], 0.2)],
            width=_HALF,
            label_width=150,
            title=f"Claims of type {TYPE_LABELS[t]}",
            series=["asserted", "hedged", "negated"],
            bar_height=26,
            scale_max=max((sum(v) for _, v, _ in rows), default=1),
        )
        for t, row in zip(present, rows, strict=True)
    )
    stats = c.groupby("claim_type", observed=True).agg(
        docs=("doc_id", "nunique"), mean=("confidence", "mean")
    )
    type_table = (
        '<table class="types"><thead><tr><th>type</th><th class="num">asserted</th>'
        '<th class="num">hedged</th><th class="num">negated</th><th class="num">docs</th>'
        '<th class="num">w/ actors</th><th class="num">mean conf.</th></tr></thead><tbody>'
        + "".join(
            f'<tr><td class="tname t-{t}"><i></i>{_esc(TYPE_LABELS[t])}</td>'
            f'<td class="num">{_fmt(asserted.get(t, 0))}</td>'
            f'<td class="num">{_fmt(hedged.get(t, 0))}</td>'
            f'<td class="num">{_fmt(negated.get(t, 0))}</td>'
            f'<td class="num">{_fmt(stats.at[t, "docs"])}</td>'
            f'<td class="num">{_fmt(data.with_actors.get(t, 0))}</td>'
            f'<td class="num">{stats.at[t, "mean"]:.2f}</td></tr>'
            for t in present
            if t in stats.index
        )
        + "</tbody></table>"
    )
    panels.append(
        _panel(
            "Claims per type",
            type_svgs
            + _legend(
                [("asserted", "#555", 1.0), ("hedged", "#555", 0.5), ("negated", "#555", 0.2)]
            )
            + type_table,
            span=6,
            note="Asserted, hedged (possible, conditional, attributed) and negated claims.",
            pid="types",
        )
    )

    # confidence histogram
    bins = {
        t: [
            int(v)
            for v in pd.cut(
                c.loc[c["claim_type"] == t, "confidence"].clip(0, 1),
                bins=[i / _BINS for i in range(_BINS + 1)],
                include_lowest=True,
            )
            .value_counts(sort=False)
            .to_list()
        ]
        for t in present
    }
    panels.append(
        _panel(
            "Confidence",
            histogram(bins, width=_HALF, title="Confidence distribution") + _type_legend(),
            span=6,
            note=f"Claims per confidence bin of {1 / _BINS:.2f}.",
            pid="confidence",
        )
    )

    # over time
    granularity, periods, series = _period_series(c)
    if periods:
        n_dated = int(c["doc_date"].notna().sum())
        body = line_chart(periods, series, width=_FULL, title="Claims over time") + _type_legend()
        note = (
            f"Claims per {granularity} of the document date; {_fmt(n_dated)} of "
            f"{_fmt(n_claims)} claims have a date."
        )
    else:
        body = (
            '<p class="empty">No claim in this dataset has a document date '
            "(<code>doc_date</code>). "
            "Give table inputs a <code>date</code> column, or name one with "
            "<code>claimtag run --date-column</code>.</p>"
        )
        note = ""
    panels.append(_panel("Claims over time", body, span=12, note=note, pid="time"))

    # top documents
    per_doc = c.groupby(["doc_id", "claim_type"]).size().unstack(fill_value=0)
    per_doc["_total"] = per_doc.sum(axis=1)
    per_doc = per_doc.sort_values(["_total"], ascending=False, kind="stable").head(top)
    doc_rows = [
        (_short(str(doc), 44), [float(r.get(t, 0)) for t in present], str(doc))
        for doc, r in per_doc.iterrows()
    ]
    panels.append(
        _panel(
            f"Top {len(doc_rows)} documents" if doc_rows else "Top documents",
            stacked_bars(
                doc_rows,
                [(TYPE_COLORS[t], 1.0) for t in present],
                width=_FULL,
                label_width=_label_width([r[0] for r in doc_rows], limit=330),
                title="Claims per document",
                series=[TYPE_LABELS[t] for t in present],
            )
            + _type_legend(),
            span=12,
            note=f"Documents with the most claims, of {_fmt(n_docs_with)} with any.",
            pid="documents",
        )
    )

    # top actors and pairs per type
    for heading, frame, pid in (
        ("Top actors", data.actors, "actors"),
        ("Top actor pairs", data.pairs, "pairs"),
    ):
        for t in CLAIM_TYPES:
            counts = frame[frame["claim_type"] == t].head(top)
            items = [
                (
                    str(k),
                    [float(v)],
                    " – ".join(names.get(code, code) for code in str(k).split("–")),
                )
                for k, v in zip(counts["item"], counts["n"], strict=True)
            ]
            panels.append(
                _panel(
                    f"{heading} · {TYPE_LABELS[t]}",
                    stacked_bars(
                        items,
                        [(TYPE_COLORS[t], 1.0)],
                        width=_THIRD,
                        label_width=_label_width([i[0] for i in items], limit=150),
                        title=f"{heading}, {TYPE_LABELS[t]}",
                        series=["claims"],
                        bar_height=15,
                    ),
                    span=4,
                    pid=f"{pid}-{t}",
                )
            )

    # rule hits
    hits = data.rules.rename(columns={"item": "rule_ids", "n": "claims"})
    max_hits = int(hits["claims"].max()) if len(hits) else 1
    rule_rows = "".join(
        f"<tr><td><code>{_esc(r.rule_ids)}</code></td>"
        f'<td><span class="pill t-{_esc(r.claim_type)}">'
        f"{_esc(TYPE_LABELS.get(r.claim_type, r.claim_type))}</span></td>"
        f'<td class="num">{_fmt(r.claims)}</td>'
        f'<td class="barcell"><div class="bar t-{_esc(r.claim_type)}" '
        f'style="width:{100 * r.claims / max_hits:.1f}%"></div></td>'
        f'<td class="num">{_fmt(data.rule_spans.get(r.rule_ids, 0))}</td></tr>'
        for r in hits.itertuples()
    )
    panels.append(
        _panel(
            "Rule hits",
            '<table class="rules"><thead><tr><th>rule</th><th>type</th><th class="num">claims</th>'
            '<th></th><th class="num">evidence spans</th></tr></thead><tbody>'
            + (rule_rows or '<tr><td colspan="5" class="empty">No rule fired.</td></tr>')
            + "</tbody></table>",
            span=12,
            note="Claims each rule fired for, and the evidence spans it matched.",
            pid="rules",
        )
    )

    # claims table
    shown = len(data.table)
    cap_note = (
        f"The table holds the {_fmt(shown)} most confident of {_fmt(n_claims)} claims "
        f"(cap: {_fmt(max_rows)}; export the dataset with <code>claimtag export</code> for all)."
        if shown < n_claims
        else f"All {_fmt(n_claims)} claims."
        if n_claims
        else "No claims in this dataset."
    )
    type_options = "".join(
        f'<option value="{t}">{_esc(TYPE_LABELS[t])}</option>' for t in CLAIM_TYPES
    )
    table_html = f"""
<div class="controls">
  <input id="q" type="search" aria-label="Search"
    placeholder="Search sentences, documents, actors, rules…">
  <select id="f-type" aria-label="Claim type"><option value="">All types</option>
    {type_options}</select>
  <select id="f-pol" aria-label="Polarity"><option value="">Any polarity</option>
    <option value="asserted">Asserted</option><option value="hedged">Hedged</option>
    <option value="negated">Negated</option></select>
  <label class="minc">min. confidence
    <input id="f-conf" type="number" min="0" max="1" step="0.05" value="0"></label>
  <span id="count" class="count" aria-live="polite"></span>
</div>
<table class="claims" id="claims">
  <thead><tr>
    <th data-sort="t">type</th><th data-sort="c" class="num">conf.</th>
    <th data-sort="d">document · sentence</th><th>sentence (evidence highlighted)</th>
    <th>actors</th>
  </tr></thead>
  <tbody></tbody>
</table>
<div class="pager"><button id="prev" type="button">‹ previous</button>
<span id="page"></span><button id="next" type="button">next ›</button></div>
<noscript><p class="empty">The claims table needs JavaScript.</p></noscript>"""
    panels.append(_panel("Claims", table_html, span=12, note=cap_note, pid="table"))

    versions = data.lineage["rule_pack_version"]
    schemas = data.lineage["schema_version"]
    runs = data.lineage["run_id"]
    meta = (
        f"{_esc(str(out.resolve()))} · {len(runs)} run(s) · rule pack "
        f"{_esc(', '.join(versions) or '–')} · claim schema {_esc(', '.join(schemas) or '–')} · "
        f"generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )
    payload = {"rows": data.table, "labels": TYPE_LABELS, "names": names}
    page = _PAGE.format(
        title=_esc(title),
        meta=meta,
        cards=cards_html,
        panels="\n".join(panels),
        css=_CSS,
        js=_JS,
        data=_script_json(payload),
        colors="".join(f".t-{t}{{--c:{TYPE_COLORS[t]}}}" for t in CLAIM_TYPES),
    )
    return Report(page, n_claims, n_docs_with, len(data.table))


def write_report(
    out: Path, to: Path, *, top: int = 15, max_rows: int = 5000, title: str | None = None
) -> ReportSummary:
    """Write the report of ``out`` to the HTML file ``to`` (atomically)."""
    report = build_report(out, top=top, max_rows=max_rows, title=title)
    if to.is_dir():
        raise InputError(f"--to is a directory: {to}")
    try:
        atomic_write(to, lambda fh: fh.write(report.html.encode("utf-8")))
    except OSError as e:
        raise InputError(f"cannot write {to}: {e.strerror or e}") from e
    return ReportSummary(to, report.claims, report.documents, report.table_rows)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>{css}{colors}</style>
</head>
<body>
<header><div class="wrap"><h1>{title}</h1><p class="meta">{meta}</p></div></header>
<main class="wrap">
{cards}
<div class="grid">
{panels}
</div>
<footer>Counts include negated and hedged claims. Actor pairs are counted once per claim for
every two actors it names. Made by claimtag; this page works offline.</footer>
</main>
<script type="application/json" id="claims-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""

_CSS = """
*{box-sizing:border-box}
:root{--bg:#f4f6f8;--panel:#fff;--ink:#1c232b;--muted:#5d6876;--line:#e2e6eb;--accent:#1f2a36}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1200px;margin:0 auto;padding:0 24px}
header{background:var(--accent);color:#fff;padding:22px 0 18px}
h1{font-size:22px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
.meta{margin:0;color:#c5cfda;font-size:12.5px;word-break:break-all}
main.wrap{padding-top:20px;padding-bottom:32px}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:14px;margin-bottom:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px;
border-top:4px solid var(--c,#8792a0)}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:26px;font-weight:650;margin:2px 0}
.card .s{font-size:12px;color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(12,minmax(0,1fr));gap:16px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;
padding:14px 18px 16px;min-width:0}
.span-12{grid-column:span 12}.span-6{grid-column:span 6}.span-4{grid-column:span 4}
@media (max-width:960px){.span-6,.span-4{grid-column:span 12}
.cards{grid-template-columns:repeat(2,1fr)}}
h2{font-size:15px;margin:0 0 2px;font-weight:650}
.sub{color:var(--muted);font-size:12.5px;margin:0 0 10px}
svg.chart{display:block;max-width:100%;height:auto;margin-top:6px}
svg .lbl,svg .val,svg .tick{font-size:12px;fill:var(--ink)}
svg .val,svg .tick{fill:var(--muted)}
svg .grid{stroke:var(--line);stroke-width:1}
svg .hover{fill:transparent}svg .hover:hover{fill:rgba(31,42,54,.06)}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin-top:8px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.empty{color:var(--muted);font-style:italic}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%}
th{font-size:12px;text-align:left;color:var(--muted);font-weight:600;
border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.rules td{padding:4px 8px}
table.types{margin-top:14px;font-size:12px}table.types td,table.types th{padding:5px 4px}
.tname{white-space:nowrap}.tname i{display:inline-block;width:10px;height:10px;border-radius:2px;
background:var(--c);margin-right:6px}
.barcell{width:34%}
.bar{height:10px;border-radius:2px;background:var(--c);margin-top:4px}
.pill{display:inline-block;font-size:11.5px;padding:1px 7px;border-radius:9px;color:#fff;
background:var(--c);white-space:nowrap}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:6px 0 10px}
.controls input,.controls select{font:inherit;padding:6px 8px;border:1px solid #c9d0d8;
border-radius:6px;background:#fff}
#q{flex:1 1 320px}
#f-conf{width:72px}
.minc{font-size:12.5px;color:var(--muted)}
.count{font-size:12.5px;color:var(--muted);margin-left:auto}
table.claims th[data-sort]{cursor:pointer}
table.claims th[data-sort]:hover{color:var(--ink)}
table.claims th.sorted::after{content:" ▾"}
table.claims th.sorted.asc::after{content:" ▴"}
table.claims td.doc{font-size:12.5px;min-width:200px;max-width:230px;overflow-wrap:anywhere}
table.claims td.doc small{color:var(--muted);display:block}
table.claims td.sent{line-height:1.5}
table.claims td.sent .info{display:block;font-size:11.5px;color:var(--muted);margin-top:3px}
table.claims td.act{font-size:12px;max-width:160px}
mark{background:rgba(31,42,54,.08);background:color-mix(in srgb,var(--c) 22%,transparent);
color:inherit;border-bottom:2px solid var(--c);padding:0 1px;border-radius:2px}
.flag{display:inline-block;font-size:11px;border:1px solid #b7c0ca;border-radius:4px;padding:0 4px;
margin:2px 4px 0 0;color:var(--muted)}
.pager{display:flex;gap:12px;align-items:center;justify-content:flex-end;margin-top:10px;
font-size:12.5px;color:var(--muted)}
.pager button{font:inherit;padding:4px 10px;border:1px solid #c9d0d8;border-radius:6px;
background:#fff;cursor:pointer}
.pager button:disabled{opacity:.45;cursor:default}
footer{color:var(--muted);font-size:12px;margin-top:18px}
"""

_JS = r"""
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("claims-data").textContent);
  var rows = payload.rows, labels = payload.labels, names = payload.names || {};
  var PAGE = 100;
  var q = document.getElementById("q"), fType = document.getElementById("f-type");
  var fPol = document.getElementById("f-pol"), fConf = document.getElementById("f-conf");
  var tbody = document.querySelector("#claims tbody"), count = document.getElementById("count");
  var prev = document.getElementById("prev"), next = document.getElementById("next");
  var pageInfo = document.getElementById("page");
  var state = { page: 0, key: "c", asc: false, matches: rows };
  rows.forEach(function (r) {
    var text = r.x.map(function (p) { return p[0]; }).join("");
    r.hay = [text, r.d, r.a.join(" "), r.r.join(" "),
             r.a.map(function (a) { return names[a] || ""; }).join(" ")].join("\n").toLowerCase();
  });
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function compare(a, b) {
    var k = state.key, r;
    if (k === "d") { r = a.d < b.d ? -1 : a.d > b.d ? 1 : a.s - b.s; }
    else if (k === "t") { r = a.t < b.t ? -1 : a.t > b.t ? 1 : b.c - a.c; }
    else { r = a.c - b.c; }
    return state.asc ? r : -r;
  }
  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var type = fType.value, pol = fPol.value, minc = parseFloat(fConf.value) || 0;
    state.matches = rows.filter(function (r) {
      if (type && r.t !== type) { return false; }
      if (pol === "negated" && !r.n) { return false; }
      if (pol === "hedged" && !(r.h && !r.n)) { return false; }
      if (pol === "asserted" && (r.n || r.h)) { return false; }
      if (r.c < minc) { return false; }
      for (var i = 0; i < words.length; i++) {
        if (r.hay.indexOf(words[i]) < 0) { return false; }
      }
      return true;
    });
    state.matches.sort(compare);
    state.page = 0;
    render();
  }
  function row(r) {
    var tr = el("tr", "claim-row t-" + r.t);
    var td = el("td");
    td.appendChild(el("span", "pill t-" + r.t, labels[r.t] || r.t));
    tr.appendChild(td);
    tr.appendChild(el("td", "num", r.c.toFixed(2)));
    td = el("td", "doc", r.d);
    td.appendChild(el("small", null, "sentence " + r.s + (r.dt ? " · " + r.dt : "")));
    tr.appendChild(td);
    td = el("td", "sent");
    r.x.forEach(function (p) {
      td.appendChild(p[1] ? el("mark", "t-" + r.t, p[0]) : document.createTextNode(p[0]));
    });
    var info = el("span", "info");
    if (r.n) { info.appendChild(el("span", "flag", "negated" + (r.nc ? ": " + r.nc : ""))); }
    if (r.h) { info.appendChild(el("span", "flag", "hedged" + (r.hc ? ": " + r.hc : ""))); }
    info.appendChild(document.createTextNode(r.r.join(", ")));
    td.appendChild(info);
    tr.appendChild(td);
    td = el("td", "act", r.a.join(", "));
    td.title = r.a.map(function (a) { return a + (names[a] ? " — " + names[a] : ""); }).join("\n");
    tr.appendChild(td);
    return tr;
  }
  function render() {
    var m = state.matches, pages = Math.max(1, Math.ceil(m.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE, end = Math.min(m.length, start + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = start; i < end; i++) { frag.appendChild(row(m[i])); }
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    if (!m.length) {
      var tr = el("tr"), td = el("td", "empty", "No claim matches.");
      td.colSpan = 5; tr.appendChild(td); frag.appendChild(tr);
    }
    tbody.appendChild(frag);
    count.textContent = m.length.toLocaleString("en") + " of " +
      rows.length.toLocaleString("en") + " claims match";
    pageInfo.textContent = m.length ?
      (start + 1) + "–" + end + " of " + m.length.toLocaleString("en") : "";
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    document.querySelectorAll("#claims th[data-sort]").forEach(function (th) {
      var on = th.getAttribute("data-sort") === state.key;
      th.className = on ? "sorted" + (state.asc ? " asc" : "") : "";
    });
  }
  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  [fType, fPol, fConf].forEach(function (e) { e.addEventListener("change", apply); });
  prev.addEventListener("click", function () { state.page -= 1; render(); });
  next.addEventListener("click", function () { state.page += 1; render(); });
  document.querySelectorAll("#claims th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-sort");
      state.asc = state.key === k ? !state.asc : k !== "c";
      state.key = k;
      state.matches.sort(compare);
      state.page = 0;
      render();
    });
  });
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""
