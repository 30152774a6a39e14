"""The private parts of Whoosh that newsearch relies on, checked against the pinned version.

newsearch pins whoosh-reloaded 2.7.5 and reaches into it in a few places: the fast posting-list
reader (``searchapp/matching.py``), the codec (``indexer/codec.py``), the index folder
(``indexer/indexdir.py``) and the checked and parallel writers (``indexer/writer.py``). Each test
here checks one private member or class: that it exists and behaves as the project assumes. An
upgrade of Whoosh that changes one fails here, naming it and its user, instead of the search or
the indexer going silently wrong.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from itertools import accumulate
from pathlib import Path

import pytest
import whoosh
from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.codec import base as codec_base
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3PerDocReader, W3PostingsWriter, W3TermInfo
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.formats import Frequency
from whoosh.index import TOC, FileIndex
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from indexer.codec import INLINE_LIMIT, NewsearchCodec, _InliningPostingsWriter, _PerDocReader
from indexer.writer import CountMismatch, ParallelWriter
from searchapp.matching import _leaf_ids, field_lengths, leaf_postings, leaf_postings_in, posting_ids

VERSION = f"whoosh {whoosh.versionstring()}"
BLOCK = 128  # W3's (and NewsearchCodec's) block limit
DOCS = 700


def _require(owner, name: str, user: str) -> None:
    assert hasattr(owner, name), (f"{getattr(owner, '__qualname__', type(owner).__qualname__)}.{name} is gone "
                                  f"in {VERSION}; {user} relies on it")


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), tag=KEYWORD(), word=ID())


@pytest.fixture(scope="module")
def blocks_index(tmp_path_factory) -> Path:
    """One segment written with the project's codec: ``tag:common`` in all 700 documents (six
    blocks), ``tag:third`` in every third, ``tag:rare`` in three (inlined)."""
    index_dir = tmp_path_factory.mktemp("blocks")
    ix = whoosh_index.create_in(str(index_dir), _schema())
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in range(DOCS):
        tags = ["common"] + (["third"] if number % 3 == 0 else []) + (["rare"] if number in (5, 300, 699) else [])
        writer.add_document(id=f"d{number}", tag=" ".join(tags), word=f"w{number % 10}")
    writer.commit()
    return index_dir


# -- searchapp/matching.py ----------------------------------------------------------------------

def test_w3_leaf_matcher_members_read_whole_blocks(blocks_index):
    """``_leaf_ids``: a fresh ``W3LeafMatcher`` has ``_i == 0``, ``_byteids`` false and no block
    data; ``_read_data()`` loads the block into ``_data`` whose first item is the block's ids as
    deltas; ``_next_block()`` moves on, and the matcher is inactive after the last block."""
    user = "searchapp/matching.py _leaf_ids"
    with whoosh_index.open_dir(str(blocks_index)).reader() as reader:
        expected = list(reader.postings("tag", "common").all_ids())
        matcher = reader.postings("tag", "common")
        assert type(matcher) is W3LeafMatcher, (
            f"the postings of a long list are a {type(matcher).__name__}, not a W3LeafMatcher, in {VERSION}: "
            f"{user} falls back to the slow all_ids()")
        for name in ("_read_data", "_data", "_next_block", "_i", "_byteids"):
            _require(matcher, name, user)
        assert matcher._i == 0 and not matcher._byteids and matcher._data is None, \
            f"a fresh W3LeafMatcher is not at the start of an unread block in {VERSION}: {user}"
        blocks = []
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            blocks.append(list(accumulate(matcher._data[0])))
            matcher._next_block()
        assert [len(b) for b in blocks] == [BLOCK] * (DOCS // BLOCK) + [DOCS % BLOCK], \
            f"W3LeafMatcher blocks are not {BLOCK} postings in {VERSION}: {user}"
        assert [d for block in blocks for d in block] == expected == list(range(DOCS)), \
            f"W3LeafMatcher._data[0] is no longer the block's ids as deltas in {VERSION}: {user}"


def test_leaf_ids_equals_all_ids(blocks_index):
    with whoosh_index.open_dir(str(blocks_index)).reader() as reader:
        lengths = {}
        for fieldname in ("tag", "word", "id"):
            for term in reader.lexicon(fieldname):
                expected = list(reader.postings(fieldname, term).all_ids())
                assert _leaf_ids(reader.postings(fieldname, term)) == expected, (fieldname, term)
                assert list(posting_ids(reader, fieldname, term)) == expected
                lengths[(fieldname, term)] = len(expected)
        assert lengths[("tag", b"common")] > 5 * BLOCK and lengths[("tag", b"third")] > BLOCK
        # Rare terms are inlined in the term table and come as a ListMatcher (the fallback).
        assert reader.term_info("tag", "rare").is_inlined()
        assert isinstance(reader.postings("tag", "rare"), ListMatcher)


def test_leaf_postings_reads_what_the_matcher_reads(tmp_path):
    """``leaf_postings``: the ids and weights of every posting, as the matcher gives them one by
    one, over blocks whose weights W3 stores three ways (a tuple; one float when all are equal;
    ``None`` when all are 1), in a segment of several blocks and one inlined."""
    ix = whoosh_index.create_in(str(tmp_path), Schema(id=ID(stored=True), body=TEXT(analyzer=RegexTokenizer())))
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in range(DOCS):
        words = ["once"] + ["twice"] * 2 + ["varied"] * (number % 5 + 1) + (["rare"] if number in (7, 8) else [])
        writer.add_document(id=f"d{number}", body=" ".join(words))
    writer.commit()
    with ix.reader() as reader:
        for term in ("once", "twice", "varied", "rare"):
            matcher = reader.postings("body", term)
            expected_ids, expected_weights = [], []
            while matcher.is_active():
                expected_ids.append(matcher.id())
                expected_weights.append(matcher.weight())
                matcher.next()
            ids, weights = leaf_postings(reader.postings("body", term))
            assert ids.tolist() == expected_ids and weights.tolist() == expected_weights, term
            assert leaf_postings(reader.postings("body", term), weights=False)[1] is None
        assert len(set(leaf_postings(reader.postings("body", "varied"))[1].tolist())) == 5
        # leaf_postings_in: blocks passed over by their header's last id (``_maxid``)
        _require(reader.postings("body", "once"), "_maxid", "searchapp/matching.py leaf_postings_in")
        for term in ("once", "twice", "varied", "rare"):
            ids, weights = leaf_postings(reader.postings("body", term))
            whole = dict(zip(ids.tolist(), weights.tolist()))
            for wanted in ([], [0], [7, 8, 9], list(range(0, DOCS, 97)), list(range(300, 420)), [DOCS - 1],
                           list(range(DOCS))):
                found = leaf_postings_in(reader.postings("body", term), wanted)
                expected = [d for d in wanted if d in whole]
                assert found == (expected, [whole[d] for d in expected]), (term, wanted[:5])


def test_field_lengths_are_what_the_scorer_reads(tmp_path):
    """``field_lengths`` reads each segment's length column at once (``_perdoc``, ``_lenfield``,
    ``LENGTHS_COLUMN``, the column reader's ``_dbfile``, ``_basepos``, ``_count``): the same as
    ``doc_field_length`` per document, lengths quantised as Whoosh stores them, over two
    segments, one of which has no document with the field."""
    user = "searchapp/matching.py field_lengths"
    ix = whoosh_index.create_in(str(tmp_path), Schema(id=ID(stored=True), body=TEXT(analyzer=RegexTokenizer()),
                                                      head=TEXT(analyzer=RegexTokenizer())))
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in range(300):
        writer.add_document(id=f"d{number}", body=" ".join(["w"] * (number * 7 % 400)),
                            **({"head": "a b c"} if number % 4 else {}))
    writer.commit()
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in range(50):
        writer.add_document(id=f"e{number}", body="x " * (number + 1))
    writer.commit(merge=False)
    with ix.reader() as reader:
        leaves = reader.leaf_readers()
        assert len(leaves) == 2
        for leaf, _ in leaves:
            _require(leaf, "_perdoc", user)
            column = leaf._perdoc.column_reader(_lenfield("body"), LENGTHS_COLUMN)
            for name in ("_dbfile", "_basepos", "_count"):
                _require(column, name, user)
        for fieldname in ("body", "head"):
            expected = [leaf.doc_field_length(d, fieldname, 0) or 0 for leaf, _ in leaves
                        for d in range(leaf.doc_count_all())]
            assert field_lengths(reader, fieldname).tolist() == expected, fieldname
        assert len(set(field_lengths(reader, "body").tolist())) > 20
        assert field_lengths(reader, "head")[300:].tolist() == [0] * 50


def test_a_segment_with_deletions_wraps_its_postings_in_a_filter_matcher(tmp_path):
    """``_leaf_ids`` unwraps ``whoosh.matching.wrappers.FilterMatcher`` (by ``.child``): the
    reader puts it around the postings of a segment with deletions."""
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in range(DOCS):
        writer.add_document(id=f"d{number}", tag="common")
    writer.commit()
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    for number in (0, 1, 2, 200, 699):
        writer.delete_by_term("id", f"d{number}")
    writer.commit(merge=False)
    with ix.reader() as reader:
        matcher = reader.postings("tag", "common")
        assert isinstance(matcher, FilterMatcher), (
            f"the postings of a segment with deletions are a {type(matcher).__name__}, not a FilterMatcher, "
            f"in {VERSION}: searchapp/matching.py _leaf_ids unwraps FilterMatcher")
        _require(matcher, "child", "searchapp/matching.py _leaf_ids")
        assert type(matcher.child) is W3LeafMatcher
        live = frozenset(reader.postings("tag", "common").all_ids())
        assert len(live) == DOCS - 5
        found = posting_ids(reader, "tag", "common")
        assert live <= set(found) <= frozenset(range(DOCS))  # deleted ones may be included
        wanted = sorted(live)[::3]
        assert leaf_postings_in(reader.postings("tag", "common"), wanted) == (wanted, [1.0] * len(wanted))


def test_term_not_found_is_what_a_missing_term_or_field_raises(tmp_path):
    """``posting_ids`` and ``DocSets.intersect`` catch only ``TermNotFound``: it is what a leaf
    reader raises for a term it lacks, for a field only other segments have and for a field the
    schema lacks."""
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    with SegmentWriter(ix, codec=NewsearchCodec()) as writer:
        writer.add_document(id="a")
    writer = SegmentWriter(ix, codec=NewsearchCodec())
    writer.add_document(id="b", tag="x")
    writer.commit(merge=False)
    with ix.reader() as reader:
        (first, _), (second, offset) = reader.leaf_readers()
        assert "tag" not in first.indexed_field_names()
        for leaf, fieldname, text in ((first, "tag", "x"), (second, "tag", "y"), (first, "id", "zz"),
                                      (second, "nosuchfield", "x")):
            with pytest.raises(TermNotFound):
                leaf.postings(fieldname, text)
        assert list(posting_ids(reader, "tag", "x")) == [offset]
        assert not posting_ids(reader, "nosuchfield", "x")


def test_an_io_error_while_reading_postings_is_not_taken_for_a_missing_term(blocks_index, monkeypatch):
    from whoosh.reading import SegmentReader

    def failing(self, fieldname, text, scorer=None):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(SegmentReader, "postings", failing)
    with whoosh_index.open_dir(str(blocks_index)).reader() as reader:
        with pytest.raises(OSError):
            posting_ids(reader, "tag", "common")


# -- indexer/codec.py ---------------------------------------------------------------------------

def test_w3_codec_settings():
    """``NewsearchCodec`` passes ``blocklimit``/``compression``/``inlinelimit`` to W3Codec and
    reads them back as ``_blocklimit``/``_compression``/``_inlinelimit``."""
    user = "indexer/codec.py NewsearchCodec.postings_writer"
    params = inspect.signature(W3Codec.__init__).parameters
    assert {"blocklimit", "compression", "inlinelimit"} <= set(params), f"W3Codec's arguments changed in {VERSION}"
    codec = NewsearchCodec()
    for name, value in (("_blocklimit", 128), ("_compression", 3), ("_inlinelimit", INLINE_LIMIT)):
        _require(codec, name, user)
        assert getattr(codec, name) == value
    writer = codec.postings_writer(RamStorage().create_file("p"))
    assert type(writer) is _InliningPostingsWriter
    assert (writer._blocklimit, writer._compression, writer._inlinelimit) == (128, 3, INLINE_LIMIT)


def _write_postings(writer_class, postings, **kwargs):
    storage = RamStorage()
    postfile = storage.create_file("p")
    writer = writer_class(postfile, blocklimit=BLOCK, **kwargs)
    writer.start_postings(Frequency(), W3TermInfo())
    for posting in postings:
        writer.add_posting(*posting)
    info = writer.finish_postings()
    postfile.close()
    return storage.open_file("p").read(), info


def test_inlining_postings_writer_writes_what_the_stock_one_writes():
    """``_InliningPostingsWriter.add_posting`` is a copy of ``W3PostingsWriter.add_posting``
    (without its type assertions) over its private buffers: ``_ids``, ``_weights``, ``_values``,
    ``_maxweight``, ``_minlength``, ``_maxlength``, ``_blocklimit``, ``_write_block``."""
    user = "indexer/codec.py _InliningPostingsWriter"
    probe = W3PostingsWriter(RamStorage().create_file("p"), blocklimit=BLOCK)
    probe.start_postings(Frequency(), W3TermInfo())
    for name in ("_ids", "_weights", "_values", "_maxweight", "_minlength", "_maxlength", "_blocklimit",
                 "_inlinelimit", "_terminfo", "_write_block", "written"):
        _require(probe, name, user)
    postings = [(d, float(1 + d % 4), pack_uint(1 + d % 4), 1 + d % 9) for d in range(0, 900, 3)]
    ours = _write_postings(_InliningPostingsWriter, postings)
    stock = _write_postings(W3PostingsWriter, postings)
    assert ours[0] == stock[0] and len(ours[0]) > 100, f"the postings blocks differ from {VERSION}'s: {user}"
    assert ours[1].to_bytes() == stock[1].to_bytes(), f"the term info differs from {VERSION}'s: {user}"
    assert not ours[1].is_inlined()


def test_inlined_postings_go_into_the_term_info():
    """``_InliningPostingsWriter.finish_postings`` stores a short list with
    ``W3TermInfo.set_inlined`` (the stock code calls ``set_inline``, which does not exist) and
    the term info keeps it through ``to_bytes``/``from_bytes``."""
    user = "indexer/codec.py _InliningPostingsWriter.finish_postings"
    for name in ("set_inlined", "is_inlined", "inlined_postings", "add_block"):
        _require(W3TermInfo, name, user)
    postings = [(3, 1.0, b"", 2), (9, 2.0, b"", 5)]
    written, info = _write_postings(_InliningPostingsWriter, postings, inlinelimit=INLINE_LIMIT)
    assert written == b"", f"a short posting list was written as a block: {user}"
    again = W3TermInfo.from_bytes(info.to_bytes())
    assert again.is_inlined() and again.inlined_postings()[:2] == ((3, 9), (1.0, 2.0))
    assert (again.doc_frequency(), again.weight(), again.min_length(), again.max_length()) == (2, 3.0, 2, 5)


def test_field_writer_members():
    """``_FieldWriter.add_postings`` overrides ``FieldWriter.add_postings(schema, lengths,
    items)`` (what the segment writer calls) and binds ``self._postwriter.add_posting`` once per
    field: ``start_field`` makes the field's postings writer, ``start_term`` keeps it."""
    user = "indexer/codec.py _FieldWriter.add_postings"
    params = list(inspect.signature(codec_base.FieldWriter.add_postings).parameters)
    assert params == ["self", "schema", "lengths", "items"], f"FieldWriter.add_postings changed in {VERSION}: {user}"
    codec, storage = NewsearchCodec(), RamStorage()
    writer = codec.field_writer(storage, codec.new_segment(storage, "T"))
    assert isinstance(writer, W3FieldWriter)
    schema = _schema()
    writer.start_field("tag", schema["tag"])
    _require(writer, "_postwriter", user)
    postwriter = writer._postwriter
    assert type(postwriter) is _InliningPostingsWriter, f"start_field no longer makes the codec's postings writer: {user}"
    writer.start_term(b"x")
    assert writer._postwriter is postwriter, f"start_term replaces the postings writer in {VERSION}: {user}"
    writer.add(0, 1.0, b"", None)
    writer.finish_term()
    writer.finish_field()
    writer.close()


