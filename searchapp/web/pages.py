"""The search page, the article page and the newspaper-page view: arguments -> core -> templates."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup

from indexer import fields
from indexer.dates import DateRange
from searchapp import core
from searchapp.highlight import HtmlFormatter
from searchapp.query import QueryError
from searchapp.request import Query, check_text, query_from_args
from searchapp.store import IndexMissing
from searchapp.suggestions import suggestions
from searchapp.web import messages
from searchapp.web.index import get_index
from searchapp.web.timeline import timeline_svg

bp = Blueprint("pages", __name__)

FACET_LABELS = {field.name: field.label for field in fields.FACETS}


def _url(query: Query) -> str:
    params = query.to_params()
    return url_for("pages.search") + ("?" + urlencode(params) if params else "")


@bp.app_template_global()
def search_url(query: Query, **changes) -> str:
    return _url(query.with_changes(**changes) if changes else query)


@bp.app_template_global()
def toggle_url(query: Query, facet: str, value: str) -> str:
    return _url(query.toggled(facet, value))


@bp.app_template_global()
def unbounded_url(query: Query, name: str) -> str:
    """The query without its range on facet ``name``."""
    return _url(query.with_changes(bounds={k: v for k, v in query.bounds.items() if k != name},
                                   result_page=1))


def zoom_url(query: Query, period: str | None) -> str:
    """The query filtered to one period (``2023``, ``2023-05``, ``2023-05-01``), or to no dates."""
    dates = DateRange.between(period, period) if period else None
    return _url(query.with_changes(dates=dates, result_page=1))


@bp.app_template_global()
def undated_url(query: Query) -> str:
    """The query without its date range."""
    return zoom_url(query, None)


@bp.app_template_global()
def zoomed_out(query: Query) -> tuple[str, str] | None:
    """(URL, label) of the query filtered to the period around its one period (a day's month,
    a month's year; from a year, all years); ``None`` when it is not filtered to one period."""
    if query.dates is None or not query.dates.single:
        return None
    period = query.dates.single
    wider = {4: None, 7: period[:4], 10: period[:7]}[len(period)]
    label = "全部年份" if wider is None else f"{wider} 年" if len(wider) == 4 else wider
    return zoom_url(query, wider), label


def _timeline(result, query: Query) -> Markup:
    return timeline_svg(result.timeline, lambda period: zoom_url(query, period))


@bp.app_template_global()
def facet_label(name: str) -> str:
    return FACET_LABELS.get(name, name)


FACET_SHOWN = 10


@bp.app_template_global()
def split_buckets(buckets: list, shown: int = FACET_SHOWN) -> tuple[list, list]:
    """A facet's buckets listed at once (the first ``shown`` and every selected one) and those
    behind its 更多 (a <details>: no script). One or two more are not worth hiding."""
    if len(buckets) <= shown + 2:
        return list(buckets), []
    return ([b for i, b in enumerate(buckets) if i < shown or b.selected],
            [b for i, b in enumerate(buckets) if i >= shown and not b.selected])


@bp.errorhandler(IndexMissing)
def no_index(error: IndexMissing):
    return render_template("error.html", status=503, message=messages.index_missing(error)), 503


@bp.get("/")
def search():
    try:
        query = query_from_args(request.args)
    except QueryError as error:
        raw = request.args.get("q", "")[:500]
        return render_template("search.html", query=Query(), raw_q=raw, error=messages.query_error(error),
                               result=None, overview=None), 400
    index = get_index()
    if query.is_empty:
        everything = core.search(index, query.with_changes(per_page=1))
        return render_template("search.html", query=query, raw_q="", error=None, result=None,
                               overview=everything.facets, timeline=_timeline(everything, query))
    result = core.search(index, query, HtmlFormatter())
    if query.result_page > result.result_pages and result.total:
        abort(404, description=f"只有 {result.result_pages} 页结果")
    ways = [(label, _url(looser)) for label, looser in suggestions(query)] if not result.total else []
    return render_template(
        "search.html", query=query, raw_q=query.text, error=None, result=result, overview=None,
        suggestions=ways, timeline=_timeline(result, query),
    )


def highlight_query(raw: str) -> str:
    """The query whose matches an article page marks: as a search would take it (pasted
    invisible characters removed), or nothing when it could not be searched."""
    try:
        return check_text(raw)
    except QueryError:
        return ""


def _anchored(paragraphs: list[str], at: int | None = None) -> list[str]:
    """Give the first <mark> the id the result links scroll to (``first-match``), and put the
    anchor ``match-at`` before the ``at``-th one (the concordance's line; 0 is the first),
    which is also marked out (class ``at``). The text is escaped: every <mark> is a match."""
    marked = []
    seen = 0
    for paragraph in paragraphs:
        pieces = paragraph.split("<mark>")
        out = [pieces[0]]
        for piece in pieces[1:]:
            attributes = (' id="first-match"' if seen == 0 else "") + (' class="at"' if seen == at else "")
            out.append(('<span id="match-at"></span>' if seen == at else "") + f"<mark{attributes}>" + piece)
            seen += 1
        marked.append("".join(out))
    return marked


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    query_text = highlight_query(request.args.get("q", ""))
    index = get_index()
    found = core.get_article(index, article_id, query_text, HtmlFormatter(),
                             aliases=request.args.get("aliases") != "0", at=request.args.get("at", type=int))
    if found is None:
        abort(404, description=f"没有编号为 {article_id} 的文章")
    return render_template("article.html", article=found, paragraphs=_anchored(found.paragraphs, found.mark_at),
                           q=query_text, related=core.related(index, article_id))


@bp.get("/pages/<page_id>")
def page(page_id: str):
    articles = core.page_articles(get_index(), page_id)
    if not articles:
        abort(404, description=f"没有版面 {page_id}")
    return render_template("page.html", page_id=page_id, articles=articles)
