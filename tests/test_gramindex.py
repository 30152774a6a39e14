"""The gram files beside Whoosh's segments, the in-memory posting pool, segments flushed when
memory is full, and merges that carry the gram files over (``indexer.gramindex``,
``indexer.writer``), on the real indexer and real text."""

import shutil

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import OPTIMIZE, SegmentWriter

from indexer import fields, gramindex, indexdir, schema
from indexer.build import build_index
from indexer.codec import NewsearchCodec
from indexer.documents import prepare
from indexer.gramindex import GramReader, GramWriter
from indexer.sources import find_sources, page_id_of
from indexer import writer as writer_module
from indexer.writer import BESIDE, CheckedWriter
from searchapp.core import search
from searchapp.request import Query
from searchapp.store import SearchIndex

from conftest import CORPUS

QUERIES = ['"阜新"', '"细河区"', "阜新 项目", "铁岭", '"绿色矿业发展"', "县", '"开采"', "营商环境",
           '"綠色礦業"', "项目 -阜新", "阜新 OR 铁岭", '"年"', "记者", '"的"']


def _results(index_dir, text, **filters):
    index = SearchIndex(index_dir)
    try:
        result = search(index, Query(text=text, per_page=100, filters=filters))
        return result.total, [h.id for h in result.hits], {k: [(b.value, b.count) for b in v]
                                                           for k, v in result.facets.items()}
    finally:
        index.close()


def _articles(folder):
    found, _ = find_sources([folder])
    prepared = []
    for file in found:
        for task in file.format.tasks(file, None, lambda: page_id_of(file.relative)):
            prepared.extend(prepare(task)[0])
    return prepared


def test_a_gram_file_answers_what_a_scan_of_its_texts_answers(tmp_path, monkeypatch):
    texts = ["阜新市细河区", "铁岭 铁岭县", "", "细河"]
    writer = GramWriter(tmp_path / "MAIN_x.grams", ("grams",), ("norm_text",))
    for docnum, text in enumerate(texts):
        writer.add(docnum, {"grams": text, "norm_text": text.encode("utf-8")})
    writer.finish()
    reader = GramReader(tmp_path / "MAIN_x.grams")
    try:
        assert reader.doc_count == 4
        for gram in ("细", "细河", "铁岭", " ", "铁 ", "不在", "岭"):
            expected = [d for d, t in enumerate(texts) if gram in t and gram.strip()]
            assert list(reader.docs("grams", gram)) == expected, gram
            assert reader.frequency("grams", gram) == len(expected)
        assert reader.text("norm_text", 1) == "铁岭 铁岭县".encode("utf-8")
        assert reader.matching("norm_text", [0, 1, 2, 3], "细河".encode("utf-8")) == [0, 3]
        # candidates read one by one (no runs) find the same
        monkeypatch.setattr(gramindex, "READ_GAP", -1)
        assert reader.matching("norm_text", [0, 1, 2, 3], "细河".encode("utf-8")) == [0, 3]
        assert reader.matching("norm_text", [1, 3], "岭".encode("utf-8")) == [1]
        assert not reader.contains("norm_text", 0, "河区铁".encode("utf-8"))  # not across documents
    finally:
        reader.close()


@pytest.mark.parametrize("block", [1, 3, 512])
def test_every_gram_is_found_through_the_sparse_key_index(tmp_path, monkeypatch, block):
    """A lookup reads one block of keys (``KEY_BLOCK``; small here, so there are many blocks):
    every gram of real paragraphs is found with its documents, grams before the first key,
    after the last one and between keys are not, and every document's text reads back."""
    from conftest import seed_paragraphs
    monkeypatch.setattr(gramindex, "KEY_BLOCK", block)
    texts = seed_paragraphs()[:40]
    writer = GramWriter(tmp_path / "MAIN_k.grams", ("grams",), ("norm_text",))
    for docnum, text in enumerate(texts):
        writer.add(docnum, {"grams": text, "norm_text": text.encode("utf-8")})
    writer.finish()
    reader = GramReader(tmp_path / "MAIN_k.grams")
    try:
        grams = sorted({g for text in texts for g in gramindex.gram_set(text)}, key=gramindex.gram_key)
        assert len(grams) > 1000
        for gram in grams:
            expected = [d for d, text in enumerate(texts) if gram in text]
            assert list(reader.docs("grams", gram)) == expected, gram
            assert reader.frequency("grams", gram) == len(expected), gram
        for absent in ("\x01", "\U0010fff0", "龘龘", grams[0][0] + "\x01", grams[-1][0] + "\U0010fff0",
                       *(g[0] + "\x02" for g in grams[::50])):
            assert absent in grams or (reader.frequency("grams", absent) == 0 and not reader.docs("grams", absent))
        assert [g for g, _ in reader.items("grams")] == grams
        for docnum, text in enumerate(texts):
            assert reader.text("norm_text", docnum) == text.encode("utf-8")
        needle = texts[7][3:7]
        for candidates in (range(5, 30), [7], [0, 7, 39]):  # spans read for the range; one by one
            monkeypatch.setattr(gramindex, "SPARSE_CANDIDATES", 256 if len(candidates) < 3 else 1)
            assert reader.matching("norm_text", candidates, needle.encode("utf-8")) == \
                [d for d in candidates if needle in texts[d]]
    finally:
        reader.close()


def test_a_truncated_gram_file_is_refused(tmp_path):
    writer = GramWriter(tmp_path / "MAIN_y.grams", ("grams",), ("norm_text",))
    writer.add(0, {"grams": "阜新", "norm_text": "阜新".encode("utf-8")})
    writer._stream().flush()  # killed before ``finish``: the header has no directory
    with pytest.raises(ValueError, match="not a complete gram file"):
        GramReader(tmp_path / "MAIN_y.grams")
    writer.cancel()
    assert not (tmp_path / "MAIN_y.grams").exists()


