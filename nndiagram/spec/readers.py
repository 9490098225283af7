"""Spec text -> plain data plus where each value was written, for YAML, JSON and TOML.

Only this module (called by ``spec.py``) parses user text. Each reader returns ``(data,
Locations)``; ``Locations`` maps a key path such as ``("layers", 1, "units")`` to the 1-based
line and column of its value (and of its key), so validation errors can point at the text.

Hostile input is expected: files over ``MAX_BYTES``, invalid UTF-8, NUL bytes, duplicate keys,
YAML aliases that expand exponentially ("billion laughs") or recursively, and deep nesting are
all ``SpecError`` s, raised before any large structure is built. Text from a spec is text in
every output (pages, front matter, terminals): ``check_text`` refuses control characters, C1
controls, bidirectional controls, line separators, lone surrogates and noncharacters in every
string and key, whatever escape (``"\\x7f"``, ``\\u009b``) wrote them.
"""

from __future__ import annotations

import bisect
import json
import json.scanner
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import SpecError

scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_BYTES = 1_000_000
MAX_DEPTH = 64  # nesting of mappings/lists; real specs use 4
YAML_NODE_BUDGET = 50_000  # nodes visited, aliases expanded; 10,000 edges as pairs use 30,001
COMPOSE_BUDGET = 35_000  # nodes as written: PyYAML composes ~25,000 a second
MAX_NUMBER_CHARS = 100

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column


@dataclass
class Locations:
    """Positions of values (and mapping keys) by key path; unknown paths fall back upwards."""

    values: dict[KeyPath, Position] = field(default_factory=dict)
    keys: dict[KeyPath, Position] = field(default_factory=dict)

    def of(self, path: KeyPath, *, key: bool = False) -> Position | None:
        """Where ``path`` was written; its nearest written ancestor when it was not."""
        if key and path in self.keys:
            return self.keys[path]
        while True:
            if path in self.values:
                return self.values[path]
            if not path:
                return None
            path = path[:-1]


def format_key(path: KeyPath) -> str | None:
    """``("layers", 1, "units")`` -> ``layers[1].units``; very deep paths keep both ends."""
    if len(path) > 12:
        return f"{format_key(path[:6])}...{format_key(path[-3:])}"
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{part[:40]!r}]"  # keys are user text: never print raw newlines
        else:
            text += f".{part}" if text else part
    return text or None


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def decode(raw: bytes, path: str) -> str:
    """UTF-8 text of a spec file, or a ``SpecError`` pointing at the first bad byte."""
    if len(raw) > MAX_BYTES:
        raise SpecError(
            f"file is larger than {MAX_BYTES:,} bytes; a spec is a few lines", path=path
        )
    # UTF-32's little-endian BOM starts like UTF-16's, so test it first.
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise SpecError("the file is UTF-32; save it as UTF-8", path=path, line=1, column=1)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError("the file is UTF-16; save it as UTF-8", path=path, line=1, column=1)
    nul = raw.find(b"\0")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        raise SpecError(
            "contains a NUL byte: this is not a text file", path=path, line=line, column=column
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _byte_position(raw, error.start)
        bad = raw[error.start : error.start + 1].hex()
        raise SpecError(
            f"not valid UTF-8 (byte 0x{bad})", path=path, line=line, column=column
        ) from None


def _byte_position(raw: bytes, offset: int) -> Position:
    return raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def _text_position(text: str, offset: int) -> Position:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- text that is safe to show ------------------------------------------------------------

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# Tab and newline are text (descriptions are Markdown, graphs are lines); nothing else below
# U+0020 is, nor DEL, nor C1 (U+009B is a terminal's CSI), nor what reorders or breaks lines
# behind the reader's back.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff" + _BIDI + _NONCHARACTERS + "]"
)


def unsafe_character(text: str) -> tuple[int, str] | None:
    """``(index, description)`` of the first character of ``text`` that no page or terminal
    should receive: ``(0, "U+007F (a control character)")``; ``None`` when it is all text."""
    match = _UNSAFE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        kind = "a control character"
    elif code <= 0x9F:
        kind = "a C1 control character"
    elif code in (0x2028, 0x2029):
        kind = "a line or paragraph separator"
    elif 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif chr(code) in _BIDI:
        kind = "a bidirectional-text control"
    else:
        kind = "a noncharacter"
    return match.start(), f"U+{code:04X} ({kind})"


