"""The JSON search API: arguments -> core -> ``jsonify(result.to_dict())``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from searchapp import core
from searchapp.highlight import HtmlFormatter
from searchapp.paging import CURSOR_PARAM
from searchapp.query import QueryError
from searchapp.request import (BOUND_PARAMS, DATE_PARAMS, FACET_NAMES, FILTER_PARAMS, SEARCH_PARAMS, Query,
                               check_text, int_param, query_from_args)
from searchapp.store import IndexMissing
from searchapp.web.index import get_index
from searchapp.web.openapi import openapi_document

bp = Blueprint("api", __name__)


def error_response(status: int, code: str, message: str, parameter: str | None = None,
                   reason: str | None = None):
    body = {"code": code, "message": message}
    if reason:
        body["reason"] = reason
    if parameter:
        body["parameter"] = parameter
    response = jsonify({"error": body})
    response.status_code = status
    return response


@bp.errorhandler(QueryError)
def bad_parameter(error: QueryError):
    return error_response(400, "bad_parameter", str(error), error.param, reason=error.code)


@bp.errorhandler(IndexMissing)
def no_index(error: IndexMissing):
    return error_response(503, "index_unavailable", str(error))


def check_known(allowed: tuple[str, ...]) -> None:
    """Refuse a request to the API that has a parameter not in ``allowed`` (400
    ``unknown_parameter``, the known ones listed): every API blueprint checks so."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none (this route takes no parameters)"
        raise QueryError(f"unknown parameter {unknown[0]!r}; known: {known}", unknown[0], code="unknown_parameter")


def parse_query(allowed: tuple[str, ...], require_something: bool) -> Query:
    """The request's query (``query_from_args``), its parameters checked against ``allowed``;
    with ``require_something``, a q or a filter is required."""
    check_known(allowed)
    query = query_from_args(request.args)
    if require_something and query.is_empty:
        filters = ", ".join((*FACET_NAMES, *BOUND_PARAMS, *DATE_PARAMS))
        raise QueryError(f"q is required (or at least one filter: {filters})", "q", code="missing_query")
    return query


@bp.get("/search")
def search():
    query = parse_query((*SEARCH_PARAMS, CURSOR_PARAM, "explain"), require_something=True)
    explain = bool(int_param(request.args, "explain", 0, 0, 1))
    cursor = request.args.get(CURSOR_PARAM, "")
    if cursor and "page" in request.args:
        raise QueryError("cursor and page cannot be used together: the cursor says where the next page starts",
                         CURSOR_PARAM, code="cursor_with_page")
    return jsonify(core.search(get_index(), query, HtmlFormatter(), cursor=cursor or None, explain=explain).to_dict())


@bp.get("/facets")
def facets():
    query = parse_query(FILTER_PARAMS, require_something=False)
    buckets = core.facet_counts(get_index(), query)
    return jsonify({"query": query.text, "facets": {k: [b.to_dict() for b in v] for k, v in buckets.items()}})


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    check_known(("q",))
    query_text = check_text(request.args.get("q", ""))  # a q that does not parse marks nothing
    index = get_index()
    found = core.get_article(index, article_id, query_text, HtmlFormatter())
    if found is None:
        return error_response(404, "not_found", f"no article with id {article_id!r}")
    data = found.to_dict()
    data["related"] = [hit.to_dict() for hit in core.related(index, article_id)]
    return jsonify(data)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/<path:anything>")
def unknown_route(anything: str):
    return error_response(404, "not_found", f"no API route /api/{anything}")
