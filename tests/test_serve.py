"""`stepstone serve` end to end: a save shows up in the browser at once, a broken save never
kills the server, and every save reloads the page exactly once."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from conftest import page, write_site

STEPSTONE = [sys.executable, "-m", "generator.cli"]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(check, seconds: float) -> float:
    """Seconds until check() is true; fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if check():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


@contextmanager
def serving(site):
    port = free_port()
    with open(site.parent / "serve.log", "w") as log:
        process = subprocess.Popen([*STEPSTONE, "serve", "--site", str(site), "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for(lambda: "Hello" in fetch(url + "about/"), 20)
            yield url, process
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/about.md": page("About", "awareness", "Hello from the first version."),
    })


def test_a_save_shows_in_the_served_page_within_a_second(site):
    with serving(site) as (url, _):
        (site / "content/about.md").write_text(page("About", "awareness", "Hello from the second version."))
        wait_for(lambda: "second version" in fetch(url + "about/"), 1.0)
        assert not (site / "output").exists()  # the preview never touches output/


def test_a_broken_save_keeps_the_last_good_page_and_reports_the_line(site):
    with serving(site) as (url, process):
        (site / "content/about.md").write_text(page("About", "awarenes", "Hello, broken version."))
        wait_for(lambda: json.loads(fetch(url + "_stepstone/errors.json")) != [], 10)
        errors = json.loads(fetch(url + "_stepstone/errors.json"))
        assert errors[0] == ("content/about.md:3: error: unknown step 'awarenes' (did you mean 'awareness'?); "
                             "the steps are: awareness, free, insider, trial, delight, core, referral, advocate")
        assert "first version" in fetch(url + "about/")
        assert process.poll() is None
        (site / "content/about.md").write_text(page("About", "awareness", "Hello, fixed."))
        wait_for(lambda: "fixed" in fetch(url + "about/"), 10)
        # the overlay clears once the rebuild is done: files are swapped in one by one, the page first
        wait_for(lambda: json.loads(fetch(url + "_stepstone/errors.json")) == [], 2)


def test_a_theme_or_static_folder_made_while_serving_is_watched_from_then_on(site):
    with serving(site) as (url, _):
        brand = site / "themes/default/templates/partials/brand.html"  # the first override of the theme
        brand.parent.mkdir(parents=True)
        brand.write_text("<style>/* first */</style>\n")
        wait_for(lambda: "/* first */" in fetch(url + "about/"), 10)
        brand.write_text("<style>/* second */</style>\n")
        wait_for(lambda: "/* second */" in fetch(url + "about/"), 10)
        (site / "static").mkdir()
        (site / "static/hello.txt").write_text("hi")
        wait_for(lambda: fetch(url + "hello.txt") == "hi", 10)
        (site / "static/hello.txt").write_text("hi again")
        wait_for(lambda: fetch(url + "hello.txt") == "hi again", 10)


def test_a_config_saved_by_renaming_a_new_file_over_it_is_watched_after_every_save(site):
    """As vim and many editors save: write a new file, rename it over the old one. The old file's
    watch goes with it; the next save must be seen all the same."""
    config = site / "stepstone.toml"
    with serving(site) as (url, _):
        for title in ("Renamed Once", "Renamed Twice"):
            saved = site / ".stepstone.toml.swp"
            saved.write_text(config.read_text().replace(config.read_text().split("\n")[0], f'title = "{title}"'))
            os.replace(saved, config)
            wait_for(lambda title=title: f"About · {title}" in fetch(url + "about/"), 10)
        config.write_text(config.read_text().replace("Renamed Twice", "Edited In Place"))
        wait_for(lambda: "About · Edited In Place" in fetch(url + "about/"), 10)


def test_a_save_by_renaming_over_the_config_is_one_rebuild_and_later_saves_are_seen(site):
    from generator.serve import watch_and_rebuild
    rebuilds, ready, stop = [], threading.Event(), threading.Event()
    watcher = threading.Thread(target=watch_and_rebuild, daemon=True,  # port 9: no browser to reload
                               args=(site, rebuilds.append, "http://127.0.0.1:9/", ready, stop))
    watcher.start()
    try:
        assert ready.wait(10)
        config = site / "stepstone.toml"
        saved = site / ".stepstone.toml.swp"
        saved.write_text(config.read_text().replace("Test Site", "Renamed Site"))
        os.replace(saved, config)
        wait_for(lambda: rebuilds, 5)
        time.sleep(0.5)  # a second rebuild (and reload) would come within this time
        assert rebuilds == [None]  # the whole site, once
        config.write_text(config.read_text().replace("Renamed Site", "Edited Site"))
        wait_for(lambda: len(rebuilds) == 2, 5)
        time.sleep(0.5)
        assert rebuilds == [None, {"stepstone.toml"}]
    finally:
        stop.set()
        watcher.join(5)


