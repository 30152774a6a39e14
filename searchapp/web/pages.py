"""The search page, the article page and the page view: arguments -> core -> templates."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for

from searchapp import core
from searchapp.highlight import HtmlFormatter
from searchapp.query import Query, QueryError, query_from_args
from searchapp.store import IndexMissing
from searchapp.web import get_index
from searchapp.web.timeline import timeline_svg

bp = Blueprint("pages", __name__)

FACET_LABELS = {"city": "城市", "district": "区县", "year": "年份", "topic": "主题"}


@bp.app_template_global()
def search_url(query: Query, **changes) -> str:
    params = query.with_changes(**changes).to_params() if changes else query.to_params()
    return url_for("pages.search") + ("?" + urlencode(params) if params else "")


@bp.app_template_global()
def toggle_url(query: Query, facet: str, value: str) -> str:
    params = query.toggled(facet, value).to_params()
    return url_for("pages.search") + ("?" + urlencode(params) if params else "")


def _suggestions(query: Query) -> list[tuple[str, str]]:
    """Ways out of an empty result: (label, url)."""
    ways = []
    for facet, values in query.filters.items():
        for value in values:
            ways.append((f"去掉筛选“{value}”", toggle_url(query, facet, value)))
    if query.year_from is not None or query.year_to is not None:
        ways.append(("去掉年份范围", search_url(query, year_from=None, year_to=None, page=1)))
    words = query.text.split()
    if len(words) > 1:
        ways.append((f"只搜“{words[0]}”", search_url(query, text=words[0], page=1)))
    elif query.text and len(query.text) > 2 and '"' not in query.text:
        shorter = query.text[:2]
        ways.append((f"试试更短的“{shorter}”", search_url(query, text=shorter, page=1)))
    return ways


@bp.app_template_global()
def facet_label(name: str) -> str:
    return FACET_LABELS.get(name, name)


@bp.errorhandler(IndexMissing)
def no_index(error: IndexMissing):
    return render_template("error.html", status=503, message=str(error)), 503


@bp.get("/")
def search():
    try:
        query = query_from_args(request.args)
    except QueryError as error:
        raw = request.args.get("q", "")[:500]
        return render_template("search.html", query=Query(), raw_q=raw, error=str(error),
                               result=None, overview=None), 400
    index = get_index()
    if query.is_empty:
        overview = core.facet_counts(index)
        return render_template("search.html", query=query, raw_q="", error=None, result=None,
                               overview=overview, timeline=timeline_svg(overview["year"], query, toggle_url))
    result = core.search(index, query, HtmlFormatter())
    if query.page > result.pages and result.total:
        abort(404, description=f"只有 {result.pages} 页结果")
    return render_template(
        "search.html", query=query, raw_q=query.text, error=None, result=result, overview=None,
        suggestions=_suggestions(query),
        timeline=timeline_svg(result.facets["year"], query, toggle_url),
    )


def _first_match(paragraphs: list[str]) -> list[str]:
    """Give the first <mark> the id the result links scroll to."""
    marked = list(paragraphs)
    for i, paragraph in enumerate(marked):
        if "<mark>" in paragraph:
            marked[i] = paragraph.replace("<mark>", '<mark id="first-match">', 1)
            break
    return marked


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    query_text = request.args.get("q", "")[:500]
    index = get_index()
    found = core.get_article(index, article_id, query_text, HtmlFormatter())
    if found is None:
        abort(404, description=f"没有编号为 {article_id} 的文章")
    return render_template("article.html", article=found, paragraphs=_first_match(found.paragraphs),
                           q=query_text, related=core.related(index, article_id))


@bp.get("/pages/<page_id>")
def page(page_id: str):
    articles = core.page_articles(get_index(), page_id)
    if not articles:
        abort(404, description=f"没有版面 {page_id}")
    return render_template("page.html", page_id=page_id, articles=articles)
