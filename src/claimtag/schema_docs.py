"""Markdown tables of the schemas' fields, for the README (generated, never hand-written)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from claimtag.schemas import arrow_schema, load_schema

BEGIN = "<!-- BEGIN GENERATED: {kind} fields -->"
END = "<!-- END GENERATED: {kind} fields -->"


def _json_type(prop: dict[str, Any]) -> str:
    types = prop.get("type", "string")
    text = " \\| ".join(types) if isinstance(types, list) else str(types)
    if "enum" in prop:
        text += " (" + ", ".join(f"`{v}`" for v in prop["enum"]) + ")"
    if "format" in prop:
        text += f", {prop['format']}"
    if prop.get("type") == "array" and "items" in prop:
        item = prop["items"]
        text = f"array of {item.get('type', 'object')}"
    return text


def fields_table(kind: str) -> str:
    """A Markdown table: field, JSON type, Parquet type, description."""
    schema = load_schema(kind)
    arrow = arrow_schema(kind)
    rows = ["| field | JSON type | Parquet (Arrow) type | meaning |", "|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        arrow_type = str(arrow.field(name).type).replace("|", "\\|")
        if len(arrow_type) > 40:
            arrow_type = arrow_type.split("<", 1)[0] + "<…>"
        nullable = "" if not arrow.field(name).nullable else ", nullable"
        meaning = prop.get("description", "")
        rows.append(f"| `{name}` | {_json_type(prop)} | {arrow_type}{nullable} | {meaning} |")
    return "\n".join(rows)


def render_readme(text: str) -> str:
    """``text`` with every generated block replaced by the current tables."""
    for kind in ("claim", "document"):
        begin, end = BEGIN.format(kind=kind), END.format(kind=kind)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        block = f"{begin}\n{fields_table(kind)}\n{end}"
        m = pattern.search(text)
        if m:
            text = text[: m.start()] + block + text[m.end() :]
    return text


def update_readme(path: Path) -> bool:
    """Rewrite the generated blocks of ``path``; True when something changed."""
    old = path.read_text(encoding="utf-8")
    new = render_readme(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
