"""From source files to index documents: the work that runs in the worker processes.

A *task* is one page file or one batch of JSON Lines; ``prepare`` turns it into ``Prepared``
articles (records with their normalised text and jieba words) and ``Problem``s. An article over
the limits of ``indexer.limits`` is split (or its title cut) before it is segmented, and each
such change is reported as a ``Problem`` that skipped nothing.
``to_document`` turns a ``Prepared`` article into the keyword arguments of
``writer.add_document``.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer import schema
from indexer.analysis import Segmented, segment
from indexer.articles import split_page
from indexer.limits import limit_article
from indexer.metadata import enrich, infer_year
from indexer.normalize import normalize
from indexer.records import Article, CatalogEntry, Problem
from indexer.sources import SourceFile, parse_record, read_page, shown


@dataclass(frozen=True, slots=True)
class PageTask:
    file: SourceFile
    catalog: CatalogEntry | None
    page_id: str


@dataclass(frozen=True, slots=True)
class RecordsTask:
    file: SourceFile
    lines: list[tuple[int, bytes]]


@dataclass(slots=True)
class Prepared:
    article: Article
    fingerprint: str
    content: Segmented  # words of the normalised text
    title_words: list[str]
    grams_text: str  # normalised text the gram field indexes
    title_norm: str


def _prepare_article(article: Article, fingerprint: str,
                     catalog: CatalogEntry | None = None) -> Prepared:
    norm_text = normalize(article.text)
    norm_title = normalize(article.title)
    content = segment(norm_text)
    enrich(article, norm_text, content, catalog)
    grams_text = norm_text if norm_title in norm_text else f"{norm_title}\n{norm_text}"
    title_words = [word for word, _, _ in segment(norm_title).words] if norm_title else []
    return Prepared(article, fingerprint, content, title_words, grams_text, norm_title)


def _within_limits(article: Article, where: str, problems: list[Problem],
                   line: int | None = None) -> list[Article]:
    """``article`` as one or more articles within the limits; what was changed goes to ``problems``."""
    parts, warnings = limit_article(article)
    problems.extend(Problem(where, warning, line, skipped=False) for warning in warnings)
    return parts


def prepare(task: PageTask | RecordsTask) -> tuple[list[Prepared], list[Problem]]:
    if isinstance(task, PageTask):
        page, problems = read_page(task.file, task.catalog, task.page_id)
        if page is None:
            return [], problems
        articles = split_page(page)
        # A page has one year: inferred once from the whole page, unless the catalog gives it.
        if page.catalog is None or page.catalog.year is None:
            year, evidence = infer_year(normalize(page.text))
            for article in articles:
                article.year, article.year_inferred, article.year_evidence = year, year is not None, evidence
        where = shown(task.file.path)
        parts = [part for article in articles for part in _within_limits(article, where, problems)]
        return [_prepare_article(a, task.file.fingerprint, page.catalog) for a in parts], problems
    prepared: list[Prepared] = []
    problems = []
    for number, line in task.lines:
        record = parse_record(task.file, number, line)
        if record is None:
            continue
        if isinstance(record, Problem):
            problems.append(record)
        else:
            parts = _within_limits(record, shown(task.file.path), problems, number)
            prepared.extend(_prepare_article(part, task.file.fingerprint) for part in parts)
    return prepared, problems


def sort_date(article: Article) -> int:
    """YYYYMMDD (missing parts as 00) for sorting by date; 0 when nothing is known."""
    digits = article.date.replace("-", "")
    if len(digits) >= 4 and digits[:4].isdigit():
        return int(digits[:8].ljust(8, "0"))
    return (article.year or 0) * 10000


def to_document(item: Prepared) -> dict:
    a = item.article
    return {
        schema.ID_FIELD: a.id,
        "source": a.source,
        "file": a.file,
        schema.SOURCE_VERSION: f"{a.source}\t{item.fingerprint}",
        "page": a.page_id or None,
        "position": a.position,
        "kind": a.kind,
        "column": a.column,
        schema.TITLE: item.title_words or None,
        f"_stored_{schema.TITLE}": a.title,
        "subtitle": a.subtitle,
        schema.WORDS: [word for word, _, _ in item.content.words],
        schema.GRAMS: item.grams_text,
        schema.TITLE_GRAMS: item.title_norm or None,
        schema.TEXT_COLUMN: item.grams_text.encode("utf-8"),
        schema.TITLE_COLUMN: item.title_norm.encode("utf-8"),
        "text": a.text,
        schema.CITY: a.city or None,
        "cities": ",".join(a.cities) or None,
        schema.DISTRICT: ",".join(a.districts) or None,
        schema.TOPIC: ",".join(a.topics) or None,
        schema.REPORTER: ",".join(a.reporters) or None,
        "photographers": a.photographers,
        schema.YEAR: a.year,
        "year_inferred": a.year_inferred,
        "year_evidence": a.year_evidence,
        "date": a.date,
        schema.SORT_DATE: sort_date(a),
        "paper": a.paper,
        "page_label": a.page_label,
        "url": a.url,
        "keywords": a.keywords,
    }
