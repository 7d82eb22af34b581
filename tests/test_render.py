"""What the built HTML promises (SPEC §1, §5): gating, CTAs, menus, listings."""
import re

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


# --- lead magnets and offers (issue 4) -------------------------------------------------

def test_each_page_carries_later_doors_in_templates_and_the_progress_script(make_site, build_site):
    site = funnel_site(make_site)
    (site / "content/trial.md").write_text(page("Coupon", "trial", offer="{headline: Half off, url: 'https://x.example/'}",
                                                tags="[bread]"))
    build_site(site)
    post = (site / "output/blog/post/index.html").read_text()
    static = post.split('data-stepstone="cta-slot"')[1].split("</div>")[0]
    assert 'data-offer-step="insider"' in static
    assert '<template data-stepstone="candidate" data-offer-step="trial">' in post
    assert 'href="/trial/"' in post.split('data-offer-step="trial">')[1]
    assert re.search(r'src="/assets/progress\.[0-9a-f]{10}\.js" data-steps="awareness free insider trial', post)
    assert 'data-stand="free" data-room="1"' in post


def test_remember_progress_false_leaves_out_the_script_and_the_candidates(make_site, build_site):
    site = funnel_site(make_site)
    config = site / "stepstone.toml"
    config.write_text(config.read_text().replace('[[menu]]', 'remember_progress = false\n[[menu]]', 1))
    build_site(site)
    post = (site / "output/blog/post/index.html").read_text()
    assert "progress.js" not in post and "<template" not in post and "Forget my progress" not in post
    assert 'data-offer-step="insider"' in post


def test_the_progress_script_stays_under_two_kilobytes():
    from conftest import REPO
    script = REPO / "generator/themes/default/static/assets/progress.js"
    assert script.stat().st_size < 2048  # with its comments: smaller still once minified
    code = script.read_text().split("*/", 1)[1]  # after the comment that says what it does not do
    assert "fetch" not in code and "document.cookie" not in code and "XMLHttpRequest" not in code


def test_a_door_may_embed_its_form_in_the_cta_of_the_step_before(make_site, build_site):
    site = funnel_site(make_site)
    join = site / "content/club/join.md"
    join.write_text(join.read_text().replace("offer: {headline: Join the club}",
                                             "offer: {headline: Join the club, embed_form: true}"))
    result = build_site(site)
    post = (site / "output/blog/post/index.html").read_text()
    cta = post.split('data-stepstone="cta-slot"')[1].split("</aside>")[0]
    assert '<form class="signup" data-stepstone="signup" method="post" action="https://mail.example.com/subscribe"' in cta
    assert 'data-offer-step="insider"' in cta
    assert not [p for p in result.problems if "form" in p.message and "early" in p.message]


def test_an_event_writes_a_calendar_file_beside_its_page(make_site, build_site):
    site = funnel_site(make_site)
    (site / "content/blog/clinic.md").write_text(page(
        "Stain clinic, live", "free", date="2026-11-01",
        event="{start: 2026-12-10T18:30:00-05:00, end: 2026-12-10T19:30:00-05:00, location: 'Main St; room 2'}"))
    build_site(site)
    ics = (site / "output/blog/clinic/clinic.ics").read_bytes()
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and b"\r\nEND:VCALENDAR\r\n" in ics
    for line in [b"DTSTART:20261210T233000Z", b"DTEND:20261211T003000Z", b"DTSTAMP:20261101T000000Z",
                 b"SUMMARY:Stain clinic\\, live", b"LOCATION:Main St\\; room 2",
                 b"URL:https://example.com/blog/clinic/", b"UID:blog-clinic@example.com"]:
        assert line + b"\r\n" in ics
    html = (site / "output/blog/clinic/index.html").read_text()
    assert 'href="/blog/clinic/clinic.ics" download' in html
    assert "Thursday 10 December 2026, 18:30–19:30 (UTC−05:00)" in html


def test_an_event_time_without_its_zone_is_an_error(make_site, build_site):
    import pytest
    from generator.errors import SiteError
    site = funnel_site(make_site)
    (site / "content/blog/clinic.md").write_text(page("Clinic", "free", event="{start: 2026-12-10T18:30:00}"))
    with pytest.raises(SiteError) as caught:
        build_site(site)
    assert any(str(p).startswith("content/blog/clinic.md:4: error: give the event's times with their time zone")
               for p in caught.value.problems)


def test_a_coupon_built_after_its_date_says_so_in_the_html(make_site, build_site):
    site = funnel_site(make_site)
    (site / "content/trial.md").write_text(page(
        "Coupon", "trial", offer="{headline: Half off}", tags="[bread]",
        coupon="{code: LOAF, price: '$5', expires: 2026-11-01, redeem_url: 'https://shop.example.com/?c=LOAF'}"))
    result = build_site(site)
    html = (site / "output/trial/index.html").read_text()
    assert 'data-stepstone="coupon" data-expires="2026-11-01"' in html
    assert 'class="coupon-over" data-stepstone="over">' in html          # shown, not hidden
    assert 'class="coupon-live" data-stepstone="live" hidden>' in html
    assert "<svg" in html and "coupon-qr" in html                         # the QR code, inline
    assert any("the coupon expired on 2026-11-01" in p.message for p in result.problems)


# --- hosting: cacheable assets and share cards (issue 5) ----------------------------------

