"""A small server-side SVG bar chart of results per year; each bar toggles that year's filter.

The chart is as wide as the page and never scaled: bars are placed in percentages of its width
and its text is in CSS pixels (``.timeline text`` in ``style.css``), so the labels read the same
on a 360 px phone as on a desktop. For that, at most ``MAX_LABELS`` years are labelled (round
years when there are more), a bar is at most ``MAX_BAR`` per cent of the width (one year is a
bar, centred, not a block), and each bar's count is written over it while the counts fit.
"""

from __future__ import annotations

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


def timeline_svg(year_buckets, query, toggle_url) -> Markup:
    years = sorted((int(b.value), b.count, b.selected) for b in year_buckets if b.value.isdigit())
    if not years:
        return Markup("")
    first, last = years[0][0], years[-1][0]
    counts = {year: (count, selected) for year, count, selected in years}
    span = list(range(first, last + 1)) if last - first <= 60 else [y for y, _, _ in years]
    top = max(count for _, count, _ in years) or 1
    slot = 100 / len(span)
    bar = min(slot * 0.7, MAX_BAR)
    step = _label_step(len(span))
    with_counts = _counts_fit(len(span), top)
    height = COUNT + BARS + LABEL
    parts = [f'<svg class="timeline" width="100%" height="{height}" role="img" '
             f'aria-label="每年的结果数" xmlns="http://www.w3.org/2000/svg">']
    for i, year in enumerate(span):
        count, selected = counts.get(year, (0, False))
        centre = i * slot + slot / 2
        h = max(BARS * count / top, 2) if count else 0
        css = "bar selected" if selected else "bar"
        title = escape(f"{year} 年：{count} 篇")
        shapes = (f'<rect class="{css}" x="{centre - bar / 2:.2f}%" y="{COUNT + BARS - h:.1f}" '
                  f'width="{bar:.2f}%" height="{h:.1f}"><title>{title}</title></rect>')
        if count and with_counts:
            shapes += (f'<text class="count" x="{centre:.2f}%" y="{COUNT + BARS - h - 4:.1f}" '
                       f'text-anchor="middle">{count}</text>')
        if count or selected:
            url = escape(toggle_url(query, "year", str(year)), quote=True)
            shapes = f'<a href="{url}" aria-label="{title}">{shapes}</a>'
        parts.append(shapes)
        if step == 1 or year % step == 0:
            parts.append(f'<text class="year" x="{centre:.2f}%" y="{height - 4}" '
                         f'text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
