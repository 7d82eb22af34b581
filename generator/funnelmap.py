"""The funnel map for the owner: as data (`check --format json`) and as the page `serve` shows
at /_stepstone/, an SVG drawn from the site as it stands. Pure functions: no I/O.
"""
from __future__ import annotations

import json
from html import escape
from typing import Any, Iterable

from .errors import Problem
from .funnel import StepSummary, funnel_map, orphans
from .render import Site

WARNING = "#b45309"   # gaps: a step with no door, a door nobody is offered
BAND = "#e8eef2"
GATED = "#dfe6ec"


def map_data(site: Site, problems: Iterable[Problem]) -> dict[str, Any]:
    """The map as plain data: steps with doors (headline, whether any room offers them), rooms
    with their CTA, gaps, orphan pages and every problem with its file and line."""
    rows = funnel_map(site.config.funnel, site.pages, site.plan)
    links = [link for body in site.bodies.values() for link in body.links]
    return {
        "title": site.config.title,
        "pages": len(site.pages),
        "steps": [{
            "id": row.step.id,
            "name": row.step.name,
            "public": row.step.public,
            "doors": [{"page": name, "headline": headline, "offered": name not in row.unshown}
                      for name, headline in zip(row.doors, row.headlines, strict=True)],
            "rooms": [{"page": room, "cta": cta} for room, cta in row.rooms],
            "gaps": _gaps(row),
        } for row in rows],
        "orphans": list(orphans(site.config.funnel, site.pages, links)),
        "problems": [{"path": p.location.path, "line": p.location.line, "severity": p.severity,
                      "message": p.message} for p in problems],
    }


def _gaps(row: StepSummary) -> list[str]:
    gaps = []
    if row.no_door:
        gaps.append(f"no door leads into step '{row.step.id}'")
    gaps += [f"no page of the step before offers the door '{door}'" for door in row.unshown]
    return gaps


def map_json(site: Site, problems: Iterable[Problem]) -> str:
    return json.dumps(map_data(site, problems), indent=2, ensure_ascii=False) + "\n"


def map_svg(data: dict[str, Any]) -> str:
    """One band per step, narrowing like a funnel: name, public or gated, counts of rooms and
    doors, each door's headline; a band with a gap is drawn in the warning colour."""
    steps = data["steps"]
    width, top, rows_svg = 720, 10, []
    for i, step in enumerate(steps):
        lines = [f"{i + 1}. {step['name']} ({'public' if step['public'] else 'gated'}) · "
                 f"{len(step['rooms'])} room{'s' * (len(step['rooms']) != 1)}, "
                 f"{len(step['doors'])} door{'s' * (len(step['doors']) != 1)}"]
        lines += [f"door: {d['headline']}" + ("" if d["offered"] else "  (no room offers it)") for d in step["doors"]]
        lines += [f"⚠ {gap}" for gap in step["gaps"] if "offers the door" not in gap]
        height = 18 + 18 * len(lines)
        inset = 60 * i / max(len(steps) - 1, 1) * 3
        warn = bool(step["gaps"])
        fill = "#fdf1e4" if warn else (BAND if step["public"] else GATED)
        stroke = WARNING if warn else "#9aa8b3"
        text = "".join(_text(inset + 16, top + 22 + 18 * n, line, n == 0) for n, line in enumerate(lines))
        rows_svg.append(
            f'<g class="band" data-step="{escape(step["id"])}" data-public="{str(step["public"]).lower()}"'
            f' data-gap="{str(warn).lower()}"><rect x="{inset:.0f}" y="{top}" width="{width - 2 * inset:.0f}"'
            f' height="{height}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{2 if warn else 1}"/>{text}</g>')
        top += height + 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {top + 2}" width="{width}"'
            f' role="img" aria-label="Funnel of {escape(data["title"])}">' + "".join(rows_svg) + "</svg>")


def _text(x: float, y: int, line: str, heading: bool) -> str:
    weight = ' font-weight="700"' if heading else ""
    colour = WARNING if line.startswith("⚠") else "#1d2327"
    return (f'<text x="{x:.0f}" y="{y}" font-size="{14 if heading else 13}"{weight} fill="{colour}">'
            f"{escape(line)}</text>")


def map_page(site: Site, problems: Iterable[Problem]) -> str:
    """The owner's page at /_stepstone/ under `serve`: the drawn funnel, the step switcher,
    orphans and problems. It is written only into serve's preview, never by `build`."""
    data = map_data(site, problems)
    key = "stepstone:" + site.config.base_path
    buttons = "".join(f'<button type="button" data-visitor-step="{escape(s["id"])}">{escape(s["name"])}</button>'
                      for s in data["steps"])
    problem_items = "".join(
        f'<li class="{p["severity"]}"><code>{escape(p["path"])}:{p["line"]}</code> {p["severity"]}: '
        f'{escape(p["message"])}</li>' for p in data["problems"]) or "<li>None: every step leads to the next.</li>"
    orphan_items = "".join(f"<li><code>{escape(o)}</code></li>" for o in data["orphans"]) or "<li>None.</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Funnel map · {escape(site.config.title)}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 760px; padding: 0 1rem; color: #1d2327; }}
svg {{ max-width: 100%; height: auto; }} button {{ font: inherit; margin: 0 .3rem .3rem 0; padding: .3rem .7rem;
border: 1px solid #9aa8b3; border-radius: 6px; background: #fff; cursor: pointer; }}
button[aria-pressed="true"] {{ background: #1d2327; color: #fff; }}
li.warning code, li.error code {{ color: {WARNING}; }}
</style></head>
<body>
<h1>Funnel of {escape(site.config.title)}</h1>
<p>{data["pages"]} pages. This page is only for you, under <code>stepstone serve</code>: it is never built.</p>
{map_svg(data)}
<h2>Preview as a visitor at step…</h2>
<p id="visitor-steps"><button type="button" data-visitor-step="">A first-time visitor</button>{buttons}</p>
<p>Then open any page: its call to action is the one that visitor sees.</p>
<h2>Orphan pages</h2><p>Gated pages no signup lands on and no page links to. That is right for a page an
outside system sends people to (a booking or payment confirmation); any other is never reached:</p>
<ul>{orphan_items}</ul>
<h2>Problems</h2><ul>{problem_items}</ul>
<script>
(function () {{
  var key = {json.dumps(key)}, now = localStorage.getItem(key) || "";
  document.querySelectorAll("[data-visitor-step]").forEach(function (b) {{
    b.setAttribute("aria-pressed", String(b.dataset.visitorStep === now));
    b.addEventListener("click", function () {{
      if (b.dataset.visitorStep) localStorage.setItem(key, b.dataset.visitorStep); else localStorage.removeItem(key);
      location.reload();
    }});
  }});
}})();
</script>
<script src="/_stepstone/overlay.js" defer></script>
</body></html>
"""
