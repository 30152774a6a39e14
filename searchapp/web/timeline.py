"""A small server-side SVG bar chart of results per year; each bar toggles that year's filter."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, LABEL = 640, 90, 16


def timeline_svg(year_buckets, query, toggle_url) -> Markup:
    years = sorted((int(b.value), b.count, b.selected) for b in year_buckets if b.value.isdigit())
    if not years:
        return Markup("")
    first, last = years[0][0], years[-1][0]
    counts = {year: (count, selected) for year, count, selected in years}
    span = list(range(first, last + 1)) if last - first <= 60 else [y for y, _, _ in years]
    top = max(count for _, count, _ in years) or 1
    slot = WIDTH / len(span)
    bar = max(2.0, slot * 0.7)
    parts = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT + LABEL}" role="img" '
             f'aria-label="每年的结果数" xmlns="http://www.w3.org/2000/svg">']
    for i, year in enumerate(span):
        count, selected = counts.get(year, (0, False))
        x = i * slot + (slot - bar) / 2
        h = HEIGHT * count / top if count else 0
        css = "bar selected" if selected else "bar"
        title = f"{year} 年：{count} 篇"
        rect = (f'<rect class="{css}" x="{x:.1f}" y="{HEIGHT - h:.1f}" width="{bar:.1f}" '
                f'height="{max(h, 1 if count else 0):.1f}"><title>{escape(title)}</title></rect>')
        if count or selected:
            url = escape(toggle_url(query, "year", str(year)), quote=True)
            rect = f'<a href="{url}">{rect}</a>'
        parts.append(rect)
        if len(span) <= 16 or i % max(1, len(span) // 8) == 0 or year == last:
            parts.append(f'<text x="{i * slot + slot / 2:.1f}" y="{HEIGHT + LABEL - 3}" '
                         f'text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
