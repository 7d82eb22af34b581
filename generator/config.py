"""stepstone.toml → a frozen `SiteConfig`, with every problem reported by key and line."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from .errors import Problem, SiteError, did_you_mean, error
from .forms import PROVIDERS, FormConfig, known_keys
from .funnel import RELATIONSHIP, Funnel, Step
from .urls import url_problem

CONFIG_FILE = "stepstone.toml"
TOP_KEYS = {"title", "base_url", "description", "language", "theme", "author", "image", "logo",
            "remember_progress", "menu", "forms", "steps", "markdown"}
MARKDOWN_KEYS = {"unsafe_html"}
MENU_KEYS = {"title", "url"}
STEP_KEYS = {"id", "name", "public", "description"}
STEP_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
SECRET_KEY = re.compile(r"(api|secret|token|password|private)[_-]?(key)?$|_key$", re.I)


@dataclass(frozen=True)
class MenuItem:
    title: str
    url: str
    line: int


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str = "/"
    description: str = ""
    language: str = "en"
    theme: str = "default"
    author: str = ""
    image: str = ""
    logo: str = ""  # the business's logo, a file of the site (static/logo.svg → "/logo.svg"): PDF covers
    remember_progress: bool = True
    unsafe_html: bool = True  # raw HTML in bodies is the owner's own; false escapes it
    menu: tuple[MenuItem, ...] = ()
    forms: tuple[FormConfig, ...] = ()
    funnel: Funnel = Funnel()
    lines: tuple[tuple[str, int], ...] = ()  # key -> line in stepstone.toml

    def line(self, key: str) -> int:
        return dict(self.lines).get(key, 0)

    @cached_property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with '/' (asked for often: kept)."""
        path = urlsplit(self.base_url).path.strip("/")
        return f"/{path}/" if path else "/"

    def form(self, name: str) -> FormConfig | None:
        return next((f for f in self.forms if f.name == name), None)

    def with_base_url(self, base_url: str) -> "SiteConfig":
        return replace(self, base_url=_normalise_base_url(base_url))


def _normalise_base_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _key_lines(text: str) -> dict[str, int]:
    """Line of every key, as 'key', 'forms.signup.action', 'menu[1].url' (tables too)."""
    lines: dict[str, int] = {}
    table, counts = "", {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]|^\[\s*([^\]]+?)\s*\]", line)
        if header:
            if header.group(1):
                name = header.group(1).replace('"', "")
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}[{counts[name]}]"
            else:
                table = header.group(2).replace('"', "")
            lines.setdefault(table, n)
            continue
        key = re.match(r'^"?([A-Za-z0-9_.-]+)"?\s*=', line)
        if key:
            lines.setdefault(f"{table}.{key.group(1)}" if table else key.group(1), n)
    return lines


