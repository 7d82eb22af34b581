"""Which addresses an owner's files may put in a link: the rule that keeps `javascript:` out.

Front matter and config values end up in href and src attributes. Escaping keeps them from
breaking out of the attribute, but an address that runs a script is dangerous in itself, so
only the schemes a business site links to are accepted.
"""
from __future__ import annotations

import re

SAFE_SCHEMES = ("http", "https", "mailto", "tel", "sms")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]")  # "java\tscript:" is still javascript: to a browser


def unsafe_scheme(url: str) -> str:
    """The scheme of `url` when a link may not use it ('javascript', 'data'…), else ''."""
    m = SCHEME.match(IGNORED_BY_BROWSERS.sub("", url))
    if m is None or m.group(1).lower() in SAFE_SCHEMES:
        return ""
    return m.group(1).lower()


def url_problem(url: str, key: str) -> str:
    """Why `url` cannot stand in `key`, in the owner's words, or ''."""
    scheme = unsafe_scheme(url)
    if not scheme:
        return ""
    return (f"'{key}' is a '{scheme}:' address, which a link may not use: give a web address "
            f"like https://example.com/page, a path like /guides/, or a mailto: or tel: address")
