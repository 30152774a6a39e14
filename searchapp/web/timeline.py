"""A small server-side SVG bar chart of results per year, per month of a year or per day of a
month; each bar leads to its period's results, counted a level finer (the timeline zooms).

The chart is as wide as the page and never scaled: bars are placed in percentages of its width
and its text is in CSS pixels (``.timeline text`` in ``style.css``), so the labels read the same
on a 360 px phone as on a desktop. For that, at most ``MAX_LABELS`` years are labelled (round
years when there are more), a bar is at most ``MAX_BAR`` per cent of the width (one year is a
bar, centred, not a block), and each bar's count is written over it while the counts fit.
"""

from __future__ import annotations

import calendar
from html import escape

from markupsafe import Markup

BARS = 64  # height of the tallest bar, px
COUNT = 16  # room above the bars for the counts
LABEL = 18  # room below them for the years
MAX_LABELS = 8  # a 360 px chart fits eight four-digit years at 12 px
MAX_BAR = 9.0  # per cent of the width
LABEL_STEPS = (1, 2, 5, 10, 20, 50, 100)


def _label_step(slots: int) -> int:
    return next(step for step in LABEL_STEPS if slots / step <= MAX_LABELS) if slots > MAX_LABELS else 1


def _counts_fit(slots: int, top: int) -> bool:
    """Whether every bar's count can be written over it at 360 px (about 7 px a digit)."""
    return 360 / slots >= 7 * len(str(top)) + 4


def _slots(timeline) -> list[str]:
    """The periods drawn: every year between the first and the last (the years with results
    only, over more than 60), every month of the year, every day of the month."""
    found = [period for period, _ in timeline.points]
    if timeline.interval == "month" and timeline.period:
        return [f"{timeline.period}-{month:02d}" for month in range(1, 13)]
    if timeline.interval == "day" and len(timeline.period) == 7:
        year, month = (int(part) for part in timeline.period.split("-"))
        return [f"{timeline.period}-{day:02d}" for day in range(1, calendar.monthrange(year, month)[1] + 1)]
    if timeline.interval == "year" and found:
        first, last = int(found[0]), int(found[-1])
        if last - first <= 60:
            return [str(year) for year in range(first, last + 1)]
    return found


def _label(period: str, interval: str) -> tuple[str, str]:
    """(the label under a bar, the bar's title start) of a period."""
    if interval == "year":
        return period, f"{period} 年"
    parts = period.split("-")
    if interval == "month":
        return f"{int(parts[1])}月", f"{parts[0]} 年 {int(parts[1])} 月"
    return str(int(parts[2])), f"{parts[0]} 年 {int(parts[1])} 月 {int(parts[2])} 日"


def _labelled(period: str, interval: str, index: int, step: int) -> bool:
    if step == 1:
        return True
    if interval == "year":
        return int(period) % step == 0
    return index % step == 0  # 1月, 3月, …; days 1, 6, 11, …


def timeline_svg(timeline, link) -> Markup:
    """The bars of ``timeline`` (``searchapp.results.Timeline``); ``link(period)`` is where a
    bar leads (to the results of that period, counted a level finer)."""
    if timeline is None or not timeline.points:
        return Markup("")
    counts = dict(timeline.points)
    span = _slots(timeline)
    top = max(counts.values()) or 1
    slot = 100 / len(span)
    bar = min(slot * 0.7, MAX_BAR)
    step = _label_step(len(span))
    with_counts = _counts_fit(len(span), top)
    height = COUNT + BARS + LABEL
    what = {"year": "每年", "month": "每月", "day": "每天"}[timeline.interval]
    parts = [f'<svg class="timeline" width="100%" height="{height}" role="img" '
             f'aria-label="{what}的结果数" xmlns="http://www.w3.org/2000/svg">']
    for i, period in enumerate(span):
        count = counts.get(period, 0)
        label, named = _label(period, timeline.interval)
        centre = i * slot + slot / 2
        h = max(BARS * count / top, 2) if count else 0
        title = escape(f"{named}：{count} 篇")
        shapes = (f'<rect class="bar" x="{centre - bar / 2:.2f}%" y="{COUNT + BARS - h:.1f}" '
                  f'width="{bar:.2f}%" height="{h:.1f}"><title>{title}</title></rect>')
        if count and with_counts:
            shapes += (f'<text class="count" x="{centre:.2f}%" y="{COUNT + BARS - h - 4:.1f}" '
                       f'text-anchor="middle">{count}</text>')
        if count:
            url = escape(link(period), quote=True)
            shapes = f'<a href="{url}" aria-label="{title}">{shapes}</a>'
        parts.append(shapes)
        if _labelled(period, timeline.interval, i, step):
            parts.append(f'<text class="year" x="{centre:.2f}%" y="{height - 4}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