def test_the_memory_pool_writes_exactly_the_postings_whoosh_writes(tmp_path):
    """The same documents through Whoosh's own writer (sorting pool, stock ``add_document``) and
    through ours: every posting (field, term, document, weight, value), stored field and field
    length is the same."""
    documents = []
    for item in _articles(CORPUS):
        document = fields.document(item)
        for name in BESIDE:
            document.pop(name)
        documents.append(document)
    built = {}
    for name, writer_class in (("whoosh", SegmentWriter), ("ours", CheckedWriter)):
        folder = tmp_path / name
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), schema.build_schema())
        writer = writer_class(ix, codec=NewsearchCodec())
        for document in documents:
            writer.add_document(**document)
        writer.commit()
        with ix.reader() as reader:
            built[name] = (list(reader.iter_postings()), list(reader.iter_docs()),
                           [(d, f, reader.doc_field_length(d, f)) for d in range(reader.doc_count_all())
                            for f in ("title", "content")])
    assert len(built["ours"][0]) > 5000
    assert built["ours"] == built["whoosh"]


def test_a_segment_per_document_finds_what_one_segment_finds(tmp_path):
    """Memory full after every document (``limitmb=0``): one segment and one gram file per
    article, and every query answers as with one segment."""
    one = tmp_path / "one"
    many = tmp_path / "many"
    build_index([CORPUS], one, workers=1)
    report = build_index([CORPUS], many, workers=1, limitmb=0)
    assert report.articles_added == 26
    assert len(list(many.glob("MAIN_*.grams"))) == 26
    with whoosh_index.open_dir(str(many)).reader() as reader:
        assert len(reader.leaf_readers()) == 26
    for text in QUERIES:
        assert _results(many, text) == _results(one, text), text
    assert _results(many, "项目", city=("阜新",)) == _results(one, "项目", city=("阜新",))


def test_merging_segments_with_deletions_carries_their_grams_over(tmp_path):
    """Whoosh merges segments by re-adding their documents (``add_reader``), renumbered around
    the deleted ones; the merged gram file must follow the same numbering."""
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1, limitmb=0)
    gone = "000_4137a59cd7bc1a7b.txt"
    ix = whoosh_index.open_dir(str(index_dir))
    writer = CheckedWriter(ix, codec=NewsearchCodec())
    removed = writer.delete_by_term("source", str(archive / gone))
    assert removed > 0
    meta = indexdir.read_meta(index_dir)
    writer.before_commit = lambda generation: indexdir.write_meta(index_dir, generation, meta)
    writer.commit(mergetype=OPTIMIZE)
    assert len(list(index_dir.glob("MAIN_*.grams"))) == 1
    kept = [item for item in _articles(archive) if item.article.source != str(archive / gone)]
    with ix.reader() as reader:
        assert reader.doc_count_all() == reader.doc_count() == len(kept) == 26 - removed
    for needle in ("阜新", "细河区", "项目", "开采", "的", "绿色矿业发展", "铁岭市"):
        expected = {i.article.id for i in kept if needle in i.grams_text}
        total, ids, _ = _results(index_dir, f'"{needle}"')
        assert total == len(expected) and set(ids) == expected, needle


def test_exact_matches_are_verified_against_the_text(tmp_path):
    """Documents holding every bigram of a string but not the string are not matches."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text("\n甲\n\n本报讯 新闻稿：阜新市发展很快。\n", "utf-8")
    (archive / "b.txt").write_text("\n乙\n\n本报讯 新闻稿：阜新人，新市场。\n", "utf-8")  # 阜新, 新市 apart
    build_index([archive], tmp_path / "index", workers=1)
    assert _results(tmp_path / "index", '"阜新"')[0] == _results(tmp_path / "index", '"新市"')[0] == 2
    total, ids, _ = _results(tmp_path / "index", '"阜新市"')
    assert total == 1 and ids[0].startswith("a")


def _segment_ids(index_dir) -> set[str]:
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        return {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


def test_an_update_never_merges_large_segments(tmp_path, monkeypatch):
    """Whoosh's MERGE_SMALL merged every segment of a million-article index (a few dozen
    segments: its Fibonacci heuristic) into an update of 1,000 articles, for many minutes. Only
    small segments are merged, and only once there are enough of them."""
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1, limitmb=0)  # 26 segments of one article
    monkeypatch.setattr(writer_module, "SMALL_SEGMENT", 1)  # so none of them is small
    before = _segment_ids(index_dir)
    page = archive / "004_1fb6f0697af30933.txt"
    page.write_text(page.read_text("utf-8") + "\\n新的一段。\\n", "utf-8")
    build_index([archive], index_dir, workers=1)
    after = _segment_ids(index_dir)
    assert len(before - after) <= 1 + page.read_text("utf-8").count("\\n\\n")  # only the updated page's
    assert len(after - before) == 1  # the update's own segment


def test_small_segments_are_merged_once_there_are_enough(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1, limitmb=0)  # 26 small segments
    page = archive / "004_1fb6f0697af30933.txt"
    page.write_text(page.read_text("utf-8") + "\\n新的一段。\\n", "utf-8")
    build_index([archive], index_dir, workers=1)
    assert len(_segment_ids(index_dir)) == 1  # all small: merged with the update's segment
    assert _results(index_dir, '"新的一段"')[0] == 1
    assert _results(index_dir, '"细河区"') == _results(index_dir, '"细河区"')
