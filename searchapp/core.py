"""The search core: ``search(index, query, formatter) -> SearchResult`` and friends.

No front-end code here (no Flask, no argparse): the web page, the JSON API and the CLI call
these functions and only render what they return.
"""

from __future__ import annotations

import heapq
import time
from pathlib import Path

from whoosh import query as wq
from whoosh.sorting import FieldFacet

from indexer import schema
from indexer.build import live_terms
from indexer.indexdir import read_meta
from indexer.limits import cap_title
from searchapp import results, settings
from searchapp.facets import FACETS
from searchapp.highlight import Formatter, HtmlFormatter, find_spans, paragraphs, snippets
from searchapp.matching import DocSets
from searchapp.query import (Query, TermNode, highlight_terms, parse, parse_years, positive_terms,
                             words_of)
from searchapp.store import SearchIndex

RELATED_COUNT = 5


def _facet_filters(table, query: Query) -> dict[str, frozenset[int]]:
    """One document set per facet that has a filter (OR of its values)."""
    filters: dict[str, frozenset[int]] = {}
    for facet in FACETS:
        values = query.filters.get(facet, ())
        if not values:
            continue
        if facet == "year":
            filters[facet] = frozenset().union(*(table.year_range(*parse_years(v)) for v in values))
        else:
            filters[facet] = table.filter_set(facet, values)
    if query.year_from is not None or query.year_to is not None:
        span = table.year_range(query.year_from, query.year_to)
        filters["year"] = filters["year"] & span if "year" in filters else span
    return filters


def _tiers(docsets: DocSets, terms: list[TermNode], final: frozenset[int]) -> list[frozenset[int]]:
    """``final`` split by how many query terms occur in a document as exact strings, most first."""
    exact = [docsets.exact(term.text) for term in terms]
    if len(exact) == 1:
        return [final & exact[0], final - exact[0]]
    counts: dict[int, set[int]] = {}
    for docnum in final & frozenset().union(*exact):
        counts.setdefault(sum(docnum in e for e in exact), set()).add(docnum)
    tiers = [frozenset(counts[c]) for c in sorted(counts, reverse=True)]
    return tiers + [final - frozenset().union(*exact)]


# A tier of up to this many documents is scored document by document (skipping through the
# words' postings); a larger one through Whoosh's collector over the postings.
DIRECT_SCORING_LIMIT = 300


def _score_directly(searcher, docsets: DocSets, words: list[str],
                    docs: frozenset[int]) -> list[tuple[float, int]]:
    """BM25F of ``docs`` for ``words`` in the text and the title, via ``skip_to`` (0 for a
    document none of the words occurs in)."""
    context = searcher.context()
    matchers = []
    for word in words:
        for field in (schema.WORDS, schema.TITLE):
            if not docsets.frequency(field, word):
                continue
            matcher = wq.Term(field, word).matcher(searcher, context)
            if matcher.is_active():
                matchers.append(matcher)
    scored = []
    for docnum in sorted(docs):
        score = 0.0
        for matcher in matchers:
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                score += matcher.score()
        scored.append((score, docnum))
    return scored


def _ranked(searcher, docsets: DocSets, terms: list[TermNode], final: frozenset[int],
            limit: int) -> tuple[list[int], dict[int, float]]:
    """The first ``limit`` documents of ``final``: exact-match tiers first, BM25F within a tier
    (words in the text and in the boosted title), documents no word scores last in a tier."""
    words = sorted({w for term in terms for w in words_of(term.text)})
    fields = (schema.WORDS, schema.TITLE)
    order: list[int] = []
    scores: dict[int, float] = {}
    for tier in _tiers(docsets, terms, final):
        need = limit - len(order)
        if need <= 0:
            break
        if not tier:
            continue
        if len(tier) <= DIRECT_SCORING_LIMIT:
            best = heapq.nsmallest(need, _score_directly(searcher, docsets, words, tier),
                                   key=lambda item: (-item[0], item[1]))
            for score, docnum in best:
                order.append(docnum)
                if score:
                    scores[docnum] = score
            continue
        returned: set[int] = set()
        if words:
            query = wq.Or([wq.Term(f, w) for w in words for f in fields])
            for hit in searcher.search(query, filter=set(tier), limit=need):
                order.append(hit.docnum)
                returned.add(hit.docnum)
                scores[hit.docnum] = hit.score or 0.0
        if len(returned) < need:  # every scored document of the tier was returned
            order.extend(sorted(tier - returned)[: need - len(returned)])
    return order, scores


def _hit(stored: dict, score: float, terms, fmt: Formatter) -> results.Hit:
    text = stored.get("text", "")
    spans = find_spans(text, terms)
    title = stored.get("title", "")
    source = stored.get("file") or stored.get("source", "")
    return results.Hit(
        id=stored["id"],
        title=cap_title(title),  # indexes built before titles were capped may hold longer ones
        source=source,
        date=stored.get("date", ""),
        year=stored.get("year"),
        city=stored.get("city", ""),
        districts=_split(stored.get("district")),
        topics=_split(stored.get("topic")),
        reporters=_split(stored.get("reporter")),
        score=float(score),
        snippets=snippets(text, spans, fmt, count=settings.SNIPPETS_PER_HIT, skip_prefix=title),
    )


