"""Build-speed benchmark: Stepstone's cold, no-change, one-edit and template-edit builds against
the plain Python loop (and Hugo, when installed), on the shared benchmark corpus.

    python benchmarks/bench.py [--pages 10000] [--runs 3] [--work /tmp/stepstone-bench]

Needs ../shared/bench/ beside the repo (make_site.py, make_corpus.py). Prints a table of median
wall times and ratios, all measured in this one invocation (the machine is noisy: compare ratios).
Not a test: run it by hand and paste the table into the issue.
"""
from __future__ import annotations

import argparse
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


def timed(cmd: list[str], cwd: Path | None = None, before=None) -> float:
    if before:
        before()
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median(runs: int, cmd: list[str], cwd: Path | None = None, before=None) -> float:
    return statistics.median(timed(cmd, cwd, before) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stepstone-bench"))
    args = parser.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    site = work / "site"
    subprocess.run([sys.executable, str(BENCH / "make_site.py"), "--pages", str(args.pages), "--out", str(site)],
                   check=True, stdout=subprocess.DEVNULL)
    build = [*STEPSTONE, "build", "--site", str(site)]
    page = sorted((site / "content").rglob("*.md"))[len(list((site / "content").rglob("*.md"))) // 2]
    original = page.read_text(encoding="utf-8")
    brand = site / "themes" / "default" / "templates" / "partials" / "brand.html"
    flip = iter(range(10**6))

    def cold() -> None:
        shutil.rmtree(site / ".stepstone", ignore_errors=True)
        shutil.rmtree(site / "output", ignore_errors=True)

    def edit_body() -> None:
        page.write_text(original + f"\nEdit number {next(flip)}.\n", encoding="utf-8")

    def edit_template() -> None:
        brand.parent.mkdir(parents=True, exist_ok=True)
        brand.write_text(f"<style>:root {{ --accent: #{next(flip) % 999:03d}; }}</style>\n", encoding="utf-8")

    rows = {}
    rows["stepstone cold"] = median(args.runs, build, REPO, cold)
    subprocess.run(build, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    rows["stepstone no change"] = median(args.runs, build, REPO)
    rows["stepstone one body edit"] = median(args.runs, build, REPO, edit_body)
    rows["stepstone template edit"] = median(args.runs, build, REPO, edit_template)
    shutil.rmtree(brand.parent.parent.parent.parent, ignore_errors=True)
    page.write_text(original, encoding="utf-8")
    rows["stepstone cold --jobs 1"] = median(args.runs, [*build, "--jobs", "1"], REPO, cold)
    loop_out = work / "loop-out"
    script = work / "plain_loop.py"
    script.write_text(PLAIN_LOOP)
    rows["plain Python loop"] = median(args.runs, [sys.executable, str(script), str(site / "content"),
                                                   str(loop_out)], REPO,
                                       lambda: shutil.rmtree(loop_out, ignore_errors=True))
    if shutil.which("hugo"):
        hugo_site = work / "hugo"
        subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), "--pages", str(args.pages),
                        "--out", str(hugo_site / "content")], check=True, stdout=subprocess.DEVNULL)
        (hugo_site / "layouts" / "_default").mkdir(parents=True)
        for name in ("single.html", "list.html"):
            (hugo_site / "layouts" / "_default" / name).write_text(HUGO_LAYOUT)
        (hugo_site / "hugo.toml").write_text('baseURL = "https://example.com/"\ntitle = "Bench"\n'
                                             'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
        rows["hugo"] = median(args.runs, ["hugo", "--quiet"], hugo_site,
                              lambda: shutil.rmtree(hugo_site / "public", ignore_errors=True))
    cold_time = rows["stepstone cold"]
    print(f"\n{args.pages} pages, median of {args.runs} runs, wall seconds\n")
    print("| build | seconds | time as a share of stepstone cold |")
    print("|---|---|---|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.2f} | {seconds / cold_time:.0%} |")


if __name__ == "__main__":
    main()
