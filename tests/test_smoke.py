from conftest import page


def test_minimal_site_builds(make_site, build_site):
    site = make_site({
        "content/index.md": page("Home", "awareness"),
        "content/blog/_index.md": page("Blog", "free", offer="{headline: Read the blog}"),
        "content/blog/post.md": page("A post", "free", date="2026-10-01"),
    })
    result = build_site(site)
    html = (site / "output/blog/post/index.html").read_text()
    assert 'data-step="free"' in html
    assert {p.name for p in result.site.pages} == {"index", "blog/_index", "blog/post"}
