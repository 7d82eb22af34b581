"""Nothing leaked: values from front matter and config are escaped wherever they land, addresses
that run scripts are refused, raw HTML can be switched off, and no secret reaches output/."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASIC_CONFIG, page, write_site
from generator.errors import SiteError
from generator.urls import unsafe_scheme

EVIL = '<script>alert(1)</script>" onmouseover="alert(2)'


def built_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*"))
                     if p.suffix in (".html", ".xml", ".txt", ".ics", ".json"))


# --- the rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "java\tscript:alert(1)", "java\nscript:x", "data:text/html,<script>x</script>",
                                 "vbscript:msgbox", "file:///etc/passwd"])
def test_script_and_local_schemes_are_unsafe(url):
    assert unsafe_scheme(url)


@pytest.mark.parametrize("url", ["https://example.com/?a=1", "http://x.example", "mailto:hi@example.com",
                                 "tel:+15551234", "/guides/", "guide/", "#top", "", "page.md", "a:b/"[2:]])
def test_web_addresses_and_paths_are_safe(url):
    assert unsafe_scheme(url) == ""


# --- escaping ------------------------------------------------------------------------------------

def test_front_matter_and_config_values_are_escaped_everywhere(make_site, build_site):
    site = make_site({
        "stepstone.toml": f"description = '''About {EVIL}'''\nauthor = '''Ann {EVIL}'''\n"
        + BASIC_CONFIG.replace('title = "Test Site"', f"title = '''Shop {EVIL}'''"),
        "content/index.md": "---\ntitle: Home\nstep: awareness\nsummary: '" + EVIL.replace("'", "''") + "'\n"
                            "tags: ['t " + EVIL.replace("'", "''") + "']\n---\nWelcome.\n",
        "content/guide.md": "---\ntitle: '" + EVIL.replace("'", "''") + "'\nstep: free\n"
                            "summary: '<b>bold</b> & \"q\"'\ntags: ['<img src=x onerror=alert(3)>']\n"
                            "offer:\n  headline: '<i>h</i> " + EVIL.replace("'", "''") + "'\n"
                            "  text: '<u>t</u>'\n  button: '<b>Go</b>'\n"
                            "  url: 'https://shop.example.com/?a=1&b=\"><script>alert(4)</script>'\n---\nBody.\n",
    })
    build_site(site)
    text = built_text(site / "output")
    assert "<script>alert(" not in text and "onerror=alert(3)>" not in text
    html = "\n".join(p.read_text() for p in (site / "output").rglob("*.html"))
    assert 'onmouseover="alert' not in html
    assert "<b>bold</b>" not in text and "<i>h</i>" not in text and "<b>Go</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (site / "output/guide/index.html").read_text()
    assert "https://shop.example.com/?a=1&amp;b=&#34;&gt;&lt;script&gt;" in (site / "output/guide/index.html").read_text()


# --- addresses that run scripts ---------------------------------------------------------------------

def test_script_addresses_in_front_matter_and_config_are_refused_with_their_lines(make_site, build_site):
    site = make_site({
        "stepstone.toml": 'image = "javascript:alert(1)"\n' + BASIC_CONFIG + '\n[[menu]]\ntitle = "Bad"\n'
                                         'url = "JavaScript:alert(2)"\n',
        "content/index.md": page("Home", "awareness", "Welcome.", image="'data:text/html,<script>x</script>'"),
        "content/offer.md": "---\ntitle: Offer\nstep: insider\noffer:\n  headline: Go\n"
                            "  url: ' javascript:alert(3)'\n---\nText.\n",
        "content/coupon.md": "---\ntitle: Coupon\nstep: trial\ncoupon:\n  code: X\n"
                             "  redeem_url: 'vbscript:msgbox'\n---\nText.\n",
    })
    with pytest.raises(SiteError) as caught:
        build_site(site)
    lines = [str(p) for p in caught.value.problems if p.severity == "error"]
    assert "stepstone.toml:1: error: 'image' is a 'javascript:' address, which a link may not use: give a web " \
           "address like https://example.com/page, a path like /guides/, or a mailto: or tel: address" in lines
    assert any(line.startswith("stepstone.toml:11: error: 'url' is a 'javascript:' address") for line in lines)
    assert any(line.startswith("content/index.md:4: error: 'image' is a 'data:' address") for line in lines)
    assert any(line.startswith("content/offer.md:6: error: 'offer.url' is a 'javascript:' address") for line in lines)
    assert any(line.startswith("content/coupon.md:6: error: 'coupon.redeem_url' is a 'vbscript:' address")
               for line in lines)
    assert not (site / "output").exists()


def test_a_script_address_in_a_form_action_is_refused(make_site, build_site):
    site = make_site({"stepstone.toml": BASIC_CONFIG.replace("https://mail.example.com/subscribe", "javascript:x"),
                      "content/index.md": page("Home", "awareness")})
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert any("'action' is a 'javascript:' address" in str(p) for p in caught.value.problems)


def test_markdown_links_that_run_scripts_are_not_links(make_site, build_site):
    site = make_site({"content/index.md": page("Home", "awareness", "[a](javascript:alert(1)) [b](JAVASCRIPT:x) "
                                                                    "[c](data:text/html,x) ![d](javascript:y)")})
    build_site(site)
    html = (site / "output/index.html").read_text()
    assert 'href="javascript' not in html.lower() and 'src="javascript' not in html.lower()
    assert 'href="data:' not in html


# --- raw HTML ---------------------------------------------------------------------------------------

RAW = "Hello <b>bold</b>.\n\n<script>alert(1)</script>\n\n<a href=\"javascript:alert(2)\">x</a>\n"


def test_raw_html_is_the_owners_own_by_default(make_site, build_site):
    site = make_site({"content/index.md": page("Home", "awareness", RAW)})
    build_site(site)
    html = (site / "output/index.html").read_text()
    assert "<b>bold</b>" in html and "<script>alert(1)</script>" in html


def test_unsafe_html_false_escapes_raw_html_on_every_build_path(make_site, build_site):
    site = make_site({"stepstone.toml": BASIC_CONFIG + "\n[markdown]\nunsafe_html = false\n",
                      "content/index.md": page("Home", "awareness", RAW),
                      "content/plain.md": page("Plain", "free", "No tags here, just *words*.")})
    build_site(site)
    html = (site / "output/index.html").read_text()
    assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="javascript' not in html
    assert "<em>words</em>" in (site / "output/plain/index.html").read_text()
    (site / "stepstone.toml").write_text(BASIC_CONFIG)  # switched back: the cached bodies must not be reused
    build_site(site)
    assert "<b>bold</b>" in (site / "output/index.html").read_text()


def test_a_misspelt_markdown_option_is_named(make_site, build_site):
    site = make_site({"stepstone.toml": BASIC_CONFIG + "\n[markdown]\nunsafe_htm = false\n",
                      "content/index.md": page("Home", "awareness")})
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert [str(p) for p in caught.value.problems if p.severity == "error"] == [
        "stepstone.toml:9: error: unknown key 'unsafe_htm' in [markdown] (did you mean 'unsafe_html'?)"]


# --- secrets --------------------------------------------------------------------------------------

SECRETS = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY", "MAILCHIMP_API_KEY": "0123abcd-us21",
           "STEPSTONE_TOKEN": "ghp_notARealTokenButSecret1234", "DATABASE_URL": "postgres://u:pw@db/x"}


def test_no_secret_from_the_environment_or_the_machine_reaches_output(tmp_path):
    repo = Path(__file__).resolve().parent.parent
    site = tmp_path / "owner-private-folder"
    subprocess.run([sys.executable, "-m", "generator.cli", "new", str(site)], check=True, capture_output=True)
    (site / ".stepstone").mkdir(exist_ok=True)
    (site / ".stepstone/submissions.jsonl").write_text('{"fields": {"email": "private@example.com"}}\n')
    env = {**os.environ, **SECRETS, "PYTHONPATH": str(repo)}
    subprocess.run([sys.executable, "-m", "generator.cli", "build", "--site", str(site)], check=True,
                   capture_output=True, env=env)
    out = site / "output"
    everything = b"\n".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    for value in [*SECRETS.values(), str(tmp_path), "owner-private-folder", "private@example.com",
                  os.environ.get("HOME", "/root"), "submissions.jsonl"]:
        assert value.encode() not in everything, value
    assert not (out / ".stepstone").exists() and not list(out.rglob("*.jsonl"))


def test_config_values_meant_to_stay_private_are_refused_not_published(make_site, build_site):
    """Keys that look like secrets never get through; everything else in the config is public by design."""
    site = make_site({"stepstone.toml": BASIC_CONFIG + 'api_key = "sk_live_secret123"\n'
                                                       'mailchimp_api_key = "abc-us21"\n',
                      "content/index.md": page("Home", "awareness")})
    with pytest.raises(SiteError):
        build_site(site)
    assert not (site / "output").exists()
    site2 = write_site(site.parent / "two", {
        "stepstone.toml": BASIC_CONFIG.replace('action = "https://mail.example.com/subscribe"',
                                               'action = "https://mail.example.com/subscribe"\n'
                                               'api_key = "sk_live_secret123"'),
        "content/index.md": page("Home", "awareness")})
    with pytest.raises(SiteError) as caught:
        build_site(site2)
    assert any("looks like a secret" in str(p) for p in caught.value.problems)
    assert not (site2 / "output").exists()
