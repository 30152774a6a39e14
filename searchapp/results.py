"""The result objects every front end renders: small frozen dataclasses with ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FacetBucket:
    value: str
    count: int
    selected: bool = False

    def to_dict(self) -> dict:
        return {"value": self.value, "count": self.count}


@dataclass(frozen=True, slots=True)
class Timeline:
    """A result set counted per period (``interval``: year, month or day), within ``period``
    (a year or month the query is filtered to, or "" for the whole archive); ``imprecise``
    results have a date known less precisely than the periods (only a year, in months)."""

    interval: str
    period: str
    points: list[tuple[str, int]]
    imprecise: int = 0

    def to_dict(self) -> dict:
        return {"interval": self.interval, "period": self.period,
                "points": [{"period": period, "count": count} for period, count in self.points],
                "imprecise": self.imprecise}


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    title: str
    when: str  # the date, or "2023 年，日期不详" when only the year is known
    source: str
    date: str
    year: int | None
    city: str
    districts: list[str]
    topics: list[str]
    reporters: list[str]
    score: float
    snippets: list[str]  # formatted by the front end's formatter
    paper: str = ""  # the newspaper, when known
    page_label: str = ""  # its page (版次, e.g. 第3版), when known
    explain: dict | None = None  # why it ranks where it does (``ranking.explain``), when asked

    def to_dict(self) -> dict:
        data = {"id": self.id, "title": self.title, "source": self.source}
        if self.date:
            data["date"] = self.date
        data["year"] = self.year
        data["when"] = self.when
        data.update(city=self.city, districts=self.districts, topics=self.topics,
                    reporters=self.reporters, score=round(self.score, 4), snippets=self.snippets)
        data.update({key: value for key, value in (("paper", self.paper), ("page_label", self.page_label)) if value})
        if self.explain is not None:
            data["explain"] = self.explain
        return data


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    total: int
    result_page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetBucket]]
    sort: str = "relevance"
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # place names also searched
    timeline: Timeline | None = None
    next_cursor: str | None = None  # where the hits after this page start (``searchapp.paging``)

    @property
    def result_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.result_page,
            "per_page": self.per_page,
            "took_ms": round(self.took_ms, 2),
            "sort": self.sort,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "aliases": {k: list(v) for k, v in self.aliases.items()},
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": {name: [b.to_dict() for b in buckets] for name, buckets in self.facets.items()},
            "timeline": self.timeline.to_dict() if self.timeline else None,
            "next_cursor": self.next_cursor,
        }


@dataclass(frozen=True, slots=True)
class ArticleDetail:
    """One article in full, for ``show`` and the article page."""

    id: str
    title: str
    when: str
    subtitle: str
    text: str
    paragraphs: list[str]  # formatted (highlighted) by the front end's formatter
    source: str  # the file it comes from (its folder's name and its path below it)
    page_id: str  # the newspaper page it is part of ("" for a record)
    position: int
    kind: str
    column: str
    date: str
    year: int | None
    year_inferred: bool
    year_evidence: str
    city: str
    cities: list[str]
    districts: list[str]
    topics: list[str]
    reporters: list[str]
    photographers: list[str]
    keywords: list[str]
    paper: str
    url: str
    page_label: str = ""  # the newspaper's page (版次, e.g. 第3版), when known
    mark_at: int | None = None  # which mark (0: the first) is the match at the offset asked for

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "subtitle": self.subtitle, "text": self.text,
            "paragraphs": self.paragraphs, "source": self.source, "page": self.page_id,
            "position": self.position, "kind": self.kind, "column": self.column,
            "date": self.date, "year": self.year, "when": self.when, "year_inferred": self.year_inferred,
            "year_evidence": self.year_evidence, "city": self.city, "cities": self.cities,
            "districts": self.districts, "topics": self.topics, "reporters": self.reporters,
            "photographers": self.photographers, "keywords": self.keywords,
            "paper": self.paper, "page_label": self.page_label, "url": self.url,
        }
