"""The Whoosh schema: the only place where index field names are defined."""

from __future__ import annotations

from whoosh.columns import VarBytesColumn
from whoosh.fields import BOOLEAN, COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from indexer.analysis import GramField, chinese_analyzer

# Field names used by the search core (kept here so there is one list of them).
ID_FIELD = "id"
WORDS = "content"
TITLE = "title"
GRAMS = "grams"
TITLE_GRAMS = "title_grams"
# Normalised text (UTF-8) of the gram fields, per document, for verifying exact matches.
TEXT_COLUMN = "norm_text"
TITLE_COLUMN = "norm_title"
CITY = "city"
DISTRICT = "district"
YEAR = "year"
TOPIC = "topic"
REPORTER = "reporter"
SORT_DATE = "sort_date"
SOURCE_VERSION = "source_version"

TITLE_BOOST = 3.0
SCHEMA_VERSION = 3


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # The file's absolute path (what updates and removals go by); ``file`` is how it is shown.
        source=ID(stored=True),
        file=STORED(),
        # "<source>\t<sha1>": one term per indexed file version, for incremental updates.
        source_version=ID(),
        page=ID(stored=True),
        position=NUMERIC(stored=True),
        kind=ID(stored=True),
        column=STORED(),
        title=TEXT(analyzer=chinese_analyzer(), stored=True, phrase=False, field_boost=TITLE_BOOST),
        subtitle=STORED(),
        content=TEXT(analyzer=chinese_analyzer(), phrase=False),
        grams=GramField(),
        title_grams=GramField(),
        norm_text=COLUMN(VarBytesColumn()),
        norm_title=COLUMN(VarBytesColumn()),
        text=STORED(),
        city=ID(stored=True),
        cities=KEYWORD(stored=True, commas=True),
        district=KEYWORD(stored=True, commas=True),
        topic=KEYWORD(stored=True, commas=True),
        reporter=KEYWORD(stored=True, commas=True),
        photographers=STORED(),
        year=NUMERIC(stored=True, sortable=True),
        year_inferred=BOOLEAN(stored=True),
        year_evidence=STORED(),
        date=STORED(),
        sort_date=NUMERIC(sortable=True),
        paper=STORED(),
        page_label=STORED(),
        url=STORED(),
        keywords=STORED(),
    )
