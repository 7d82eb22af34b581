"""Build-speed benchmark: Stepstone's cold, no-change, one-edit and template-edit builds (and a
body edit right after the template edit) against the plain Python loop (and Hugo, when
installed), on the shared benchmark corpus.

Hugo builds the same corpus twice: once making what a Stepstone build makes (pages, section
listings, tag pages, one feed, the sitemap: the row "hugo"), once the pages and listings alone.

    python benchmarks/bench.py [--pages 10000] [--runs 3] [--work /tmp/stepstone-bench]

Needs ../shared/bench/ beside the repo (make_site.py, make_corpus.py). Prints a table of median
wall times and ratios, all measured in this one invocation (the machine is noisy: compare ratios),
with the CPU time each build used.
Not a test: run it by hand and paste the table into the issue.
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
STEPSTONE = [sys.executable, "-m", "generator.cli"]

PLAIN_LOOP = r'''
import sys, pathlib, frontmatter, markdown_it, jinja2
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
md = markdown_it.MarkdownIt("commonmark").enable("table")
tpl = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><title>{{ title }}</title><h1>{{ title }}</h1>{{ body|safe }}")
for path in sorted(src.rglob("*.md")):
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    target = out / path.relative_to(src).with_suffix("") / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(tpl.render(title=post.get("title", ""), body=md.render(post.content)), encoding="utf-8")
'''

HUGO_LAYOUT = "<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>{{ .Content }}\n"
# Hugo making the kinds of files a Stepstone build makes: every page, the section listings, a page
# per tag and the tag index, one feed of the 20 newest pages, the sitemap.
HUGO_LIKE_STEPSTONE = """baseURL = "https://example.com/"
title = "Bench"
rssLimit = 20
[taxonomies]
tag = "tags"
[outputs]
home = ["HTML", "RSS"]
section = ["HTML"]
taxonomy = ["HTML"]
term = ["HTML"]
"""
# Hugo making the pages and section listings alone: less than a Stepstone build makes.
HUGO_PAGES_ONLY = """baseURL = "https://example.com/"
title = "Bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap"]
"""


def timed(cmd: list[str], cwd: Path | None = None, before=None) -> tuple[float, float]:
    """Wall time of `cmd`, and the CPU time (user and system) it and its workers used, started
    with the disk's write-back of earlier runs done: a build right after another one's 200 MB
    would pay for the kernel writing (and, on ext4, placing) those."""
    if before:
        before()
    os.sync()
    used = _children_cpu()
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, _children_cpu() - used


def _children_cpu() -> float:
    """CPU seconds of every finished child process (and theirs, which each waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stepstone-bench"))
    args = parser.parse_args()
    work = args.work
    earlier = work.with_name(work.name + ".earlier")  # the last run's files: deleted after this one's builds
    if work.exists():
        shutil.rmtree(earlier, ignore_errors=True)
        work.rename(earlier)
    work.mkdir(parents=True)
    # Byte-compiled as `pip install` leaves it: where PYTHONDONTWRITEBYTECODE is set (as on the
    # machine this was measured on), every build would otherwise compile the package again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True,
                   stdout=subprocess.DEVNULL)
    site = work / "site"
    subprocess.run([sys.executable, str(BENCH / "make_site.py"), "--pages", str(args.pages), "--out", str(site)],
                   check=True, stdout=subprocess.DEVNULL)
    build = [*STEPSTONE, "build", "--site", str(site)]
    page = sorted((site / "content").rglob("*.md"))[len(list((site / "content").rglob("*.md"))) // 2]
    original = page.read_text(encoding="utf-8")
    brand = site / "themes" / "default" / "templates" / "partials" / "brand.html"
    flip = iter(range(10**6))
    aside = work / "aside"
    aside.mkdir()

    def set_aside(path: Path) -> None:
        """Move a tool's earlier output out of the way, to be deleted after the last run: on ext4,
        files made just after thousands were deleted cost several times the CPU to create (the
        kernel skips the recently freed inodes one by one), which would measure the deletion."""
        if path.exists():
            path.rename(aside / str(next(flip)))

    def cold() -> None:
        set_aside(site / ".stepstone")
        set_aside(site / "output")

    def edit_body() -> None:
        page.write_text(original + f"\nEdit number {next(flip)}.\n", encoding="utf-8")

    def edit_template() -> None:
        brand.parent.mkdir(parents=True, exist_ok=True)
        brand.write_text(f"<style>:root {{ --accent: #{next(flip) % 999:03d}; }}</style>\n", encoding="utf-8")

    loop_out = work / "loop-out"
    script = work / "plain_loop.py"
    script.write_text(PLAIN_LOOP)
    hugo_sites = {"hugo": work / "hugo", "hugo, pages only": work / "hugo-pages"}
    if shutil.which("hugo"):
        for folder, config in zip(hugo_sites.values(), (HUGO_LIKE_STEPSTONE, HUGO_PAGES_ONLY), strict=True):
            subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), "--pages", str(args.pages),
                            "--out", str(folder / "content")], check=True, stdout=subprocess.DEVNULL)
            (folder / "layouts" / "_default").mkdir(parents=True)
            for layout in ("single.html", "list.html"):
                (folder / "layouts" / "_default" / layout).write_text(HUGO_LAYOUT)
            (folder / "hugo.toml").write_text(config)

    # This machine's disk and CPU speed drift by tens of percent within minutes, so every
    # round measures everything once, one after the other: ratios compare like with like.
    runs: dict[str, list[tuple[float, float]]] = {}  # name -> (wall, CPU) of each run

    def measure(name: str, cmd: list[str], cwd: Path | None = None, before=None) -> None:
        runs.setdefault(name, []).append(timed(cmd, cwd, before))

    measure("stepstone cold", build, REPO, cold)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # its largest single process
    for round_ in range(args.runs):
        if round_:
            measure("stepstone cold", build, REPO, cold)
        measure("stepstone no change", build, REPO)
        measure("stepstone one body edit", build, REPO, edit_body)
        measure("stepstone template edit", build, REPO, edit_template)
        measure("stepstone one body edit after it", build, REPO, edit_body)  # output/'s twin lags by every page
        shutil.rmtree(brand.parent.parent.parent.parent, ignore_errors=True)
        page.write_text(original, encoding="utf-8")
        if shutil.which("hugo"):
            for name, folder in hugo_sites.items():
                measure(name, ["hugo", "--quiet"], folder, lambda folder=folder: set_aside(folder / "public"))
        measure("plain Python loop", [sys.executable, str(script), str(site / "content"), str(loop_out)], REPO,
                lambda: set_aside(loop_out))
    measure("stepstone cold --jobs 1", [*build, "--jobs", "1"], REPO, cold)
    subprocess.run(build, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    serve_times = serve_saves(site, page, original, max(args.runs, 5))
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(earlier, ignore_errors=True)
    rows = {name: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
            for name, times in runs.items()}
    cold_time, cold_cpu = rows["stepstone cold"]
    print(f"\n{args.pages} pages, median of {args.runs} runs: wall seconds, and CPU seconds (user and system, "
          f"every process: the work done, less swayed than wall time by what else the machine runs)\n")
    print("| build | seconds | time as a share of stepstone cold | CPU seconds | CPU as a share of cold |")
    print("|---|---|---|---|---|")
    for name, (seconds, cpu) in rows.items():
        print(f"| {name} | {seconds:.2f} | {seconds / cold_time:.0%} | {cpu:.2f} | {cpu / cold_cpu:.0%} |")
    for name in ("hugo", "hugo, pages only", "plain Python loop"):
        if name in rows:
            ratio = rows[name][0] / cold_time
            print(f"\nstepstone cold is {ratio:.2f}x as fast as {name}" if ratio >= 1 else
                  f"\nstepstone cold takes {1 / ratio:.2f}x the time of {name}", end="")
    print(f"\n\nserve, save of one body to its page rewritten: median {statistics.median(serve_times) * 1000:.0f} ms, "
          f"worst {max(serve_times) * 1000:.0f} ms of {len(serve_times)} saves")
    print(f"peak memory of one process in the cold builds: {peak_mb:.0f} MB")


def serve_saves(site: Path, page: Path, original: str, saves: int) -> list[float]:
    """Start `stepstone serve`, save `page` several times, and time each save until the
    preview's copy of the page holds the new text (what the browser then reloads)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*STEPSTONE, "serve", "--site", str(site), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rel = page.relative_to(site / "content").with_suffix("")
    target = site / ".stepstone" / "preview" / rel / "index.html"
    times = []
    try:
        for line in server.stdout:
            if line.startswith("Serving"):
                break
        for i in range(saves):
            time.sleep(0.5)
            word = f"Served{i}x{time.monotonic_ns()}"
            started = time.perf_counter()
            page.write_text(original + f"\n{word}\n", encoding="utf-8")
            while word not in target.read_text(encoding="utf-8"):
                if time.perf_counter() - started > 30:
                    raise RuntimeError("serve did not rewrite the page within 30 s")
                time.sleep(0.002)
            times.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()
        page.write_text(original, encoding="utf-8")
    return times


if __name__ == "__main__":
    main()