def test_per_document_reader_looks_lengths_up_through_cached_reader(blocks_index):
    """``_PerDocReader`` overrides ``W3PerDocReader._cached_reader(fieldname, column)`` (which
    ``doc_field_length`` calls, and which keeps readers in ``_readers``) to remember that a field
    has no length column, instead of one ``stat`` per posting."""
    user = "indexer/codec.py _PerDocReader"
    _require(W3PerDocReader, "_cached_reader", user)
    ix = whoosh_index.open_dir(str(blocks_index))
    with ix.reader() as reader:
        segment = reader.segment()
        for reader_class, stats in ((W3PerDocReader, 3), (_PerDocReader, 1)):
            perdoc = reader_class(ix.storage, segment)
            _require(perdoc, "_readers", user)
            calls, lookups = [], []
            original, cached = perdoc.has_column, perdoc._cached_reader
            perdoc.has_column = lambda name: calls.append(name) or original(name)
            perdoc._cached_reader = lambda *a: lookups.append(a) or cached(*a)
            # ``tag`` is not scored: it has no length column.
            assert [perdoc.doc_field_length(d, "tag") for d in range(3)] == [0, 0, 0]
            assert len(lookups) == 3, f"doc_field_length no longer goes through _cached_reader in {VERSION}: {user}"
            assert len(calls) == stats, (reader_class, calls)
            perdoc.close()
    assert type(NewsearchCodec().per_document_reader(ix.storage, segment)) is _PerDocReader


