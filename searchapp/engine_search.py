"""The SphinxQL backend: the search core's calls answered by a Sphinx / Manticore engine.

``EngineIndex`` answers what ``searchapp.core`` asks of an index (search, an article, related
articles, a page, statistics) with the same result objects, so the page, the API and the CLI
work the same on it. The query language is translated into the engine's match syntax over the
tokens of ``indexer.engine`` (every string of the text is a phrase of character tokens, so a
quoted string is exact, and so is the result's total); facet filters, year ranges and dates
are attribute filters; facet counts are the engine's ``FACET``s (each facet counted without its
own filter, as the embedded index counts them); snippets and highlighting are made here from
the stored text, by the same code as the embedded index's.

What differs: the order. Relevance is Sphinx's ``proximity_bm25`` ranker over the words and the
characters (the query's terms close together and in order first, then BM25, the title weighted
x3), not the embedded index's tiers and BM25F; ties and ``sort=date`` ties go by the engine's
document id. The tools that walk whole result sets (export, concordance, trends, browsing,
cursors) are the embedded index's (``core.NotOnEngine``).

A shard that does not answer is an error (``EngineError``, 503 from the web app), never a silently
partial result.
"""

from __future__ import annotations

import json
import threading
import time

from indexer import engine, fields
from indexer.dates import DAY, MONTH, YEAR, DateRange, label, precision
from indexer.engine import EngineError, gram_tokens, tag_token, word_token, year_token
from searchapp import results
from searchapp.facets import shown_buckets
from searchapp.query import AndNode, FieldNode, NotNode, OrNode, QueryError, Range, TermNode
from searchapp.request import Query
from searchapp.terms import highlight_terms, positive_terms, with_place_names, words_of

FACETS = {field.name: field for field in fields.FACETS}
SEARCH_MATCHES = 1000  # the least max_matches of a search (facet values: fewer than this)
# Values a FACET counts: facet values, years, the dates of one year (a larger max_matches makes
# every FACET statement slow: ~90 ms at 100,000 on two shards).
FACET_LIMIT = 1000
YEAR_SPAN = (1000, 2999)  # what an open year range means, inside a query's tree


def _phrase(field: str, text: str) -> str:
    tokens = gram_tokens(text)
    return f'@{field} "{" ".join(tokens)}"' if len(tokens) > 1 else f"@{field} {tokens[0]}"


def _words(field: str, text: str) -> str | None:
    words = sorted(set(words_of(text)))
    return f"@{field} {' '.join(word_token(w) for w in words)}" if words else None


class Translation:
    """A query tree as the engine's match expression, with the range filters of its top level
    taken out as attribute filters (``where``)."""

    def __init__(self, years: list[int]):
        self.years = years  # the years the archive has (for year ranges inside the tree)
        self.where: list[str] = []

    def top(self, tree) -> str:
        children = tree.children if isinstance(tree, AndNode) else (tree,)
        kept = []
        for child in children:
            if isinstance(child, FieldNode) and isinstance(child.value, (Range, DateRange)):
                self.where.extend(_range_conditions(child.value))
            else:
                kept.append(child)
        if not kept:
            return f"@tags {engine.ALL}"
        return self.node(AndNode(tuple(kept)) if len(kept) > 1 else kept[0])

    def node(self, node) -> str:
        if isinstance(node, TermNode):
            exact = _phrase("grams", node.text)
            if node.exact or set(words_of(node.text)) == {node.text}:
                return f"({exact})"
            alternatives = [f"({exact})"] + [f"({w})" for w in (_words("content", node.text), _words("title", node.text)) if w]
            return "(" + " | ".join(alternatives) + ")"
        if isinstance(node, FieldNode):
            return self.field(node)
        if isinstance(node, NotNode):
            return f"(@tags {engine.ALL} -{self.node(node.child)})"
        if isinstance(node, AndNode):
            positives = [c for c in node.children if not isinstance(c, NotNode)]
            negatives = [c.child for c in node.children if isinstance(c, NotNode)]
            parts = [self.node(c) for c in positives] or [f"(@tags {engine.ALL})"]
            parts += [f"-{self.node(c)}" for c in negatives]
            return "(" + " ".join(parts) + ")"
        if isinstance(node, OrNode):
            return "(" + " | ".join(self.node(c) for c in node.children) + ")"
        raise TypeError(node)

    def field(self, node: FieldNode) -> str:
        if node.name == "title":
            return f"({_phrase('title_grams', node.value)})"
        if isinstance(node.value, Range):
            first = node.value.first if node.value.first is not None else YEAR_SPAN[0]
            last = node.value.last if node.value.last is not None else YEAR_SPAN[1]
            years = [y for y in self.years if first <= y <= last]
            return "(@tags " + (" | ".join(year_token(y) for y in years) if years else "ynone") + ")"
        if isinstance(node.value, DateRange):
            raise QueryError(f"date: inside OR or NOT is not supported by the SphinxQL backend; "
                             f"use it beside the other terms (date:{node.value})", "date", code="bad_date")
        return f"(@tags {tag_token(node.name, node.value)})"


