"""The Whoosh schema, made from the table of fields (``indexer.fields``), and the names of the
fields the search core reads directly."""

from __future__ import annotations

from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from indexer import fields
from indexer.analysis import chinese_analyzer

ID_FIELD = "id"
WORDS = "content"
TITLE = "title"
GRAMS = "grams"
TITLE_GRAMS = "title_grams"
# Normalised text (UTF-8) of the gram fields, per document, for verifying exact matches. These
# and the gram fields live in each segment's gram file (``indexer.gramindex``), not in Whoosh.
TEXT_COLUMN = "norm_text"
TITLE_COLUMN = "norm_title"
SORT_DATE = "sort_date"
SOURCE_VERSION = "source_version"

# Stored with each index (``indexer.indexdir``); an index of another version must be rebuilt. The
# number counts changes outside the table of fields (the analysis, the codec); the signature
# follows the table.
SCHEMA_VERSION = f"5-{fields.signature()}"


def _whoosh_field(field: fields.Field):
    kind = field.kind
    if kind == fields.ID:
        return ID(stored=field.stored, unique=field.unique)
    if kind == fields.TERMS:
        return KEYWORD(stored=field.stored, commas=True)
    if kind == fields.WORDS:
        return TEXT(analyzer=chinese_analyzer(), stored=field.stored, phrase=False, field_boost=field.boost)
    if kind == fields.NUMBER:
        # A column (sorting, the year facet and its ranges read it), stored, and not indexed:
        # Whoosh would index each number as several range terms, postings nothing here reads.
        number = NUMERIC(stored=field.stored, sortable=True)
        number.indexed = False
        return number
    if kind == fields.FLAG:
        return BOOLEAN(stored=field.stored)
    if kind == fields.STORED:
        return STORED()
    raise ValueError(f"field {field.name!r} has an unknown kind {kind!r}")


def build_schema() -> Schema:
    """Whoosh's fields: every field of the table but the gram fields and text columns."""
    return Schema(**{field.name: _whoosh_field(field) for field in fields.FIELDS
                     if field.kind not in (fields.GRAMS, fields.COLUMN)})
