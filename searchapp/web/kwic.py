"""The concordance on the web: the page ``/kwic?q=…`` and ``GET /api/kwic?q=…`` (JSON, or every
line as CSV with ``format=csv``); both from ``searchapp.kwic.concordance``.

Each line links to its article page with the query marked, at its first match
(``?at=<offset>#match-at``: the article page anchors the mark at that offset).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from searchapp import settings
from searchapp.kwic import PARAMS, SORTS, KwicLine, KwicRequest, concordance, csv_chunks, request_from_args
from searchapp.query import QueryError
from searchapp.request import Query, choice_param
from searchapp.web import messages
from searchapp.web.api import check_known
from searchapp.web.download import attachment
from searchapp.web.index import get_index
from searchapp.web.openapi import ERRORS, FILTER_PARAMS, PAGING_PARAMS, json_response

bp = Blueprint("kwic", __name__)

FORMATS = ("json", "csv")
API_PARAMS = (*PARAMS, "format")
SORT_LABELS = {"date": "日期（新→旧）", "left": "左语境", "right": "右语境"}


def kwic_path(kwic: KwicRequest, **changes) -> str:
    """The page of ``kwic`` (with ``changes``: ``sort``, ``page``, …)."""
    params = kwic.to_params(**changes)
    return url_for("kwic.page") + ("?" + urlencode(params) if params else "")


@bp.app_template_global()
def kwic_url(query: Query) -> str:
    """The concordance of a search's query (its q and filters)."""
    return kwic_path(KwicRequest(query))


def article_url(query: Query, line: KwicLine, external: bool = False) -> str:
    """The article of ``line``, the query marked, scrolled to the line's match (``at``: its
    offset in the text; the article page anchors that mark as ``match-at``)."""
    extra = {} if query.aliases else {"aliases": "0"}
    return url_for("pages.article", article_id=line.id, q=query.text, at=line.offset, _external=external,
                   _anchor="match-at", **extra)


def _page(kwic: KwicRequest | None = None, status: int = 200, **context):
    """The page, with the form filled from ``kwic`` (the filters as hidden fields)."""
    kept = ("q", "width", "sort", "page")  # the form's own fields, or a new search's first page
    hidden = [(name, value) for name, value in kwic.to_params() if name not in kept] if kwic else []
    return render_template(
        "kwic.html", kwic=kwic, query=kwic.query if kwic else None, hidden=hidden,
        width=kwic.width if kwic else settings.KWIC_DEFAULT_WIDTH, sort=kwic.sort if kwic else SORTS[0],
        sort_labels=SORT_LABELS, max_width=settings.KWIC_MAX_WIDTH, max_lines=settings.KWIC_MAX_LINES,
        max_articles=settings.KWIC_MAX_ARTICLES, kwic_path=kwic_path, **context), status


@bp.get("/kwic")
def page():
    raw_q = request.args.get("q", "")[:settings.MAX_QUERY_CHARS]
    if not raw_q.strip():
        return _page(result=None, error=None, raw_q="")
    try:
        kwic = request_from_args(request.args)
    except QueryError as error:
        return _page(result=None, error=messages.query_error(error), raw_q=raw_q, status=400)
    result = concordance(get_index(), kwic)
    if kwic.page > result.pages:
        abort(404, description=f"只有 {result.pages} 页")
    csv_params = [*kwic.to_params(page=1, per_page=settings.KWIC_PER_PAGE), ("format", "csv")]
    return _page(kwic, result=result, error=None, raw_q=kwic.query.text,
                 csv_url=url_for("kwic.api") + "?" + urlencode(csv_params),
                 line_url=lambda line: article_url(kwic.query, line))


