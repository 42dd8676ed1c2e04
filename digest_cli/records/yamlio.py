"""Reading YAML: one meaning (ruamel.yaml's YAML 1.2), two speeds.

Records are written by ruamel.yaml in YAML 1.2, and `ruamel_loads` (its safe loader) is
what a record means. A fresh checkout reads thousands of them, and ruamel builds nodes
and values in Python; `loads` first tries libyaml's C composer (PyYAML) with a resolver
of our own, and hands every case it is not sure of back to ruamel:

- a plain scalar is a string unless ruamel's 1.2 resolver has a rule for its first
  character; then ruamel resolves and constructs it (`on`, `No`, `1:30` stay strings,
  `0o17` is 15, `.inf` a float, `2026-01-28` a date, `2601.10100` the float 2601.101);
- explicit tags, merge keys, duplicate keys, `%` directives and anything libyaml rejects
  send the whole file to ruamel, so its values and errors (with their line) are the ones
  a reader gets.

Reading costs a bounded time and memory whatever the file holds (an editor's record is
untrusted): only a regular file, not a symbolic link, FIFO or device, of at most
`MAX_FILE_BYTES`; no anchors or aliases (a 5 KB alias bomb expands to gigabytes, and an
editor never needs one); collections nested at most `MAX_DEPTH` deep. A file that goes to
ruamel is first scanned event by event (streamed, stopped at the first alias or at the
depth cap), so ruamel never builds what the fast path refused.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from pathlib import Path
from typing import Any

from digest_cli.errors import RecordError

MAX_FILE_BYTES = 1 << 20  # a record with a long 详细解读 is about 20 KB
MAX_DEPTH = 32  # a record nests 3 deep (a text's fields, its failures)
# Where an anchor (`&name`) could start: after a space, a line start or a flow indicator
# ("R&D" in an abstract is not one). Without one, an alias is a syntax error.
_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s]", re.MULTILINE)

_STR, _NULL, _BOOL, _INT, _SEQ, _MAP, _RUAMEL = (
    "\0str", "\0null", "\0bool", "\0int", "\0seq", "\0map", "\0ruamel")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True,
          "false": False, "False": False, "FALSE": False}


class _Unsure(Exception):
    """The fast path met something only ruamel.yaml decides."""


class Refused(ValueError):
    """YAML a record may not hold (an alias, deep nesting): refused before it is built."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class MissingRecord(RecordError):
    """No file where a record should be."""


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, opened without following a
    symbolic link and without waiting on a FIFO; anything else is one error naming it."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise MissingRecord("file not found", path=path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link: it may point anywhere
            raise RecordError("is a symbolic link: records (and the files digest reads) "
                              "must be regular files in the repository (replace the link by "
                              "the file)", path=path) from None
        raise RecordError(f"cannot be read ({exc.strerror})", path=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RecordError("is not a regular file (a folder, FIFO or device): records "
                              "(and the files digest reads) must be regular files", path=path)
        if info.st_size > limit:
            raise RecordError(f"is {info.st_size:,} bytes, more than the {limit:,} digest "
                              "reads from one file", path=path)
        raw = _read_fd(fd, info.st_size, limit)
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise RecordError(f"grew past the {limit:,} bytes digest reads from one file",
                          path=path)
    return raw


def _read_fd(fd: int, size: int, limit: int) -> bytes:
    """Up to `limit` + 1 bytes (a file growing while read stops there), in reads of the
    size fstat gave (os.read: a buffered file object cost as much again as the read)."""
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(fd, max(size + 1 - total, 1 << 16) if total <= size else 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """`read_file` as UTF-8 text; non-UTF-8 bytes name the file."""
    return utf8_text(read_file(path, limit), path)


def utf8_text(raw: bytes, path: Path) -> str:
    """The bytes read from `path` as UTF-8 text; non-UTF-8 bytes name the file."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text ({exc.reason})", path=path) from None


def load_yaml(path: Path, typ: str = "safe") -> Any:
    """Load one YAML file; a syntax error names the file and line."""
    return parse_text(read_text(path), path, typ)


def parse_text(text: str, path: Path, typ: str = "safe", utf8: bytes | None = None) -> Any:
    """`loads` (or a round-trip load) of `text`; a syntax error names `path` and the line."""
    try:
        if typ == "safe":
            return loads(text, utf8)
        refuse_unbounded(text)
        return yaml_object(typ).load(text)
    except Refused as exc:
        raise RecordError(exc.message, path=path, line=exc.line) from None
    except RecursionError:  # a safety net: the depth cap is met first
        raise RecordError(f"YAML nested deeper than {MAX_DEPTH} levels", path=path) from None
    except (_yaml_error(), ValueError) as exc:  # ValueError: e.g. a date like 2026-13-01
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecordError(f"malformed YAML: {problem}", path=path, line=line) from None


@functools.cache
def _yaml_error() -> type[Exception]:
    from ruamel.yaml import YAMLError  # imported once, when a file fails to parse

    return YAMLError


def yaml_object(typ: str = "rt"):
    """A ruamel.yaml `YAML` set up as the writer uses it."""
    from ruamel.yaml import YAML  # a heavy import: only when records are touched

    yaml = YAML(typ=typ)
    if typ == "rt":
        yaml.width = 4096  # never fold long titles or lines
        yaml.indent(mapping=2, sequence=4, offset=2)
        yaml.preserve_quotes = True
    return yaml


def loads(text: str, utf8: bytes | None = None) -> Any:
    """Read-only load of one document, as `ruamel_loads` reads it, as fast as we can;
    `Refused` for an alias or nesting past `MAX_DEPTH`. `utf8`: `text` in UTF-8 (the
    bytes it was decoded from), which libyaml reads as they are, not encoded again."""
    loader_class = _fast_loader()
    if loader_class is None or "%" in text[:1] or "\n%" in text or (
            "&" in text and _MAYBE_ANCHOR.search(text)):
        # no libyaml, a directive (%YAML 1.1 changes meanings), or maybe an anchor
        refuse_unbounded(text)
        return ruamel_loads(text)
    loader = loader_class(text if utf8 is None else utf8)
    try:
        node = loader.get_single_node()
        return _Builder().build(node) if node is not None else None
    except Refused:
        raise
    except Exception:  # _Unsure, or libyaml's own error: ruamel has the last word
        pass
    finally:
        loader.dispose()
    refuse_unbounded(text)
    return ruamel_loads(text)


def refuse_unbounded(text: str) -> None:
    """`Refused` (with the line) at the first alias or anchor, or collection nested past
    `MAX_DEPTH`: events streamed from ruamel's parser, nothing built."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

    parser = _event_parser(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
                raise Refused("YAML anchors and aliases (&name, *name) are not allowed in "
                              "records: write the value out", _line(event))
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise Refused(f"YAML nested deeper than {MAX_DEPTH} levels", _line(event))
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except _yaml_error():
        return  # a syntax error: the load that follows reports it with its line
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _line(event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _event_parser(text: str):
    """ruamel's C parser when ruamel.yaml.clib is there, else its pure one."""
    loader_class = _ruamel_c_loader()
    if loader_class is not None:
        return loader_class(text)
    return _pure_yaml().get_constructor_parser(text)[1]


def ruamel_loads(text: str) -> Any:
    """ruamel.yaml's safe load (its C parser when ruamel.yaml.clib is there)."""
    loader_class = _ruamel_c_loader()
    if loader_class is None:
        return pure_loads(text)
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def pure_loads(text: str) -> Any:
    """The same load in pure Python, where no C extension is installed."""
    return _pure_yaml().load(text)


@functools.lru_cache(maxsize=1)
def _ruamel_c_loader():
    try:
        from ruamel.yaml.cyaml import CSafeLoader
    except ImportError:
        return None
    return CSafeLoader


@functools.lru_cache(maxsize=1)
def _pure_yaml():
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


@functools.lru_cache(maxsize=1)
def _ruamel_scalars():
    """ruamel's 1.2 resolver and safe constructor, and the first characters of the plain
    scalars it may read as something else than a string, a null or a boolean."""
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.resolver import VersionedResolver

    resolver = VersionedResolver(version=(1, 2))
    simple = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"}  # _NULLS and _BOOLS
    others = frozenset(first for first, rules in resolver.versioned_resolver.items()
                       if any(str(tag) not in simple for tag, _ in rules))
    return resolver, others, SafeConstructor()


@functools.lru_cache(maxsize=1)
def _fast_loader():
    """libyaml's composer with our resolver, or None without PyYAML's C extension."""
    try:
        from yaml import ScalarNode, SequenceNode
        from yaml._yaml import CParser
        from yaml.resolver import BaseResolver
    except ImportError:
        return None
    _, others, _ = _ruamel_scalars()

    class FastLoader(CParser, BaseResolver):
        def __init__(self, text: str | bytes) -> None:  # bytes: UTF-8
            CParser.__init__(self, text)
            BaseResolver.__init__(self)

        def resolve(self, kind, value, implicit):
            if kind is not ScalarNode:
                return _SEQ if kind is SequenceNode else _MAP
            if not implicit[0]:
                return _STR  # quoted, or a block scalar
            if value in _NULLS:
                return _NULL
            if value in _BOOLS:
                return _BOOL
            if value[:1] not in others:
                return _STR  # `No`, `on`, `yes`, `title`: no 1.2 rule makes them more
            if value.isdigit() and value.isascii() and value[0] != "0":
                return _INT
            return _RUAMEL  # `0o17`, `.inf`, `1:30`, `2026-01-28`, `2601.10100`

    return FastLoader


class _Builder:
    """Plain values from libyaml's nodes; anything unusual raises `_Unsure`."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def build(self, node, flow: bool = False, depth: int = 0) -> Any:
        tag = node.tag
        if tag == _STR:
            if flow and ":" in node.value and node.style is None:
                raise _Unsure("a plain ':' in a flow collection")  # libyaml takes it, ruamel not
            return node.value
        if tag == _MAP or tag == _SEQ:
            depth += 1
            if depth > MAX_DEPTH:
                raise Refused(f"YAML nested deeper than {MAX_DEPTH} levels",
                              node.start_mark.line + 1)
        if tag == _MAP:
            return self._mapping(node, flow or bool(node.flow_style), depth)
        if tag == _SEQ:
            self._once(node)
            flow = flow or bool(node.flow_style)
            return [self.build(item, flow, depth) for item in node.value]
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _BOOLS[node.value]
        if tag == _INT:
            return int(node.value)
        if tag == _RUAMEL:
            if flow and ":" in node.value:
                raise _Unsure("a plain ':' in a flow collection")
            return _ruamel_scalar(node.value)
        raise _Unsure(tag)  # an explicit tag

    def _mapping(self, node, flow: bool, depth: int) -> dict:
        self._once(node)
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag is _STR and not flow:  # nearly every key: a plain word
                key = key_node.value
            elif key_node.tag in (_STR, _NULL, _BOOL, _INT, _RUAMEL):
                key = self.build(key_node, flow)
            else:
                raise _Unsure("a key that is not a scalar")
            if key in out:
                raise _Unsure("a duplicate key")  # ruamel refuses it, naming the line
            tag = value_node.tag
            if tag is _STR and not flow:  # and most values a string, or nothing
                out[key] = value_node.value
            elif tag is _NULL:
                out[key] = None
            else:
                out[key] = self.build(value_node, flow, depth)
        return out

    def _once(self, node) -> None:
        """An alias shares its anchor's node: ruamel shares the value, so let it."""
        if id(node) in self.seen:
            raise _Unsure("an alias")
        self.seen.add(id(node))


def _ruamel_scalar(value: str) -> Any:
    """A plain scalar ruamel has a rule for: resolved and constructed by ruamel itself."""
    from ruamel.yaml.nodes import ScalarNode

    resolver, _, constructor = _ruamel_scalars()
    tag = resolver.resolve(ScalarNode, value, (True, False))
    if str(tag) not in _RUAMEL_TAGS:
        raise _Unsure(str(tag))  # a merge key, `=`: ruamel decides with the whole file
    return constructor.construct_object(ScalarNode(tag, value))


_RUAMEL_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                         ("str", "null", "bool", "int", "float", "timestamp"))
