"""The spec format's reference page, generated from its JSON Schema at build time.

``spec.spec_json_schema()`` (the schema ``nndiagram schema`` prints) is the single source: this
module only lays it out as HTML tables, one for the top level and one per ``$defs`` entry, so the
documented keys, types, defaults and allowed values cannot drift from what the parser accepts.
Used by the ```` ```nndiagram-schema ```` fence (body empty, or ``$defs`` names to show).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

Schema = dict[str, Any]


def _anchor(name: str) -> str:
    return "schema-" + "".join(c if c.isalnum() else "-" for c in name.lower())


def _type_of(schema: Schema) -> str:
    """A short, readable type: ``integer ≥ 1``, ``list of Layer``, ``relu | tanh``, …"""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#{_anchor(name)}">{html.escape(name)}</a>'
    if "const" in schema:
        return f"<code>{html.escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{html.escape(json.dumps(v))}</code>" for v in schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            parts = [_type_of(s) for s in schema[combinator] if s.get("type") != "null"]
            optional = any(s.get("type") == "null" for s in schema[combinator])
            return " or ".join(parts) + (" or null" if optional else "")
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(html.escape(k) for k in kind)
    if kind == "array":
        return "list of " + _type_of(schema.get("items", {}))
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        if isinstance(extra, dict):
            return "mapping of " + _type_of(extra)
    out = html.escape(kind or "any")
    bounds = [
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    ]
    out += "".join(f", {sign} {schema[key]}" for key, sign in bounds if key in schema)
    return out


def _prose(text: str) -> str:
    """A schema description as HTML: escaped, with ``literal`` spans shown as code."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text))


def _default(schema: Schema) -> str:
    if "default" not in schema:
        return ""
    return f"<code>{html.escape(json.dumps(schema['default'], sort_keys=True))}</code>"


def _object_table(name: str, schema: Schema) -> str:
    """One object (the spec or a ``$defs`` entry) as a heading, its description and a table."""
    required = set(schema.get("required", ()))
    rows = []
    for key, prop in schema.get("properties", {}).items():
        description = _prose(prop.get("description", ""))
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(key)}</code>{' (required)' if key in required else ''}</td>"
            f"<td>{_type_of(prop)}</td><td>{_default(prop)}</td><td>{description}</td>"
            "</tr>"
        )
    parts = [f'<h3 id="{_anchor(name)}">{html.escape(name)}</h3>']
    if schema.get("description"):
        parts.append(f"<p>{_prose(schema['description'])}</p>")
    if rows:
        parts.append(
            "<table><thead><tr><th>key</th><th>type</th><th>default</th><th>meaning</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
        )
    else:
        parts.append(f"<p>Type: {_type_of(schema)}</p>")
    return "\n".join(parts)


def schema_reference_html(schema: Schema, only: list[str] | None = None) -> str:
    """The whole schema as HTML: the top-level object, then every definition it uses."""
    definitions: dict[str, Schema] = schema.get("$defs", {})
    unknown = sorted(set(only or ()) - set(definitions) - {"spec"})
    if unknown:
        from ..errors import UsageError

        raise UsageError(f"unknown schema definition(s): {', '.join(unknown)}")
    sections = []
    if not only or "spec" in only:
        sections.append(_object_table("spec", schema))
    sections += [
        _object_table(name, definition)
        for name, definition in sorted(definitions.items())
        if not only or name in only
    ]
    body = "\n".join(sections)
    return f'<div class="nndiagram-schema">\n{body}\n</div>'


def schema_fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """The ```` ```nndiagram-schema ```` fence: the spec's JSON Schema as reference tables."""
    from pymdownx.superfences import SuperFencesException

    from ..errors import NNDiagramError
    from ..spec.load import spec_json_schema

    only = source.split() or None
    try:
        return schema_reference_html(spec_json_schema(), only)
    except NNDiagramError as error:
        raise SuperFencesException(f"```{language} fence: {error}") from error
