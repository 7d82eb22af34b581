"""The funnel rules (SPEC §1 and the transgressions of §4), tested on plain Page objects.

`generator.funnel` does no I/O, so every test builds its pages in memory. Each
front matter key a page sets is given a fixed line (see LINES), so a problem's
Location says which key it blames.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from generator import content, funnel
from generator.errors import Location
from generator.funnel import LIFECYCLE, RELATIONSHIP, Funnel, Link, MenuEntry, Step

TODAY = dt.date(2026, 11, 23)
REPO = Path(__file__).resolve().parent.parent

# The line each front matter key is written on, in every test page.
LINES = {"title": 2, "step": 3, "tags": 4, "weight": 5, "next": 6, "offer": 7, "form": 8,
         "thank_you": 9, "coupon": 10, "cross_sell": 11}


# --- building pages ------------------------------------------------------------

def source(name: str) -> str:
    return f"content/{name}.md"


def at(name: str, key: str) -> Location:
    """Where key `key` of page `name` is written."""
    return Location(source(name), LINES[key])


def room(name: str, step: str, *, title: str = "", **front) -> content.Page:
    """A page without an offer: block."""
    url = "/" if name == "index" else "/" + name.removesuffix("_index").rstrip("/") + "/"
    keys = ["title", "step", *(k for k in front if k in LINES)]
    return content.Page(name=name, source=source(name), url=url, title=title or name, step=step,
                        body_start=1, origins=tuple((k, source(name), LINES[k]) for k in keys), **front)


def door(name: str, step: str, *, url: str = "", **front) -> content.Page:
    """A page with an offer: block (a button to `url` when given)."""
    return room(name, step, offer=content.Offer(headline=f"Offer of {name}", url=url), **front)


def coupon(expires: dt.date) -> content.Coupon:
    return content.Coupon(code="FIRSTCOUCH", price="$29", expires=expires)


def healthy() -> list[content.Page]:
    """A small site with no gaps: home → guides (free door) → a guide → the insider signup."""
    return [
        room("index", "awareness"),
        door("guides/_index", "free"),
        room("guides/stains", "free"),
        door("insider/signup", "insider", form="signup"),
    ]


# --- running the rules ---------------------------------------------------------

def run(pages, *, links=(), menu=(), steps=RELATIONSHIP, forms=("signup",), today=TODAY) -> funnel.Plan:
    return funnel.plan(Funnel(steps), pages, links, menu, set(forms), today)


def problems_at(result: funnel.Plan, location: Location) -> list[tuple[str, str]]:
    return [(p.severity, p.message) for p in result.problems if p.location == location]


def errors(result: funnel.Plan) -> list[funnel.Problem]:
    return [p for p in result.problems if p.severity == "error"]


def only_warning(result: funnel.Plan, location: Location) -> str:
    """The message of the one warning at `location`, failing if there is not exactly one."""
    found = problems_at(result, location)
    assert [severity for severity, _ in found] == ["warning"], found
    return found[0][1]


# --- the steps -------------------------------------------------------------------

def test_default_funnel_is_the_eight_relationship_steps_with_the_first_two_public():
    default = Funnel()
    assert default.ids == ("awareness", "free", "insider", "trial", "delight", "core",
                           "referral", "advocate")
    assert [s.id for s in default.steps if s.public] == ["awareness", "free"]


def test_lifecycle_preset_has_the_seven_stages_in_order():
    assert funnel.PRESETS["lifecycle"] is LIFECYCLE
    assert Funnel(LIFECYCLE).ids == ("attract", "capture", "nurture", "convert", "satisfy",
                                     "upsell", "refer")
    assert Funnel(LIFECYCLE).after("attract") == "capture"
    assert Funnel(LIFECYCLE).after("refer") is None


def test_lifecycle_preset_matches_the_lifecycle_starter_site():
    config = tomllib.loads((REPO / "generator/starters/lifecycle/stepstone.toml").read_text())
    starter = [(s["id"], s["public"]) for s in config["steps"]]
    assert starter == [(s.id, s.public) for s in LIFECYCLE]


def test_lifecycle_pages_follow_the_same_door_and_room_rules():
    pages = [room("index", "attract"), door("capture/signup", "capture", form="signup"),
             room("capture/welcome", "capture"), door("nurture/course", "nurture", url="https://x.test/")]
    result = run(pages, steps=LIFECYCLE)
    assert result.standing == {"index": "attract", "capture/signup": "attract",
                               "capture/welcome": "capture", "nurture/course": "capture"}
    assert result.cta == {"index": "capture/signup", "capture/signup": "capture/signup",
                          "capture/welcome": "nurture/course", "nurture/course": "nurture/course"}
    assert result.problems == ()


# --- where a page stands -------------------------------------------------------------

def test_a_room_stands_at_its_step_and_a_door_one_step_before():
    result = run(healthy())
    assert result.standing == {"index": "awareness", "guides/_index": "awareness",
                               "guides/stains": "free", "insider/signup": "free"}


def test_a_door_of_the_first_step_stands_at_the_first_step():
    result = run([door("start", "awareness"), room("index", "awareness")])
    assert result.standing["start"] == "awareness"


# --- the primary call to action ------------------------------------------------------

def test_a_healthy_site_has_no_problems_and_every_page_offers_the_next_step():
    result = run(healthy())
    assert result.problems == ()
    assert result.cta == {"index": "guides/_index", "guides/stains": "insider/signup",
                          "insider/signup": "insider/signup"}


def test_next_wins_over_tags_and_weight():
    pages = [room("guides/stains", "free", tags=("stains",), next="insider/plain"),
             door("insider/match", "insider", tags=("stains",), weight=-10),
             door("insider/plain", "insider", weight=10)]
    assert run(pages).cta["guides/stains"] == "insider/plain"


def test_the_door_sharing_most_tags_wins_over_weight():
    pages = [room("guides/stains", "free", tags=("stains", "fabric", "leather")),
             door("insider/one-tag", "insider", tags=("fabric",), weight=1),
             door("insider/two-tags", "insider", tags=("stains", "leather"), weight=99)]
    assert run(pages).cta["guides/stains"] == "insider/two-tags"


def test_a_tie_in_tags_goes_to_the_lowest_weight():
    pages = [room("guides/stains", "free", tags=("stains",)),
             door("insider/a", "insider", tags=("stains",), weight=5, title="Aardvark"),
             door("insider/b", "insider", tags=("stains",), weight=1, title="Zebra")]
    assert run(pages).cta["guides/stains"] == "insider/b"


def test_a_tie_in_tags_and_weight_goes_to_the_title_in_alphabetical_order():
    pages = [room("guides/stains", "free"),
             door("insider/a", "insider", title="Zebra checklist"),
             door("insider/b", "insider", title="Apple checklist")]
    assert run(pages).cta["guides/stains"] == "insider/b"


def test_a_room_never_offers_a_door_that_skips_a_step():
    pages = [room("index", "awareness"), door("guides/_index", "free"), room("guides/stains", "free"),
             door("trial/coupon", "trial", coupon=coupon(dt.date(2026, 12, 31)))]
    result = run(pages)
    assert "guides/stains" not in result.cta  # insider has no door: no CTA rather than trial's
    assert "step 'insider' has no door" in only_warning(result, at("guides/stains", "step"))


def test_a_room_at_the_last_step_offers_nothing():
    pages = [door("advocate/review", "advocate"), room("advocate/thanks", "advocate")]
    assert "advocate/thanks" not in run(pages).cta


@pytest.mark.parametrize("own_offer", [
    {"form": "signup"},
    {"coupon": coupon(dt.date(2026, 12, 31))},
    {"url": "https://book.example.com/"},
], ids=["form", "coupon", "offer-url"])
def test_a_door_with_a_form_coupon_or_url_shows_its_own_offer(own_offer):
    pages = [room("guides/stains", "free"), door("insider/signup", "insider", **own_offer),
             door("trial/coupon", "trial", url="https://book.example.com/")]
    assert run(pages).cta["insider/signup"] == "insider/signup"


def test_a_door_without_form_coupon_or_url_shows_no_cta_not_even_the_next_door():
    pages = [room("guides/stains", "free"), door("insider/signup", "insider"),
             door("trial/coupon", "trial", url="https://book.example.com/")]
    result = run(pages)
    assert "insider/signup" not in result.cta
    assert result.cta["guides/stains"] == "insider/signup"


# --- next: must name a door of the next step ---------------------------------------------

def test_next_naming_a_missing_page_is_an_error_with_a_suggestion():
    pages = [*healthy(), room("guides/chain", "free", next="insider/signp")]
    result = run(pages)
    assert problems_at(result, at("guides/chain", "next")) == [
        ("error", "next: 'insider/signp' is not a page (did you mean 'insider/signup'?)")]
    assert "guides/chain" not in result.cta


def test_next_naming_a_room_is_an_error():
    pages = [*healthy(), room("insider/welcome", "insider"), room("guides/chain", "free", next="insider/welcome")]
    [(severity, message)] = problems_at(run(pages), at("guides/chain", "next"))
    assert severity == "error"
    assert message.startswith("next: 'insider/welcome' must name a door of step 'insider'")


def test_next_naming_a_door_of_another_step_is_an_error():
    pages = [*healthy(), door("trial/coupon", "trial", url="https://book.example.com/"),
             room("guides/chain", "free", next="trial/coupon")]
    [(severity, message)] = problems_at(run(pages), at("guides/chain", "next"))
    assert severity == "error"
    assert message.startswith("next: 'trial/coupon' must name a door of step 'insider'")


def test_next_on_a_page_of_the_last_step_is_an_error():
    pages = [door("advocate/review", "advocate"), room("advocate/thanks", "advocate", next="advocate/review")]
    [(severity, message)] = problems_at(run(pages), at("advocate/thanks", "next"))
    assert severity == "error"
    assert "'advocate' is the last step" in message


# --- unknown steps --------------------------------------------------------------------------

def test_an_unknown_step_is_an_error_at_the_step_line_with_a_suggestion():
    result = run([*healthy(), room("guides/stains-2", "insidr")])
    [problem] = errors(result)
    assert str(problem).startswith(
        "content/guides/stains-2.md:3: error: unknown step 'insidr' (did you mean 'insider'?)")
    assert "guides/stains-2" not in result.standing


def test_a_step_of_another_funnel_is_unknown_in_a_custom_funnel():
    steps = (Step("look", "Look", True), Step("try", "Try", False), Step("buy", "Buy", False))
    [problem] = errors(run([room("index", "look"), room("guides/x", "free")], steps=steps))
    assert problem.location == at("guides/x", "step")
    assert "the steps are: look, try, buy" in problem.message


# --- custom funnels ---------------------------------------------------------------------------

def test_a_custom_funnel_uses_its_own_order():
    steps = (Step("look", "Look", True), Step("try", "Try", False), Step("buy", "Buy", False))
    pages = [room("index", "look"), door("try/sample", "try", form="signup"), room("try/thanks", "try"),
             door("buy/now", "buy", url="https://shop.example.com/"), room("buy/receipt", "buy")]
    result = run(pages, steps=steps)
    assert result.standing == {"index": "look", "try/sample": "look", "try/thanks": "try",
                               "buy/now": "try", "buy/receipt": "buy"}
    assert result.cta == {"index": "try/sample", "try/sample": "try/sample", "try/thanks": "buy/now",
                          "buy/now": "buy/now"}
    assert result.problems == ()


def test_a_custom_funnel_never_skips_a_step_either():
    steps = (Step("look", "Look", True), Step("try", "Try", False), Step("buy", "Buy", False))
    result = run([room("index", "look"), door("buy/now", "buy", url="https://shop.example.com/")], steps=steps)
    assert "index" not in result.cta


# --- transgressions (SPEC §4): warnings, and what must not warn ----------------------------------

def test_a_body_link_more_than_one_step_ahead_warns_at_its_line():
    pages = [*healthy(), door("trial/coupon", "trial", url="https://book.example.com/")]
    result = run(pages, links=[Link("guides/stains", "trial/coupon", 14)])
    message = only_warning(result, Location("content/guides/stains.md", 14))
    assert "'trial/coupon'" in message and "more than one step ahead" in message


def test_a_body_link_to_a_door_one_step_ahead_is_fine():
    links = [Link("index", "guides/_index", 5), Link("guides/stains", "insider/signup", 7)]
    assert run(healthy(), links=links).problems == ()


def test_body_links_backwards_and_sideways_are_fine():
    links = [Link("guides/stains", "index", 5), Link("insider/signup", "guides/stains", 6),
             Link("guides/stains", "guides/_index", 7)]
    assert run(healthy(), links=links).problems == ()


def test_a_door_links_from_where_it_stands_not_from_its_step():
    pages = [*healthy(), door("trial/coupon", "trial", url="https://book.example.com/")]
    # insider/signup stands at 'free': trial is two steps ahead of it.
    result = run(pages, links=[Link("insider/signup", "trial/coupon", 9)])
    assert "more than one step ahead" in only_warning(result, Location("content/insider/signup.md", 9))


def test_a_form_two_steps_before_its_door_warns_at_the_form_line():
    pages = [room("index", "awareness", form="signup"), *healthy()[1:]]
    message = only_warning(run(pages), at("index", "form"))
    assert "'signup'" in message and "'insider/signup'" in message


def test_a_form_one_step_before_its_door_is_fine():
    pages = [*healthy()[:2], room("guides/stains", "free", form="signup"), healthy()[3]]
    assert run(pages).problems == ()


def test_a_step_with_rooms_but_no_door_warns():
    pages = [*healthy(), room("trial/thanks", "trial")]
    found = problems_at(run(pages), at("trial/thanks", "step"))
    assert any(m.startswith("step 'trial' has rooms but no door") for _, m in found), found


def test_the_first_step_needs_no_door():
    assert not any("has rooms but no door" in p.message for p in run(healthy()).problems)


def test_rooms_whose_next_step_has_no_door_warn():
    pages = [room("index", "awareness"), door("guides/_index", "free"), room("guides/stains", "free")]
    message = only_warning(run(pages), at("guides/stains", "step"))
    assert message.startswith("the 1 page(s) of step 'free' show no next step, because step 'insider' has no door")


def test_rooms_of_the_last_step_have_no_next_step_to_miss():
    pages = [*healthy(), door("advocate/review", "advocate"), room("advocate/thanks", "advocate")]
    assert problems_at(run(pages), at("advocate/thanks", "step")) == []


def test_a_door_no_room_of_the_step_before_shows_warns_at_its_offer():
    pages = [*healthy(), door("insider/other", "insider", weight=10)]
    message = only_warning(run(pages), at("insider/other", "offer"))
    assert message.startswith("no page of step 'free' offers this door")


def test_a_door_with_a_form_that_no_room_shows_still_warns():
    pages = [*healthy(), door("insider/other", "insider", weight=10, form="signup")]
    message = only_warning(run(pages), at("insider/other", "offer"))
    assert message.startswith("no page of step 'free' offers this door")


def test_a_door_shown_through_next_does_not_warn():
    pages = [*healthy(), door("insider/other", "insider", weight=10),
             room("guides/chain", "free", next="insider/other")]
    assert run(pages).problems == ()


def test_a_door_of_the_first_step_needs_no_room_before_it():
    pages = [*healthy(), door("contact", "awareness", url="mailto:hello@example.com")]
    assert run(pages).problems == ()


def test_a_gated_page_in_a_menu_warns_at_the_menu_entry():
    menu_line = Location("stepstone.toml", 9)
    result = run(healthy(), menu=[MenuEntry("Checklist", "insider/signup", menu_line)])
    message = only_warning(result, menu_line)
    assert "'Checklist'" in message and "gated" in message


def test_public_pages_and_outside_urls_in_a_menu_are_fine():
    menu = [MenuEntry("Guides", "guides/_index", Location("stepstone.toml", 5)),
            MenuEntry("Home", "index", Location("stepstone.toml", 9)),
            MenuEntry("Shop", "", Location("stepstone.toml", 13))]
    assert run(healthy(), menu=menu).problems == ()


def test_a_menu_follows_the_publicness_of_a_custom_funnel():
    steps = (Step("look", "Look", True), Step("try", "Try", True), Step("buy", "Buy", False))
    pages = [room("index", "look"), door("try/sample", "try"), room("try/thanks", "try"),
             door("buy/now", "buy", url="https://shop.example.com/")]
    menu = [MenuEntry("Thanks", "try/thanks", Location("stepstone.toml", 5)),
            MenuEntry("Buy", "buy/now", Location("stepstone.toml", 9))]
    result = run(pages, menu=menu, steps=steps)
    assert [p.location.line for p in result.problems] == [9]


def test_an_expired_coupon_warns_at_the_coupon_line():
    pages = [*healthy(), room("insider/welcome", "insider"),
             door("trial/coupon", "trial", coupon=coupon(dt.date(2026, 11, 22)))]
    message = only_warning(run(pages), at("trial/coupon", "coupon"))
    assert "expired on 2026-11-22" in message


@pytest.mark.parametrize("expires", [dt.date(2026, 11, 23), dt.date(2026, 12, 31)], ids=["today", "later"])
def test_a_coupon_valid_today_does_not_warn(expires):
    pages = [*healthy(), room("insider/welcome", "insider"), door("trial/coupon", "trial", coupon=coupon(expires))]
    assert run(pages).problems == ()


# --- keep reading: never ahead -------------------------------------------------------------------

def test_keep_reading_offers_only_rooms_at_or_before_where_a_page_stands():
    pages = [*healthy(), room("about", "awareness"), room("guides/chain", "free"),
             room("insider/welcome", "insider"), room("insider/bonus", "insider"),
             door("trial/coupon", "trial", url="https://book.example.com/")]
    result = run(pages)
    assert set(result.related["about"]) == set()  # the only other awareness room is the home page
    assert set(result.related["guides/stains"]) == {"about", "guides/chain"}
    # a door of insider stands at free: insider rooms are still ahead of it
    assert set(result.related["insider/signup"]) == {"about", "guides/stains", "guides/chain"}
    assert set(result.related["insider/welcome"]) == {"insider/bonus", "guides/stains", "guides/chain"}


def test_keep_reading_prefers_shared_tags_and_stops_at_three():
    pages = [room("guides/stains", "free", tags=("stains",)), room("guides/a", "free"),
             room("guides/b", "free"), room("guides/c", "free"), room("guides/d", "free", tags=("stains",))]
    related = run(pages).related["guides/stains"]
    assert len(related) == 3
    assert related[0] == "guides/d"


def test_keep_reading_directly_never_returns_a_page_ahead():
    f = Funnel()
    rooms = [room("about", "awareness"), room("guides/chain", "free"), room("insider/welcome", "insider"),
             room("trial/thanks", "trial")]
    for stand, expected in [(0, {"about"}), (1, {"about", "guides/chain"}),
                            (2, {"guides/chain", "insider/welcome", "about"})]:
        got = funnel.keep_reading(room("x", "trial"), stand, rooms, f)
        assert set(got) == expected, stand


# --- the funnel map ---------------------------------------------------------------------------------

def test_funnel_map_lists_every_step_with_its_doors_rooms_and_their_cta():
    pages = [*healthy(), room("guides/chain", "free")]
    result = run(pages)
    rows = [(row.step.id, row.doors, row.rooms) for row in funnel.funnel_map(Funnel(), pages, result)]
    assert rows == [
        ("awareness", (), (("index", "guides/_index"),)),
        ("free", ("guides/_index",), (("guides/chain", "insider/signup"), ("guides/stains", "insider/signup"))),
        ("insider", ("insider/signup",), ()),
        ("trial", (), ()),
        ("delight", (), ()),
        ("core", (), ()),
        ("referral", (), ()),
        ("advocate", (), ()),
    ]


def test_funnel_map_shows_a_room_without_a_door_to_offer_as_empty():
    pages = [room("index", "awareness"), room("guides/stains", "free")]
    rows = funnel.funnel_map(Funnel(), pages, run(pages))
    assert rows[0].rooms == (("index", ""),)
    assert rows[1].rooms == (("guides/stains", ""),)


@pytest.mark.parametrize("seed, most_tags, limit", [(7, 2, 3), (8, 4, 3), (9, 5, 1), (10, 3, 6)])
def test_keep_reading_for_all_pages_matches_the_one_page_rule(seed, most_tags, limit):
    """The fast batch version gives exactly what keep_reading gives page by page."""
    import datetime as dt
    import random

    from generator.content import Page
    from generator.funnel import RELATIONSHIP, Funnel, keep_reading, keep_reading_all
    rng = random.Random(seed)
    funnel = Funnel(RELATIONSHIP)
    tags = ["a", "b", "c", "d", "e"]
    pages = []
    for i in range(120):
        step = rng.choice(funnel.ids[:4])
        pages.append(Page(name=f"s/p{i}", source=f"content/s/p{i}.md", url=f"/s/p{i}/", title=f"T{i % 17}",
                          step=step, body_start=1,
                          date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(50)) if i % 3 else None,
                          tags=tuple(sorted(rng.sample(tags, rng.randrange(most_tags + 1)))),
                          origins=(("step", f"content/s/p{i}.md", 2),)))
    standing = {p.name: p.step for p in pages}
    fast = keep_reading_all(pages, standing, pages, funnel, limit)
    for p in pages:
        assert fast[p.name] == keep_reading(p, funnel.index(p.step), pages, funnel, limit), p.name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_door_chooser_picks_what_the_one_room_rule_picks(seed):
    """door_chooser (one answer per tag set, doors sorted once) agrees with choose_door room by room,
    ties of tags broken by weight, then title in any case, then name."""
    import random
    rng = random.Random(seed)
    tags = ["a", "b", "c", "d"]
    doors = [door(f"trial/d{i}", "trial", title=rng.choice(["Coupon", "coupon", "Workshop"]),
                  weight=rng.choice([0, 0, 5]), tags=rng.sample(tags, rng.randrange(3))) for i in range(6)]
    rooms = [room(f"insider/r{i}", "insider", tags=rng.sample(tags, rng.randrange(4))) for i in range(60)]
    for count in range(len(doors) + 1):
        choose = funnel.door_chooser(doors[:count])
        for r in rooms:
            assert choose(r) == funnel.choose_door(r, doors[:count]), (count, r.tags)


# --- doors for visitors who have gone further ----------------------------------------

def test_later_doors_offer_one_door_per_step_past_the_next_best_tags_first():
    pages = [*healthy(),
             door("trial/coupon", "trial", tags=("stains",)),
             door("trial/workshop", "trial", tags=("wood",)),
             door("core/plan", "core")]
    result = run(pages, steps=RELATIONSHIP)
    assert result.later["guides/stains"] == (("trial", "trial/coupon"), ("core", "core/plan"))
    # the signup door stands at free (the step before its own), so it, too, offers trial then core
    assert result.later["insider/signup"] == (("trial", "trial/coupon"), ("core", "core/plan"))
    assert result.later["trial/coupon"] == (("core", "core/plan"),)
    assert result.later["core/plan"] == ()  # nothing past referral has a door


def test_later_doors_skip_steps_without_a_door_but_never_the_order():
    pages = [*healthy(), door("core/plan", "core")]
    result = run(pages)
    # home stands at awareness: its CTA offers free; a visitor further along sees insider, or core
    assert result.later["index"] == (("insider", "insider/signup"), ("core", "core/plan"))
    # trial and delight have no door: a visitor at those steps is offered nothing rather than core
    assert [step for step, _ in result.later["guides/stains"]] == ["core"]


# --- the map the owner sees --------------------------------------------------------------

def test_funnel_map_marks_steps_without_a_door_and_doors_nobody_is_offered():
    pages = [*healthy(), room("insider/welcome", "insider"), door("trial/coupon", "trial", tags=("wood",)),
             door("core/plan", "core")]
    result = run(pages)
    rows = {row.step.id: row for row in funnel.funnel_map(Funnel(), pages, result)}
    assert rows["insider"].headlines == ("Offer of insider/signup",)
    assert rows["trial"].unshown == ()            # the insider room offers the coupon
    assert rows["core"].unshown == ("core/plan",)  # no room of delight exists to offer it
    assert rows["delight"].no_door and not rows["awareness"].no_door
    assert rows["free"].no_door is False


def test_orphans_are_gated_rooms_no_signup_lands_on_and_no_page_links_to():
    pages = [*healthy(), room("insider/welcome", "insider"), room("insider/extra", "insider"),
             door("insider/signup2", "insider", form="signup", thank_you="insider/welcome"),
             room("guides/lonely", "free")]
    links = [Link("guides/stains", "insider/extra", 3)]
    assert funnel.orphans(Funnel(), pages, links) == ()
    assert funnel.orphans(Funnel(), pages, []) == ("insider/extra",)  # public rooms are never orphans
