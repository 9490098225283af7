"""Reading a spec: files in YAML, JSON or TOML (``readers``: text with positions), the format
they must follow (``format``: pydantic models, the JSON Schema), hand-drawn graphs (``graph``)
and the assembly of a ``Network`` with errors at file:line:col (``load``)."""

from .load import SUFFIXES, load_spec, load_spec_text, parse_activation, spec_json_schema

__all__ = ["SUFFIXES", "load_spec", "load_spec_text", "parse_activation", "spec_json_schema"]
