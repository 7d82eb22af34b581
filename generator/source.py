"""One Markdown file read from disk: front matter values with the line of every key, and the body.

Mistakes in the YAML are explained from the offending line itself, in words a
business owner can act on ("put quotes around it"), never as parser jargon.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import frontmatter
import yaml

from . import quickyaml
from .cache import digest
from .errors import Problem, error


@dataclass(frozen=True)
class SourceFile:
    """A page's raw parts: values as YAML gave them, each key's line, the body as written."""

    name: str              # path under content/ without .md
    source: str            # path relative to the site folder
    data: dict
    lines: dict[str, int]  # "title" -> 2, "cascade.step" -> 5
    body: str
    body_start: int        # file line of the body's first line
    front_digest: str = ""  # hash of the front matter text: what listings and CTAs depend on


SPECIAL_START = "[{*&!|>@`%"
MAX_FRONT_MATTER = 256 * 1024  # characters: front matter is a few lines; text belongs in the body
MAX_NESTING = 32               # levels of lists and maps inside lists and maps
MAX_VALUES = 20_000            # values, counting every repeat an alias '*' makes (YAML bombs)
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_-]+):(?:\s+(.*))?$")


def _quoted(key: str, value: str) -> str:
    return f'{key}: "{value.strip().replace(chr(34), chr(39))}"'


def _yaml_problem(exc: yaml.YAMLError, fm: str, first_line: int) -> tuple[int, str]:
    """(file line, message) for a YAML mistake, read from the line itself, in the owner's words."""
    lines = fm.split("\n")
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    text = str(getattr(exc, "problem", "") or exc)
    at = problem.line if problem else 0
    if "quoted scalar" in str(getattr(exc, "context", "")) and context is not None:
        return context.line + first_line, ("a quote opened on this line is never closed: end the "
                                           "value with the same quote, on the same line")
    for index in (at, at - 1):
        if not 0 <= index < len(lines):
            continue
        line = lines[index]
        if "\t" in line[: len(line) - len(line.lstrip())]:
            return index + first_line, "this line is indented with a tab: use spaces, or none at all"
        squashed = re.match(r"^\s*([A-Za-z0-9_-]+):(\S.*)$", line)
        if squashed and not squashed.group(2).startswith("//"):
            return index + first_line, (f"put a space after the colon: "
                                        f"{squashed.group(1)}: {squashed.group(2)}")
        m = KEY_LINE.match(line)
        if not m:
            continue
        indent, key, value = m.group(1), m.group(2), (m.group(3) or "").strip()
        previous = next((l for l in reversed(lines[:index]) if l.strip()), "")
        if indent and not previous.rstrip().endswith(":") and not previous.startswith((" ", "-")):
            return index + first_line, (f"'{key}' is indented: start it at the beginning of the "
                                        f"line, like the other keys")
        if value[:1] == "'" and value.count("'") > 2:
            return index + first_line, ("this value is in single quotes but contains an apostrophe: "
                                        f"use double quotes instead, like {_quoted(key, value[1:-1])}")
        if value[:1] and value[0] in SPECIAL_START:
            return index + first_line, (f"a value that starts with '{value[0]}' has a special meaning "
                                        f"in front matter: put quotes around it, like {_quoted(key, value)}")
        if "mapping values are not allowed" in text and ": " in value:
            return index + first_line, (f"the value of '{key}' contains a colon ':': put quotes "
                                        f"around it, like {_quoted(key, value)}")
    line = at + first_line if problem else first_line - 1
    return line, f"the front matter is not valid YAML ({text}): check the quotes and indentation"