class _Reader:
    """Collects problems while checking values, each at its key's line."""

    def __init__(self, text: str):
        self.lines = _key_lines(text)
        self.problems: list[Problem] = []

    def line(self, key: str) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return 0

    def fail(self, key: str, message: str) -> None:
        self.problems.append(error(CONFIG_FILE, self.line(key), message))

    def unknown(self, table: dict, known: set[str], prefix: str, where: str) -> None:
        for key in sorted(set(table) - known):
            self.fail(f"{prefix}{key}", f"unknown key '{key}' in {where}{did_you_mean(key, known)}")

    def text(self, table: dict, key: str, prefix: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            self.fail(prefix.rstrip(".") or key, f"'{key}' is required")
            return ""
        if not isinstance(value, str):
            self.fail(f"{prefix}{key}", f"'{key}' must be text in quotes, like {key} = \"...\"")
            return default or ""
        return value

    def flag(self, table: dict, key: str, prefix: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{prefix}{key}", f"'{key}' must be true or false (no quotes)")
            return default
        return value

    def table_list(self, data: dict, key: str) -> list:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"'{key}' must be written as [[{key}]] tables")
            return []
        return value


def load_config(site: Path) -> tuple[SiteConfig, list[Problem]]:
    """Read and check stepstone.toml: the config and every problem found.

    Only a file that cannot be read at all raises SiteError; other mistakes are
    returned, so the content can still be checked in the same run.
    """
    path = site / CONFIG_FILE
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SiteError([error(CONFIG_FILE, 0, "the file is not UTF-8 text: save it as UTF-8")]) from None
    return parse_config(text)


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str) -> Problem:
    m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    line = int(m.group(1)) if m else 0
    source = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    reason = re.sub(r"\s*\(at line.*\)", "", str(exc)).lower()
    key = re.match(r'^\s*"?([A-Za-z0-9_.-]+)"?\s*=', source)
    if "overwrite" in reason and key:
        earlier = [n for n, l in enumerate(text.splitlines()[: line - 1], 1)
                   if re.match(rf'^\s*"?{re.escape(key.group(1))}"?\s*=', l)]
        also = f" (also on line {earlier[-1]})" if earlier else ""
        message = f"'{key.group(1)}' is set twice{also}: keep only one"
    elif "illegal character" in reason and source.count('"') % 2 == 1:
        message = "a text value is missing its closing quote: end it with \" on the same line"
    elif "illegal character" in reason and "'" in source and source.count("'") % 2 == 1:
        message = "a text value is missing its closing quote: end it with ' on the same line"
    elif "invalid value" in reason and key:
        message = (f"the value of '{key.group(1)}' is not valid: put text in double quotes, "
                   f"like {key.group(1)} = \"...\"")
    else:
        message = (f"this is not valid TOML ({reason}): check the quotes around text and "
                   f"the '=' between key and value")
    return error(CONFIG_FILE, line, message)


