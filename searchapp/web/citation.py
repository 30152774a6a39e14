"""Citations on the web: ``GET /api/articles/<id>/cite?format=gbt7714|ris|bibtex`` and, for the
article page, the template globals ``permalink(id)`` and ``citation_text(article)``.

The permalink is the article page's absolute URL (``/articles/<id>`` on the host the request
came to). GB/T 7714 is answered as plain text (one line, UTF-8), to be copied; RIS and BibTeX as
downloads (``Content-Disposition: attachment``, ``<id>.ris`` / ``<id>.bib``) that reference
managers open. Errors are the API's JSON errors (400 for a bad parameter, 404 for no article).
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from searchapp import core
from searchapp.citation import FORMATS, cite, gbt7714, reference
from searchapp.highlight import Formatter
from searchapp.query import QueryError
from searchapp.web.api import check_known, error_response
from searchapp.web.download import attachment
from searchapp.web.index import get_index
from searchapp.web.openapi import ERRORS, json_response

bp = Blueprint("citation", __name__)

DEFAULT_FORMAT = "gbt7714"
# format -> (media type, file suffix of a download; None: shown, not downloaded)
MEDIA_TYPES = {
    "gbt7714": ("text/plain", None),
    "ris": ("application/x-research-info-systems", "ris"),
    "bibtex": ("application/x-bibtex", "bib"),
}
PARAMS = ("format",)


@bp.app_template_global()
def permalink(article_id: str) -> str:
    """The article page's absolute URL."""
    return url_for("pages.article", article_id=article_id, _external=True)


@bp.app_template_global()
def citation_text(article) -> str:
    """The article's GB/T 7714 reference, for its page."""
    return gbt7714(reference(article, permalink(article.id)))


def _format() -> str:
    """The format asked for (any case: RIS is ris, as the export's and the concordance's are)."""
    check_known(PARAMS)
    given = request.args.get("format", "").strip()
    chosen = given.lower() or DEFAULT_FORMAT
    if chosen not in FORMATS:
        raise QueryError(f"format must be one of {', '.join(FORMATS)}, not {given!r}", "format",
                         code="unknown_format")
    return chosen


@bp.get("/api/articles/<path:article_id>/cite")
def cite_article(article_id: str):
    chosen = _format()
    article = core.get_article(get_index(), article_id, fmt=Formatter())
    if article is None:
        return error_response(404, "not_found", f"no article with id {article_id!r}")
    media_type, suffix = MEDIA_TYPES[chosen]
    response = Response(cite(reference(article, permalink(article.id)), chosen),
                        content_type=f"{media_type}; charset=utf-8")
    if suffix:
        response.headers["Content-Disposition"] = attachment(f"{article.id.replace('/', '_')}.{suffix}")
    return response


def _text(media_type: str) -> dict:
    return {media_type: {"schema": {"type": "string"}}}


OPENAPI_PATHS = {
    "/api/articles/{id}/cite": {"get": {
        "summary": "A citation of one article: GB/T 7714-2015, RIS or BibTeX",
        "operationId": "cite",
        "description": "GB/T 7714-2015 (作者. 题名[N]. 报纸名, 出版日期(版次).) as one line of plain text; "
                       "RIS (TY NEWS, lines ended by CR LF) and BibTeX (@article) as downloads. Each "
                       "gives the article's permalink, its page's absolute URL.",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS), "default": DEFAULT_FORMAT}},
        ],
        "responses": {
            "200": {"description": "The citation (RIS and BibTeX with Content-Disposition: attachment).",
                    "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                                        "description": "with ris and bibtex: attachment; "
                                                                       "filename=\"<id>.ris\" / \"<id>.bib\""}},
                    "content": {**_text("text/plain"), **_text("application/x-research-info-systems"),
                                **_text("application/x-bibtex")}},
            "404": json_response("Error", "No article with that id."),
            **ERRORS,
        },
    }},
}
OPENAPI_SCHEMAS: dict = {}
