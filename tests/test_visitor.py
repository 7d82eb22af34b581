"""What a visitor's browser does with the demo site: per-visitor progression, checklists,
coupons and events, in real headless Chromium (SPEC §1 and §5)."""
import os
import urllib.request

import pytest

from test_browser import ARGS, CHROMIUM, browser, site_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")]

ARTICLE = "guides/stain-basics/"     # free: its static CTA is the insider door
INSIDER_ROOM = "insider/welcome/"    # the thank-you page: reaching it makes an insider
COUPON = "trial/first-couch-coupon/"
EVENT = "delight/stain-clinic/"


@pytest.fixture
def visitor(browser):  # noqa: F811
    context = browser.new_context()
    yield context
    context.close()


def open_page(context, url):
    page = context.new_page()
    page.goto(url, wait_until="load")
    return page


def offered_step(page) -> str | None:
    """The step of the CTA the visitor sees (candidates in <template> are not in the page)."""
    cta = page.locator('[data-stepstone="offer"]')
    if cta.count() == 0:
        return None
    assert cta.count() == 1 and cta.is_visible()
    return cta.get_attribute("data-offer-step")


def test_an_insider_reading_an_article_is_offered_the_trial_not_the_signup(visitor, site_url):  # noqa: F811
    assert offered_step(open_page(visitor, site_url + ARTICLE)) == "insider"
    open_page(visitor, site_url + INSIDER_ROOM)
    page = open_page(visitor, site_url + ARTICLE)
    assert offered_step(page) == "trial"
    assert "first-couch-coupon" in page.locator('[data-stepstone="offer"] a').get_attribute("href")


def test_forget_my_progress_brings_back_the_first_next_step(visitor, site_url):  # noqa: F811
    open_page(visitor, site_url + INSIDER_ROOM)
    page = open_page(visitor, site_url + ARTICLE)
    assert offered_step(page) == "trial"
    note = page.locator('[data-stepstone="progress-note"]')
    assert note.is_visible() and "never sent anywhere" in note.inner_text()
    with page.expect_navigation():
        page.click('[data-stepstone="forget"]')
    assert offered_step(page) == "insider"
    assert page.evaluate("Object.values(localStorage)") == ["free"]  # only this page, read afresh


def test_without_javascript_the_page_shows_the_cta_for_where_it_stands(browser, site_url):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    open_page(context, site_url + INSIDER_ROOM)
    page = open_page(context, site_url + ARTICLE)
    assert offered_step(page) == "insider"
    assert not page.locator('[data-stepstone="progress-note"]').is_visible()
    context.close()


def test_a_link_from_an_email_marks_a_subscriber(visitor, site_url):  # noqa: F811
    assert offered_step(open_page(visitor, site_url + ARTICLE + "?step=insider")) == "trial"
    assert offered_step(open_page(visitor, site_url + "guides/pet-hair/")) == "trial"
    assert offered_step(open_page(visitor, site_url + ARTICLE + "?step=nonsense")) == "trial"


def test_a_door_never_skips_a_step_past_where_the_visitor_is(visitor, site_url):  # noqa: F811
    open_page(visitor, site_url + "core/welcome/")  # a customer of the core offer
    assert offered_step(open_page(visitor, site_url + ARTICLE)) == "referral"
    open_page(visitor, site_url + "advocate/reviews/")  # the last step: nothing further to offer
    assert offered_step(open_page(visitor, site_url + ARTICLE)) is None


def test_with_global_privacy_control_nothing_is_stored(browser, site_url):  # noqa: F811
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
                            "{get: () => true})")
    open_page(context, site_url + INSIDER_ROOM)
    page = open_page(context, site_url + ARTICLE)
    assert offered_step(page) == "insider"
    assert page.evaluate("localStorage.length") == 0
    context.close()


def test_a_checklist_keeps_its_ticks_across_a_reload_and_prints(visitor, site_url):  # noqa: F811
    page = open_page(visitor, site_url + INSIDER_ROOM)
    boxes = page.locator(".prose input[type=checkbox]")
    assert boxes.count() >= 5
    assert not any(boxes.nth(i).is_checked() for i in range(3))
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.reload(wait_until="load")
    assert [boxes.nth(i).is_checked() for i in range(4)] == [True, False, True, False]
    page.evaluate("window.print = () => { window.printed = true }")
    page.click('[data-stepstone="print"]')
    assert page.evaluate("window.printed") is True


def test_a_coupon_shows_its_code_until_its_date_then_says_the_offer_ended(browser, site_url):  # noqa: F811
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.clock.set_fixed_time("2026-11-23T10:00:00")
    page.goto(site_url + COUPON, wait_until="load")
    coupon = page.locator('[data-stepstone="coupon"]')
    assert coupon.get_attribute("data-expires") == "2027-12-31"
    assert page.locator(".coupon-code").is_visible()
    assert page.locator(".coupon svg").is_visible()  # the QR code, drawn at build time
    assert not page.locator('[data-stepstone="over"]').is_visible()
    page.click('[data-stepstone="copy"]')
    page.wait_for_function("document.querySelector('[data-stepstone=copy]').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == "FIRSTCOUCH"

    later = context.new_page()
    later.clock.set_fixed_time("2028-01-01T10:00:00")  # the site was built in 2026: the page turns over anyway
    later.goto(site_url + COUPON, wait_until="load")
    assert later.locator('[data-stepstone="over"]').is_visible()
    assert "This offer has ended" in later.locator('[data-stepstone="over"]').inner_text()
    assert not later.locator(".coupon-code").is_visible()
    context.close()


def test_an_event_offers_its_calendar_file_until_it_has_passed(browser, site_url):  # noqa: F811
    context = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    page = context.new_page()
    page.clock.set_fixed_time("2026-11-23T10:00:00")
    page.goto(site_url + EVENT, wait_until="load")
    when = page.locator('[data-stepstone="when"]').inner_text()
    assert "11 December 2026" in when and "00:30" in when  # 18:30 in New York is 00:30 next day in Berlin
    link = page.locator('a[download]')
    assert link.is_visible() and link.inner_text() == "Add to calendar"
    with urllib.request.urlopen(site_url + EVENT + link.get_attribute("href").rsplit("/", 1)[-1]) as response:
        ics = response.read().decode()
    assert "BEGIN:VEVENT" in ics and "DTSTART:20261210T233000Z" in ics

    later = context.new_page()
    later.clock.set_fixed_time("2027-01-05T10:00:00")
    later.goto(site_url + EVENT, wait_until="load")
    assert later.locator('[data-stepstone="over"]').is_visible()
    assert not later.locator('a[download]').is_visible()
    context.close()


@pytest.mark.parametrize("path", [INSIDER_ROOM, COUPON])
def test_a_checklist_and_a_coupon_print_on_one_page(visitor, site_url, path):  # noqa: F811
    import io

    import pypdf
    page = open_page(visitor, site_url + path)
    pdf = pypdf.PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert len(pdf.pages) == 1
