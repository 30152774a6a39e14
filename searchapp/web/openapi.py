"""The OpenAPI 3 document of the JSON API (``GET /api/openapi.json``).

Tests validate it and check real responses against its schemas, so it cannot drift from what
the API does. The search endpoints are described here; each other feature's module (export,
citation, KWIC, trends, browse, feed) describes its own endpoints in ``OPENAPI_PATHS`` and
``OPENAPI_SCHEMAS``, and is listed in ``FEATURE_MODULES``.
"""

from __future__ import annotations

from indexer import fields
from searchapp import settings
from searchapp.request import BOUND_PARAMS
from searchapp.web.messages import MESSAGES

# What ``Range.parse`` takes: a year, or a range with either end left open (the first year not
# after the last one).
RANGE_PATTERN = r"^\d{4}$|^\d{4}\.\.(\d{4})?$|^\.\.\d{4}$"
DATE_PATTERN = r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$"


def _facet_param(field: fields.Field) -> dict:
    item = {"type": "string", "maxLength": 100}
    if field.facet == fields.RANGE_FACET:
        item["pattern"] = RANGE_PATTERN
    return {"name": field.name, "in": "query", "required": False, "style": "form", "explode": True,
            "description": f"Filter: {fields.described(field)}; repeat for several (OR).",
            "schema": {"type": "array", "items": item}}


def _bound_param(name: str, end: str) -> dict:
    return {"name": f"{name}_{end}", "in": "query", "required": False,
            "description": f"{'First' if end == 'from' else 'Last'} {name} of a range (four digits).",
            "schema": {"type": "string", "pattern": r"^\d{4}$"}}


_FILTER_PARAMS = [
    {"name": "q", "in": "query", "required": False,
     "description": "Query: terms (AND), OR, NOT or -, parentheses, \"exact phrase\", field:value ("
                    + ", ".join(f.name for f in fields.QUERY_FIELDS) + ").",
     "schema": {"type": "string", "maxLength": settings.MAX_QUERY_CHARS}},
    *(_facet_param(field) for field in fields.FACETS),
    *(_bound_param(name, end) for name, end in BOUND_PARAMS.values()),
    *({"name": f"date_{end}", "in": "query", "required": False,
       "description": f"{'First' if end == 'from' else 'Last'} date of a range, taken whole: 2023 (from 1 January, "
                      "to 31 December), 2023-05, 2023-05-01. An article known only to its year (or month) is "
                      "inside when all of that year (month) is.",
       "schema": {"type": "string", "pattern": DATE_PATTERN}} for end in ("from", "to")),
]

_EXPLAIN_PARAM = {"name": "explain", "in": "query", "required": False,
                  "description": "1: each hit says why it ranks where it does (its tier, its score word by "
                                 "word and field by field, the parameters): the hit's explain.",
                  "schema": {"type": "integer", "enum": [0, 1], "default": 0}}

_PAGING_PARAMS = [
    {"name": "aliases", "in": "query", "required": False,
     "description": "1 (default): a term that names a place also finds the place's other names "
                    "(阜蒙县 finds 阜新蒙古族自治县); 0: only the name as typed.",
     "schema": {"type": "integer", "enum": [0, 1], "default": 1}},
    {"name": "sort", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["relevance", "date"], "default": "relevance"}},
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.MAX_PAGE, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": settings.MAX_PER_PAGE,
                "default": settings.DEFAULT_PER_PAGE}},
]

# Only /api/search takes it (``searchapp.paging``).
_CURSOR_PARAM = {
    "name": "cursor", "in": "query", "required": False,
    "description": "Walk a whole result set: the next_cursor of the previous response (opaque). The hits "
                   "after it come back, each hit exactly once over a walk, with no page limit, while the "
                   "index does not change; per_page may change, the other parameters may not, and page "
                   "cannot be given with it. 400 with reason bad_cursor (damaged or edited), "
                   "cursor_other_query (made for other parameters), stale_cursor (the index has changed "
                   "since: start again) or cursor_with_page.",
    "schema": {"type": "string", "maxLength": 200, "pattern": "^[A-Za-z0-9_-]*$"},
}

_STRINGS = {"type": "array", "items": {"type": "string"}}
_WHEN = {"type": "string", "description": "the date as shown: the date, or the year said to be only "
                                        "a year (2023 年，日期不详); \"\" when not known"}
_BUCKETS = {"type": "array", "items": {"$ref": "#/components/schemas/FacetBucket"}}

