"""The Atom feed of a search: ``GET /feed.atom?q=…`` (Atom 1.0, RFC 4287), so that a researcher
can follow a query in a feed reader.

The parameters are the search page's (``query_from_args``: ``q``, the facets, the ranges), and
``per_page`` (how many entries, at most ``FEED_ENTRIES``, which is the default); the order is
always newest first (``sort=date``) and only the first page is given, so ``sort`` and ``page``
are ignored (not even checked: a search page's URL with its page number makes a good feed URL), as
are parameters the search does not know (as on the page). A bad parameter gets
the Chinese error page with status 400, as the search page does.

- The feed's ``id`` and ``rel="self"`` link are the absolute URL of the feed for the query in its
  canonical form (so the same query always has the same id); ``rel="alternate"`` is the search
  page of the query, sorted by date. Its ``updated`` is when the index last changed (the time of
  its table of contents): that is when the feed can have changed.
- An entry's ``id`` and link are the article's permalink (its page's absolute URL); ``title`` the
  headline (the id when there is none); ``author``\\ s the reporters; ``summary`` plain text: the
  date as known, the newspaper and page, and the snippets of the text around the matches.
- An entry's ``published`` and ``updated`` are the article's date, at 00:00 in China (UTC+8),
  the papers' time zone. An article known only to its month or year is given the first day of
  it (its summary says so, as a hit does: "2023 年，日期不详"). An article with no date at all has no
  ``published``, and the feed's ``updated`` (it comes last in the feed, as in the search sorted
  by date).

XML is written with ``xml.etree.ElementTree``, which escapes text and attributes; characters XML
1.0 does not allow (control characters) are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for

from indexer import dates, fields
from indexer.indexdir import INDEX_NAME, generation
from searchapp import core, settings
from searchapp.highlight import Formatter
from searchapp.query import QueryError
from searchapp.request import Query, query_from_args
from searchapp.results import Hit, SearchResult
from searchapp.web.index import get_index

bp = Blueprint("feed", __name__)

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
FEED_ENTRIES = 50
IGNORED = ("sort", "page")  # a feed is the newest entries, its first page: not read, not checked
CHINA = timezone(timedelta(hours=8), "UTC+8")
SITE_NAME = "新闻档案检索"
FACET_LABELS = {field.name: field.label for field in fields.FACETS}

# What XML 1.0 allows in a document (section 2.2); anything else makes the feed unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _canonical(query: Query) -> Query:
    """The query as the feed reads it: paging and order left out of its parameters."""
    return query.with_changes(sort="relevance", result_page=1, per_page=settings.DEFAULT_PER_PAGE)


def _feed_params(query: Query, entries: int = FEED_ENTRIES) -> list[tuple[str, str]]:
    params = _canonical(query).to_params()
    if entries != FEED_ENTRIES:
        params.append(("per_page", str(entries)))
    return params


def _with_params(url: str, params: list[tuple[str, str]]) -> str:
    return url + ("?" + urlencode(params) if params else "")


@bp.app_template_global()
def feed_url(query: Query) -> str:
    """The feed of a search (for the result page's 订阅 link)."""
    return _with_params(url_for("feed.feed"), _feed_params(query))


def _entries(args) -> int:
    raw = args.get("per_page", "").strip()
    if not raw:
        return FEED_ENTRIES
    count = query_from_args({"per_page": raw}).per_page  # a number from 1 on, said as the search says it
    if count > FEED_ENTRIES:
        raise QueryError(f"per_page must be between 1 and {FEED_ENTRIES}, not {count}", "per_page",
                         code="out_of_range")
    return count


def feed_title(query: Query) -> str:
    """``新闻档案检索：<q>``, with the filters as the page's chips say them."""
    parts = [query.text] if query.text else []
    for facet, values in query.filters.items():
        parts.append(f"{FACET_LABELS.get(facet, facet)}：{'、'.join(str(v) for v in values)}")
    for name, span in query.bounds.items():
        parts.append(f"{FACET_LABELS.get(name, name)}：{span.first or ''}–{span.last or ''}")
    if getattr(query, "dates", None) is not None:
        parts.append(f"日期：{query.dates}")
    return f"{SITE_NAME}：{'；'.join(parts) or '全部文章'}"


def index_time(index_dir: Path) -> datetime:
    """When the index last changed: the time of its newest table of contents (now, if it cannot
    be read: caught while a new index is swapped in)."""
    try:
        toc = Path(index_dir) / f"_{INDEX_NAME}_{generation(Path(index_dir))}.toc"
        return datetime.fromtimestamp(int(toc.stat().st_mtime), timezone.utc)
    except (OSError, ValueError):
        return datetime.now(timezone.utc).replace(microsecond=0)


def published(date: str, year: int | None) -> datetime | None:
    """The first moment (in China) of the day, month or year an article is known to be from
    (its date read as the index reads it: ``indexer.dates``)."""
    value = dates.sort_date(date, year)
    if not value:
        return None
    first = dates.interval(value)[0]
    return datetime(first // 10000, first // 100 % 100, first % 100, tzinfo=CHINA)


def _xml(value: str) -> str:
    return _NOT_XML.sub("", value)


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, name, {k: _xml(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _xml(text)
    return element


def _summary(hit: Hit) -> str:
    when = hit.when or "日期不详"
    where = f"{hit.paper} {hit.page_label}".strip()
    head = " · ".join(part for part in (when, where, hit.city) if part)
    text = " ".join(s.strip() for s in hit.snippets if s.strip())  # each says where it was cut (…)
    return f"{head} — {text}" if text else head


def atom_feed(result: SearchResult, query: Query, entries: int, updated: datetime) -> bytes:
    """The feed's XML (UTF-8, with the XML declaration)."""
    self_url = _with_params(url_for("feed.feed", _external=True), _feed_params(query, entries))
    page_url = _with_params(url_for("pages.search", _external=True),
                            _canonical(query).with_changes(sort="date").to_params())
    root = ET.Element("feed", xmlns=ATOM)  # unprefixed names: every element is Atom's
    _add(root, "id", self_url)
    _add(root, "title", feed_title(query))
    _add(root, "subtitle", f"按日期排列的最新 {len(result.hits)} 篇（共 {result.total} 篇）")
    _add(root, "updated", updated.isoformat())
    _add(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(root, "author"), "name", SITE_NAME)
    _add(root, "generator", "newsearch")
    for hit in result.hits:
        url = url_for("pages.article", article_id=hit.id, _external=True)
        entry = _add(root, "entry")
        _add(entry, "id", url)
        _add(entry, "title", hit.title or hit.id)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        when = published(hit.date, hit.year)
        _add(entry, "updated", (when or updated).isoformat())
        if when:
            _add(entry, "published", when.isoformat())
        for reporter in hit.reporters:
            _add(_add(entry, "author"), "name", reporter)
        _add(entry, "summary", _summary(hit))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@bp.get("/feed.atom")
def feed():
    entries = _entries(request.args)
    args = {name: request.args.getlist(name) for name in request.args if name not in IGNORED}
    query = query_from_args(args).with_changes(sort="date", result_page=1, per_page=entries)
    index = get_index()
    result = core.search(index, query, Formatter())
    body = atom_feed(result, query, entries, index_time(index.index_dir))
    return Response(body, content_type=f"{MEDIA_TYPE}; charset=utf-8")
