"""The fields of an article in the index: one table, and everything else derives from it.

Each row says how a field is indexed (its ``kind``), whether it is stored, where its value comes
from (``value``: a prepared article -> the value given to Whoosh), and for the fields people
filter on, the facet (``facet``: ``"term"``, one or several values per article, or ``"range"``,
a number filtered by ranges), the Chinese ``label``, and whether it is a query-language field
(``field:value``).

Derived from it: the Whoosh schema (``indexer.schema``), the index document (``document``), the
values read back from a hit (``stored_values``), the facets that are counted
(``searchapp.facets``), the query-language fields (``searchapp.query``), the URL and CLI
parameters (``searchapp.request``, ``searchapp.cli``), the OpenAPI document and the page's facet
labels (``searchapp.web``). Adding a facet is adding (or changing) one row, plus its data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from indexer import dates
from indexer.analysis import segment
from indexer.gazetteer import load_gazetteer

# Kinds of field: how a value is indexed.
ID = "id"  # one exact term
TERMS = "terms"  # several exact terms (stored comma-separated)
WORDS = "words"  # jieba words, scored (BM25F)
GRAMS = "grams"  # characters and bigrams of the normalised text (exact matching)
COLUMN = "column"  # bytes per document, read by document number (verifying exact matches)
NUMBER = "number"  # an integer, sortable
FLAG = "flag"  # true or false
STORED = "stored"  # kept, not indexed

# Kinds of facet.
TERM_FACET = "term"
RANGE_FACET = "range"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    value: Callable  # Prepared -> the value given to ``writer.add_document``
    stored: bool = False
    facet: str | None = None
    label: str = ""  # shown to people (Chinese)
    query: bool = False  # a query-language field: ``name:value``
    help: str = ""  # one line for the API and the CLI (default: the label)
    max_buckets: int = 30  # facet values shown
    unique: bool = False
    boost: float = 1.0  # for WORDS fields
    shown: Callable | None = None  # the value stored, when it is not the value indexed
    canonical: Callable[[str], str] | None = None  # a filter value as the index spells it
    parse: Callable[[str], object] | None = None  # a query value read into what is filtered by


def _canonical_city(value: str) -> str:
    return load_gazetteer().canonical_city(value)


def _canonical_district(value: str) -> str:
    return load_gazetteer().canonical_district(value, (word for word, _, _ in segment(value).words))


def _joined(values: list[str]) -> str | None:
    return ",".join(values) or None


def _sort_date(article) -> int:
    """YYYYMMDD (missing parts as 00) for sorting and filtering by date; 0 when nothing is known."""
    return dates.sort_date(article.date, article.year)


TITLE_BOOST = 3.0

FIELDS: tuple[Field, ...] = (
    Field("id", ID, lambda p: p.article.id, stored=True, unique=True),
    # The file's absolute path (what updates and removals go by); ``file`` is how it is shown.
    Field("source", ID, lambda p: p.article.source, stored=True),
    Field("file", STORED, lambda p: p.article.file),
    # "<source>\t<sha1>": one term per indexed file version, for incremental updates.
    Field("source_version", ID, lambda p: f"{p.article.source}\t{p.fingerprint}"),
    Field("page", ID, lambda p: p.article.page_id or None, stored=True),
    Field("position", NUMBER, lambda p: p.article.position, stored=True),
    Field("kind", ID, lambda p: p.article.kind, stored=True),
    Field("column", STORED, lambda p: p.article.column),
    Field("title", WORDS, lambda p: p.title_words or None, stored=True, boost=TITLE_BOOST, query=True,
          help="the title contains this string", shown=lambda p: p.article.title),
    Field("subtitle", STORED, lambda p: p.article.subtitle),
    Field("content", WORDS, lambda p: [word for word, _, _ in p.content.words]),
    Field("grams", GRAMS, lambda p: p.grams_text),
    Field("title_grams", GRAMS, lambda p: p.title_norm or None),
    Field("norm_text", COLUMN, lambda p: p.grams_text.encode("utf-8")),
    Field("norm_title", COLUMN, lambda p: p.title_norm.encode("utf-8")),
    Field("text", STORED, lambda p: p.article.text),
    Field("city", ID, lambda p: p.article.city or None, stored=True, facet=TERM_FACET, label="城市",
          query=True, help="city (short name, e.g. 阜新)", max_buckets=20, canonical=_canonical_city),
    Field("cities", TERMS, lambda p: _joined(p.article.cities), stored=True),
    Field("district", TERMS, lambda p: _joined(p.article.districts), stored=True, facet=TERM_FACET,
          label="区县", query=True, help="district or county (e.g. 海州区)", max_buckets=60,
          canonical=_canonical_district),
    Field("year", NUMBER, lambda p: p.article.year, stored=True, facet=RANGE_FACET, label="年份",
          query=True, help="year (2021) or range (2020..2023, either end may be left open)", max_buckets=150),
    Field("topic", TERMS, lambda p: _joined(p.article.topics), stored=True, facet=TERM_FACET, label="主题",
          query=True, help="topic (e.g. 营商环境)"),
    Field("reporter", TERMS, lambda p: _joined(p.article.reporters), stored=True, label="记者", query=True,
          help="reporter"),
    Field("photographers", STORED, lambda p: p.article.photographers),
    Field("year_inferred", FLAG, lambda p: p.article.year_inferred, stored=True),
    Field("year_evidence", STORED, lambda p: p.article.year_evidence),
    # Filtered through ``sort_date`` (``date:2023-05``, ``date:2023-05-01..2023-06-30``).
    Field("date", STORED, lambda p: p.article.date, query=True, parse=dates.DateRange.parse,
          help="date (2023-05-01, 2023-05, 2023) or range (2023-05-01..2023-06-30, either end may be left open)"),
    Field("sort_date", NUMBER, lambda p: _sort_date(p.article)),
    Field("paper", ID, lambda p: p.article.paper or None, stored=True, facet=TERM_FACET, label="报纸", query=True),
    Field("page_label", STORED, lambda p: p.article.page_label),
    Field("url", STORED, lambda p: p.article.url),
    Field("keywords", STORED, lambda p: p.article.keywords),
)

def described(field: Field) -> str:
    """The field's one line for the API and the CLI."""
    return field.help or field.label


BY_NAME = {f.name: f for f in FIELDS}
FACETS: tuple[Field, ...] = tuple(f for f in FIELDS if f.facet)
QUERY_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.query)


def signature() -> str:
    """What an index built with this table is like: changes when a field is added, removed or
    indexed differently (part of the schema version, so such an index must be rebuilt)."""
    described = [(f.name, f.kind, f.stored, f.unique, f.boost) for f in FIELDS]
    return hashlib.sha1(repr(described).encode("utf-8")).hexdigest()[:12]


def document(prepared) -> dict:
    """The keyword arguments of ``writer.add_document`` for a prepared article."""
    doc = {field.name: field.value(prepared) for field in FIELDS}
    for field in FIELDS:
        if field.shown is not None:
            doc[f"_stored_{field.name}"] = field.shown(prepared)  # Whoosh stores this instead
    return doc


def stored_values(stored: dict) -> dict:
    """A hit's stored fields with their types back: lists for TERMS fields, "" for a missing
    string, ``None`` for a missing number."""
    values = {}
    for field in FIELDS:
        if not field.stored and field.kind != STORED:
            continue
        value = stored.get(field.name)
        if field.kind == TERMS:
            value = [v for v in value.split(",") if v] if value else []
        elif value is None and field.kind not in (NUMBER, FLAG):
            value = ""
        values[field.name] = value
    return values