def test_a_page_swapped_while_it_is_being_served_is_sent_whole(site):
    """A rebuild swaps files while the browser (or a poll) is fetching them: each response must
    be one version of the file, never the old length with the new bytes."""
    with serving(site) as (url, _):
        served = site / ".stepstone/preview/about/index.html"
        first = served.read_text()
        stop, swaps = threading.Event(), []

        def swap_forever():
            while not stop.is_set():
                spare = served.with_name("index.html.swap")
                spare.write_text(first + "<!--" + "x" * (len(swaps) % 400) + "-->")
                os.replace(spare, served)
                swaps.append(1)

        swapper = threading.Thread(target=swap_forever)
        swapper.start()
        try:
            bodies = [fetch(url + "about/") for _ in range(400)]
        finally:
            stop.set()
            swapper.join()
        assert len(swaps) > 100
        script = re.compile(r'<script type="text/javascript">\(function\(\)\{.*?\}\)\(\);</script>', re.S)
        for body in (script.sub("", body, count=1) for body in bodies):  # livereload's script, injected
            # one whole version: the page as built (should serve rebuild it meanwhile) or one of the swaps
            assert body == first or (body.startswith(first) and re.fullmatch(r"<!--x*-->", body[len(first):])), \
                body[-200:]


def test_a_port_in_use_is_named_with_the_flag(site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*STEPSTONE, "serve", "--site", str(site), "--port", str(port)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use: pass another, e.g. --port {port + 1}" in result.stderr


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_the_browser_reloads_by_itself_once_per_save_and_shows_errors(site):
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS
    with serving(site) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        tab = browser.new_page()
        loads = []
        tab.on("load", lambda: loads.append(time.monotonic()))
        tab.goto(url + "about/")
        tab.wait_for_function("() => window.LiveReload !== undefined", timeout=10000)
        time.sleep(0.5)  # let the live reload socket connect
        for n, text in enumerate(["Saved once.", "Saved twice."], start=2):
            (site / "content/about.md").write_text(page("About", "awareness", text))
            tab.wait_for_function(f"() => document.body.innerText.includes({text!r})", timeout=5000)
            time.sleep(1.0)  # a second reload would come within this time
            assert len(loads) == n
        saved = site / ".stepstone.toml.swp"  # saved as vim does: a new file renamed over the old
        saved.write_text((site / "stepstone.toml").read_text().replace("Test Site", "Renamed Site"))
        os.replace(saved, site / "stepstone.toml")
        tab.wait_for_function("() => document.title.includes('Renamed Site')", timeout=5000)
        time.sleep(1.0)
        assert len(loads) == 4
        (site / "content/about.md").write_text(page("About", "awarenes", "Broken."))
        tab.wait_for_selector("#stepstone-errors", timeout=5000)
        assert "content/about.md:3: error: unknown step 'awarenes'" in tab.inner_text("#stepstone-errors")
        assert "Saved twice." in tab.inner_text("main")
        browser.close()


def funnel_site(root):
    return write_site(root / "site", {
        "stepstone.toml": 'title = "Shop"\nbase_url = "https://shop.example.com/"\n\n[forms.signup]\n'
                          'provider = "kit"\naction = "https://app.kit.com/forms/123/subscriptions"\n'
                          'first_name = true\n',
        "content/index.md": page("Home", "awareness", "Welcome.", offer="{headline: Read}"),
        "content/about.md": page("About", "awareness", "Hello from the first version."),
        "content/join.md": page("Join", "insider", "Get the list.", offer="{headline: Join, button: Sign me up}",
                                form="signup", thank_you="welcome"),
        "content/welcome.md": page("Welcome aboard", "insider", "You are in."),
    })


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_a_signup_under_serve_is_kept_locally_and_lands_on_the_thank_you_page(tmp_path):
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS
    site = funnel_site(tmp_path)
    with serving(site) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        tab = browser.new_page()
        requests = []
        tab.on("request", lambda r: requests.append(r.url))
        tab.goto(url + "join/")
        tab.fill('input[name="fields[first_name]"]', "Ada")
        tab.fill('input[name="email_address"]', "ada@example.com")
        with tab.expect_navigation():
            tab.click("form[data-stepstone=signup] button[type=submit]")
        assert tab.url == url + "welcome/"
        assert "Welcome aboard" in tab.inner_text("h1")
        browser.close()
    assert not [r for r in requests if not r.startswith(url) and not r.startswith(url.replace("http", "ws"))]
    records = [json.loads(line) for line in (site / ".stepstone/submissions.jsonl").read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["form"] == "signup"
    assert records[0]["fields"]["email_address"] == "ada@example.com"
    assert records[0]["fields"]["fields[first_name]"] == "Ada"


def test_the_local_form_endpoint_refuses_big_bodies_and_foreign_redirects(tmp_path):
    site = funnel_site(tmp_path)
    with serving(site) as (url, _):
        big = urllib.request.Request(url + "_stepstone/submit", data=b"email=" + b"x" * 100_000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(big, timeout=5)
        assert caught.value.code == 413
        caught.value.close()
        away = urllib.request.Request(url + "_stepstone/submit", method="POST",
                                      data=b"email=a%40b.c&_stepstone_next=https%3A%2F%2Fevil.example%2F")
        with urllib.request.urlopen(away, timeout=5) as response:
            assert response.url == url  # sent home, not to another site
    assert not (site / "output").exists() or "_stepstone" not in (site / "output/join/index.html").read_text()


def test_the_funnel_map_is_drawn_from_the_last_good_build_when_opened(site):
    with serving(site) as (url, _):
        first = fetch(url + "_stepstone/")
        assert "data-step=\"awareness\"" in first and "livereload.js" in first  # reloads with every save
        assert fetch(url + "_stepstone/index.html") == first
        (site / "content/guide.md").write_text(page("Guide", "free", "Read on."))
        wait_for(lambda: "guide" in fetch(url + "_stepstone/"), 5)  # the new page, on the map at once
        (site / "content/guide.md").write_text(page("Guide", "fre", "Broken."))
        wait_for(lambda: "'fre'" in fetch(url + "_stepstone/errors.json"), 5)
        assert "guide" in fetch(url + "_stepstone/")  # still the last good map, not an error page
    assert not (site / ".stepstone/preview/_stepstone/index.html").exists()  # drawn on request, never saved


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_the_funnel_map_draws_every_step_and_previews_a_visitor_at_a_step(tmp_path):
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS
    site = funnel_site(tmp_path)
    (site / "content/article.md").write_text(page("Article", "free", "Read on.", tags="[bread]"))
    (site / "content/coupon.md").write_text(page("Coupon", "trial", "Half off.", tags="[bread]",
                                                 offer="{headline: Half off your first loaf, url: 'https://x.example/'}"))
    with serving(site) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        tab = browser.new_page()
        tab.goto(url + "_stepstone/")
        bands = tab.locator("svg g.band")
        assert bands.count() == 8
        assert [bands.nth(i).get_attribute("data-step") for i in range(3)] == ["awareness", "free", "insider"]
        assert bands.nth(1).get_attribute("data-gap") == "true"  # nothing leads into free: no door there
        assert "Half off your first loaf" in tab.locator("svg").text_content()
        assert "content/article.md" in tab.inner_text("body")  # the gap, with its file and line
        tab.goto(url + "article/")
        assert tab.locator('[data-stepstone="offer"]').get_attribute("data-offer-step") == "insider"
        assert tab.locator("#stepstone-devbar").is_visible()
        tab.goto(url + "_stepstone/")
        with tab.expect_navigation():
            tab.click('button[data-visitor-step="insider"]')
        tab.goto(url + "article/")
        assert tab.locator('[data-stepstone="offer"]').get_attribute("data-offer-step") == "trial"
        assert tab.locator("#stepstone-devbar select").input_value() == "insider"
        browser.close()
    build = subprocess.run([*STEPSTONE, "build", "--site", str(site)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert not (site / "output/_stepstone").exists()  # the map is never part of a build


TRAVERSALS = ["/../stepstone.toml", "/../../stepstone.toml", "/%2e%2e/%2e%2e/stepstone.toml",
              "/%2E%2E%2F%2E%2E%2Fstepstone.toml", "/..%2f..%2fstepstone.toml", "/..%5c..%5cstepstone.toml",
              "/%252e%252e/%252e%252e/stepstone.toml", "/about/../../../stepstone.toml",
              "/..;/..;/stepstone.toml", "//etc/passwd", "/%2e%2e/submissions.jsonl", "/../submissions.jsonl",
              "/" + "%2e%2e/" * 12 + "etc/passwd"]


def test_the_dev_server_serves_nothing_outside_the_preview_folder(site):
    (site / ".stepstone").mkdir(exist_ok=True)
    (site / ".stepstone/submissions.jsonl").write_text('{"email": "private@example.com"}\n')
    with serving(site) as (url, _):
        port = int(url.rsplit(":", 1)[1].strip("/"))
        for path in TRAVERSALS:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.putrequest("GET", path, skip_host=False)  # sent as written: no client-side clean-up
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert response.status in (400, 403, 404), (path, response.status)
            assert b"base_url" not in body and b"private@example.com" not in body and b"root:" not in body, path


def test_the_dev_server_listens_on_this_machine_only_by_default():
    from generator.cli import main
    serve = main.commands["serve"]
    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
