"""Trends: ``/trends?q=A&q=B…`` (a page with a server-side SVG line chart) and ``/api/trends``.

The chart needs no script: it is as wide as the page and never scaled (points placed in
percentages of its width, text in CSS pixels, as the timeline), one line per query, each point a
link to the search for that query in that period (within the dates asked for). Its x axis is time:
every year (month) from the first to the last, a period without articles a gap in the lines.
Below it a table gives the same numbers.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request, url_for
from markupsafe import Markup

from indexer.dates import YEAR, DateRange
from searchapp import trends as core_trends
from searchapp.query import QueryError
from searchapp.request import FILTER_PARAMS, Query, check_text, query_from_args
from searchapp.web.api import check_known
from searchapp.web.index import get_index
from searchapp.web.openapi import ERRORS, FILTER_PARAMS as FILTER_DESCRIPTIONS, PAGING_PARAMS, json_response

bp = Blueprint("trends", __name__)

MEASURES = ("per_1000", "count")
API_PARAMS = (*FILTER_PARAMS, "aliases", "interval")
HEIGHT = 180  # px of the plotting area
TOP = 14  # room above it
BOTTOM = 20  # room below it for the periods
MAX_LABELS = 8


def _request() -> tuple[list[str], Query, str, str]:
    """The queries, the filters beside them, the interval and the measure of this request."""
    if request.path.startswith("/api/"):
        check_known(API_PARAMS)
    texts = []
    for raw in request.args.getlist("q"):
        text = check_text(raw)
        if text:
            query_from_args({"q": text})  # report a query that does not parse, naming q
            if text not in texts:
                texts.append(text)
    filters = {name: request.args.getlist(name) for name in (*FILTER_PARAMS, "aliases")
               if name != "q" and name in request.args}
    within = query_from_args(filters)
    interval = request.args.get("interval") or YEAR
    measure = request.args.get("measure") or "per_1000"
    if measure not in MEASURES:
        raise QueryError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}", "measure",
                         code="not_a_measure")
    return texts, within, interval, measure


@bp.get("/api/trends")
def api_trends():
    texts, within, interval, _ = _request()
    found = core_trends.trends(get_index(), core_trends.check_queries(texts), within, interval)
    return jsonify(found.to_dict())


@bp.get("/trends")
def page():
    texts, within, interval, measure = _request()
    found = core_trends.trends(get_index(), core_trends.check_queries(texts), within, interval) if texts else None
    return render_template("trends.html", texts=texts, within=within, interval=interval, measure=measure,
                           found=found, chart=chart_svg(found, within, measure) if found else Markup(""),
                           more=len(texts) < core_trends.MAX_QUERIES)


def _search_url(text: str, within: Query, period: str) -> str:
    """The search for ``text`` in ``period`` as far as it is within the dates asked for (a
    year's point of a trend filtered to May links to May of that year, not to the year)."""
    dates = DateRange.between(period, period).clipped(within.dates)
    query = within.with_changes(text=text, dates=dates, result_page=1)
    return url_for("pages.search") + "?" + urlencode(query.to_params())


def _axis(periods: list[str], interval: str) -> list[str]:
    """Every year (or month) from the first of ``periods`` to the last: the chart's x is time,
    so a period without articles is a gap in the lines, not a step left out (2022-05 and 2022-12
    are seven months apart, not neighbours)."""
    if interval == YEAR:
        return [str(year) for year in range(int(periods[0]), int(periods[-1]) + 1)]
    first, last = ((int(p[:4]) * 12 + int(p[5:7]) - 1) for p in (periods[0], periods[-1]))
    return [f"{month // 12:04d}-{month % 12 + 1:02d}" for month in range(first, last + 1)]


def _label_step(slots: int) -> int:
    step = 1
    while slots / step > MAX_LABELS:
        step += 1
    return step


def chart_svg(found: core_trends.Trends, within: Query, measure: str) -> Markup:
    """One line per query over the periods; each point links to that query's search in that
    period."""
    periods = [period for period, _ in found.periods]
    if not periods:
        return Markup("")
    axis = _axis(periods, found.interval)
    at = {period: i for i, period in enumerate(axis)}
    slots = [at[period] for period in periods]  # where each period's points are on the axis
    values = [[getattr(point, measure) for point in series.points] for series in found.series]
    top = max((v for line in values for v in line), default=0) or 1
    slot = 100 / len(axis)
    height = TOP + HEIGHT + BOTTOM
    what = "每千篇中的篇数" if measure == "per_1000" else "篇数"
    parts = [f'<svg class="trend" width="100%" height="{height}" role="img" '
             f'aria-label="各时期匹配的{what}" xmlns="http://www.w3.org/2000/svg">',
             f'<text class="axis" x="0" y="{TOP - 3}">最高 {top:g}（{what}）</text>',
             f'<line class="base" x1="0%" x2="100%" y1="{TOP + HEIGHT}" y2="{TOP + HEIGHT}"/>']
    step = _label_step(len(axis))
    for i, period in enumerate(axis):
        if i % step == 0:
            parts.append(f'<text class="period" x="{i * slot + slot / 2:.2f}%" y="{height - 4}" '
                         f'text-anchor="middle">{escape(period)}</text>')
    for number, (series, line) in enumerate(zip(found.series, values)):
        xy = [(i * slot + slot / 2, TOP + HEIGHT - HEIGHT * v / top) for i, v in zip(slots, line)]
        css = f"s{number}"
        for (i, (x1, y1)), (j, (x2, y2)) in zip(zip(slots, xy), zip(slots[1:], xy[1:])):
            if j == i + 1:  # neighbours in time; a period without articles between is a gap
                parts.append(f'<line class="{css}" x1="{x1:.2f}%" y1="{y1:.1f}" x2="{x2:.2f}%" y2="{y2:.1f}"/>')
        for (x, y), point in zip(xy, series.points):
            title = escape(f"{series.q} · {point.period}：{point.count} 篇，每千篇 {point.per_1000:g}")
            url = escape(_search_url(series.q, within, point.period), quote=True)
            parts.append(f'<a href="{url}" aria-label="{title}"><circle class="{css}" cx="{x:.2f}%" '
                         f'cy="{y:.1f}" r="4"><title>{title}</title></circle></a>')
    parts.append("</svg>")
    return Markup("".join(parts))


_POINT = {"type": "object", "additionalProperties": False, "required": ["period", "count", "per_1000"],
          "properties": {"period": {"type": "string", "description": "2023 or 2023-05"},
                         "count": {"type": "integer", "minimum": 0, "description": "matching articles"},
                         "per_1000": {"type": "number", "minimum": 0,
                                      "description": "matching articles per 1,000 articles of the period "
                                                     "(within the same filters)"}}}

OPENAPI_SCHEMAS = {
    "Trends": {
        "type": "object", "additionalProperties": False, "required": ["interval", "filters", "periods", "series"],
        "properties": {
            "interval": {"type": "string", "enum": list(core_trends.INTERVALS)},
            "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "periods": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["period", "articles"],
                "properties": {"period": {"type": "string"},
                               "articles": {"type": "integer", "minimum": 1,
                                            "description": "articles of the archive in the period, within the filters"}}}},
            "series": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["q", "total", "points"],
                "properties": {"q": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
                               "points": {"type": "array", "items": _POINT}}}},
        },
    },
}

OPENAPI_PATHS = {
    "/api/trends": {"get": {
        "summary": "Matching articles per year or month, for up to five queries", "operationId": "trends",
        "description": "Each q is searched as /api/search searches it, within the other filters (which apply "
                       "to every q). per_1000 divides by the articles of the period within the same filters.",
        "parameters": [
            {**FILTER_DESCRIPTIONS[0], "required": True, "style": "form", "explode": True,
             "description": "A query (repeat for up to five).",
             "schema": {"type": "array", "minItems": 1, "maxItems": core_trends.MAX_QUERIES,
                        "items": FILTER_DESCRIPTIONS[0]["schema"]}},
            *FILTER_DESCRIPTIONS[1:],
            *(p for p in PAGING_PARAMS if p["name"] == "aliases"),
            {"name": "interval", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(core_trends.INTERVALS), "default": YEAR}},
        ],
        "responses": {"200": json_response("Trends", "A series per query."), **ERRORS},
    }},
}