def _range_conditions(value) -> list[str]:
    """Attribute conditions (ANDed in WHERE) for a year range or a date range."""
    if isinstance(value, Range):
        parts = ["year > 0"]
        if value.first is not None:
            parts.append(f"year >= {int(value.first)}")
        if value.last is not None:
            parts.append(f"year <= {int(value.last)}")
        return parts
    parts = ["sort_date > 0"]
    if value.first is not None:
        parts.append(f"first_day >= {int(value.first)}")
    if value.last is not None:
        parts.append(f"last_day <= {int(value.last)}")
    return parts


def _interval(within: DateRange | None) -> str:
    """The timeline's periods (as ``core.timeline``): years, or the months of the one year (the
    days of the one month or day) the query is filtered to."""
    kind = within.single_precision if within is not None else None
    return {None: YEAR, YEAR: MONTH, MONTH: DAY, DAY: DAY}[kind]


class EngineIndex:
    """A SphinxQL engine as the search core's index (one connection per thread)."""

    is_engine = True

    def __init__(self, url: str):
        self.url = url
        self.target = engine.parse_url(url)
        self.table = self.target.read.table
        self._local = threading.local()
        self._names: dict[tuple[str, int], str] = {}  # (facet, value id) -> value
        self._lock = threading.Lock()
        self._years: tuple[float, list[int]] = (0.0, [])
        self.rows("SELECT id FROM {t} LIMIT 0")  # reachable, and the table is there

    # -- talking to the engine ------------------------------------------------------------------

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = engine.connect(self.target.read)
        return connection

    def rows(self, sql: str, args: tuple = ()) -> list[list[tuple]]:
        """Every result set of one statement (a query and its FACETs), then checks that every
        shard answered (``SHOW META``)."""
        import pymysql

        sql = sql.replace("{t}", self.table)
        for attempt in (1, 2):
            connection = self._connection()
            try:
                with connection.cursor() as cursor:
                    cursor.execute(sql, args) if args else cursor.execute(sql)
                    sets = [list(cursor.fetchall())]
                    while cursor.nextset():
                        sets.append(list(cursor.fetchall()))
                    cursor.execute("SHOW META")
                    meta = dict(cursor.fetchall())
                break
            except pymysql.err.OperationalError as error:
                self._local.connection = None
                if attempt == 2:
                    raise EngineError(f"the search engine at {self.target.read.host}:{self.target.read.port} "
                                      f"failed: {str(error.args[-1]).rstrip(chr(0))}") from None
            except pymysql.err.MySQLError as error:
                raise EngineError(f"the search engine refused a query: {str(error.args[-1]).rstrip(chr(0))}") from None
        self._check(meta)
        self._local.meta = meta
        return sets

    def _check(self, meta: dict) -> None:
        warning = meta.get("warning") or meta.get("error")
        if warning:
            raise EngineError(f"the search engine at {self.target.read.host}:{self.target.read.port} answered "
                              f"only in part: {warning}")

    def _total(self) -> int:
        return int(self._local.meta.get("total_found", 0))

    def years(self) -> list[int]:
        checked, years = self._years
        if time.monotonic() - checked > 60:
            (found,) = self.rows("SELECT year, COUNT(*) FROM {t} WHERE year > 0 GROUP BY year "
                                 "ORDER BY year ASC LIMIT 5000 OPTION max_matches=5000")
            years = [int(row[0]) for row in found]
            self._years = (time.monotonic(), years)
        return years

    # -- searching ------------------------------------------------------------------------------

    def _select(self, query: Query, tree, exclude: str | None = None) -> tuple[str, str]:
        """(match expression, WHERE conditions after the match) of a query, without the filter
        of facet ``exclude``. Only plain ANDed attribute conditions: Sphinx 2.2 loses the remote
        shards' FACET counts when a filter is a select expression, so a filter that is an OR of
        year ranges is matched as year tokens instead."""
        translation = Translation(self.years())
        match = translation.top(tree) if tree is not None else f"@tags {engine.ALL}"
        conditions = list(translation.where)
        for name, values in query.filters.items():
            if not values or name == exclude:
                continue
            if FACETS[name].facet == fields.RANGE_FACET:
                match = f"({match}) {translation.field(FieldNode(name, values[0]))}" if len(values) == 1 else \
                    f"({match}) (" + " | ".join(translation.field(FieldNode(name, v)) for v in values) + ")"
            else:
                ids = ", ".join(str(engine.value_id(name, str(value))) for value in values)
                conditions.append(f"{name} IN ({ids})")  # a multi-valued attribute: any of its values
        for name, span in query.bounds.items():
            if name != exclude:
                conditions.extend(_range_conditions(span))
        if query.dates is not None:
            conditions.extend(_range_conditions(query.dates))
        return match, "".join(f" AND {condition}" for condition in conditions)

    def search(self, query: Query, fmt, cursor: str | None = None, started: float | None = None) -> results.SearchResult:
        started = started if started is not None else time.perf_counter()
        if cursor:
            raise QueryError("cursor paging works on the embedded index only", "cursor", code="bad_cursor")
        tree, widened = query.tree, {}
        if tree is not None and query.aliases:
            tree, widened = with_place_names(tree)
        match, condition = self._select(query, tree)
        first = (query.result_page - 1) * query.per_page
        terms = positive_terms(tree)
        order = "sort_date DESC, id ASC" if query.sort == "date" or not terms else "w DESC, id ASC"
        # The hits, then the facets: Sphinx 2.2 cannot FACET a query that selects WEIGHT().
        (found,) = self.rows(
            f"SELECT id, doc, WEIGHT() AS w FROM {{t}} WHERE MATCH(%s){condition} "
            f"ORDER BY {order} LIMIT {first}, {query.per_page} "
            f"OPTION ranker=proximity_bm25, field_weights=(title=3, title_grams=3), "
            f"max_matches={max(SEARCH_MATCHES, first + query.per_page)}", (match,))
        total = self._total()
        marks = highlight_terms(tree)
        from searchapp.core import _hit

        hits = [_hit(json.loads(doc), float(weight), marks, fmt) for _, doc, weight in found]
        own_filters = [name for name in FACETS if query.filters.get(name) or name in query.bounds]
        facets_here = [name for name in FACETS if name not in own_filters]
        interval_name = _interval(query.dates)
        found_facets = self._facets(match, condition, facets_here, "year" if interval_name == YEAR else "sort_date")
        counts = dict(zip(facets_here, found_facets))
        for name in own_filters:
            other_match, other_condition = self._select(query, tree, exclude=name)
            counts[name] = self._facets(other_match, other_condition, [name])[0]
        facets = {name: self._buckets(name, counts[name], query.filters.get(name, ())) for name in FACETS}
        return results.SearchResult(
            query=query.text, total=total, result_page=query.result_page, per_page=query.per_page,
            took_ms=(time.perf_counter() - started) * 1000, hits=hits, facets=facets, sort=query.sort,
            filters={name: tuple(str(v) for v in values) for name, values in query.filters.items()},
            aliases=widened, timeline=self._timeline(found_facets[-1], query.dates),
            next_cursor=None)

    def _facets(self, match: str, condition: str, names: list[str], timeline: str | None = None) -> list[list[tuple]]:
        """(value, count) rows of each facet of ``names`` over a query's matches (one statement),
        and last, with ``timeline`` (``year`` or ``sort_date``), the timeline's rows."""
        if not names and not timeline:
            return []
        facet_sql = "".join(f" FACET {name} ORDER BY COUNT(*) DESC LIMIT {FACET_LIMIT}" for name in names)
        if timeline:
            facet_sql += f" FACET {timeline} ORDER BY {timeline} ASC LIMIT {FACET_LIMIT}"
        return self.rows(f"SELECT id FROM {{t}} WHERE MATCH(%s){condition} LIMIT 0 "
                         f"OPTION max_matches={FACET_LIMIT}{facet_sql}", (match,))[1:]

    def _buckets(self, name: str, rows: list[tuple], selected) -> list[results.FacetBucket]:
        field = FACETS[name]
        if field.facet == fields.RANGE_FACET:
            counts = {str(value): int(count) for value, count in rows if int(value)}
            for year in self.years():  # the archive's years in a selected range are shown, 0 or not
                if any(year in span for span in selected):
                    counts.setdefault(str(year), 0)
            chosen = [value for value in counts if any(int(value) in span for span in selected)]
            return shown_buckets(field, counts, chosen)
        counts = {}
        for value, count in rows:
            named = self._name(name, int(value))
            if named is not None:
                counts[named] = int(count)
        for value in selected:  # a selected value with no results is shown with 0
            counts.setdefault(str(value), 0)
        return shown_buckets(field, counts, selected)

    def _name(self, facet: str, value: int) -> str | None:
        """The facet value a multi-valued attribute's number stands for (looked up once)."""
        key = (facet, value)
        if key not in self._names:
            (found,) = self.rows(f"SELECT doc FROM {{t}} WHERE {facet} = {value} LIMIT 1")
            named = None
            if found:
                stored = fields.stored_values(json.loads(found[0][0]))
                values = stored[facet] if isinstance(stored[facet], list) else [stored[facet]]
                named = next((v for v in values if engine.value_id(facet, v) == value), None)
            with self._lock:
                self._names[key] = named
        return self._names[key]

    def _timeline(self, rows: list[tuple], within: DateRange | None) -> results.Timeline:
        """As ``core.timeline``, from the result's (year, count) rows, or per month or day of the
        one year or month asked for from its (sort date, count) rows."""
        kind = within.single_precision if within is not None else None
        interval_name = _interval(within)
        if interval_name == YEAR:
            return results.Timeline(YEAR, "", [(str(int(y)), int(n)) for y, n in rows if int(y)], 0)
        points: dict[str, int] = {}
        imprecise = 0
        for value, count in rows:
            value, count = int(value), int(count)
            if not value or (kind and not within.covers(value)):
                continue
            known = precision(value)
            if interval_name == YEAR:
                period = str(value // 10000)
            elif interval_name == MONTH and known in (MONTH, DAY):
                period = label(value // 100 * 100)
            elif interval_name == DAY and known == DAY:
                period = label(value)
            else:
                imprecise += count
                continue
            points[period] = points.get(period, 0) + count
        return results.Timeline(interval_name, within.single if kind else "", sorted(points.items()), imprecise)

    # -- articles -------------------------------------------------------------------------------

    def _stored(self, article_id: str) -> dict | None:
        (found,) = self.rows(f"SELECT doc, aid FROM {{t}} WHERE id = {engine.doc_id(article_id)} LIMIT 1")
        if not found or found[0][1] != article_id:
            return None
        return json.loads(found[0][0])

    def get_article(self, article_id: str, query_text: str, fmt, aliases: bool = True, at: int | None = None):
        from searchapp.core import article_detail

        stored = self._stored(article_id)
        return None if stored is None else article_detail(stored, query_text, fmt, aliases, at)

    def related(self, article_id: str, count: int, fmt) -> list[results.Hit]:
        from searchapp.core import _hit

        stored = self._stored(article_id)
        keywords = (stored or {}).get("keywords") or []
        if not keywords:
            return []
        match = "@content " + " | ".join(word_token(word) for word in keywords)
        (found,) = self.rows(f"SELECT id, doc, WEIGHT() FROM {{t}} WHERE MATCH(%s) AND id != {engine.doc_id(article_id)} "
                             f"ORDER BY WEIGHT() DESC, id ASC LIMIT {int(count)} OPTION ranker=bm25", (match,))
        return [_hit(json.loads(doc), float(weight), [], fmt) for _, doc, weight in found]

    def page_articles(self, page_id: str) -> list[dict]:
        (found,) = self.rows(f"SELECT id, doc FROM {{t}} WHERE MATCH(%s) ORDER BY position ASC, id ASC "
                             f"LIMIT 10000 OPTION max_matches=10000", (f"@tags {tag_token('page', page_id)}",))
        return [json.loads(doc) for _, doc in found]

    def stats(self, with_sources: bool = False) -> dict:
        self.rows("SELECT id FROM {t} LIMIT 0")
        articles = self._total()
        (sources,) = self.rows("SELECT source, COUNT(*) FROM {t} GROUP BY source ORDER BY source ASC "
                               "LIMIT 1000000 OPTION max_matches=1000000")
        page_count = self._count_groups("page")
        rows = self._facets(f"@tags {engine.ALL}", "", list(FACETS))
        facets = {name: [b.to_dict() for b in self._buckets(name, found, ())] for name, found in zip(FACETS, rows)}
        data = {"index_dir": self.url, "backend": self.url, "articles": articles, "pages": page_count,
                "source_files": len(sources), "segments": 0, "index_bytes": 0, "roots": [], "facets": facets}
        if with_sources:
            data["sources"] = [{"path": path, "articles": int(n)} for path, n in sources]
        return data

    def _count_groups(self, attribute: str) -> int:
        (found,) = self.rows(f"SELECT {attribute}, COUNT(*) FROM {{t}} GROUP BY {attribute} "
                             f"LIMIT 1000000 OPTION max_matches=1000000")
        return sum(1 for row in found if row[0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def warm_up(self) -> None:
        self.years()
