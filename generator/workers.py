"""Run a function over chunks of work on several cores, results in order.

Workers are forked after the shared data of a stage exists (the site, the
link targets), so they inherit it instead of receiving a pickled copy; only
the chunks of work and their results cross between processes. Where fork is
not available, or the work is small, everything runs in this process.
"""
from __future__ import annotations

import gc
import multiprocessing
from typing import Any, Callable, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
MIN_PARALLEL_ITEMS = 200  # below this, starting processes costs more than it saves

_inherited: dict[str, Any] = {}  # in a worker process only: the state it was forked with


def _start(state: Any) -> None:
    _inherited["state"] = state


def _run(task: tuple[Callable, list]) -> Any:
    fn, chunk = task
    return fn(_inherited["state"], chunk)


def chunked(items: Sequence[Item], count: int) -> list[list[Item]]:
    """`items` in about `count` contiguous chunks, none empty."""
    size = max(1, -(-len(items) // max(count, 1)))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


Progress = Callable[[int, int], None]  # (items done, items in all)


def map_chunks(fn: Callable[[Any, list[Item]], Result], state: Any, items: Sequence[Item],
               jobs: int, progress: Progress | None = None, min_items: int = MIN_PARALLEL_ITEMS,
               per_job: int = 8, meanwhile: Callable[[], object] | None = None) -> list[Result]:
    """[fn(state, chunk) for each chunk of items], on `jobs` processes when that pays: from `min_items`
    items (fewer for costly items, like PDFs), in `per_job` chunks per process.

    `meanwhile()`, work of this process that does not need the results, runs while the workers
    work (first, when there are none): this process would otherwise sit idle."""
    chunks = chunked(items, max(jobs, 1) * per_job) if items else []
    results: list[Result] = []
    done = 0

    def advance(chunk: list, result: Result) -> None:
        nonlocal done
        results.append(result)
        done += len(chunk)
        if progress is not None:
            progress(done, len(items))

    if jobs <= 1 or len(items) < max(min_items, 2) or "fork" not in multiprocessing.get_all_start_methods():
        if meanwhile is not None:
            meanwhile()
        for chunk in chunks:
            advance(chunk, fn(state, chunk))
        return results
    gc.freeze()  # the workers' collector then never walks (and so copies) the memory they share with us
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_start, initargs=(state,)) as pool:
        pending = pool.imap(_run, [(fn, c) for c in chunks], chunksize=1)
        if meanwhile is not None:
            meanwhile()
        for chunk, result in zip(chunks, pending, strict=True):
            advance(chunk, result)
    return results
