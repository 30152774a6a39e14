"""Browsing by issue: ``/browse/…`` (pages) and ``/api/browse/…`` (the same as JSON).

    /browse                                   the papers
    /browse/<paper>                           its years
    /browse/<paper>/<year>                    the year's months, each a calendar of its days
    /browse/<paper>/<year>/<month>            one month's calendar
    /browse/<paper>/<year>/<month>/<day>      the day's pages (版次), each with its articles
    /browse/<paper>/<year>/<month>/<day>/<page>   one page's articles in page order

``<paper>`` is the paper's key (``searchapp.browse.paper_key``: its name, a ``/`` in it written
``~2F``, so that the router never splits it; ``_``: articles without a paper); ``<page>`` the page's
number (3 for 第3版) or ``p<n>``, its place in the day, as the day gives it. A level with nothing
there (no such paper, a year, month or day without its articles) is a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request

from searchapp import browse
from searchapp.web.api import check_known, error_response
from searchapp.web.index import get_index
from searchapp.web.openapi import OTHER_ERRORS, json_response

bp = Blueprint("browse", __name__)


def _tables():
    index = get_index()
    searcher = index.searcher()
    return searcher, index.facet_table(searcher)


def _answer(level: str, build, **context):
    """The data of one level as JSON (``/api/…``) or as the page; 404 when there is nothing.
    ``build(name)`` makes the data of the paper named so (the ``paper`` key of the URL read)."""
    if request.path.startswith("/api/"):
        check_known(())  # browsing takes no parameters
    try:
        name = browse.paper_name(context["paper"]) if "paper" in context else ""
        data = build(name)
    except browse.NotFound as error:
        if request.path.startswith("/api/"):
            return error_response(404, "not_found", str(error))
        abort(404, description=_chinese_not_found(context))
    if request.path.startswith("/api/"):
        return jsonify(_json(data))
    return render_template("browse.html", level=level, data=data, name=name, **context)


def _chinese_not_found(context: dict) -> str:
    try:
        shown = browse.paper_label(browse.paper_name(context["paper"])) if "paper" in context else ""
    except browse.NotFound:
        return "没有这份报纸"
    return f"{shown} 没有这一天（或这一版）的文章" if context.get("day") else f"没有找到 {shown} 的这一部分"


def _json(data):
    if isinstance(data, browse.Page):
        return data.to_dict()
    if isinstance(data, dict):
        return {key: _json(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_json(value) for value in data]
    return data


@bp.get("/browse", endpoint="papers")
@bp.get("/api/browse", endpoint="api_papers")
def papers():
    _, table = _tables()
    return _answer("papers", lambda _: {"papers": browse.papers(table)})


@bp.get("/browse/<paper>", endpoint="paper")
@bp.get("/api/browse/<paper>", endpoint="api_paper")
def paper(paper: str):
    _, table = _tables()
    return _answer("paper", lambda name: {"paper": paper, "label": browse.paper_label(name),
                                          **browse.years(table, name)},
                   paper=paper)


@bp.get("/browse/<paper>/<int:year>", endpoint="year")
@bp.get("/api/browse/<paper>/<int:year>", endpoint="api_year")
def year(paper: str, year: int):
    _, table = _tables()
    return _answer("year", lambda name: {"paper": paper, "label": browse.paper_label(name),
                                         **browse.year_months(table, name, year)},
                   paper=paper, year=year)


@bp.get("/browse/<paper>/<int:year>/<int:month>", endpoint="month")
@bp.get("/api/browse/<paper>/<int:year>/<int:month>", endpoint="api_month")
def month(paper: str, year: int, month: int):
    _, table = _tables()
    return _answer("month", lambda name: {"paper": paper, "label": browse.paper_label(name),
                                          **browse.month(table, name, year, month)},
                   paper=paper, year=year, month=month)


@bp.get("/browse/<paper>/<int:year>/<int:month>/<int:day>", endpoint="day")
@bp.get("/api/browse/<paper>/<int:year>/<int:month>/<int:day>", endpoint="api_day")
def day(paper: str, year: int, month: int, day: int):
    searcher, table = _tables()
    return _answer("day", lambda name: {"paper": paper, "label": browse.paper_label(name),
                                        **browse.day(searcher, table, name, year, month, day)},
                   paper=paper, year=year, month=month, day=day)


@bp.get("/browse/<paper>/<int:year>/<int:month>/<int:day>/<page>", endpoint="page")
@bp.get("/api/browse/<paper>/<int:year>/<int:month>/<int:day>/<page>", endpoint="api_page")
def page(paper: str, year: int, month: int, day: int, page: str):
    searcher, table = _tables()
    return _answer("page", lambda name: {"paper": paper, "label": browse.paper_label(name),
                                         **browse.page(searcher, table, name, year, month, day, page)},
                   paper=paper, year=year, month=month, day=day)


# -- OpenAPI ------------------------------------------------------------------------------------

_INT = {"type": "integer", "minimum": 0}
_MAYBE = {"type": ["string", "null"]}
_DAY = {"type": ["object", "null"], "additionalProperties": False, "required": ["day", "articles"],
        "properties": {"day": {"type": "integer", "minimum": 1, "maximum": 31}, "articles": _INT}}
_MONTH = {"type": "object", "additionalProperties": False,
          "required": ["year", "month", "weeks", "articles", "month_only", "previous", "next"],
          "properties": {"paper": {"type": "string"}, "label": {"type": "string"},
                         "year": {"type": "integer"}, "month": {"type": "integer", "minimum": 1, "maximum": 12},
                         "weeks": {"type": "array", "description": "weeks from Monday; null outside the month",
                                   "items": {"type": "array", "minItems": 7, "maxItems": 7, "items": _DAY}},
                         "articles": {**_INT, "description": "articles on the month's days"},
                         "month_only": {**_INT, "description": "articles known only to the month"},
                         "previous": {**_MAYBE, "description": "the month before with articles (YYYY-MM)"},
                         "next": {**_MAYBE, "description": "the month after with articles (YYYY-MM)"}}}
_ARTICLE = {"type": "object", "additionalProperties": False,
            "required": ["id", "title", "position", "kind", "reporters", "city"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "position": {"type": "integer"},
                           "kind": {"type": "string"}, "reporters": {"type": "array", "items": {"type": "string"}},
                           "city": {"type": "string"}}}
_PAGE = {"type": "object", "additionalProperties": False, "required": ["page", "label", "page_id", "articles"],
         "properties": {"page": {"type": "string", "description": "the page's key in URLs"},
                        "label": {"type": "string", "description": "版次, e.g. 第3版; \"\" for records"},
                        "page_id": {"type": "string"},
                        "articles": {"type": "array", "items": _ARTICLE}}}
_DAY_RESULT = {"paper": {"type": "string"}, "label": {"type": "string"}, "date": {"type": "string"},
               "pages": {"type": "array", "items": _PAGE}, "articles": _INT,
               "previous": {**_MAYBE, "description": "the day before with articles"},
               "next": {**_MAYBE, "description": "the day after with articles"}}

OPENAPI_SCHEMAS = {
    "BrowsePapers": {"type": "object", "additionalProperties": False, "required": ["papers"], "properties": {
        "papers": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["paper", "label", "articles", "first_year", "last_year"],
            "properties": {"paper": {"type": "string", "description": "the paper's key in URLs (_: no paper)"},
                           "label": {"type": "string"}, "articles": _INT,
                           "first_year": {"type": ["integer", "null"]}, "last_year": {"type": ["integer", "null"]}}}}}},
    "BrowsePaper": {"type": "object", "additionalProperties": False,
                    "required": ["paper", "label", "years", "undated"], "properties": {
                        "paper": {"type": "string"}, "label": {"type": "string"},
                        "years": {"type": "array", "items": {
                            "type": "object", "additionalProperties": False, "required": ["year", "articles"],
                            "properties": {"year": {"type": "integer"}, "articles": _INT}}},
                        "undated": {**_INT, "description": "articles without a date or year"}}},
    "BrowseYear": {"type": "object", "additionalProperties": False,
                   "required": ["paper", "label", "year", "months", "year_only"], "properties": {
                       "paper": {"type": "string"}, "label": {"type": "string"}, "year": {"type": "integer"},
                       "months": {"type": "array", "minItems": 12, "maxItems": 12, "items": _MONTH},
                       "year_only": {**_INT, "description": "articles known only to the year"}}},
    "BrowseMonth": _MONTH,
    "BrowseDay": {"type": "object", "additionalProperties": False,
                  "required": ["paper", "label", "date", "pages", "articles", "previous", "next"],
                  "properties": _DAY_RESULT},
    "BrowsePage": {"type": "object", "additionalProperties": False,
                   "required": ["paper", "label", "date", "pages", "articles", "previous", "next", "page",
                                "previous_page", "next_page"],
                   "properties": {**_DAY_RESULT, "page": _PAGE, "previous_page": _MAYBE, "next_page": _MAYBE}},
}

_NOT_FOUND = {"404": json_response("Error", "No such paper, or no articles there.")}
_PAPER = {"name": "paper", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "the paper's key, as /api/browse lists it: its name with ~, / and \\ written ~7E, ~2F, "
                         "~5C (a name that is _, . or .. escaped whole: ~5F); _ for articles without a paper"}
_YEAR = {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}
_MONTH_P = {"name": "month", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 12}}
_DAY_P = {"name": "day", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 31}}
_PAGE_P = {"name": "page", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "the page's key, as the day lists it"}
_BAD = {"400": json_response("Error", "A parameter was given (browsing takes none).")}


def _path(summary: str, operation: str, schema: str, parameters: list) -> dict:
    return {"get": {"summary": summary, "operationId": operation, "parameters": parameters,
                    "responses": {"200": json_response(schema, summary), **_BAD, **_NOT_FOUND, **OTHER_ERRORS,
                                  "503": json_response("Error", "No index has been built yet.")}}}


OPENAPI_PATHS = {
    "/api/browse": _path("The papers", "browsePapers", "BrowsePapers", []),
    "/api/browse/{paper}": _path("A paper's years", "browsePaper", "BrowsePaper", [_PAPER]),
    "/api/browse/{paper}/{year}": _path("A year's months and their days", "browseYear", "BrowseYear",
                                        [_PAPER, _YEAR]),
    "/api/browse/{paper}/{year}/{month}": _path("A month's calendar", "browseMonth", "BrowseMonth",
                                                [_PAPER, _YEAR, _MONTH_P]),
    "/api/browse/{paper}/{year}/{month}/{day}": _path("A day's pages and their articles", "browseDay", "BrowseDay",
                                                      [_PAPER, _YEAR, _MONTH_P, _DAY_P]),
    "/api/browse/{paper}/{year}/{month}/{day}/{page}": _path(
        "One page's articles in page order", "browsePage", "BrowsePage", [_PAPER, _YEAR, _MONTH_P, _DAY_P, _PAGE_P]),
}
