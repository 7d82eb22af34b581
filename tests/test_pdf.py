"""Lead magnets as PDFs (`download:`): built beside their page, offered by the thank-you room with
their measured size and page count, gated, cached, and optional (the `pdf` extra)."""
import io
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, TODAY, page, tree, write_site
from generator.build import BuildOptions, build
from generator.cache import BuildCache
from generator.pdf import INSTALL, human_size, pdf_path

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")

DEMO_PDF = "insider/welcome/welcome.pdf"
DEMO_PAGES = 3  # cover; contents, the monthly and after-spill lists; the seasonal list


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def words(text: str) -> str:
    return " ".join(text.split())


def about_pdfs(problems):
    """The problems about downloads (the small sites here have funnel gaps on purpose)."""
    return [p for p in problems if "PDF" in p.message or "download" in p.message]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The repository's demo site, copied and built: (site, output)."""
    site = tmp_path_factory.mktemp("demo") / "site"
    shutil.copytree(REPO, site, ignore=shutil.ignore_patterns("output", ".stepstone", ".git", ".venv", "tests",
                                                             "generator", "benchmarks", "*.egg-info"))
    build(BuildOptions(site=site, today=TODAY, jobs=2))
    return site, site / "output"


def test_the_demo_checklist_is_a_pdf_with_its_title_items_and_address(demo):
    site, out = demo
    data = (out / DEMO_PDF).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == DEMO_PAGES
    text = text_of(data)
    assert "The 10-minute couch-care checklist" in text
    assert "example.com" in text
    source = (site / "content/insider/welcome.md").read_text()
    items = [words(re.sub(r"\*\*", "", m)) for m in re.findall(r"^- \[ \] (.+)$", source, re.M)]
    assert len(items) == 22
    for item in items:
        assert item in text, item
    assert f"Page 2 of {DEMO_PAGES}" in text


def test_the_thank_you_room_offers_the_pdf_with_its_real_size_and_pages(demo):
    _, out = demo
    html = (out / "insider/welcome/index.html").read_text()
    data = (out / DEMO_PDF).read_bytes()
    link = re.search(r'<a [^>]*href="/insider/welcome/welcome.pdf"[^>]*>(.*?)</a>', html, re.S)
    assert link, "the room links its PDF"
    text = re.sub(r"<[^>]+>", "", link.group(1))
    assert words(text) == f"Download the checklist (PDF, {DEMO_PAGES} pages, {human_size(len(data))})"
    assert f'data-pdf-bytes="{len(data)}"' in link.group(0)


def test_the_pdf_is_gated_like_its_page(demo):
    _, out = demo
    assert "pdf" not in (out / "sitemap.xml").read_text()
    assert "pdf" not in (out / "feed.xml").read_text()
    linking = [p.relative_to(out).as_posix() for p in out.rglob("*.html") if ".pdf" in p.read_text()]
    assert linking == ["insider/welcome/index.html"]


