"""Stepstone: Markdown to a static site that offers every visitor only the next step."""

__version__ = "0.1.0"
