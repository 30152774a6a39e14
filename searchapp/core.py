"""The search core: ``search(index, query, formatter) -> SearchResult`` and friends.

Two backends sit under it: the embedded Whoosh index (``store.SearchIndex``, implemented here)
and a SphinxQL engine (``searchapp.engine_search.EngineIndex``, which answers the same calls with
the same result objects); the front ends do not know which one they have.

No front-end code here (no Flask, no argparse): the web page, the JSON API and the CLI call
these functions and only render what they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pyroaring import BitMap
from whoosh import query as wq
from whoosh.sorting import FieldFacet

from indexer import dates, fields, schema
from indexer.dates import DAY, MONTH, YEAR, DateRange
from indexer.indexdir import live_terms, read_meta
from searchapp import paging, results, settings
from searchapp.highlight import Formatter, HtmlFormatter, find_spans, paragraphs, snippets
from searchapp.matching import DocSets
from searchapp.query import QueryError, parse
from searchapp.ranking import explain as explain_rank, ranked
from searchapp.request import Query
from searchapp.terms import highlight_terms, positive_terms, with_place_names
from searchapp.store import SearchIndex

RELATED_COUNT = 5


class NotOnEngine(Exception):
    """What the SphinxQL backend does not do (the tools that walk whole result sets)."""


def is_engine(index) -> bool:
    """Whether ``index`` is a SphinxQL engine (``searchapp.engine_search.EngineIndex``) rather
    than the embedded index: the functions here serve both, the embedded one themselves."""
    return getattr(index, "is_engine", False)


def when(date: str, year: int | None) -> str:
    """An article's date as it is shown: its day, or the month or year it is known to, said to
    be only that ("2023 年，日期不详"). Read as the index reads it (``indexer.dates.sort_date``)."""
    value = dates.sort_date(date, year)
    kind = dates.precision(value)
    if kind == DAY:
        return dates.label(value)
    if kind == MONTH:
        return f"{value // 10000} 年 {value // 100 % 100} 月，日期不详"
    return f"{value // 10000} 年，日期不详" if kind == YEAR else ""


def _shown(values: dict) -> dict:
    """What a hit and an article both show of an article (its stored values)."""
    return {"id": values["id"], "title": values["title"], "when": when(values["date"], values["year"]),
            "source": values["file"] or values["source"], "date": values["date"], "year": values["year"],
            "city": values["city"], "districts": values["district"], "topics": values["topic"],
            "reporters": values["reporter"]}


def _hit(stored: dict, score: float, terms, fmt: Formatter, explain: dict | None = None) -> results.Hit:
    values = fields.stored_values(stored)
    spans = find_spans(values["text"], terms)
    return results.Hit(
        **_shown(values),
        score=float(score),
        snippets=snippets(values["text"], spans, fmt, count=settings.SNIPPETS_PER_HIT,
                          skip_prefix=values["title"]),
        paper=values["paper"],
        page_label=values["page_label"],
        explain=explain,
    )


@dataclass(frozen=True)
class ResultSet:
    """Every article a query selects, as ``search`` finds them, and what it took to find them:
    for the features that walk a whole result set (export, the concordance, trends)."""

    searcher: object
    table: object  # searchapp.facets.FacetTable
    docsets: DocSets
    tree: object  # the parsed q, widened to the other names of its places (None: no q)
    widened: dict[str, tuple[str, ...]]  # term -> the place names added
    matched: BitMap  # by q alone
    filter_sets: dict[str, BitMap]  # one per filtered facet
    docs: BitMap  # matched and within every filter


def result_set(index: SearchIndex, query: Query, searcher=None) -> ResultSet:
    """The documents ``query`` selects (its q, facet filters, ranges and dates); with
    ``searcher`` (another result set's), in that index version, so that the sets of several
    queries can be combined (document numbers differ between versions)."""
    if is_engine(index):
        raise NotOnEngine("this tool works on the embedded index only; the SphinxQL backend serves search, "
                          "articles, pages, facets and statistics")
    searcher = index.searcher() if searcher is None else searcher
    table = index.facet_table(searcher)
    docsets = DocSets(searcher, table.live, table.facets, table.dates, table.lengths)
    tree, widened = query.tree, {}
    if tree is not None and query.aliases:
        tree, widened = with_place_names(tree)
    matched = docsets.evaluate(tree) if tree is not None else table.live
    filter_sets = table.filter_sets(query.filters, query.bounds, query.dates)
    final = matched
    for docs in filter_sets.values():
        final = final & docs
    return ResultSet(searcher, table, docsets, tree, widened, matched, filter_sets, final)


def ordered(found: ResultSet, sort: str, limit: int) -> tuple[list[int], dict[int, float]]:
    """The first ``limit`` documents of a result set in the search's order, with their scores:
    by relevance (``ranked``), or newest first for ``sort=date`` or a query without a term.
    Ties go by document number, so the order is fixed for an index version, and the first n
    are the same whatever ``limit`` (what cursor paging and the export rely on)."""
    terms = positive_terms(found.tree)
    if sort == "date" or not terms:
        return found.table.newest(found.docs, limit), {}
    return ranked(found.searcher, found.docsets, terms, found.docs, limit)


def explanation(found: ResultSet, sort: str, docnum: int, position: int) -> dict:
    """Why a document is at ``position`` (1-based) of a result set's order: newest first for
    ``sort=date`` (or a query without a term), else its tier and score (``ranking.explain``)."""
    terms = positive_terms(found.tree)
    if sort == "date" or not terms:
        return {"position": position, "order": "date",
                "why": "newest first (sort_date); the same date in index order; undated last"}
    return {"position": position, "order": "relevance",
            **explain_rank(found.searcher, found.docsets, terms, docnum)}


def search(index: SearchIndex, query: Query, fmt: Formatter | None = None,
           cursor: str | None = None, explain: bool = False) -> results.SearchResult:
    """Ranked hits of one page of results (with ``cursor``, of the hits after it:
    ``searchapp.paging``), the total, facet counts over the whole result set, and the cursor
    of the hits after this page; with ``explain``, each hit says why it ranks where it does."""
    started = time.perf_counter()
    fmt = fmt or HtmlFormatter()
    if explain and is_engine(index):
        raise NotOnEngine("explain works on the embedded index only: the SphinxQL engine ranks by its own "
                          "proximity_bm25 and does not say why")
    if is_engine(index):
        return index.search(query, fmt, cursor, started)
    found = result_set(index, query)
    searcher, table, tree, widened = found.searcher, found.table, found.tree, found.widened
    matched, filter_sets, final = found.matched, found.filter_sets, found.docs
    version = paging.index_identity(searcher)
    first = paging.cursor_offset(cursor, query, version) if cursor else (query.result_page - 1) * query.per_page

    hits: list[results.Hit] = []
    if first < len(final):
        limit = first + query.per_page
        order, scores = ordered(found, query.sort, limit)
        marks = highlight_terms(tree)
        for position, docnum in enumerate(order[first:limit], first + 1):
            why = explanation(found, query.sort, docnum, position) if explain else None
            hits.append(_hit(searcher.stored_fields(docnum), scores.get(docnum, 0.0), marks, fmt, why))
    reached = first + len(hits)

    return results.SearchResult(
        query=query.text,
        total=len(final),
        result_page=first // query.per_page + 1,
        per_page=query.per_page,
        took_ms=(time.perf_counter() - started) * 1000,
        hits=hits,
        facets=table.counts(matched, filter_sets, query.filters),
        sort=query.sort,
        filters={name: tuple(str(v) for v in values) for name, values in query.filters.items()},
        aliases=widened,
        timeline=timeline(table.dates, final, query.dates),
        next_cursor=paging.make_cursor(reached, query, version) if reached < len(final) else None,
    )


def timeline(date_sets, docs, within: DateRange | None) -> results.Timeline:
    """``docs`` (already within ``within``, the query's dates) counted per period: per year,
    or, when the query is filtered to one year, per month of it, or to one month (or day), per
    day of it. ``imprecise``: those of ``docs`` whose date is known less precisely than the
    periods (a year only, in months)."""
    kind = within.single_precision if within is not None else None
    interval = {None: YEAR, YEAR: MONTH, MONTH: DAY, DAY: DAY}[kind]
    points = date_sets.counts(docs, interval, within if kind else None)
    placed = sum(count for _, count in points)
    imprecise = len(docs - date_sets.undated) - placed
    return results.Timeline(interval, within.single if kind else "", points, imprecise)


def facet_counts(index: SearchIndex, query: Query | None = None) -> dict[str, list[results.FacetBucket]]:
    """Facet counts for a query, or for the whole archive."""
    return search(index, (query or Query()).with_changes(result_page=1, per_page=1)).facets


def _docnum(searcher, article_id: str) -> int | None:
    return searcher.document_number(**{schema.ID_FIELD: article_id})


def get_article(index: SearchIndex, article_id: str, query_text: str = "",
                fmt: Formatter | None = None, aliases: bool = True,
                at: int | None = None) -> results.ArticleDetail | None:
    """One article, its paragraphs with the matches of ``query_text`` marked (with ``aliases``,
    the other names of the places it names too, as the search does); with ``at`` (a character
    offset in the text, as the concordance gives it), which of the marks is the match there."""
    fmt = fmt or HtmlFormatter()
    if is_engine(index):
        return index.get_article(article_id, query_text, fmt, aliases, at)
    searcher = index.searcher()
    docnum = _docnum(searcher, article_id)
    if docnum is None:
        return None
    return article_detail(searcher.stored_fields(docnum), query_text, fmt, aliases, at)


def article_detail(stored: dict, query_text: str, fmt: Formatter, aliases: bool = True,
                   at: int | None = None) -> results.ArticleDetail:
    """An article from its stored values (any backend's), the matches of ``query_text`` marked."""
    values = fields.stored_values(stored)
    terms = []
    if query_text.strip():
        try:
            tree = parse(query_text)
            terms = highlight_terms(with_place_names(tree)[0] if aliases else tree)
        except QueryError:
            terms = []
    text = values["text"]
    spans = find_spans(text, terms)
    return results.ArticleDetail(
        **_shown(values),
        subtitle=values["subtitle"],
        text=text,
        paragraphs=paragraphs(text, spans, fmt),
        mark_at=sum(1 for span in spans if span.end <= at) if at is not None and spans else None,
        page_id=values["page"],
        position=values["position"] or 0,
        kind=values["kind"],
        column=values["column"],
        year_inferred=bool(values["year_inferred"]),
        year_evidence=values["year_evidence"],
        cities=values["cities"],
        photographers=list(values["photographers"] or []),
        keywords=list(values["keywords"] or []),
        paper=values["paper"],
        url=values["url"],
        page_label=values["page_label"],
    )


def related(index: SearchIndex, article_id: str, count: int = RELATED_COUNT,
            fmt: Formatter | None = None) -> list[results.Hit]:
    """Articles sharing the most key terms with this one (more-like-this on its keywords)."""
    fmt = fmt or HtmlFormatter()
    if is_engine(index):
        return index.related(article_id, count, fmt)
    searcher = index.searcher()
    docnum = _docnum(searcher, article_id)
    if docnum is None:
        return []
    keywords = searcher.stored_fields(docnum).get("keywords") or []
    if not keywords:
        return []
    like = wq.Or([wq.Term(schema.WORDS, word) for word in keywords])
    found = searcher.search(like, limit=count + 1)
    return [_hit(h.fields(), h.score or 0.0, [], fmt) for h in found if h.docnum != docnum][:count]


def page_articles(index: SearchIndex, page_id: str) -> list[dict]:
    """The articles of one newspaper page, in page order (stored fields)."""
    if is_engine(index):
        return index.page_articles(page_id)
    searcher = index.searcher()
    found = searcher.search(wq.Term("page", page_id), limit=None,
                            sortedby=FieldFacet("position"))
    return [dict(hit.fields()) for hit in found]


def stats(index: SearchIndex, with_sources: bool = False) -> dict:
    """Counts and size of the index, its roots (folders indexed) with their files and articles,
    and with ``with_sources`` each source file with its number of articles."""
    if is_engine(index):
        return index.stats(with_sources)
    searcher = index.searcher()
    reader = searcher.reader()
    table = index.facet_table(searcher)
    sources = live_terms(reader, "source")
    roots = []
    for root in read_meta(index.index_dir).get("roots", []):
        inside = {k: n for k, n in sources.items() if k.startswith(root.rstrip("/") + "/")}
        roots.append({"path": root, "files": len(inside), "articles": sum(inside.values()),
                      "exists": Path(root).is_dir()})
    size = sum(f.stat().st_size for f in Path(index.index_dir).iterdir() if f.is_file())
    data = {
        "index_dir": str(index.index_dir),
        "articles": searcher.doc_count(),
        "pages": len(live_terms(reader, "page")),
        "source_files": len(sources),
        "segments": len(reader.leaf_readers()) if hasattr(reader, "leaf_readers") else 1,
        "index_bytes": size,
        "roots": roots,
        "facets": {name: [b.to_dict() for b in facet.buckets(table.live)] for name, facet in table.facets.items()},
    }
    if with_sources:
        data["sources"] = [{"path": k, "articles": n} for k, n in sorted(sources.items())]
    return data