def test_the_demo_pdf_pages_render_as_images(demo, tmp_path):
    """Poppler draws every page (the PNGs are what a reviewer looks at)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("needs poppler-utils' pdftoppm")
    _, out = demo
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(out / DEMO_PDF), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == DEMO_PAGES
    assert all(p.stat().st_size > 2000 for p in pngs)  # not blank


# --- small sites -------------------------------------------------------------------------

CHECKLIST = """\
    Tick these off.

    ## Morning

    - [ ] Open the shop
    - [x] Count the till

    ## Noon

    - [ ] Restock the shelves

    ## Evening

    - [ ] Sweep the floor

    ## Night

    - [ ] Lock the door
    """


def lead_magnet_site(root, **room_front):
    """A free article, a signup door whose thank-you room is the checklist with `download:`."""
    room_front.setdefault("download", "pdf")
    return write_site(root, {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/guide.md": page("Guide", "free", "Read on."),
        "content/club/join.md": page("Join the club", "insider", "Sign up for the checklist.",
                                     offer="{headline: Get the checklist}", form="signup",
                                     thank_you="club/welcome"),
        "content/club/welcome.md": page("Shop checklist", "insider", CHECKLIST, **room_front),
    })


def test_a_block_names_the_cover_and_the_paper(tmp_path):
    site = lead_magnet_site(tmp_path / "site", download="{title: The shop day, subtitle: Five parts, paper: letter}")
    result = build(BuildOptions(site=site, today=TODAY))
    assert about_pdfs(result.problems) == []
    data = (site / "output/club/welcome/welcome.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert [round(float(x)) for x in reader.pages[0].mediabox[2:]] == [612, 792]  # US letter, in points
    text = text_of(data)
    assert "The shop day" in text and "Five parts" in text and "Contents" in text  # more than three headings
    for item in ["Open the shop", "Count the till", "Restock the shelves", "Sweep the floor", "Lock the door"]:
        assert item in text


def test_a_short_guide_has_no_table_of_contents(tmp_path):
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/club/welcome.md": page("Notes", "insider", "## One\n\nA.\n\n## Two\n\nB.", download="pdf"),
    })
    build(BuildOptions(site=site, today=TODAY))
    text = text_of((site / "output/club/welcome/welcome.pdf").read_bytes())
    assert "Contents" not in text and "Notes" in text


def test_a_door_with_download_is_offered_by_its_thank_you_room(tmp_path):
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/club/join.md": page("Join", "insider", "- [ ] one\n- [ ] two", offer="{headline: Join}",
                                     form="signup", thank_you="club/welcome", download="pdf"),
        "content/club/welcome.md": page("Welcome", "insider", "Thanks."),
    })
    build(BuildOptions(site=site, today=TODAY))
    assert (site / "output/club/join/join.pdf").is_file()
    assert 'href="/club/join/join.pdf"' in (site / "output/club/welcome/index.html").read_text()
    assert ".pdf" not in (site / "output/club/join/index.html").read_text()  # the door itself never gives it


def test_download_on_a_public_page_makes_no_pdf_and_says_why(tmp_path):
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome.", download="pdf"),
    })
    result = build(BuildOptions(site=site, today=TODAY))
    assert [p.message for p in result.problems if "public" in p.message]
    assert not list((site / "output").rglob("*.pdf"))


def test_two_builds_make_the_same_bytes(tmp_path):
    site = lead_magnet_site(tmp_path / "site")
    for out in ("one", "two"):
        build(BuildOptions(site=site, out=tmp_path / out, today=TODAY), BuildCache())
    assert (tmp_path / "one/club/welcome/welcome.pdf").read_bytes() == \
        (tmp_path / "two/club/welcome/welcome.pdf").read_bytes()


def test_a_pdf_is_made_again_only_when_its_inputs_change(tmp_path):
    site = lead_magnet_site(tmp_path / "site")
    options = BuildOptions(site=site, today=TODAY, jobs=2)
    assert build(options).stats["PDFs made"] == 1
    (site / "content/guide.md").write_text(page("Guide", "free", "Read on, please."))
    assert build(options).stats["PDFs made"] == 0                      # another page changed
    assert tree(site / "output") == tree_of_cold_build(site, tmp_path / "cold-1")
    room = site / "content/club/welcome.md"
    room.write_text(room.read_text().replace("Lock the door", "Lock both doors"))
    assert build(options).stats["PDFs made"] == 1                      # its body changed
    assert "Lock both doors" in text_of((site / "output/club/welcome/welcome.pdf").read_bytes())
    assert tree(site / "output") == tree_of_cold_build(site, tmp_path / "cold-2")
    (site / "themes/default/templates").mkdir(parents=True)
    (site / "themes/default/templates/download.css").write_text("body { color: #123456; }\n")
    assert build(options).stats["PDFs made"] == 1                      # the theme changed
    assert tree(site / "output") == tree_of_cold_build(site, tmp_path / "cold-3")
    assert len(list((site / ".stepstone/pdf").glob("*.pdf"))) == 1      # earlier versions are not kept


def test_a_logo_left_out_and_then_put_back_is_on_the_next_pdf(tmp_path):
    site = lead_magnet_site(tmp_path / "site")
    config = site / "stepstone.toml"
    config.write_text('logo = "/logo.svg"\n' + config.read_text())
    options = BuildOptions(site=site, today=TODAY, jobs=2)
    result = build(options)                                            # no static/logo.svg yet
    assert [p for p in about_pdfs(result.problems) if "leaves out" in p.message and "logo.svg" in p.message]
    (site / "static").mkdir()
    (site / "static/logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
                                          '<rect width="40" height="40" fill="#123456"/></svg>\n')
    result = build(options)                                            # the logo is a file of the site now
    assert result.stats["PDFs made"] == 1
    assert not [p for p in about_pdfs(result.problems) if "leaves out" in p.message]
    assert tree(site / "output") == tree_of_cold_build(site, tmp_path / "cold")


def tree_of_cold_build(site, out):
    build(BuildOptions(site=site, out=out, today=TODAY, jobs=1), BuildCache())
    return tree(out)


def test_several_pdfs_are_made_on_two_cores_as_on_one(tmp_path):
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    for i in range(3):
        files[f"content/club/guide-{i}.md"] = page(f"Guide {i}", "insider", f"- [ ] item {i}", download="pdf")
    site = write_site(tmp_path / "site", files)
    build(BuildOptions(site=site, out=tmp_path / "one", today=TODAY, jobs=1), BuildCache())
    build(BuildOptions(site=site, out=tmp_path / "two", today=TODAY, jobs=2), BuildCache())
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert len(list((tmp_path / "two").rglob("*.pdf"))) == 3


def test_a_remote_image_is_left_out_with_a_warning(tmp_path):
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/club/welcome.md": page("Notes", "insider", "![x](https://tracker.invalid/pixel.png)\n\nText.",
                                        download="pdf"),
    })
    result = build(BuildOptions(site=site, today=TODAY))
    assert [p for p in result.problems if "tracker.invalid" in p.message and p.severity == "warning"]
    assert (site / "output/club/welcome/welcome.pdf").is_file()


WITHOUT_WEASYPRINT = "import sys; sys.modules['weasyprint'] = None; from generator.cli import main; main()"


def run_without_weasyprint(*args):
    return subprocess.run([sys.executable, "-c", WITHOUT_WEASYPRINT, *args], capture_output=True, text=True,
                          cwd=REPO)


def test_without_the_extra_the_build_warns_once_and_succeeds(tmp_path):
    site = lead_magnet_site(tmp_path / "site")
    (site / "content/club/other.md").write_text(page("Other", "insider", "- [ ] x", download="pdf"))
    done = run_without_weasyprint("build", "--site", str(site))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "warning:" in line]
    warnings = [line for line in warnings if "PDF" in line]  # (the funnel's own gaps aside)
    assert len(warnings) == 1, warnings
    assert INSTALL in warnings[0] and warnings[0].startswith("content/club/")
    assert (site / "output/club/welcome/index.html").is_file()
    assert not list((site / "output").rglob("*.pdf"))
    assert ".pdf" not in (site / "output/club/welcome/index.html").read_text()


def test_without_the_extra_a_site_without_downloads_says_nothing(tmp_path):
    site = lead_magnet_site(tmp_path / "site", download="false")
    done = run_without_weasyprint("build", "--site", str(site))
    assert done.returncode == 0 and "PDF" not in done.stdout + done.stderr


def test_installing_the_extra_later_builds_the_pdf(tmp_path):
    """The no-change shortcut knows whether WeasyPrint was there."""
    site = lead_magnet_site(tmp_path / "site")
    assert run_without_weasyprint("build", "--site", str(site)).returncode == 0
    result = build(BuildOptions(site=site))
    assert about_pdfs(result.problems) == []
    assert (site / "output/club/welcome/welcome.pdf").is_file()


def test_the_cli_builds_the_demo_with_no_warnings(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copytree(REPO / "static", site / "static")
    shutil.copytree(REPO / "themes", site / "themes")
    shutil.copy(REPO / "stepstone.toml", site)
    done = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--site", str(site)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "(0 errors, 0 warnings)" in done.stdout, done.stdout + done.stderr
    assert (site / "output" / DEMO_PDF).is_file()


def test_pdf_path_is_named_after_the_slug():
    assert pdf_path("/insider/welcome/") == "insider/welcome/welcome.pdf"
    assert pdf_path("/club/couch-checklist/") == "club/couch-checklist/couch-checklist.pdf"
    assert human_size(180 * 1024) == "180 KB" and human_size(300) == "1 KB" and human_size(3 * 1024 ** 2) == "3.0 MB"
