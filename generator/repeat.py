"""A build whose inputs are all as the last one saw them: its result stands.

Most builds of a writing day change nothing or little. When every input file has
the size and time the last build saw, with the same options, day and Stepstone,
and output/ still holds what it wrote, that build's answer is given again. This
module imports no part of the pipeline (Jinja, the Markdown engines, PyYAML):
loading those would take longer than the whole answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .cache import LastBuild, input_signature, input_stats, load_last_build
from .errors import stop_on_errors
from .options import BuildOptions, BuildResult, check_usage
from .pdf import engine_missing
from .write import check_output_folder, output_id_of


@dataclass(frozen=True)
class LookBack:
    signature: str               # this build's inputs and options, as the record keeps them
    last: LastBuild | None        # the last build's record, if its result stands for this build
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # each input's (mtime_ns, size), by path
    options_key: str = ""        # the options, day and Stepstone alone: what may not change for a splice


def look_back(options: BuildOptions) -> LookBack:
    """Check the command line and compare this build's inputs with the last build's record."""
    check_usage(options)
    check_output_folder(options.site, options.output)
    stats = input_stats(options.site)
    extra = (options.base_url, options.drafts, options.future, options.day, str(options.output.resolve()),
             engine_missing())
    signature = input_signature(stats, extra)
    last = load_last_build(options.site)
    stands = last and last.signature == signature and last.output_id == output_id_of(options.output) != ""
    return LookBack(signature, last if stands else None, stats, input_signature({}, extra))


def repeated(options: BuildOptions, looked: LookBack) -> BuildResult | None:
    """The last build's result, when it stands (SiteError if, under --strict, its warnings now fail)."""
    if looked.last is None:
        return None
    problems = stop_on_errors(list(looked.last.problems), options.strict)
    return BuildResult(looked.last.pages, tuple(problems), {"pages reused": looked.last.pages})