def _split(value) -> list[str]:
    return [v for v in value.split(",") if v] if value else []


def search(index: SearchIndex, query: Query, fmt: Formatter | None = None) -> results.SearchResult:
    """Ranked hits of one page, total, and facet counts over the whole result set."""
    started = time.perf_counter()
    fmt = fmt or HtmlFormatter()
    searcher = index.searcher()
    table = index.facet_table(searcher)
    docsets = DocSets(searcher, table.live, table.values["year"])
    tree = query.tree
    matched = docsets.evaluate(tree) if tree is not None else table.live

    filters = _facet_filters(table, query)
    final = matched
    for docs in filters.values():
        final = final & docs
    facets = {}
    for facet in FACETS:
        within = matched
        for other, docs in filters.items():
            if other != facet:
                within = within & docs
        facets[facet] = table.buckets(facet, within, query.filters.get(facet, ()))

    hits: list[results.Hit] = []
    first = (query.page - 1) * query.per_page
    if first < len(final):
        limit = first + query.per_page
        terms = positive_terms(tree)
        if query.sort == "date" or not terms:
            dates = table.sort_dates
            order = heapq.nsmallest(limit, final, key=lambda d: (-dates[d], d))
            scores: dict[int, float] = {}
        else:
            order, scores = _ranked(searcher, docsets, terms, final, limit)
        marks = highlight_terms(tree)
        for docnum in order[first:limit]:
            hits.append(_hit(searcher.stored_fields(docnum), scores.get(docnum, 0.0), marks, fmt))

    return results.SearchResult(
        query=query.text,
        total=len(final),
        page=query.page,
        per_page=query.per_page,
        took_ms=(time.perf_counter() - started) * 1000,
        hits=hits,
        facets=facets,
        sort=query.sort,
        filters=dict(query.filters),
    )


def facet_counts(index: SearchIndex, query: Query | None = None) -> dict[str, list[results.FacetBucket]]:
    """Facet counts for a query, or for the whole archive."""
    return search(index, (query or Query()).with_changes(page=1, per_page=1)).facets


def _docnum(searcher, article_id: str) -> int | None:
    return searcher.document_number(**{schema.ID_FIELD: article_id})


def get_article(index: SearchIndex, article_id: str, query_text: str = "",
                fmt: Formatter | None = None) -> results.Article | None:
    """One article, its paragraphs with the matches of ``query_text`` marked."""
    fmt = fmt or HtmlFormatter()
    searcher = index.searcher()
    docnum = _docnum(searcher, article_id)
    if docnum is None:
        return None
    stored = searcher.stored_fields(docnum)
    terms = []
    if query_text.strip():
        try:
            terms = highlight_terms(parse(query_text))
        except ValueError:
            terms = []
    text = stored.get("text", "")
    return results.Article(
        id=stored["id"],
        title=cap_title(stored.get("title", "")),
        subtitle=cap_title(stored.get("subtitle", "")),
        text=text,
        paragraphs=paragraphs(text, find_spans(text, terms), fmt),
        source=stored.get("file") or stored.get("source", ""),
        page=stored.get("page", "") or "",
        position=stored.get("position", 0),
        kind=stored.get("kind", ""),
        column=stored.get("column", ""),
        date=stored.get("date", ""),
        year=stored.get("year"),
        year_inferred=bool(stored.get("year_inferred")),
        year_evidence=stored.get("year_evidence", ""),
        city=stored.get("city", "") or "",
        cities=_split(stored.get("cities")),
        districts=_split(stored.get("district")),
        topics=_split(stored.get("topic")),
        reporters=_split(stored.get("reporter")),
        photographers=list(stored.get("photographers") or []),
        keywords=list(stored.get("keywords") or []),
        paper=stored.get("paper", ""),
        url=stored.get("url", ""),
    )


def related(index: SearchIndex, article_id: str, count: int = RELATED_COUNT,
            fmt: Formatter | None = None) -> list[results.Hit]:
    """Articles sharing the most key terms with this one (more-like-this on its keywords)."""
    fmt = fmt or HtmlFormatter()
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
    searcher = index.searcher()
    found = searcher.search(wq.Term("page", page_id), limit=None,
                            sortedby=FieldFacet("position"))
    return [dict(hit.fields()) for hit in found]


def stats(index: SearchIndex, with_sources: bool = False) -> dict:
    """Counts and size of the index, its roots (folders indexed) with their files and articles,
    and with ``with_sources`` each source file with its number of articles."""
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
        "facets": {facet: [b.to_dict() for b in table.buckets(facet, table.live)] for facet in FACETS},
    }
    if with_sources:
        data["sources"] = [{"path": k, "articles": n} for k, n in sorted(sources.items())]
    return data