def parse_config(text: str) -> tuple[SiteConfig, list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteError([_toml_problem(exc, text)]) from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        line = next((n for n, l in enumerate(text.splitlines(), 1) if l.count("[") + l.count("{") > 50), 1)
        raise SiteError([error(CONFIG_FILE, line, "values are nested too deeply here: write them out "
                                                  "flatter")]) from None
    r = _Reader(text)
    r.unknown(data, TOP_KEYS, "", CONFIG_FILE)
    title = r.text(data, "title", "")
    base_url = r.text(data, "base_url", "", "/")
    problem = base_url_problem(base_url)
    if problem:
        r.fail("base_url", problem)
        base_url = "/"
    theme = r.text(data, "theme", "", "default")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", theme):
        r.fail("theme", f"theme '{theme}' must be a folder name under themes/ (letters, digits, '-', '_')")
        theme = "default"
    config = SiteConfig(
        title=title,
        base_url=_normalise_base_url(base_url or "/"),
        description=r.text(data, "description", "", ""),
        language=r.text(data, "language", "", "en"),
        theme=theme,
        author=r.text(data, "author", "", ""),
        image=_safe_url(r, data, "image"),
        logo=_safe_url(r, data, "logo"),
        remember_progress=r.flag(data, "remember_progress", "", True),
        unsafe_html=_markdown_options(r, data),
        menu=_menu(r, data),
        forms=_forms(r, data),
        funnel=_funnel(r, data),
        lines=tuple(sorted(r.lines.items())),
    )
    return config, r.problems


def _markdown_options(r: _Reader, data: dict) -> bool:
    """`[markdown] unsafe_html`: whether HTML written in bodies is kept as HTML."""
    table = data.get("markdown", {})
    if not isinstance(table, dict):
        r.fail("markdown", "write it as a table: [markdown] on its own line, then unsafe_html = false")
        return True
    r.unknown(table, MARKDOWN_KEYS, "markdown.", "[markdown]")
    return r.flag(table, "unsafe_html", "markdown.", True)


def _safe_url(r: _Reader, data: dict, key: str) -> str:
    url = r.text(data, key, "", "")
    if url_problem(url, key):
        r.fail(key, url_problem(url, key))
        return ""
    return url


def base_url_problem(url: str) -> str:
    """Why `url` cannot be a base URL, or ''."""
    if url.startswith("/") or urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc:
        return ""
    return f"base_url '{url}' must be a full address like https://example.com/ (or a path like /)"


def _menu(r: _Reader, data: dict) -> tuple[MenuItem, ...]:
    items = []
    for i, entry in enumerate(r.table_list(data, "menu")):
        prefix = f"menu[{i}]."
        r.unknown(entry, MENU_KEYS, prefix, "[[menu]]")
        url = r.text(entry, "url", prefix)
        if url_problem(url, "url"):
            r.fail(f"{prefix}url", url_problem(url, "url"))
            url = "/"
        items.append(MenuItem(r.text(entry, "title", prefix), url, r.line(f"menu[{i}]")))
    return tuple(items)


def _forms(r: _Reader, data: dict) -> tuple[FormConfig, ...]:
    tables = data.get("forms", {})
    if not isinstance(tables, dict):
        r.fail("forms", "write forms as [forms.NAME] tables, e.g. [forms.signup]")
        return ()
    forms = []
    for name, table in sorted(tables.items()):
        prefix = f"forms.{name}."
        if not isinstance(table, dict):
            r.fail(f"forms.{name}", f"write the form as a [forms.{name}] table")
            continue
        provider = r.text(table, "provider", prefix)
        if provider and provider not in PROVIDERS:
            r.fail(f"{prefix}provider", f"unknown provider '{provider}'{did_you_mean(provider, PROVIDERS)}; "
                                        f"choose one of: {', '.join(sorted(PROVIDERS))}")
            forms.append(FormConfig(name, provider, str(table.get("action", "")), (), r.line(f"forms.{name}")))
            continue  # kept by name, so pages using it are not blamed too
        for key in sorted(table):
            if SECRET_KEY.search(key):
                r.fail(f"{prefix}{key}", f"'{key}' looks like a secret: never put API keys or passwords "
                                         f"in stepstone.toml, they would be published with the site")
        r.unknown({k: v for k, v in table.items() if not SECRET_KEY.search(k)},
                  known_keys(provider), prefix, f"[forms.{name}] ({provider})")
        for key in sorted(PROVIDERS.get(provider, {}).get("required", ())):
            if key not in table:
                r.fail(f"forms.{name}", f"[forms.{name}] needs '{key}': the address the {provider} "
                                        f"form posts to, from your {provider} account's embed code")
        options = []
        for key in sorted(set(table) - {"provider", "action"}):
            value = table[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, str):
                r.fail(f"{prefix}{key}", f"'{key}' must be text in quotes or true/false")
                continue
            options.append((key, value))
        action = table.get("action", "")
        if not isinstance(action, str):
            r.fail(f"{prefix}action", "'action' must be a web address in quotes")
            action = ""
        if url_problem(action, "action"):
            r.fail(f"{prefix}action", url_problem(action, "action"))
            action = ""
        forms.append(FormConfig(name, provider, action, tuple(options), r.line(f"forms.{name}")))
    return tuple(forms)


def _funnel(r: _Reader, data: dict) -> Funnel:
    tables = r.table_list(data, "steps")
    if not tables:
        return Funnel(RELATIONSHIP)
    steps, seen = [], set()
    for i, entry in enumerate(tables):
        prefix = f"steps[{i}]."
        r.unknown(entry, STEP_KEYS, prefix, "[[steps]]")
        step_id = r.text(entry, "id", prefix)
        if step_id and not STEP_ID.match(step_id):
            r.fail(f"{prefix}id", f"step id '{step_id}' must be lowercase letters, digits, '-' or '_'")
        if step_id in seen:
            r.fail(f"{prefix}id", f"step '{step_id}' is listed twice")
        seen.add(step_id)
        steps.append(Step(step_id, r.text(entry, "name", prefix, step_id.capitalize()),
                          r.flag(entry, "public", prefix, i < 2),
                          r.text(entry, "description", prefix, "")))
    return Funnel(tuple(steps))