# -- indexer/indexdir.py ------------------------------------------------------------------------

def test_toc_latest_generation(tmp_path):
    user = "indexer/indexdir.py exists/generation"
    _require(TOC, "_latest_generation", user)
    assert TOC._latest_generation(FileStorage(str(tmp_path)), "MAIN") == -1
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    assert TOC._latest_generation(FileStorage(str(tmp_path)), "MAIN") == 0
    for number in range(2):
        with ix.writer() as writer:
            writer.add_document(id=f"d{number}")
    assert TOC._latest_generation(FileStorage(str(tmp_path)), "MAIN") == 2 == ix.latest_generation()


def test_toc_file_name_patterns(tmp_path):
    """``leftovers`` tells a table of contents by ``TOC._pattern`` (group 1: its generation) and
    a segment's file by ``TOC._segment_pattern`` (group 1: the segment's ``segment_id()``)."""
    user = "indexer/indexdir.py leftovers"
    _require(TOC, "_pattern", user)
    _require(TOC, "_segment_pattern", user)
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    for number in range(2):
        writer = ix.writer()
        writer.add_document(id=f"d{number}", tag="t")
        writer.commit(merge=False)
    toc = TOC.read(FileStorage(str(tmp_path)), "MAIN")
    segment_ids = {segment.segment_id() for segment in toc.segments}
    assert len(segment_ids) == 2
    names = sorted(p.name for p in tmp_path.iterdir())
    tocs = [m.group(1) for m in map(TOC._pattern("MAIN").match, names) if m]
    assert tocs == ["2"], f"TOC._pattern no longer matches tables of contents in {VERSION}: {user} ({names})"
    found = {m.group(1) for m in map(TOC._segment_pattern("MAIN").match, names) if m}
    assert found == segment_ids, f"TOC._segment_pattern no longer gives segment ids in {VERSION}: {user} ({names})"
    assert not TOC._segment_pattern("MAIN").match("_MAIN_2.toc")