def check_text(data: Any, locations: Locations, path: str, keypath: KeyPath = ()) -> None:
    """Refuse, in one line naming the key and the character, any string or key of ``data``
    holding a character ``unsafe_character`` finds."""
    if isinstance(data, str):
        found = unsafe_character(data)
        if found is not None:
            line, column = locations.of(keypath) or (None, None)
            raise SpecError(
                f"character {found[1]} is not allowed in text; remove it",
                path=path,
                line=line,
                column=column,
                key=format_key(keypath),
            )
    elif isinstance(data, dict):
        for key, value in data.items():
            child = (*keypath, key)
            if isinstance(key, str) and unsafe_character(key) is not None:
                found = unsafe_character(key)
                assert found is not None
                line, column = locations.of(child, key=True) or (None, None)
                raise SpecError(
                    f"character {found[1]} is not allowed in a key; remove it",
                    path=path,
                    line=line,
                    column=column,
                )
            check_text(value, locations, path, child)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            check_text(item, locations, path, (*keypath, index))


# --- YAML -----------------------------------------------------------------------------------

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_yaml(text: str, path: str) -> tuple[Any, Locations]:
    """Compose (never construct arbitrary objects) and convert node by node.

    ``yaml.compose`` with the safe loader keeps every node's position and shares aliased nodes
    instead of copying them, so an alias bomb is cheap to compose; the conversion below counts
    every node it visits with aliases expanded and stops at ``YAML_NODE_BUDGET``.
    """
    try:
        loader = _DepthLimitedLoader(text)
    except yaml.reader.ReaderError as error:
        raise _reader_error(error, text, path) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        raise _reader_error(error, text, path) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(str(m) for m in (error.context, error.problem) if m)
        raise SpecError(
            f"invalid YAML: {message or 'syntax error'}",
            path=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as error:
        raise SpecError(f"invalid YAML: {' '.join(str(error).split())}", path=path) from None
    except _TooDeep as error:
        raise SpecError(
            f"nested deeper than {MAX_DEPTH} levels",
            path=path,
            line=error.mark.line + 1,
            column=error.mark.column + 1,
        ) from None
    except _TooMany as error:
        raise SpecError(
            f"more than {COMPOSE_BUDGET:,} YAML nodes; a spec has a few hundred",
            path=path,
            line=error.mark.line + 1,
            column=error.mark.column + 1,
        ) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_DEPTH} levels", path=path) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError("the spec is empty", path=path, line=1, column=1)
    locations = Locations()
    converter = _YamlConverter(loader, path, locations)
    return converter.convert(node, (), 0), locations


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _TooMany(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _DepthLimitedLoader(yaml.SafeLoader):
    """Stops composing at ``MAX_DEPTH``: PyYAML's composer recurses, and its scanner slows
    down quadratically on deep flow nesting, so deep input must be refused early. It also
    stops after ``COMPOSE_BUDGET`` nodes: composing the 490,000 items a 1 MB flow list can
    hold took 13 s and 350 MB before the converter's budget could refuse them."""

    depth = 0
    nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            if self.nodes > COMPOSE_BUDGET:
                raise _TooMany(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _reader_error(error: yaml.reader.ReaderError, text: str, path: str) -> SpecError:
    line, column = _text_position(text, error.position)
    return SpecError(
        f"invalid YAML: character U+{error.character:04X} is not allowed (control or unprintable)",
        path=path,
        line=line,
        column=column,
    )


class _YamlConverter:
    def __init__(self, loader: yaml.SafeLoader, path: str, locations: Locations) -> None:
        self.loader = loader
        self.path = path
        self.locations = locations
        self.budget = YAML_NODE_BUDGET
        self.active: set[int] = set()  # nodes on the current path: an alias back is recursion

    def error(self, message: str, node: yaml.Node, keypath: KeyPath) -> SpecError:
        mark = node.start_mark
        return SpecError(
            message,
            path=self.path,
            line=mark.line + 1,
            column=mark.column + 1,
            key=format_key(keypath),
        )

    def convert(self, node: yaml.Node, keypath: KeyPath, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            # An aliased node's own position is where its anchor was defined; the top-level
            # key being expanded says more.
            line, column = self.locations.keys.get(keypath[:1], _mark(node))
            raise SpecError(
                f"more than {YAML_NODE_BUDGET:,} YAML nodes once aliases are expanded "
                "(an alias bomb?)",
                path=self.path,
                line=line,
                column=column,
                key=format_key(keypath[:1]),
            )
        if depth > MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", node, keypath)
        if id(node) in self.active:
            raise self.error("an alias refers to a node that contains it", node, keypath)
        self.locations.values.setdefault(keypath, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, keypath)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ_TAG:
                    raise self.error(f"unsupported YAML tag {node.tag!r}", node, keypath)
                return [
                    self.convert(item, (*keypath, i), depth + 1)
                    for i, item in enumerate(node.value)
                ]
            assert isinstance(node, yaml.MappingNode)
            if node.tag != _MAP_TAG:
                raise self.error(f"unsupported YAML tag {node.tag!r}", node, keypath)
            return self.mapping(node, keypath, depth)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: yaml.MappingNode, keypath: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error("a mapping key must be plain text", key_node, keypath)
            if key_node.tag == _MERGE_TAG:
                raise self.error("YAML merge keys (<<) are not supported", key_node, keypath)
            # Every key is text as written: `1.5:` or `true:` is the key '1.5' or 'true' (spec
            # keys are names; YAML would make them a float or a bool).
            self.scalar(key_node, keypath)  # still refuses bad tags such as !!python/...
            key = key_node.value
            child = (*keypath, key)
            if key in result:
                first = self.locations.keys.get(child)
                where = f" (first on line {first[0]})" if first else ""
                raise self.error(f"duplicate key {key!r}{where}", key_node, child)
            self.locations.keys[child] = _mark(key_node)
            result[key] = self.convert(value_node, child, depth + 1)
        return result

    def scalar(self, node: yaml.ScalarNode, keypath: KeyPath) -> Any:
        if len(node.value) > MAX_NUMBER_CHARS and node.tag in _NUMBER_TAGS:
            raise self.error(f"a number longer than {MAX_NUMBER_CHARS} characters", node, keypath)
        if node.tag in _NUMBER_TAGS and ":" in node.value:
            raise self.error(
                f"{node.value} is a base-60 number in YAML 1.1 (1:30 is 90); write the number "
                "itself, or quote it if it is text",
                node,
                keypath,
            )
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self.error(f"invalid YAML value: {error.problem}", node, keypath) from None
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
            raise self.error(f"invalid YAML value: {error}", node, keypath) from None


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _mark(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


# --- JSON -----------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = json.scanner.NUMBER_RE
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def read_json(text: str, path: str) -> tuple[Any, Locations]:
    """Strict JSON (RFC 8259) with positions; duplicate keys and NaN are errors.

    A small recursive-descent reader: ``json.loads`` can neither report duplicate keys with a
    position nor bound its recursion.
    """
    reader = _JsonReader(text, path)
    value, end = reader.value(reader.skip(0), (), 0)
    end = reader.skip(end)
    if end != len(text):
        raise reader.error("extra text after the JSON value", end)
    return value, reader.locations


class _JsonReader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.locations = Locations()
        self.count = 0  # values read so far
        # Offsets where lines start: positions by bisection, not by counting newlines each time.
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def error(self, message: str, offset: int, keypath: KeyPath = ()) -> SpecError:
        line, column = self.position(offset)
        return SpecError(
            f"invalid JSON: {message}",
            path=self.path,
            line=line,
            column=column,
            key=format_key(keypath),
        )

    def skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        return match.end() if match else offset

    def value(self, offset: int, keypath: KeyPath, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", offset, keypath)
        self.count += 1
        if self.count > YAML_NODE_BUDGET:  # the same bound as YAML's: a spec has a few hundred
            raise self.error(f"more than {YAML_NODE_BUDGET:,} values", offset, keypath)
        self.locations.values.setdefault(keypath, self.position(offset))
        char = self.text[offset : offset + 1]
        if char == "{":
            return self.object(offset + 1, keypath, depth)
        if char == "[":
            return self.array(offset + 1, keypath, depth)
        if char == '"':
            return self.string(offset, keypath)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, offset):
                return literal, offset + len(word)
        match = _NUMBER.match(self.text, offset)
        if match:
            if match.end() - offset > MAX_NUMBER_CHARS:
                raise self.error(f"a number longer than {MAX_NUMBER_CHARS} characters", offset)
            integer, fraction, exponent = match.groups()
            if fraction or exponent:
                return float(integer + (fraction or "") + (exponent or "")), match.end()
            return int(integer), match.end()
        found = repr(char) if char else "end of file"
        raise self.error(f"expected a value, found {found}", offset, keypath)

    def string(self, offset: int, keypath: KeyPath) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, offset + 1, True)
        except json.JSONDecodeError as error:
            raise self.error(error.msg.lower(), error.pos, keypath) from None
        return text, end

    def object(self, offset: int, keypath: KeyPath, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        offset = self.skip(offset)
        if self.text.startswith("}", offset):
            return result, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.error("expected a key in double quotes", offset, keypath)
            key, end = self.string(offset, keypath)
            child = (*keypath, key)
            if key in result:
                first = self.locations.keys[child][0]
                raise self.error(f"duplicate key {key!r} (first on line {first})", offset, child)
            self.locations.keys[child] = self.position(offset)
            offset = self.skip(end)
            if not self.text.startswith(":", offset):
                raise self.error("expected ':' after the key", offset, child)
            result[key], offset = self.value(self.skip(offset + 1), child, depth + 1)
            offset = self.skip(offset)
            if self.text.startswith("}", offset):
                return result, offset + 1
            if not self.text.startswith(",", offset):
                raise self.error("expected ',' or '}'", offset, keypath)
            offset = self.skip(offset + 1)

    def array(self, offset: int, keypath: KeyPath, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        offset = self.skip(offset)
        if self.text.startswith("]", offset):
            return result, offset + 1
        while True:
            item, offset = self.value(offset, (*keypath, len(result)), depth + 1)
            result.append(item)
            offset = self.skip(offset)
            if self.text.startswith("]", offset):
                return result, offset + 1
            if not self.text.startswith(",", offset):
                raise self.error("expected ',' or ']'", offset, keypath)
            offset = self.skip(offset + 1)


# --- TOML -----------------------------------------------------------------------------------

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def read_toml(text: str, path: str) -> tuple[Any, Locations]:
    """``tomllib`` (which rejects duplicate keys itself); positions are found afterwards."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_AT.search(message)
        line = int(match.group(1)) if match else None
        column = int(match.group(2)) if match else None
        message = _TOML_AT.sub("", message).replace(" (at end of document)", "")
        raise SpecError(
            f"invalid TOML: {message[:1].lower()}{message[1:]}", path=path, line=line, column=column
        ) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_DEPTH} levels", path=path) from None
    except ValueError:  # int() of more than 4,300 digits, inside tomllib
        line = _long_number_line(text)
        raise SpecError(
            f"invalid TOML: a number longer than {MAX_NUMBER_CHARS} characters",
            path=path,
            line=line,
        ) from None
    return data, _toml_locations(text)


def _long_number_line(text: str) -> int | None:
    match = re.search(rf"[0-9_]{{{MAX_NUMBER_CHARS + 1},}}", text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _toml_locations(text: str) -> Locations:
    """Best effort: the line of each top-level key, each ``[[layers]]`` table and its keys.

    TOML has no positions in ``tomllib``; specs are flat enough for a line scan to find the
    keys that validation complains about.
    """
    locations = Locations()
    table: KeyPath = ()
    counts: dict[str, int] = {}
    header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?")
    assignment = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if match := header.match(line):
            name = match.group(2).strip("\"'")
            if match.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = (name, index)
                locations.values.setdefault((name,), (number, match.start(2) + 1))
            else:
                parts = tuple(p.strip().strip("\"'") for p in name.split("."))
                # [layers.activation] belongs to the latest [[layers]] table.
                if parts[0] in counts:
                    parts = (parts[0], counts[parts[0]] - 1, *parts[1:])
                table = parts
            locations.values.setdefault(table, (number, match.start(2) + 1))
        elif match := assignment.match(line):
            key = (*table, match.group(1).strip('"'))
            position = (number, match.start(1) + 1)
            locations.keys.setdefault(key, position)
            locations.values.setdefault(key, position)
    return locations


READERS = {".yaml": read_yaml, ".yml": read_yaml, ".json": read_json, ".toml": read_toml}
FORMATS = {"yaml": read_yaml, "json": read_json, "toml": read_toml}
