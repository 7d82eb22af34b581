"""The demo site in real headless Chromium: private, responsive, one visible next step."""
import os
from urllib.parse import urlsplit

import pytest

from conftest import REPO, TODAY
from generator.build import BuildOptions, build
from generator.cache import BuildCache
from sitecrawl import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["", "guides/", "guides/stain-basics/", "insider/checklist/", "insider/welcome/",
         "trial/first-couch-coupon/", "core/annual-plan/", "advocate/reviews/", "tags/", "404.html"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    out = tmp_path_factory.mktemp("www") / "couch"
    build(BuildOptions(site=REPO, out=out, base_url="https://example.com/couch/", today=TODAY), BuildCache())
    with serve(out.parent) as origin:
        yield origin + "/couch/"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_request_leaves_the_origin(browser, site_url, path):
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(site_url + path, wait_until="networkidle")
    page.close()
    origin = urlsplit(site_url).netloc
    assert requests, "the page made no request at all"
    assert [u for u in requests if urlsplit(u).netloc != origin] == []


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_fits_the_screen_without_sideways_scrolling(browser, site_url, path, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(site_url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.close()
    assert overflow <= 0


@pytest.mark.parametrize("path, step", [("", "free"), ("guides/stain-basics/", "insider"),
                                        ("insider/welcome/", "trial"), ("insider/checklist/", "insider")])
def test_the_next_step_is_visible_and_styled(browser, site_url, path, step):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(site_url + path)
    cta = page.locator('[data-stepstone="offer"]')
    assert cta.count() == 1
    assert cta.get_attribute("data-offer-step") == step
    assert cta.is_visible()
    button = cta.locator("a.button, button[type=submit]").first
    colours = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    page.close()
    assert colours[0] != colours[1] and colours[0] not in ("rgba(0, 0, 0, 0)", "transparent")


def test_signup_form_has_a_hidden_honeypot_and_a_required_email(browser, site_url):
    page = browser.new_page()
    page.goto(site_url + "insider/checklist/")
    form = page.locator('form[data-stepstone="signup"]')
    assert form.get_attribute("method") == "post"
    assert form.locator('input[type="email"][required]').is_visible()
    trap = form.locator('input[name="website"]').bounding_box()
    page.close()
    assert trap is None or trap["x"] + trap["width"] <= 0  # off-screen: people never see it


def axe_core() -> str:
    """axe-core, the accessibility engine, as the axe-playwright-python package ships it."""
    from importlib.resources import files
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", [*PAGES, "delight/stain-clinic/"])
def test_no_serious_or_critical_accessibility_violations(browser, site_url, path, scheme):
    page = browser.new_page(color_scheme=scheme)
    page.goto(site_url + path, wait_until="load")
    page.add_script_tag(content=axe_core())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    page.close()
    found = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
             if v["impact"] in ("serious", "critical")]
    assert found == []


@pytest.mark.parametrize("path", [*PAGES, "delight/stain-clinic/"])
def test_html_css_and_scripts_of_a_page_weigh_under_40_kb(browser, site_url, path):
    page = browser.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(site_url + path, wait_until="networkidle")
    weights = {r.url: len(r.body()) for r in responses if r.request.resource_type in ("document", "stylesheet", "script")}
    page.close()
    assert any(url.endswith(".css") for url in weights)
    assert sum(weights.values()) < 40 * 1024, weights


def test_a_brand_that_sets_only_the_accent_keeps_buttons_readable(browser, tmp_path):
    """partials/brand.html names three colours; an override giving only --accent still gets white
    button text and a tint of its accent behind the call to action."""
    from conftest import page, write_site
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/blog/_index.md": page("Blog", "free", "All posts.", offer="{headline: Read the blog}"),
        "themes/default/templates/partials/brand.html": "<style>:root { --accent: #8a2be2; }</style>\n",
    })
    build(BuildOptions(site=site, today=TODAY), BuildCache())
    with serve(site / "output") as origin:
        tab = browser.new_page()
        tab.goto(origin + "/")
        button = tab.locator('[data-stepstone="offer"] a.button')
        colours = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color,"
                                  " getComputedStyle(b.closest('.cta')).backgroundColor]")
        tab.close()
    assert colours[:2] == ["rgb(138, 43, 226)", "rgb(255, 255, 255)"]
    assert colours[2] not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)")
