"""What the built HTML promises (SPEC §1, §5): gating, CTAs, menus, listings."""
from conftest import page


def funnel_site(make_site, extra_config=""):
    return make_site({
        "stepstone.toml": f"""\
            title = "Shop"
            base_url = "https://example.com/"
            [[menu]]
            title = "Blog"
            url = "/blog/"
            [[menu]]
            title = "Secret"
            url = "/club/welcome/"
            [forms.signup]
            provider = "generic"
            action = "https://mail.example.com/subscribe"
            {extra_config}
            """,
        "content/index.md": page("Home", "awareness"),
        "content/blog/_index.md": page("Blog", "free", offer="{headline: Read the blog}"),
        "content/blog/post.md": page("Post", "free", tags="[bread]", date="2026-10-01"),
        "content/club/join.md": page("Join", "insider", offer="{headline: Join the club}",
                                     form="signup", thank_you="club/welcome", tags="[bread]"),
        "content/club/welcome.md": page("Welcome", "insider", tags="[bread]", date="2026-10-02"),
    })


def test_gated_pages_are_left_out_of_menus_listings_tags_feed_and_sitemap(make_site, build_site):
    site = funnel_site(make_site)
    result = build_site(site)
    out = site / "output"
    assert any("gated page" in p.message for p in result.problems)  # the menu entry is reported
    home = (out / "index.html").read_text()
    assert 'href="/blog/"' in home and "/club/welcome/" not in home
    listing = (out / "blog/index.html").read_text()
    assert 'href="/blog/post/"' in listing.split('<ul class="page-list">')[1].split("</ul>")[0]
    assert "/club/" not in listing.split('<ul class="page-list">')[1].split("</ul>")[0]
    assert "/club/" not in (out / "tags/bread/index.html").read_text()
    assert "/club/" not in (out / "feed.xml").read_text()
    assert "/club/" not in (out / "sitemap.xml").read_text()
    welcome = (out / "club/welcome/index.html").read_text()
    assert '<meta name="robots" content="noindex">' in welcome
    assert 'rel="canonical"' not in welcome
    assert '<meta name="robots"' not in (out / "blog/post/index.html").read_text()


def test_room_offers_the_next_door_and_the_door_its_own_form(make_site, build_site):
    site = funnel_site(make_site)
    build_site(site)
    post = (site / "output/blog/post/index.html").read_text()
    assert '<body data-step="free"' in post
    assert post.count('data-stepstone="offer"') == 1
    assert 'data-offer-step="insider"' in post and 'href="/club/join/"' in post
    join = (site / "output/club/join/index.html").read_text()
    assert 'data-offer-step="insider"' in join
    assert '<form class="signup" data-stepstone="signup" method="post" ' \
           'action="https://mail.example.com/subscribe">' in join
    assert 'name="website"' in join  # honeypot


def test_a_room_with_form_shows_it_and_sends_to_the_doors_thank_you_page(make_site, build_site):
    site = funnel_site(make_site, extra_config='redirect_field = "next"')
    (site / "content/blog/post.md").write_text(page("Post", "free", form="signup"))
    build_site(site)
    post = (site / "output/blog/post/index.html").read_text()
    assert post.count('data-stepstone="signup"') == 1
    assert '<input type="hidden" name="next" value="https://example.com/club/welcome/">' in post
    assert post.count('data-stepstone="offer"') == 1  # the primary CTA is still the link to the door


def test_the_owners_robots_txt_replaces_the_generated_one(make_site, build_site):
    site = funnel_site(make_site)
    (site / "static").mkdir()
    (site / "static/robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    build_site(site)
    assert (site / "output/robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"


def test_layout_checklist_is_built_in(make_site, build_site):
    site = funnel_site(make_site)
    (site / "content/blog/post.md").write_text(page("List", "free", "- [ ] one\n- [ ] two", layout="checklist"))
    build_site(site)
    html = (site / "output/blog/post/index.html").read_text()
    assert 'class="step-free layout-checklist"' in html
    assert html.count('type="checkbox"') == 2
