"""``GET /api/export``: a query's whole result set as CSV or JSON Lines (``searchapp.export``),
streamed as it is read, with the total and the cap said in headers; and the search page's
export links (``export_url``)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for

from searchapp import settings
from searchapp.export import EXPORT_PARAMS, FORMATS, export, export_filename, export_options
from searchapp.request import FILTER_PARAMS, Query
from searchapp.web.api import parse_query
from searchapp.web.download import attachment
from searchapp.web.index import get_index
from searchapp.web.openapi import ERRORS, PAGING_PARAMS
from searchapp.web.openapi import FILTER_PARAMS as FILTER_PARAM_DOCS

bp = Blueprint("export", __name__, url_prefix="/api")

ALLOWED_PARAMS = (*FILTER_PARAMS, "aliases", "sort", *EXPORT_PARAMS)
NOT_EXPORTED = ("page", "per_page")  # an export is the whole result set


def _cap() -> int:
    """The app's cap on rows (its EXPORT_MAX_ROWS, at most ``settings.EXPORT_MAX_ROWS``)."""
    return min(int(current_app.config.get("EXPORT_MAX_ROWS", settings.EXPORT_MAX_ROWS)),
               settings.EXPORT_MAX_ROWS)


def _permalinks():
    """``id -> the article page's absolute URL`` (the citation's permalink), usable while the
    rows stream, after the request context is gone: the URLs are built by this request's URL
    adapter, as ``url_for`` builds them."""
    adapter = current_app.create_url_adapter(request)
    return lambda article_id: adapter.build("pages.article", {"article_id": article_id}, force_external=True)


@bp.get("/export")
def export_results():
    query = parse_query(ALLOWED_PARAMS, require_something=True)
    fmt, limit = export_options(request.args, _cap())
    result = export(get_index(), query, limit, _permalinks())
    # A plain generator: the rows need only the searcher they hold, no request context (which
    # ``stream_with_context`` would keep pushed until the response is read or closed).
    response = Response(fmt.chunks(result.rows), content_type=f"{fmt.media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = attachment(export_filename(query, fmt), export_filename(Query(), fmt))
    response.headers["X-Total-Count"] = str(result.total)
    response.headers["X-Export-Limit"] = str(result.limit)
    response.headers["X-Export-Truncated"] = "true" if result.truncated else "false"
    return response


@bp.app_template_global()
def export_url(query: Query, format_name: str) -> str:
    """The export of the result set the page shows (all its pages)."""
    params = [(name, value) for name, value in query.to_params() if name not in NOT_EXPORTED]
    return url_for("export.export_results") + "?" + urlencode([*params, ("format", format_name)])


_HEADERS = {
    "Content-Disposition": {"description": "attachment; the file is named after the query",
                            "schema": {"type": "string"}},
    "X-Total-Count": {"description": "articles the query selects (the search's total)",
                      "schema": {"type": "integer", "minimum": 0}},
    "X-Export-Limit": {"description": "the cap applied: limit, or the server's maximum",
                       "schema": {"type": "integer", "minimum": 1}},
    "X-Export-Truncated": {"description": "true when the total is above the cap: the first X-Export-Limit "
                                          "articles in the search's order were exported",
                           "schema": {"type": "string", "enum": ["true", "false"]}},
}

_PARAMS = [
    *FILTER_PARAM_DOCS,
    *(param for param in PAGING_PARAMS if param["name"] in ("aliases", "sort")),
    {"name": "format", "in": "query", "required": False,
     "description": "csv: a header row, UTF-8 with a byte order mark (for Excel and WPS), lists joined "
                    "with 、; jsonl: one JSON object per line, lists as arrays.",
     "schema": {"type": "string", "enum": list(FORMATS), "default": "csv"}},
    {"name": "limit", "in": "query", "required": False,
     "description": "export at most this many articles (the server's maximum is the default)",
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.EXPORT_MAX_ROWS,
                "default": settings.EXPORT_MAX_ROWS}},
]

_ROWS = ("Columns: id, title, date, year, paper, page_label, city, districts, topics, reporters, "
         "source, url (the article page's absolute URL, the permalink its citation gives), score (0 with "
         "sort=date).")

OPENAPI_PATHS = {
    "/api/export": {"get": {
        "summary": "Export a query's whole result set (not one page) as CSV or JSON Lines",
        "description": "The articles of /api/search with the same parameters, in its order, streamed. "
                       + _ROWS,
        "operationId": "export",
        "parameters": _PARAMS,
        "responses": {
            "200": {"description": "The articles, one per row or line. " + _ROWS, "headers": _HEADERS,
                    "content": {fmt.media_type: {"schema": {"type": "string"}} for fmt in FORMATS.values()}},
            **ERRORS,
        },
    }},
}
OPENAPI_SCHEMAS: dict = {}