FENCE = re.compile(r"^-{3,}\s*$")  # python-frontmatter's YAML boundary, matched line by line


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, file line of the body's first line), or None if never closed.

    Split by lines (not by python-frontmatter's regex, which swallows blank
    lines beside a '---') so that every line number stays exact.
    """
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if FENCE.match(lines[i]):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2
    return None


def parse_source(raw: bytes, name: str, source: str) -> tuple[SourceFile | None, list[Problem]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [error(source, line, "the file is not UTF-8 text: save it as UTF-8 "
                                          "(in most editors: Save As, then choose the encoding 'UTF-8')")]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        return None, [error(source, text[: text.index("\x00")].count("\n") + 1,
                            "the file holds binary data, not text: is it really a Markdown file?")]
    if not frontmatter.YAMLHandler().detect(text):
        return SourceFile(name, source, {}, {}, text, 1, digest("")), []
    split = split_front_matter(text)
    if split is None:
        return None, [error(source, 1, "the front matter starts with '---' but never ends: "
                                       "add a line with just '---' after the last key")]
    fm, body, body_start = split
    data, lines, problems = parse_front_matter(fm, source, first_line=2)
    return (None if problems else SourceFile(name, source, data, lines, body, body_start, digest(fm))), problems


YAML_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: same nodes, 5x faster


def _size_problem(fm: str, source: str, first_line: int) -> Problem | None:
    """Refuse front matter too long or nested too deep before YAML reads it: the C parser
    recurses on nesting and would crash the process, not raise."""
    if len(fm) > MAX_FRONT_MATTER:
        return error(source, first_line, f"the front matter is {len(fm) // 1024} KB long: keep it under "
                                         f"{MAX_FRONT_MATTER // 1024} KB (long text belongs in the body, "
                                         f"below the closing '---')")
    if fm.count("[") + fm.count("{") <= MAX_NESTING:  # too few to nest that deep: no need to look
        return None
    depth = 0
    for index, char in enumerate(fm):  # brackets inside quotes count too: only a rough ceiling
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return error(source, fm[:index].count("\n") + first_line,
                             f"values are nested more than {MAX_NESTING} levels deep: write them out flatter")
        elif char in "]}":
            depth = max(0, depth - 1)
    return None


def _shape_problem(root: yaml.Node, source: str, first_line: int) -> Problem | None:
    """Walk the YAML nodes with every alias expanded: a 'billion laughs' bomb of anchors is
    refused here, in bounded time, before any value is built from it."""
    stack, seen = [(root, 0)], 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        line = node.start_mark.line + first_line
        if depth > MAX_NESTING:
            return error(source, line, f"values are nested more than {MAX_NESTING} levels deep: "
                                       f"write them out flatter")
        if seen > MAX_VALUES:
            return error(source, line, f"the front matter holds more than {MAX_VALUES:,} values once its "
                                       f"anchors ('&') and aliases ('*') are repeated out: write the values "
                                       f"out plainly")
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))
    return None


def parse_front_matter(fm: str, source: str, first_line: int,
                       loader_class: type = FAST_LOADER) -> tuple[dict, dict[str, int], list[Problem]]:
    """YAML → (values, line of each key, problems); a bad value is reported at its own key.

    Mistakes are worded from the pure-Python loader's report, whichever loader found them.
    """
    too_big = _size_problem(fm, source, first_line)
    if too_big:
        return {}, {}, [too_big]
    quick = quickyaml.read(fm, first_line) if loader_class is FAST_LOADER else None
    if quick is not None:  # plain `key: value` lines, as most pages have
        return quick[0], quick[1], []
    try:
        loader = loader_class(fm)
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        line = fm[: exc.position].count("\n") + first_line
        return {}, {}, [error(source, line, f"the front matter holds an invisible control character "
                                            f"(U+{exc.character:04X}): delete it, or retype the line")]
    except (yaml.YAMLError, RecursionError) as exc:
        loader.dispose()
        if isinstance(exc, RecursionError):
            return {}, {}, [error(source, first_line, f"values are nested more than {MAX_NESTING} "
                                                      f"levels deep: write them out flatter")]
        if loader_class is not yaml.SafeLoader:
            return parse_front_matter(fm, source, first_line, yaml.SafeLoader)
        line, message = _yaml_problem(exc, fm, first_line)
        return {}, {}, [error(source, line, message)]
    if node is None:
        loader.dispose()
        return {}, {}, []
    if not isinstance(node, yaml.MappingNode):
        loader.dispose()
        return {}, {}, [error(source, node.start_mark.line + first_line,
                              "the front matter must be 'key: value' lines, like title: My page")]
    too_big = _shape_problem(node, source, first_line)
    if too_big:
        loader.dispose()
        return {}, {}, [too_big]
    data, lines, problems = {}, {}, []
    raw = YAML_LINE_BREAK.split(fm)  # YAML's lines, as its marks count them
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + first_line
        if key in lines:
            problems.append(error(source, line, f"'{key}' is set twice (also on line {lines[key]}): "
                                                f"keep only one"))
            continue
        lines[key] = line
        if value_node.tag.endswith(":null") and "#" in raw[key_node.start_mark.line]:
            problems.append(error(source, line, (
                f"the value of '{key}' starts with '#', which front matter reads as a comment: put "
                f"quotes around it, like {_quoted(key, raw[key_node.start_mark.line].split(':', 1)[1])}")))
            continue
        if isinstance(value_node, yaml.MappingNode):  # nested keys, e.g. cascade.step
            for sub, _ in value_node.value:
                lines.setdefault(f"{key}.{sub.value}", sub.start_mark.line + first_line)
        try:
            data[key] = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            if loader_class is not yaml.SafeLoader:
                loader.dispose()
                return parse_front_matter(fm, source, first_line, yaml.SafeLoader)
            mark = getattr(exc, "problem_mark", None) or value_node.start_mark
            reason = "it is not a real date" if isinstance(exc, ValueError) else " ".join(str(exc).split())
            problems.append(error(source, mark.line + first_line,
                                  f"the value of '{key}' cannot be read: {reason}"))
    loader.dispose()
    return data, lines, problems
