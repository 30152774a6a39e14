"""The index codec (``indexer/codec.py``) writes what Whoosh's stock W3 codec writes.

The corpus is indexed twice by the real indexer, once as it is (``NewsearchCodec``) and once with
Whoosh's stock ``W3Codec`` put in its place (the only difference between the two runs); then
every field, term and posting is read back through Whoosh's ordinary reader API and compared.
"""

from __future__ import annotations

import re

import pytest
from whoosh import index as whoosh_index
from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.fields import ID, KEYWORD, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.matching import ListMatcher

import indexer.build
import indexer.codec
from indexer.build import build_index
from indexer.codec import INLINE_LIMIT, NewsearchCodec

from conftest import CORPUS


@pytest.fixture(scope="module")
def ours_and_stock(tmp_path_factory):
    """(index written by the project's codec, index written by the stock W3 codec), of the corpus."""
    ours = tmp_path_factory.mktemp("ours") / "index"
    stock = tmp_path_factory.mktemp("stock") / "index"
    calls = []
    original = indexer.codec._FieldWriter.add_postings

    def counted(self, *args, **kwargs):
        calls.append(type(self))
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexer.codec._FieldWriter, "add_postings", counted)
        build_index([CORPUS], ours, workers=1)
        assert calls, "the indexer did not write its postings through NewsearchCodec's add_postings"
        calls.clear()
        patch.setattr(indexer.build, "NewsearchCodec", W3Codec)
        build_index([CORPUS], stock, workers=1)
        assert not calls, "the stock build still went through the project's codec"
    return ours, stock


def _codecs(index_dir) -> set[type]:
    ix = whoosh_index.open_dir(str(index_dir))
    with ix.reader() as reader:
        leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        return {type(leaf.segment().codec()) for leaf, _ in leaves}


def _postings(matcher) -> list[tuple]:
    """(docnum, weight, value, frequency) of each posting. The value of a posting without one
    (a field of Whoosh's ``Existence`` format) is ``None`` from the block reader and ``""`` from
    the ``ListMatcher`` of inlined postings; both are taken as ``None``."""
    found = []
    frequency = matcher.supports("frequency")
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight(), matcher.value() or None,
                      matcher.value_as("frequency") if frequency else None))
        matcher.next()
    return found


def _everything(index_dir) -> dict:
    """All an index holds, as read through Whoosh's reader API."""
    ix = whoosh_index.open_dir(str(index_dir))
    with ix.reader() as reader:
        schema = reader.schema
        doc_count_all = reader.doc_count_all()
        found = {"doc_count": reader.doc_count(), "doc_count_all": doc_count_all,
                 "stored": list(reader.all_stored_fields()), "fields": {}, "lengths": {}, "columns": {}}
        for fieldname in sorted(reader.indexed_field_names()):
            terms = {}
            for term in reader.lexicon(fieldname):
                info = reader.term_info(fieldname, term)
                stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                         info.max_weight(), info.min_id(), info.max_id())
                terms[term] = (stats, _postings(reader.postings(fieldname, term)))
            found["fields"][fieldname] = terms
        for fieldname, field in schema.items():
            if field.scorable:
                found["lengths"][fieldname] = (
                    reader.field_length(fieldname), reader.min_field_length(fieldname),
                    reader.max_field_length(fieldname),
                    [reader.doc_field_length(d, fieldname) for d in range(doc_count_all)])
            if reader.has_column(fieldname):
                found["columns"][fieldname] = list(reader.column_reader(fieldname))
        return found


def test_the_builds_differ_only_in_codec(ours_and_stock):
    ours, stock = ours_and_stock
    assert _codecs(ours) == {NewsearchCodec}
    assert _codecs(stock) == {W3Codec}


def test_postings_equal_the_stock_codecs(ours_and_stock):
    ours, stock = (_everything(d) for d in ours_and_stock)
    assert ours["doc_count"] == stock["doc_count"] > 5
    assert ours["doc_count_all"] == stock["doc_count_all"]
    assert ours["stored"] == stock["stored"]
    assert sorted(ours["fields"]) == sorted(stock["fields"])
    for fieldname, terms in stock["fields"].items():
        assert list(ours["fields"][fieldname]) == list(terms), f"the terms of {fieldname} differ"
        for term, (stats, postings) in terms.items():
            assert ours["fields"][fieldname][term][1] == postings, f"postings of {fieldname}:{term!r} differ"
            assert ours["fields"][fieldname][term][0] == stats, f"term statistics of {fieldname}:{term!r} differ"
    assert ours["lengths"] == stock["lengths"]
    assert ours["columns"] == stock["columns"]
    assert sum(len(terms) for terms in stock["fields"].values()) > 1000  # a real comparison


def test_rare_terms_are_stored_inline(ours_and_stock):
    ours, stock = ours_and_stock
    inlined = blocks = 0
    for index_dir, inline_limit in ((ours, INLINE_LIMIT), (stock, 1)):
        ix = whoosh_index.open_dir(str(index_dir))
        with ix.reader() as reader:
            for fieldname in reader.indexed_field_names():
                for term in reader.lexicon(fieldname):
                    info = reader.term_info(fieldname, term)
                    rare = info.doc_frequency() < inline_limit
                    assert info.is_inlined() == rare, (index_dir, fieldname, term, info.doc_frequency())
                    if index_dir == ours:
                        inlined += rare
                        blocks += not rare
                        if rare and fieldname == "grams" and inlined == 1:
                            # A rare term's postings come from its term-table entry.
                            matcher = reader.postings(fieldname, term)
                            assert isinstance(matcher, ListMatcher)
                            assert list(matcher.all_ids()) == list(info.inlined_postings()[0])
    assert inlined > 1000 and blocks > 10, (inlined, blocks)


# -- the out-of-order check ---------------------------------------------------------------------


def _write(items) -> None:
    schema = Schema(a=ID(), b=KEYWORD())
    codec = NewsearchCodec()
    writer = codec.field_writer(RamStorage(), W3Segment(codec, "TEST"))
    try:
        writer.add_postings(schema, None, iter(items))
    finally:
        writer.close()


def test_sorted_postings_are_written():
    _write([("a", b"x", 0, 1.0, b""), ("a", b"x", 5, 1.0, b""), ("a", b"y", 1, 1.0, b""),
            ("b", b"x", 0, 1.0, b"")])


@pytest.mark.parametrize("items, where", [
    ([("b", b"x", 0, 1.0, b""), ("a", b"x", 1, 1.0, b"")], "a:b'x' document 1 came after b:b'x' document 0"),
    ([("a", b"y", 0, 1.0, b""), ("a", b"x", 1, 1.0, b"")], "a:b'x' document 1 came after a:b'y' document 0"),
    ([("a", b"x", 7, 1.0, b""), ("a", b"x", 3, 1.0, b"")], "a:b'x' document 3 came after a:b'x' document 7"),
    ([("a", b"x", 7, 1.0, b""), ("a", b"x", 7, 1.0, b"")], "a:b'x' document 7 came after a:b'x' document 7"),
], ids=["field", "term", "document", "same document twice"])
def test_postings_out_of_order_are_refused(items, where):
    with pytest.raises(OutOfOrderError, match=re.escape(f"postings out of order: {where}")):
        _write(items)
