"""What coupons and events add to a page, made at build time: a QR code and a calendar file.

Pure functions, no I/O: the QR code is drawn by segno as inline SVG (no image request, no
network) and the .ics text by icalendar (RFC 5545), both the same bytes on every build.
"""
from __future__ import annotations

import datetime as dt


def qr_svg(url: str) -> str:
    """A QR code of `url` as an inline <svg>, dark on white so phones read it in dark mode too."""
    import segno  # imported here: only sites with coupons pay for it
    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(scale=4, border=2, dark="#111", light="#fff", title="QR code: scan to redeem",
                           svgclass="coupon-qr", lineclass=None)


def event_ics(uid: str, title: str, start: dt.datetime, end: dt.datetime | None, location: str, url: str,
              stamp: dt.datetime) -> bytes:
    """One VEVENT in a VCALENDAR, times in UTC: what "Add to calendar" downloads."""
    import icalendar  # imported here: only sites with events pay for it (a tenth of start-up)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Stepstone//Stepstone site generator//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(dt.timezone.utc))
    event.add("dtstart", start.astimezone(dt.timezone.utc))
    event.add("dtend", (end or start + dt.timedelta(hours=1)).astimezone(dt.timezone.utc))
    event.add("summary", title)
    if location:
        event.add("location", location)
    event.add("url", url)
    calendar.add_component(event)
    return calendar.to_ical()