SCHEMAS = {
    "FacetBucket": {
        "type": "object", "required": ["value", "count"], "additionalProperties": False,
        "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
    },
    "Facets": {
        "type": "object", "required": [f.name for f in fields.FACETS], "additionalProperties": False,
        "properties": {f.name: {**_BUCKETS, "description": f.label} for f in fields.FACETS},
    },
    "Hit": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "title", "source", "year", "when", "city", "districts", "topics", "reporters",
                     "score", "snippets"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "source": {"type": "string", "description": "the file the article comes from: its folder's name and its path below it"},
            "date": {"type": "string", "description": "ISO date (2023-05-01, 2023-05 or 2023), when known"},
            "year": {"type": ["integer", "null"]}, "city": {"type": "string"},
            "when": _WHEN,
            "districts": _STRINGS, "topics": _STRINGS, "reporters": _STRINGS,
            "score": {"type": "number"},
            "snippets": {"type": "array", "items": {"type": "string"},
                         "description": "HTML: matches in <mark>, everything else escaped"},
            "paper": {"type": "string", "description": "the newspaper, when known"},
            "page_label": {"type": "string", "description": "the newspaper's page (版次, e.g. 第3版), when known"},
            "explain": {"$ref": "#/components/schemas/Explanation"},
        },
    },
    "Explanation": {
        "type": "object", "required": ["position", "order"],
        "description": "Why a hit ranks where it does (explain=1). order relevance: first its tier "
                       "(how many of the query's terms it holds as exact strings, of how many; more come "
                       "first), then its score: the sum over the query's words of "
                       "ln(P(word | story) / P(word | archive)), P(word | story) mixing the title's and the "
                       "text's word frequencies (weights, smoothing: params); score null: none of the words "
                       "occurs in it as a word (it matched as a string inside others), last in its tier. "
                       "order date: newest first.",
        "properties": {
            "position": {"type": "integer", "minimum": 1},
            "order": {"type": "string", "enum": ["relevance", "date"]},
            "why": {"type": "string"},
            "tier": {"type": "object", "required": ["exact_terms", "terms"], "properties": {
                "exact_terms": _STRINGS, "terms": {"type": "integer", "minimum": 1}}},
            "model": {"type": "string", "enum": ["likelihood", "bm25f"]},
            "score": {"type": ["number", "null"]},
            "words": {"type": "array", "items": {
                "type": "object", "required": ["word", "score", "fields"],
                "properties": {"word": {"type": "string"}, "score": {"type": "number"},
                               "fields": {"type": "array", "items": {
                                   "type": "object", "required": ["field", "tf", "length"],
                                   "properties": {"field": {"type": "string", "enum": ["title", "text"]},
                                                  "tf": {"type": "number", "minimum": 0},
                                                  "length": {"type": "integer", "minimum": 0}}}}}}},
            "params": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    },
    "SearchResult": {
        "type": "object", "additionalProperties": False,
        "required": ["query", "total", "page", "per_page", "took_ms", "hits", "facets", "sort", "filters",
                     "aliases", "timeline", "next_cursor"],
        "properties": {
            "query": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1,
                     "description": "with a cursor: the page of per_page hits the first hit is on"},
            "per_page": {"type": "integer", "minimum": 1},
            "took_ms": {"type": "number"}, "sort": {"type": "string", "enum": ["relevance", "date"]},
            "filters": {"type": "object", "additionalProperties": _STRINGS},
            "aliases": {"type": "object", "additionalProperties": _STRINGS,
                        "description": "a term that names a place -> the place's other names, searched too"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {"$ref": "#/components/schemas/Facets"},
            "timeline": {"$ref": "#/components/schemas/Timeline"},
            "next_cursor": {"type": ["string", "null"],
                            "description": "pass as cursor (with the same parameters, without page) for the "
                                          "hits after these; null after the last hit"},
        },
    },
    "Timeline": {
        "type": "object", "additionalProperties": False,
        "required": ["interval", "period", "points", "imprecise"],
        "description": "The results counted per year; per month of a year or per day of a month when "
                       "date_from and date_to select that one year or month.",
        "properties": {
            "interval": {"type": "string", "enum": ["year", "month", "day"]},
            "period": {"type": "string", "description": "the year or month counted within (\"\": all)"},
            "points": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["period", "count"],
                "properties": {"period": {"type": "string", "description": "2023, 2023-05 or 2023-05-01"},
                               "count": {"type": "integer", "minimum": 1}}}},
            "imprecise": {"type": "integer", "minimum": 0,
                          "description": "results in the period whose date is known less precisely (only the year)"},
        },
    },
    "Article": {
        "type": "object",
        "required": ["id", "title", "subtitle", "text", "paragraphs", "source", "page", "position",
                     "kind", "column", "date", "year", "when", "year_inferred", "year_evidence", "city",
                     "cities", "districts", "topics", "reporters", "photographers", "keywords",
                     "paper", "url", "related"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "subtitle": {"type": "string"},
            "text": {"type": "string"},
            "paragraphs": {"type": "array", "items": {"type": "string"},
                           "description": "HTML paragraphs, the matches of q in <mark>"},
            "source": {"type": "string"}, "page": {"type": "string"}, "position": {"type": "integer"},
            "kind": {"type": "string"}, "column": {"type": "string"}, "date": {"type": "string"},
            "year": {"type": ["integer", "null"]}, "when": _WHEN, "year_inferred": {"type": "boolean"},
            "year_evidence": {"type": "string"}, "city": {"type": "string"},
            "cities": _STRINGS, "districts": _STRINGS, "topics": _STRINGS, "reporters": _STRINGS,
            "photographers": _STRINGS, "keywords": _STRINGS, "paper": {"type": "string"},
            "page_label": {"type": "string", "description": "the newspaper's page (版次, e.g. 第3版), or \"\""},
            "url": {"type": "string"},
            "related": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
        },
    },
    "FacetsResult": {
        "type": "object", "required": ["query", "facets"], "additionalProperties": False,
        "properties": {"query": {"type": "string"}, "facets": {"$ref": "#/components/schemas/Facets"}},
    },
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "enum": ["bad_parameter", "not_found", "method_not_allowed",
                                                    "index_unavailable", "internal_error", "bad_request", "error",
                                                    "not_implemented"]},
                "reason": {"type": "string", "enum": sorted(MESSAGES),
                           "description": "with bad_parameter: which kind of problem (stable)"},
                "message": {"type": "string", "description": "what is wrong, in English"},
                "parameter": {"type": "string"}},
        }},
    },
}


