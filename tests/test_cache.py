"""The build cache's files keep entries without their text (html.sqlite holds the HTML); the
entries in memory, which the build goes on using, are left as they were."""
from dataclasses import replace

from conftest import TODAY, page
from generator.build import BuildOptions, build
from generator.cache import BuildCache, _slim


def test_entries_are_saved_without_text_and_left_whole_in_memory(make_site, tmp_path):
    site = make_site({"content/index.md": page("Home", "awareness", "Welcome, *reader*.", summary="Hi")})
    cache = BuildCache()
    build(BuildOptions(site=site, out=tmp_path / "out", today=TODAY, jobs=1), cache)
    assert not hasattr(cache.pages["index"][1], "body")  # a page's text is its source's alone
    body_key, body, *rest = cache.bodies["index"]
    assert "<em>reader</em>" in body.html
    saved = _slim("bodies", (body_key, body, *rest))[1]
    assert saved == replace(body, html="") and "<em>reader</em>" in body.html
    entry = cache.sources["index.md"]
    assert entry.parsed.body
    kept = _slim("sources", entry)
    assert kept.parsed == replace(entry.parsed, body="") and kept.digest == entry.digest and entry.parsed.body