@pytest.fixture()
def moved_class(tmp_path, monkeypatch):
    """(a field class, a function that makes its module disappear, as when a class moves)."""
    folder = tmp_path / "modules"
    folder.mkdir()
    module = folder / "gone_fields.py"
    module.write_text("from whoosh.fields import ID\n\n\nclass GoneID(ID):\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    import gone_fields

    def vanish():
        module.unlink()
        sys.modules.pop("gone_fields", None)
        importlib.invalidate_caches()

    yield gone_fields.GoneID, vanish
    sys.modules.pop("gone_fields", None)


def test_a_given_schema_is_used_instead_of_the_pickled_one(tmp_path, moved_class):
    """``TOC.read(..., schema=...)`` and ``FileIndex(storage, schema=...)`` skip the pickled
    schema: ``leftovers`` and ``open_for_writing`` read an index whose schema names classes that
    have moved."""
    user = "indexer/indexdir.py leftovers/open_for_writing"
    field_class, vanish = moved_class
    schema = _schema()
    schema.add("gone", field_class())
    (tmp_path / "ix").mkdir()
    whoosh_index.create_in(str(tmp_path / "ix"), schema)
    vanish()
    storage = FileStorage(str(tmp_path / "ix"))
    with pytest.raises(ImportError):
        TOC.read(storage, "MAIN")
    assert "gone" not in TOC.read(storage, "MAIN", schema=_schema()).schema, user
    assert "gone" not in FileIndex(storage, schema=_schema(), indexname="MAIN").schema, user


# -- indexer/writer.py --------------------------------------------------------------------------

def test_commit_toc_is_the_commit_point(tmp_path):
    """``_CountedCommit`` overrides ``SegmentWriter._commit_toc(segments)``: called once per
    commit with the segments to list, before the table of contents of ``self.generation`` is
    written (the meta file is written there)."""
    user = "indexer/writer.py _CountedCommit"
    seen = []

    class Spy(SegmentWriter):
        def _commit_toc(self, segments):
            seen.append((list(segments), self.generation, TOC._latest_generation(self.storage, self.indexname)))
            super()._commit_toc(segments)

    _require(SegmentWriter, "_commit_toc", user)
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    for number in range(2):
        writer = Spy(ix)
        writer.add_document(id=f"d{number}")
        writer.commit()
    assert len(seen) == 2, f"SegmentWriter.commit no longer calls _commit_toc in {VERSION}: {user}"
    (first, gen1, latest1), (second, gen2, latest2) = seen
    assert (gen1, latest1, gen2, latest2) == (1, 0, 2, 1), f"_commit_toc is not the commit point in {VERSION}: {user}"
    assert len(first) == 1 and sum(segment.doc_count() for segment in second) == 2
    assert ix.latest_generation() == 2
    _require(SegmentWriter, "cancel", "indexer/writer.py ParallelWriter.cancel")


def test_mp_writer_members_and_sub_writer_task_arguments(tmp_path):
    """``ParallelWriter`` replaces ``MpWriter.jobqueue`` by a wrapper with only ``put`` and starts
    its own workers in ``_new_task`` from ``storage``, ``indexname``, ``resultqueue``,
    ``subargs`` and ``multisegment``, appending them to ``tasks``; ``SubWriterTask`` takes
    ``(storage, indexname, jobqueue, resultqueue, kwargs, multisegment)``."""
    user = "indexer/writer.py ParallelWriter"
    params = list(inspect.signature(SubWriterTask.__init__).parameters)
    assert params == ["self", "storage", "indexname", "jobqueue", "resultqueue", "kwargs", "multisegment"], \
        f"SubWriterTask's arguments changed in {VERSION}: {user} (_Worker)"
    _require(MpWriter, "_new_task", user)
    _require(MpWriter, "_commit_toc", user)
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    probe = MpWriter(ix, procs=2, multisegment=True, codec=NewsearchCodec())
    try:
        for name in ("jobqueue", "resultqueue", "subargs", "multisegment", "tasks", "storage", "indexname"):
            _require(probe, name, user)
        assert probe.tasks == [] and probe.multisegment is True
        assert probe.subargs.get("codec") is not None, f"MpWriter.subargs no longer carries the codec: {user}"
    finally:
        probe.cancel()
    # The real thing: two workers, a job each; the parent only ever puts on the job queue.
    writer = ParallelWriter(ix, procs=2, multisegment=True, batchsize=2, codec=NewsearchCodec())
    for number in range(8):
        writer.add_document(id=f"d{number}", tag="t")
    assert len(writer.tasks) == 2 and all(isinstance(t, SubWriterTask) for t in writer.tasks), \
        f"MpWriter no longer starts its workers through _new_task in {VERSION}: {user}"
    writer.expected = 8
    writer.commit()
    assert [t.exitcode for t in writer.tasks] == [0, 0]
    with ix.reader() as reader:
        assert reader.doc_count() == 8 and 1 <= len(reader.leaf_readers()) <= 2  # a worker given nothing writes no segment
    # ``_commit_toc`` is also the commit point of the parallel commit: a wrong count stops it.
    writer = ParallelWriter(ix, procs=2, multisegment=True, batchsize=2, codec=NewsearchCodec())
    for number in range(8, 12):
        writer.add_document(id=f"d{number}", tag="t")
    writer.expected = 99
    with pytest.raises(CountMismatch):
        writer.commit()
    writer.cancel()
    assert ix.latest_generation() == 1


# -- indexer/fields.py, indexer/schema.py: a list of words is indexed as given -----------------

def test_a_list_of_words_is_indexed_without_the_analyzer():
    """The indexer segments text itself and gives Whoosh the list of words (``content``,
    ``title``): Whoosh indexes a list as it is, without running the field's analyzer."""
    field = TEXT(analyzer=RegexTokenizer(), phrase=False)
    terms = {text: freq for text, freq, _, _ in field.index(["细河 区", "细河 区", "文明"])}
    assert terms == {"细河 区".encode(): 2, "文明".encode(): 1}, \
        f"{VERSION} analyses a list of words given to a TEXT field: the indexer's words would be re-split"
