"""From source files to index documents: reading, splitting, normalising, segmenting, tagging
(in the indexing process; Whoosh's writer processes then write the postings).

A *task* (``indexer.sources.Task``: a page file, a batch of JSON Lines) is read into articles by
its file's input format (``articles_of``, with the ``Problem``s met, the same way whatever the
format). An article over the limits of ``indexer.limits`` is split (or its title cut) there,
and each such change is reported as a ``Problem`` that skipped nothing. ``prepare_article``
turns an article into a ``Prepared`` one (its normalised text and jieba words, its places and
topics); the index writer does that in the process that writes the article
(``indexer.writer``).
``indexer.fields.document`` turns a ``Prepared`` article into the keyword arguments of
``writer.add_document``.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.analysis import Segmented, segment
from indexer.limits import limit_article
from indexer.metadata import enrich
from indexer.normalize import normalize
from indexer.records import Article, CatalogEntry, Problem
from indexer.sources import Task, shown


@dataclass(slots=True)
class Prepared:
    article: Article
    fingerprint: str
    content: Segmented  # words of the normalised text
    title_words: list[str]
    grams_text: str  # normalised text the gram field indexes
    title_norm: str


def prepare_article(article: Article, fingerprint: str, catalog: CatalogEntry | None) -> Prepared:
    norm_text = normalize(article.text)
    norm_title = normalize(article.title)
    content = segment(norm_text)
    enrich(article, norm_text, content, catalog)
    grams_text = norm_text if norm_title in norm_text else f"{norm_title}\n{norm_text}"
    title_words = [word for word, _, _ in segment(norm_title).words] if norm_title else []
    return Prepared(article, fingerprint, content, title_words, grams_text, norm_title)


def _within_limits(article: Article, where: str, problems: list[Problem],
                   line: int | None) -> list[Article]:
    """``article`` as one or more articles within the limits; what was changed goes to ``problems``."""
    parts, warnings = limit_article(article)
    problems.extend(Problem(where, warning, line, skipped=False) for warning in warnings)
    return parts


def articles_of(task: Task) -> tuple[list[Article], list[Problem]]:
    """The articles of ``task``, as its file's format reads them, within the limits; and the
    problems, in file order."""
    articles: list[Article] = []
    problems: list[Problem] = []
    where = shown(task.file.path)
    for item in task.file.format.articles(task):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        line = item.position if item.kind == "record" else None
        articles.extend(_within_limits(item, where, problems, line))
    return articles, problems


def prepare(task: Task) -> tuple[list[Prepared], list[Problem]]:
    """``articles_of(task)``, each prepared (in this process)."""
    articles, problems = articles_of(task)
    return [prepare_article(a, task.file.fingerprint, task.catalog) for a in articles], problems
