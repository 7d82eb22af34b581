"""Front matter in its everyday shape, read without a YAML parser.

Nearly every page's front matter is a few `key: value` lines: plain words, quoted
text, a date, a number, `true`, a list in brackets. Reading those directly takes a
tenth of the time PyYAML takes (a second of a 10,000-page build). Anything else
(nesting, comments, escapes, multi-line text, a value YAML would read as something
other than text, a number, a yes/no or a day) is left to YAML: `read` returns None.
Both give the same values: tests/test_quickyaml.py compares them.
"""
from __future__ import annotations

import datetime as dt
import re

import yaml

MAX_SIZE = 2000  # characters: longer front matter is rare, and goes to YAML with its size checks
LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"')
SINGLE_QUOTED = re.compile(r"'([^']*)'")
FLOW_LIST = re.compile(r"\[([^\[\]{}\"'#&*!|>%@`]*)\]")
PLAIN_START = set("-?:,[]{}#&*!|>'\"%@`")  # characters that make a plain value mean more than text
INTEGER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
DAY = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)  # YAML's digits are 0-9 only
# What YAML refuses to read at all (outside its printable set), the byte-order mark, and the
# characters it takes for line breaks (a carriage return, U+0085, U+2028, U+2029).
NOT_PRINTABLE = re.compile("[^\x09\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                           "\U00010000-\U0010ffff]")
BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}

_resolver = yaml.resolver.Resolver()
# First characters with which YAML may read a plain value as something other than text: a value
# starting otherwise is text without asking the resolver (most titles and summaries).
_MAYBE_NOT_TEXT = frozenset(k for k in _resolver.yaml_implicit_resolvers if k)
_FIRST_CHARACTER_DECIDES = None not in _resolver.yaml_implicit_resolvers  # no resolver tried on every value
_unsure = object()


def read(text: str, first_line: int) -> tuple[dict, dict[str, int]] | None:
    """(values, line of each key) of `text` as YAML reads it, or None when it is not plain enough."""
    if len(text) > MAX_SIZE or NOT_PRINTABLE.search(text) or "\t" in text:
        return None
    data: dict = {}
    lines: dict[str, int] = {}
    for index, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        found = LINE.fullmatch(line)
        if found is None:
            return None
        key, written = found.group(1), (found.group(2) or "").rstrip(" ")
        if key in data:
            return None
        value = _value(written)
        if value is _unsure:
            return None
        data[key] = value
        lines[key] = index + first_line
    return data, lines


def _value(written: str) -> object:
    if not written:
        return _unsure  # nothing, or a block below: YAML's to read
    first = written[0]
    if first == '"':
        found = DOUBLE_QUOTED.fullmatch(written)
        return found.group(1) if found else _unsure
    if first == "'":
        found = SINGLE_QUOTED.fullmatch(written)
        return found.group(1) if found else _unsure
    if first == "[":
        found = FLOW_LIST.fullmatch(written)
        if found is None:
            return _unsure
        inner = found.group(1)
        if not inner.strip():
            return []
        items = [_plain(item.strip(), in_list=True) for item in inner.split(",")]
        return _unsure if any(item is _unsure for item in items) else items
    return _plain(written, in_list=False)


def _plain(written: str, in_list: bool) -> object:
    """A plain (unquoted) value as YAML reads it: text, a whole number, yes/no, or a day."""
    if not written or ": " in written or written.endswith(":") or " #" in written:
        return _unsure
    if written[0] in PLAIN_START and not (written[0] == "-" and written[1:2] not in ("", " ")):  # -10 is a number
        return _unsure
    if in_list and ("  " in written or ":" in written):
        return _unsure
    if _FIRST_CHARACTER_DECIDES and written[0] not in _MAYBE_NOT_TEXT:
        return written
    day = DAY.fullmatch(written)  # a page's date: YAML's timestamp, without asking its resolver
    if day is None:
        tag = _resolver.resolve(yaml.ScalarNode, written, (True, False))
        kind = tag.rpartition(":")[2]
        if kind == "str":
            return written
        if kind == "int" and INTEGER.fullmatch(written):
            return int(written)
        if kind == "bool":
            return BOOLEANS[written.lower()]
        return _unsure
    try:
        return dt.date(int(day.group(1)), int(day.group(2)), int(day.group(3)))
    except ValueError:  # not a real day: YAML's error message says so
        return _unsure
