"""The funnel rules: where each page stands, what it offers next, what breaks the sequence.

Pure functions over plain data, no I/O. A page with an `offer:` is a door of
its step and stands one step before it; every other page is a room and
stands at its step. A room's call to action is a door of the very next step,
never further: "no one proposes on the first date".
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import combinations
from typing import Any, Callable, Collection, Iterable, Mapping, Protocol, Sequence

from .errors import Location, Problem, did_you_mean


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    public: bool
    description: str = ""


RELATIONSHIP = (
    Step("awareness", "Awareness", True, "Say the business exists and what problem it solves."),
    Step("free", "Free value", True, "Give value with no strings attached."),
    Step("insider", "Insider", False, "Deeper value for contact details: a lead magnet behind a signup."),
    Step("trial", "Trial", False, "A first, very small purchase."),
    Step("delight", "Delight", False, "After that first purchase: make a great impression."),
    Step("core", "Core offer", False, "The main product or service."),
    Step("referral", "Referral", False, "Ask a happy customer to refer others."),
    Step("advocate", "Advocate", False, "Repeat customers spreading the word."),
)
LIFECYCLE = (
    Step("attract", "Attract", True, "Be found: say what you do and give value freely."),
    Step("capture", "Capture", False, "Trade a lead magnet for contact details."),
    Step("nurture", "Nurture", False, "Deeper value for subscribers."),
    Step("convert", "Convert", False, "The main sale."),
    Step("satisfy", "Satisfy", False, "Onboard and delight new customers."),
    Step("upsell", "Upsell", False, "The next offer for happy customers."),
    Step("refer", "Refer", False, "Ask for referrals."),
)
PRESETS: Mapping[str, tuple[Step, ...]] = {"relationship": RELATIONSHIP, "lifecycle": LIFECYCLE}


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...] = RELATIONSHIP

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.steps)}

    def index(self, step_id: str) -> int:
        return self._positions[step_id]

    def step(self, step_id: str) -> Step:
        return self.steps[self.index(step_id)]

    def after(self, step_id: str) -> str | None:
        i = self.index(step_id)
        return self.ids[i + 1] if i + 1 < len(self.steps) else None

    @cached_property
    def _public(self) -> frozenset[str]:
        return frozenset(s.id for s in self.steps if s.public)

    def is_public(self, step_id: str) -> bool:
        return step_id in self._public


class FunnelPage(Protocol):
    """What the rules need to know of a page (content.Page provides it)."""

    name: str
    source: str
    title: str
    step: str
    tags: tuple[str, ...]
    weight: int
    date: dt.date | None
    next: str
    form: str
    thank_you: str
    cross_sell: tuple[str, ...]
    offer: Any  # an Offer (headline, text, button, url) on doors
    is_listing: bool
    is_home: bool

    @property
    def is_door(self) -> bool: ...
    @property
    def has_own_offer(self) -> bool: ...
    @property
    def coupon_expires(self) -> dt.date | None: ...
    def where(self, key: str) -> Location: ...


@dataclass(frozen=True)
class Link:
    """A link in the body of page `source` to page `target`, on `line` of the source file."""

    source: str
    target: str
    line: int


@dataclass(frozen=True)
class MenuEntry:
    title: str
    target: str  # the page the menu URL leads to, "" if none
    location: Location


@dataclass(frozen=True)
class Plan:
    """What the funnel decides for every page of the site."""

    standing: Mapping[str, str]          # page name -> step id it stands at
    cta: Mapping[str, str]               # page name -> door it offers (itself for its own offer)
    related: Mapping[str, tuple[str, ...]]  # page name -> "keep reading" pages (same or earlier step)
    problems: tuple[Problem, ...] = field(default=())
    # page name -> (step, door) for each step past the next: what the per-visitor script may
    # show instead of the CTA to a visitor who has already gone further than the page stands
    later: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class StepSummary:
    """One line of the funnel map: a step, its doors, its rooms and what each room offers."""

    step: Step
    doors: tuple[str, ...]
    rooms: tuple[tuple[str, str], ...]  # (room, door it offers or "")
    headlines: tuple[str, ...] = ()     # each door's offer headline, in the order of `doors`
    unshown: tuple[str, ...] = ()       # doors no room of the step before offers: nobody reaches them
    no_door: bool = False               # a step past the first with no door: nothing leads into it


# --- where a page stands and what it offers ---------------------------------

def standing_index(page: FunnelPage, funnel: Funnel) -> int:
    """Rooms stand at their step; doors at the step before (the first step's doors at it)."""
    i = funnel.index(page.step)
    return max(i - 1, 0) if page.is_door else i


def tag_overlap(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


def choose_door(room: FunnelPage, doors: Sequence[FunnelPage]) -> FunnelPage | None:
    """The door a room offers: most shared tags, then lowest weight, then title."""
    if not doors:
        return None
    return min(doors, key=lambda d: (-tag_overlap(room.tags, d.tags), d.weight, d.title.lower(), d.name))


def door_chooser(doors: Sequence[FunnelPage]) -> Callable[[FunnelPage], FunnelPage | None]:
    """`choose_door` among the same doors for many rooms: the doors put in tie-break order once,
    and one answer per set of tags (rooms of a site share a few tag sets)."""
    ordered = sorted(doors, key=lambda d: (d.weight, d.title.lower(), d.name))
    if len(ordered) < 2:
        only = ordered[0] if ordered else None
        return lambda room: only
    tagged = [(frozenset(d.tags), d) for d in ordered]
    memo: dict[frozenset, FunnelPage] = {}

    def choose(room: FunnelPage) -> FunnelPage | None:
        tags = frozenset(room.tags)
        if tags not in memo:  # the first door with the most shared tags: max keeps the first of equals
            memo[tags] = max(tagged, key=lambda entry: len(tags & entry[0]))[1]
        return memo[tags]

    return choose


def keep_reading(page: FunnelPage, stand: int, rooms: Sequence[FunnelPage],
                 funnel: Funnel, limit: int = 3) -> tuple[str, ...]:
    """Up to `limit` rooms at the page's standing step or before: secondary links never go ahead."""
    candidates = [r for r in rooms if r.name != page.name and not r.is_home and not r.is_listing
                  and funnel.index(r.step) <= stand]
    candidates.sort(key=lambda r: (-tag_overlap(page.tags, r.tags), -funnel.index(r.step),
                                   -(r.date.toordinal() if r.date else 0), r.title.lower(), r.name))
    return tuple(r.name for r in candidates[:limit])


MAX_INDEXED_TAGS = 5  # pages with more tags than this use the plain one-page rule


def keep_reading_all(pages: Sequence[FunnelPage], standing: Mapping[str, str], rooms: Sequence[FunnelPage],
                     funnel: Funnel, limit: int = 3) -> dict[str, tuple[str, ...]]:
    """`keep_reading` for every page at once, in the same order, without comparing every pair.

    Rooms are indexed under every subset of their tags, each list sorted by the
    tie-breakers (latest step first). For a page, rooms sharing k tags are found
    under the k-subsets of its tags, from the first room at or before its step.
    """
    eligible = [r for r in rooms if not r.is_home and not r.is_listing]
    if any(len(set(p.tags)) > MAX_INDEXED_TAGS for p in [*pages, *eligible]):
        return {p.name: keep_reading(p, funnel.index(standing[p.name]), rooms, funnel, limit) for p in pages}
    order = sorted(eligible, key=lambda r: (-funnel.index(r.step), -(r.date.toordinal() if r.date else 0),
                                            r.title.lower(), r.name))
    step_of = {r.name: funnel.index(r.step) for r in order}
    index: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)  # (rank, name), rank-sorted
    for rank, r in enumerate(order):
        tags = sorted(set(r.tags))  # subsets of a sorted list come sorted: one key per set of tags
        for k in range(1, len(tags) + 1):
            for subset in combinations(tags, k):
                index[subset].append((rank, r.name))
    negated = {key: [-step_of[name] for _, name in entries] for key, entries in index.items()}
    up_to: dict[int, list[str]] = {}

    def best(stand: int, tags: tuple[str, ...], count: int) -> list[str]:
        """The first `count` rooms for a page standing at `stand` with `tags`, itself not excluded."""
        chosen: list[str] = []
        for k in range(len(tags), 0, -1):
            if len(chosen) >= count:
                break
            # Of each list, only its first `wanted` rooms from the page's step can be chosen (those
            # before a chosen one are chosen already).
            wanted = count + len(chosen)
            heads = []
            for key in combinations(tags, k):
                if key in index:
                    start = bisect_left(negated[key], -stand)
                    heads += index[key][start:start + wanted]
            for _, name in sorted(heads):
                if len(chosen) >= count:
                    break
                if name not in chosen:
                    chosen.append(name)
        if len(chosen) < count:
            if stand not in up_to:
                up_to[stand] = [r.name for r in order if step_of[r.name] <= stand]
            for name in up_to[stand]:
                if len(chosen) >= count:
                    break
                if name not in chosen:
                    chosen.append(name)
        return chosen

    # Pages that stand alike and share their tags are offered the same rooms, but for themselves:
    # one more is found for each, and the page's own name taken out.
    found: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    result = {}
    for page in pages:
        key = (funnel.index(standing[page.name]), tuple(sorted(set(page.tags))))
        if key not in found:
            found[key] = best(*key, limit + 1)
        result[page.name] = tuple([name for name in found[key] if name != page.name][:limit])
    return result


# --- the whole site ----------------------------------------------------------

def plan(funnel: Funnel, pages: Sequence[FunnelPage], links: Sequence[Link],
         menu: Sequence[MenuEntry], forms: Collection[str], today: dt.date) -> Plan:
    """Decide standing, CTA and secondary links of every page, and find every transgression."""
    decided = decide(funnel, pages, menu, forms, today)
    return replace(decided, problems=decided.problems + tuple(link_problems(funnel, pages, decided.standing, links)))


def decide(funnel: Funnel, pages: Sequence[FunnelPage], menu: Sequence[MenuEntry], forms: Collection[str],
           today: dt.date) -> Plan:
    """`plan` but for the links in bodies: what pages' metadata alone decides (a body edit keeps it)."""
    by_name = {p.name: p for p in pages}
    problems = _references(pages, by_name, forms)
    valid = []
    for p in pages:
        if p.step in funnel.ids:
            valid.append(p)
        else:
            problems.append(Problem(p.where("step"), "error",
                                    f"unknown step '{p.step}'{did_you_mean(p.step, funnel.ids)}; "
                                    f"the steps are: {', '.join(funnel.ids)}"))
    doors = {s: sorted((p for p in valid if p.is_door and p.step == s), key=lambda d: d.name)
             for s in funnel.ids}
    rooms = [p for p in valid if not p.is_door]
    standing = {p.name: funnel.ids[standing_index(p, funnel)] for p in valid}
    choosers = {step: door_chooser(doors[step]) for step in funnel.ids}

    cta: dict[str, str] = {}
    for p in valid:
        if p.is_door:
            if p.has_own_offer:
                cta[p.name] = p.name
            continue
        nxt = funnel.after(p.step)
        if p.next:
            target = by_name.get(p.next)
            if target is None:
                problems.append(Problem(p.where("next"), "error",
                                        f"next: '{p.next}' is not a page{did_you_mean(p.next, by_name)}"))
                continue
            if nxt is None or not target.is_door or target.step != nxt:
                wanted = f"a door of step '{nxt}' (the step after '{p.step}')" if nxt else \
                    f"nothing: '{p.step}' is the last step"
                problems.append(Problem(p.where("next"), "error",
                                        f"next: '{p.next}' must name {wanted}, a page with an offer: block"))
                continue
            cta[p.name] = target.name
        elif nxt is not None:
            door = choosers[nxt](p)
            if door is not None:
                cta[p.name] = door.name

    problems += _transgressions(funnel, valid, by_name, doors, rooms, standing, cta, menu, today)
    related = keep_reading_all([p for p in valid if not p.is_home and not p.is_listing], standing,
                               rooms, funnel)
    return Plan(standing, cta, related, tuple(problems), later_doors(funnel, valid, standing, doors, choosers))


def later_doors(funnel: Funnel, pages: Sequence[FunnelPage], standing: Mapping[str, str],
                doors: Mapping[str, Sequence[FunnelPage]],
                choosers: Mapping[str, Callable[[FunnelPage], FunnelPage | None]] | None = None
                ) -> dict[str, tuple[tuple[str, str], ...]]:
    """For every page, the door it would offer at each step beyond the next (chosen as for a room:
    shared tags, weight, title). A visitor who already stands at step K sees the door of K+1.
    (`choosers`: door_chooser of each step's doors, when the caller has them.)"""
    choosers = choosers or {step: door_chooser(doors[step]) for step in funnel.ids}
    found = {}
    for p in pages:
        start = funnel.index(standing[p.name]) + 2
        choices = [(step, choosers[step](p)) for step in funnel.ids[start:]]
        found[p.name] = tuple((step, door.name) for step, door in choices if door is not None)
    return found


def _references(pages, by_name, forms) -> list[Problem]:
    """Names a page uses that must exist: its form and its thank-you page."""
    found = []
    for p in pages:
        if p.form and p.form not in forms:
            known = f"; the forms in stepstone.toml are: {', '.join(sorted(forms))}" if forms else \
                f"; add a [forms.{p.form}] table to stepstone.toml"
            found.append(Problem(p.where("form"), "error",
                                 f"form '{p.form}' is not defined{did_you_mean(p.form, forms)}{known}"))
        if p.thank_you and p.thank_you not in by_name:
            found.append(Problem(p.where("thank_you"), "error",
                                 f"thank_you: '{p.thank_you}' is not a page{did_you_mean(p.thank_you, by_name)}"))
        elif p.thank_you and by_name[p.thank_you].step != p.step:
            found.append(Problem(p.where("thank_you"), "warning",
                                 f"thank_you: '{p.thank_you}' is a page of step "
                                 f"'{by_name[p.thank_you].step}': the page a signup lands on should be "
                                 f"a room of this door's step, '{p.step}'"))
        if p.thank_you and by_name.get(p.thank_you) is not None and by_name[p.thank_you].is_door:
            found.append(Problem(p.where("thank_you"), "warning",
                                 f"thank_you: '{p.thank_you}' is a door (it has an offer:); the page a "
                                 f"signup lands on should be a room"))
    return found


def link_problems(funnel: Funnel, pages: Sequence[FunnelPage], standing: Mapping[str, str],
                  links: Sequence[Link]) -> list[Problem]:
    """A body link may reach at most one step ahead of where its page stands."""
    found: list[Problem] = []
    by_name = {p.name: p for p in pages}
    rank = {step: i for i, step in enumerate(funnel.ids)}
    here_of = {p.name: rank[standing[p.name]] for p in pages if standing.get(p.name) in rank}  # where links start
    there_of = {p.name: rank[p.step] for p in pages if p.step in rank}  # and where it leads
    for link in links:
        here, there = here_of.get(link.source), there_of.get(link.target)
        if here is not None and there is not None and there > here + 1:
            src, dst = by_name[link.source], by_name[link.target]
            found.append(Problem(Location(src.source, link.line), "warning",
                                 f"links to '{dst.name}' (step {dst.step}), more than one step ahead of "
                                 f"this page (it stands at {standing[src.name]}): offer only the next step, "
                                 f"'{funnel.ids[here + 1]}'"))
    return found


def _transgressions(funnel, pages, by_name, doors, rooms, standing, cta, menu, today):
    found: list[Problem] = []
    index = funnel.index
    # A form belongs to the earliest door that uses it; showing it earlier asks too soon.
    form_doors = {}
    for p in sorted(pages, key=lambda p: (index(p.step), p.name)):
        if p.is_door and p.form:
            form_doors.setdefault(p.form, p)
    for p in pages:
        owner = form_doors.get(p.form) if p.form and not p.is_door else None
        if owner and index(standing[p.name]) < index(owner.step) - 1:
            found.append(Problem(p.where("form"), "warning",
                                 f"shows the '{p.form}' form, which belongs to the door '{owner.name}' "
                                 f"(step {owner.step}), more than one step early: ask for contact "
                                 f"details only after giving something for free"))
    # Gaps: rooms with no door into their step, rooms with no next door, doors nobody shows.
    shown = {door for page, door in cta.items() if door != page}  # a door's own offer shows no door
    for d in list(shown):
        shown.update(by_name[d].cross_sell if d in by_name else ())
    for i, step in enumerate(funnel.ids):
        step_rooms = sorted((r for r in rooms if r.step == step), key=lambda r: r.name)
        nxt = funnel.after(step)
        if step_rooms and i > 0 and not doors[step]:
            found.append(Problem(step_rooms[0].where("step"), "warning",
                                 f"step '{step}' has rooms but no door, so no page leads visitors into it: "
                                 f"add a page with 'step: {step}' and an 'offer:' block"))
        if step_rooms and nxt and not doors[nxt]:
            found.append(Problem(step_rooms[0].where("step"), "warning",
                                 f"the {len(step_rooms)} page(s) of step '{step}' show no next step, because "
                                 f"step '{nxt}' has no door: add a page with 'step: {nxt}' and an 'offer:' block"))
        if i == 0:
            continue
        for d in doors[step]:
            if d.name not in shown:
                before = funnel.ids[i - 1]
                found.append(Problem(d.where("offer"), "warning",
                                     f"no page of step '{before}' offers this door, so visitors never reach "
                                     f"it: give a page of step '{before}' 'next: {d.name}' or matching tags"))
    # Doors of one step may cross-sell each other, nothing else.
    for p in pages:
        for name in p.cross_sell:
            other = by_name.get(name)
            if other is None:
                found.append(Problem(p.where("cross_sell"), "error",
                                     f"cross_sell: '{name}' is not a page{did_you_mean(name, by_name)}"))
            elif not other.is_door or other.step != p.step:
                found.append(Problem(p.where("cross_sell"), "warning",
                                     f"cross_sell: '{name}' is not a door of step '{p.step}': cross-sell "
                                     f"only other offers of the same step"))
    for entry in menu:
        target = by_name.get(entry.target)
        if target is not None and target.step in funnel.ids and not funnel.is_public(target.step):
            found.append(Problem(entry.location, "warning",
                                 f"menu entry '{entry.title}' links to '{target.name}', a gated page "
                                 f"(step {target.step}): menus list only public pages"))
    for p in pages:
        if p.coupon_expires and p.coupon_expires < today:
            found.append(Problem(p.where("coupon"), "warning",
                                 f"the coupon expired on {p.coupon_expires.isoformat()}: "
                                 f"change 'expires:' or take the offer down"))
    return found


def funnel_map(funnel: Funnel, pages: Sequence[FunnelPage], result: Plan) -> tuple[StepSummary, ...]:
    """The map `check` prints and `serve` draws: every step with its doors (and their headlines),
    its rooms and each room's CTA, and its gaps: no door into it, or doors nobody is offered."""
    by_name = {p.name: p for p in pages}
    shown = {door for page, door in result.cta.items() if door != page}
    for door in list(shown):
        shown.update(by_name[door].cross_sell if door in by_name else ())
    by_step: dict[str, list[FunnelPage]] = {}
    for p in sorted(pages, key=lambda p: p.name):
        by_step.setdefault(p.step, []).append(p)
    rows = []
    for i, step in enumerate(funnel.steps):
        mine = by_step.get(step.id, [])
        doors = [p for p in mine if p.is_door]
        rows.append(StepSummary(step,
                                tuple(p.name for p in doors),
                                tuple((p.name, result.cta.get(p.name, "")) for p in mine if not p.is_door),
                                tuple(p.offer.headline for p in doors),
                                tuple(p.name for p in doors if i > 0 and p.name not in shown),
                                i > 0 and not doors))
    return tuple(rows)


def orphans(funnel: Funnel, pages: Sequence[FunnelPage], links: Sequence[Link]) -> tuple[str, ...]:
    """Gated rooms no door leads to: no signup lands on them (thank_you) and no page links to
    them, so no visitor ever reaches them."""
    reached = {p.thank_you for p in pages if p.thank_you} | {link.target for link in links}
    return tuple(sorted(p.name for p in pages if not p.is_door and p.step in funnel.ids
                        and not funnel.is_public(p.step) and p.name not in reached))