@bp.get("/api/kwic")
def api():
    check_known(API_PARAMS)
    chosen = choice_param(request.args, "format", FORMATS, FORMATS[0], ignore_case=True)
    kwic = request_from_args(request.args)
    result = concordance(get_index(), kwic)

    def url(line: KwicLine) -> str:
        return article_url(kwic.query, line, external=True)

    if chosen == "json":
        return jsonify(result.to_dict(url))
    response = Response("".join(csv_chunks(result, url)), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = attachment("kwic.csv")
    response.headers["X-Total-Lines"] = str(result.total_lines)
    response.headers["X-Truncated"] = "true" if result.truncated else "false"
    return response


_ALIASES = [p for p in PAGING_PARAMS if p["name"] == "aliases"]
_KWIC_PARAMS = [
    {"name": "width", "in": "query", "required": False,
     "description": "Characters of context either side of a match.",
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.KWIC_MAX_WIDTH,
                "default": settings.KWIC_DEFAULT_WIDTH}},
    {"name": "sort", "in": "query", "required": False,
     "description": "date: newest first (ties: index order, then place in the article); left: by the "
                    "left context read from the match outwards; right: by the right context. Sorting "
                    "folds traditional to simplified characters; ties keep the date order.",
     "schema": {"type": "string", "enum": list(SORTS), "default": SORTS[0]}},
    {"name": "page", "in": "query", "required": False, "description": "Which page of lines (JSON only).",
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.KWIC_MAX_LINES, "default": 1}},
    {"name": "per_page", "in": "query", "required": False, "description": "Lines per page (JSON only).",
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.KWIC_MAX_PER_PAGE,
                "default": settings.KWIC_PER_PAGE}},
    {"name": "format", "in": "query", "required": False,
     "description": "json: one page of lines; csv: every line (a header row, UTF-8 with a byte order mark).",
     "schema": {"type": "string", "enum": list(FORMATS), "default": FORMATS[0]}},
]

OPENAPI_SCHEMAS = {
    "KwicLine": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "title", "date", "year", "when", "left", "match", "right", "offset", "term", "url"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "date": {"type": "string", "description": "ISO date; \"\" when not known"},
            "year": {"type": ["integer", "null"]},
            "when": {"type": "string", "description": "the date as a hit shows it: 2023-05-01, "
                                                      "2023 年 5 月，日期不详, 2023 年，日期不详 (\"\": not known)"},
            "left": {"type": "string", "maxLength": settings.KWIC_MAX_WIDTH,
                     "description": "the characters before the match (plain text, not HTML); a run of "
                                    "whitespace holding a line break shown as one ¶"},
            "match": {"type": "string", "minLength": 1,
                      "description": "the original characters matched (traditional ones for a simplified query)"},
            "right": {"type": "string", "maxLength": settings.KWIC_MAX_WIDTH},
            "offset": {"type": "integer", "minimum": 0,
                       "description": "where the match starts in the article's text (characters)"},
            "term": {"type": "string", "description": "the query string matched (normalised)"},
            "url": {"type": "string", "description": "the article page, the query marked, at its first match"},
        },
    },
    "KwicResult": {
        "type": "object", "additionalProperties": False,
        "required": ["query", "strings", "total_lines", "articles", "search_total", "truncated", "page",
                     "per_page", "pages", "sort", "width", "aliases", "lines"],
        "properties": {
            "query": {"type": "string"},
            "strings": {"type": "array", "items": {"type": "string"},
                        "description": "the strings whose occurrences are listed (the query's terms, not "
                                       "excluded ones; with aliases, the places' other names)"},
            "total_lines": {"type": "integer", "minimum": 0,
                            "description": "every occurrence in the matching articles (unless truncated)"},
            "articles": {"type": "integer", "minimum": 0, "description": "articles the lines come from"},
            "search_total": {"type": "integer", "minimum": 0,
                             "description": "articles the query matches, as /api/search counts them"},
            "truncated": {"type": "boolean",
                          "description": f"a cap was reached ({settings.KWIC_MAX_LINES} lines or "
                                         f"{settings.KWIC_MAX_ARTICLES} articles): the newest are listed"},
            "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "sort": {"type": "string", "enum": list(SORTS)},
            "width": {"type": "integer", "minimum": 1},
            "aliases": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/KwicLine"}},
        },
    },
}

_JSON_OK = json_response("KwicResult", "format=json: one page of lines. format=csv: every line, a header "
                         "row (id,title,date,year,offset,term,left,match,right,url) then one row per line; "
                         "X-Total-Lines and X-Truncated say how many and whether a cap was reached.")
_OK = {**_JSON_OK,
       "content": {**_JSON_OK["content"], "text/csv": {"schema": {"type": "string"}}},
       "headers": {"X-Total-Lines": {"description": "format=csv: the number of rows after the header",
                                     "schema": {"type": "integer"}},
                   "X-Truncated": {"description": "format=csv: whether a cap was reached",
                                   "schema": {"type": "string", "enum": ["true", "false"]}}}}

OPENAPI_PATHS = {
    "/api/kwic": {"get": {
        "summary": "Concordance (keyword in context): every occurrence of the query's strings",
        "description": "One line per occurrence of each of the query's strings in the normalised text of "
                       "the matching articles (non-overlapping, as str.count counts; a term of several words "
                       "only where it stands whole), with `width` characters of original text either side.",
        "operationId": "kwic",
        "parameters": FILTER_PARAMS + _ALIASES + _KWIC_PARAMS,
        "responses": {"200": _OK, **ERRORS},
    }},
}