def _json(ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


_BAD = {"400": _json("Error", "A bad or unknown parameter; `parameter` says which, `reason` what is wrong.")}
_OTHER = {"405": {**_json("Error", "Another method than GET or HEAD; the Allow header lists the methods."),
                  "headers": {"Allow": {"schema": {"type": "string"}}}},
          "500": _json("Error", "The server failed to answer.")}
_ERRORS = {**_BAD, **_OTHER, "503": _json("Error", "No index has been built yet, or the search engine "
                                                    "(a shard of it) does not answer.")}


# For the feature modules' descriptions.
FILTER_PARAMS = _FILTER_PARAMS
PAGING_PARAMS = _PAGING_PARAMS
ERRORS = _ERRORS
OTHER_ERRORS = _OTHER
STRINGS = _STRINGS
json_response = _json

# Modules of ``searchapp.web`` that describe endpoints of their own (``OPENAPI_PATHS``,
# ``OPENAPI_SCHEMAS``), imported when the document is made (they import this module).
FEATURE_MODULES: tuple[str, ...] = ("citation", "kwic", "export", "trends", "browse")


def openapi_document() -> dict:
    import importlib

    paths: dict = {}
    schemas = dict(SCHEMAS)
    for name in FEATURE_MODULES:
        module = importlib.import_module(f"searchapp.web.{name}")
        paths.update(getattr(module, "OPENAPI_PATHS", {}))
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    document = _search_document()
    document["paths"].update(paths)
    document["components"]["schemas"] = schemas
    return document


def _search_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsearch JSON API", "version": "1.0.0",
                 "description": "Search a Chinese news archive: ranked hits with highlighted "
                                "snippets and facet counts. Simplified and traditional queries "
                                "give the same results."},
        "paths": {
            "/api/search": {"get": {
                "summary": "Search articles", "operationId": "search",
                "parameters": _FILTER_PARAMS + _PAGING_PARAMS + [_CURSOR_PARAM, _EXPLAIN_PARAM],
                "responses": {"200": _json("SearchResult", "One page of hits and the facets."), **_ERRORS},
            }},
            "/api/facets": {"get": {
                "summary": "Facet counts for a query, or for the whole archive", "operationId": "facets",
                "parameters": _FILTER_PARAMS,
                "responses": {"200": _json("FacetsResult", "Facet counts."), **_ERRORS},
            }},
            "/api/articles/{id}": {"get": {
                "summary": "One article in full, with related articles", "operationId": "article",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "required": False,
                     "description": "Mark this query's matches (a query that does not parse marks nothing).",
                     "schema": {"type": "string", "maxLength": settings.MAX_QUERY_CHARS}},
                ],
                "responses": {"200": _json("Article", "The article."),
                              "404": _json("Error", "No article with that id."), **_ERRORS},
            }},
            "/api/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3 document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **_OTHER},
            }},
        },
        "components": {"schemas": SCHEMAS},
    }