def test_stylesheet_and_scripts_are_linked_under_content_hashed_names(make_site, build_site):
    site = funnel_site(make_site)
    build_site(site)
    html = (site / "output/blog/post/index.html").read_text()
    css = re.search(r'href="/assets/(style\.([0-9a-f]{10})\.css)"', html)
    assert css and (site / "output/assets" / css.group(1)).read_bytes() == (site / "output/assets/style.css").read_bytes()
    (site / "static/assets").mkdir(parents=True)
    (site / "static/assets/style.css").write_text("body { color: red; }\n")  # the owner's own stylesheet
    build_site(site)
    again = re.search(r'href="/assets/(style\.([0-9a-f]{10})\.css)"', (site / "output/blog/post/index.html").read_text())
    assert again.group(2) != css.group(2)
    assert not (site / "output/assets" / css.group(1)).exists()  # yesterday's stylesheet is gone


def test_public_pages_carry_share_cards_and_gated_pages_do_not(make_site, build_site):
    site = funnel_site(make_site)
    post = site / "content/blog/post.md"
    post.write_text(post.read_text().replace("title: Post", "title: Post\nsummary: Bread \"tips\" & more\nimage: /img/loaf.jpg"))
    build_site(site)
    html = (site / "output/blog/post/index.html").read_text()
    assert '<meta property="og:title" content="Post">' in html
    assert '<meta property="og:description" content="Bread &#34;tips&#34; &amp; more">' in html
    assert '<meta property="og:url" content="https://example.com/blog/post/">' in html
    assert '<meta property="og:image" content="https://example.com/img/loaf.jpg">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    gated = (site / "output/club/welcome/index.html").read_text()
    assert "og:" not in gated and 'rel="canonical"' not in gated and '<meta name="robots" content="noindex">' in gated


def test_pages_shown_to_a_template_are_found_where_the_build_looks_for_them(make_site):
    """A page's HTML is rendered again when a page it shows changes: those are looked for only
    under render.SHOWING_PAGES, so no other key of the context may hold a page."""
    from conftest import REPO, TODAY
    from generator.build import BuildOptions, analyse
    from generator.content import Page
    from generator.render import SHOWING_PAGES, Cta, _pages_in, page_context
    def anywhere(value, found):  # every page a value holds, however deep
        if isinstance(value, Page):
            found.append((value.name, value.meta_digest))
        elif isinstance(value, Cta):
            anywhere(value.door, found)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                anywhere(item, found)
        elif isinstance(value, dict):
            for item in value.values():
                anywhere(item, found)

    seen = set()
    selling = make_site({
        "content/index.md": page("Home", "awareness"),
        "content/trial/a.md": page("A", "trial", offer="{headline: A}", cross_sell="[trial/b]"),
        "content/trial/b.md": page("B", "trial", offer="{headline: B}"),
    })
    for folder in (REPO, REPO / "tests/golden/site", REPO / "generator/starters/lifecycle", selling):
        site = analyse(BuildOptions(site=folder, jobs=1, today=TODAY)).site
        for page_ in site.pages:
            for key, value in page_context(site, page_).items():
                found: list = []
                anywhere(value, found)
                if key in SHOWING_PAGES:  # and each page shown there is found where the build looks
                    seen.update([key] if found else [])
                    looked: list = []
                    _pages_in(value, looked)
                    assert looked == found, (page_.name, key)
                else:
                    assert not found or key == "page", (page_.name, key)
    assert seen == set(SHOWING_PAGES)  # the sample sites show pages under every one of them


def test_a_site_with_other_bodies_keeps_what_was_worked_out_from_its_pages(make_site):
    from conftest import TODAY
    from generator.build import BuildOptions, assemble

    site = assemble(BuildOptions(site=funnel_site(make_site), today=TODAY, jobs=1)).site
    indexes = site.by_name, site.by_url, site.public_pages, site.sections, site.candidates
    bodies = {**site.bodies, "blog/post": site.bodies["blog/post"]}
    again = site.with_bodies(bodies)
    assert again.bodies is bodies and again.pages is site.pages
    assert (again.by_name, again.by_url, again.public_pages, again.sections, again.candidates) == indexes
    assert all(mine is theirs for mine, theirs in zip((again.by_name, again.by_url, again.public_pages, again.sections,
                                                       again.candidates), indexes, strict=True))


def test_the_paths_of_the_extra_pages_are_known_without_making_them(make_site):
    """A build that writes the whole output plans extra_page_paths before the pages render and
    makes extra_pages while they do: the two must name the same files, in the same order."""
    from conftest import REPO, TODAY
    from generator.build import BuildOptions, analyse
    from generator.render import extra_page_paths, extra_pages

    tagged = make_site({
        "content/index.md": page("Home", "awareness", tags="[Zebra, 'two words', café]"),
        "content/blog/a.md": page("A", "free", tags="[zebra, ABC]"),
        "content/club/welcome.md": page("Welcome", "insider", tags="[members-only]"),  # gated: no tag page
    })
    untagged = make_site({"content/index.md": page("Home", "awareness")}, "untagged")
    for folder in (REPO, REPO / "tests/golden/site", tagged, untagged):
        site = analyse(BuildOptions(site=folder, jobs=1, today=TODAY)).site
        assert extra_page_paths(site) == [job.path for job in extra_pages(site)], folder
    assert extra_page_paths(analyse(BuildOptions(site=untagged, jobs=1, today=TODAY)).site) == ["404.html"]
    assert "tags/members-only/index.html" not in extra_page_paths(analyse(BuildOptions(site=tagged, jobs=1,
                                                                                          today=TODAY)).site)
