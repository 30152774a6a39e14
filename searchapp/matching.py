"""Which documents match a query: set algebra over compressed bitmaps, exact strings verified.

Every document set here is a ``pyroaring.BitMap`` of global document numbers (set algebra and
counting run in C).

- A word is the set of documents in its Whoosh posting list (read once per search).
- An exact string (quoted, or the exact part of an unquoted term) is found segment by segment
  in the segments' gram files (``indexer.gramindex``): the intersection of the documents of its
  bigrams, rarest first (candidates), each candidate then checked with a substring search in
  the document's normalised text (in the same file), so the set is exact. One character is its
  unigram's set; two characters, the bigram's set.
- AND, OR and NOT are intersection, union and difference; ``NOT x`` alone is "all but x".

Ranking is not done here (``searchapp.ranking``).
"""

from __future__ import annotations

import io
import pickle
import zlib
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, chain, repeat

import numpy as np
from pyroaring import BitMap
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length

from indexer import schema
from indexer.dates import DateRange
from indexer.gramindex import GramReader, sidecar_path
from searchapp.query import AndNode, FieldNode, NotNode, OrNode, TermNode
from searchapp.terms import words_of

# Intersecting stops once the candidates are this few (verifying them is cheaper than reading
# more bitmaps).
FEW_CANDIDATES = 64
# A string that is a word of at least this many documents (in the text or the title): the
# documents whose words include it hold it, without reading their texts (its postings are read
# instead); only the other candidates are verified.
SURE_WORDS = 1000
# Intersecting a set with a posting list this many times longer skips through the list
# (``skip_to``) instead of reading all of it.
SKIP_RATIO = 8


def leaf_postings(matcher, weights: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The (document ids, weights) of a fresh leaf matcher as arrays (int64, float64; weights
    ``None`` unless asked for), read a whole block at a time.

    Whoosh's generic ``all_ids()`` yields one id per Python call through several layers; the
    W3 leaf matcher (``W3LeafMatcher``) keeps each block as a pickled tuple of id deltas and one
    of weights (a single float when they are all equal, ``None`` when all are 1), so this
    gathers the blocks' tuples and decodes them all at once in numpy, through private members
    of whoosh-reloaded 2.7.5 (pinned): ``_read_data``, ``_data``, ``_blocklength``,
    ``_i``, ``_byteids`` and ``_w3_blocks``'s (``tests/test_whoosh_internals.py`` checks them). Any
    other matcher (inlined postings come as a ``ListMatcher``) is read posting by posting. A
    deleted-documents filter (``FilterMatcher``, which the reader puts around a segment's
    postings when it has deletions) is dropped: callers intersect with the live documents.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list = []
    found: list | None = [] if weights else None
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids or matcher._i:
        while matcher.is_active():
            ids.append(matcher.id())
            if found is not None:
                found.append(matcher.weight())
            matcher.next()
        return (np.array(ids, dtype=np.int64),
                None if found is None else np.array(found, dtype=np.float64))
    lengths = []
    for count, data in _w3_blocks(matcher):
        ids.append(data[0])
        lengths.append(count)
        if found is not None:
            block = data[1]
            found.append(block if isinstance(block, (tuple, list, array)) else
                         repeat(1.0 if block is None else block, count))
    total = sum(lengths)
    decoded = np.cumsum(np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=total))
    if len(lengths) > 1:
        # Each block's deltas start from 0: take away the running sum of the blocks before it.
        ends = np.cumsum(lengths)
        decoded -= np.repeat(np.concatenate(([0], decoded[ends[:-1] - 1])), lengths)
    return decoded, None if found is None else np.fromiter(chain.from_iterable(found), dtype=np.float64, count=total)


def _w3_blocks(matcher):
    """(posting count, (id deltas, weights, values)) of each block of a fresh ``W3LeafMatcher``,
    its postings read from the file in one go and parsed as its ``_goto`` and ``_read_data``
    do (per block: a big-endian int, the length, negative for the last block; the pickled block
    info, whose first item is the count and fourth the compression; then the pickled data, zlib-
    compressed if the compression is not 0), through more private members of the pinned
    Whoosh: ``_postfile``, ``_startoffset``, ``_length``, ``_baseoffset``."""
    start = matcher._baseoffset
    length = matcher._length  # the term's extent in bytes; a 1-tuple as the pinned Whoosh unpacks it
    length = length[0] if isinstance(length, tuple) else length
    raw = matcher._postfile.get(start, matcher._startoffset + length - start)
    stream = io.BytesIO(raw)
    position = 0
    while True:
        length = unpack_int(raw[position:position + _INT_SIZE])[0]
        following = position + _INT_SIZE + abs(length)
        stream.seek(position + _INT_SIZE)
        info = pickle.load(stream)
        data = raw[stream.tell():following]
        yield info[0], pickle.loads(zlib.decompress(data) if info[3] else data)
        if length < 0:
            return
        position = following


def leaf_postings_in(matcher, wanted: list[int]) -> tuple[list[int], list[float]]:
    """The (ids, weights) of a fresh leaf matcher's postings whose ids are in ``wanted``
    (ascending ids of its segment).

    A block whose last id (``_maxid``, in its header) is below the next wanted id is passed over
    unread; a block holding wanted ids is decoded whole and searched (``bisect``). Whoosh's
    ``skip_to`` steps through a block one posting per Python call. Any other matcher is read
    posting by posting."""
    if isinstance(matcher, FilterMatcher):  # wanted documents are live ones
        matcher = matcher.child
    ids: list[int] = []
    weights: list[float] = []
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids or matcher._i:
        wanted_set = set(wanted)
        while matcher.is_active():
            if matcher.id() in wanted_set:
                ids.append(matcher.id())
                weights.append(matcher.weight())
            matcher.next()
        return ids, weights
    i, count = 0, len(wanted)
    while i < count and matcher.is_active():
        last = matcher._maxid
        if wanted[i] > last:
            matcher._next_block()
            continue
        if matcher._data is None:
            matcher._read_data()
        block = list(accumulate(matcher._data[0]))
        block_weights = matcher._data[1]
        j = bisect_right(wanted, last, i)
        for target in wanted[i:j]:
            k = bisect_left(block, target)
            if k < len(block) and block[k] == target:
                ids.append(target)
                weights.append(block_weights[k] if isinstance(block_weights, (tuple, list, array))
                               else 1.0 if block_weights is None else block_weights)
        i = j
        matcher._next_block()
    return ids, weights


def _leaf_ids(matcher) -> list[int]:
    """All document ids of a fresh leaf matcher (``leaf_postings``), as a list."""
    return leaf_postings(matcher, weights=False)[0].tolist()


def bitmap_of(ids: np.ndarray) -> BitMap:
    """A ``BitMap`` of an array of document numbers (through ``array('I')``, which pyroaring
    reads in one call)."""
    values = array("I")
    values.frombytes(np.ascontiguousarray(ids, dtype=np.uint32).tobytes())
    return BitMap(values)


def field_lengths(reader, fieldname: str) -> np.ndarray:
    """Each document's length (words) of ``fieldname``, by global document number, as Whoosh's
    scorer reads it (``doc_field_length``: a byte per document, decoded by ``byte_to_length``;
    0 where a segment has no lengths of the field). Each segment's column is read at once,
    through private members of the pinned Whoosh: the segment reader's ``_perdoc``, the codec's
    ``_lenfield`` and ``LENGTHS_COLUMN``, the column reader's ``_dbfile``, ``_basepos`` and
    ``_count`` (``tests/test_whoosh_internals.py`` checks them)."""
    parts = []
    for leaf, _ in leaves(reader):
        count = leaf.doc_count_all()
        codes = np.zeros(count, dtype=np.uint8)
        name = _lenfield(fieldname)
        if count and leaf._perdoc.has_column(name):  # (an empty index's reader has no ``_perdoc``)
            column = leaf._perdoc.column_reader(name, LENGTHS_COLUMN)
            stored = min(column._count, count)
            codes[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
        parts.append(_BYTE_LENGTHS[codes])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)


_BYTE_LENGTHS = np.array([byte_to_length(code) if code else 0 for code in range(256)], dtype=np.uint32)


def leaves(reader) -> list[tuple[object, int]]:
    """(segment reader, its first global document number) of each segment."""
    return reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]


def posting_ids(reader, fieldname: str, text: str) -> BitMap:
    """Global document numbers of the postings of ``fieldname:text`` (deleted ones may be
    included)."""

    found = BitMap()
    for leaf, offset in leaves(reader):
        try:
            matcher = leaf.postings(fieldname, text)
        except TermNotFound:  # not in this segment (also what a segment without the field raises)
            continue
        docs = bitmap_of(leaf_postings(matcher, weights=False)[0])
        found |= docs.shift(offset) if offset else docs
    return found


class GramSegment:
    """One segment's gram file, where its documents start, and how many there are."""

    def __init__(self, leaf, offset: int):
        self.offset = offset
        self.end = offset + leaf.doc_count_all()
        # ``_storage``: the segment reader's storage (whoosh-reloaded 2.7.5, pinned).
        self.grams = GramReader(sidecar_path(leaf._storage.folder, leaf.segment().segment_id()))

    def close(self) -> None:
        self.grams.close()


def gram_segments(searcher) -> list[GramSegment]:
    """The gram files of a searcher's segments (opened once per searcher, closed with it)."""
    found = getattr(searcher, "_newsearch_grams", None)
    if found is None:
        found = [GramSegment(leaf, offset) for leaf, offset in leaves(searcher.reader())
                 if leaf.doc_count_all()]
        setattr(searcher, "_newsearch_grams", found)
    return found


def close_gram_segments(searcher) -> None:
    """Close the gram files ``gram_segments`` opened for ``searcher`` (with the searcher)."""
    for segment in getattr(searcher, "_newsearch_grams", None) or ():
        segment.close()
    searcher._newsearch_grams = None


class DocSets:
    """Evaluates query trees against one searcher; caches the sets it reads."""

    def __init__(self, searcher, live: BitMap, facets: dict, dates=None, lengths: dict | None = None):
        self.reader = searcher.reader()
        self.live = live
        self.facets = facets  # name -> searchapp.facets.TermFacet (value -> documents)
        self.dates = dates  # searchapp.datesets.DateSets (``date:`` ranges)
        self._lengths = {} if lengths is None else lengths  # field -> ``field_lengths`` (ranking)
        self.segments = gram_segments(searcher)
        self._postings: dict[tuple[str, str], BitMap] = {}
        self._exact: dict[tuple[str, bool], BitMap] = {}
        self._frequencies: dict[tuple[str, str], int] = {}

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each document's length of a scored field (``field_lengths``; the table's, read once
        per index version)."""
        found = self._lengths.get(fieldname)
        if found is None:
            found = self._lengths[fieldname] = field_lengths(self.reader, fieldname)
        return found

    # -- leaves ---------------------------------------------------------------------------------

    def term(self, fieldname: str, text: str) -> BitMap:
        key = (fieldname, text)
        found = self._postings.get(key)
        if found is None:
            found = self._postings[key] = posting_ids(self.reader, fieldname, text)
        return found

    def frequency(self, fieldname: str, text: str) -> int:
        key = (fieldname, text)
        if key not in self._frequencies:
            self._frequencies[key] = self.reader.doc_frequency(fieldname, text)
        return self._frequencies[key]

    def intersect(self, docs: BitMap, fieldname: str, text: str) -> BitMap:
        """``docs`` ∩ the documents of ``fieldname:text``; skips through a much longer list."""

        if not docs:
            return docs
        if (fieldname, text) in self._postings or self.frequency(fieldname, text) <= SKIP_RATIO * len(docs):
            return docs & self.term(fieldname, text)
        found = BitMap()
        for leaf, offset in leaves(self.reader):
            end = offset + leaf.doc_count_all()
            try:
                matcher = leaf.postings(fieldname, text)
            except TermNotFound:  # not in this segment (also what a segment without the field raises)
                continue
            for docnum in docs.iter_equal_or_larger(offset):
                if docnum >= end or not matcher.is_active():
                    break
                local = docnum - offset
                if matcher.id() < local:
                    matcher.skip_to(local)
                    if not matcher.is_active():
                        break
                if matcher.id() == local:
                    found.add(docnum)
        return found

    def exact(self, text: str, title: bool = False) -> BitMap:
        """Documents whose normalised text (or title) contains ``text``."""
        key = (text, title)
        if key not in self._exact:
            self._exact[key] = self._find_exact(text, title)
        return self._exact[key]

    def _find_exact(self, text: str, title: bool) -> BitMap:
        fieldname = schema.TITLE_GRAMS if title else schema.GRAMS
        column = schema.TITLE_COLUMN if title else schema.TEXT_COLUMN
        grams = [text] if len(text) == 1 else sorted({text[i:i + 2] for i in range(len(text) - 1)})
        needle = text.encode("utf-8")
        found = BitMap()
        # jieba's words are substrings of the normalised text (and title) the gram files hold.
        fields = (schema.TITLE,) if title else (schema.WORDS, schema.TITLE)
        sure = None
        if len(text) > 2 and sum(self.frequency(f, text) for f in fields) >= SURE_WORDS:
            sure = BitMap.union(*(self.term(f, text) for f in fields))
        for segment in self.segments:
            reader = segment.grams
            ordered = sorted(grams, key=lambda gram: reader.frequency(fieldname, gram))
            if not reader.frequency(fieldname, ordered[0]):
                continue
            candidates = reader.docs(fieldname, ordered[0])
            for gram in ordered[1:]:
                if len(candidates) <= FEW_CANDIDATES:
                    break
                candidates &= reader.docs(fieldname, gram)
                if not candidates:
                    break
            if not candidates:
                continue
            candidates = (candidates.shift(segment.offset) if segment.offset else candidates) & self.live
            if len(text) <= 2:
                found |= candidates  # holding the gram is holding the string
                continue
            if sure is not None:
                known = candidates & sure
                found |= known
                candidates -= known
            local = candidates.shift(-segment.offset) if segment.offset else candidates
            hits = BitMap(reader.matching(column, local, needle))
            found |= hits.shift(segment.offset) if segment.offset else hits
        return found

    def words(self, fieldname: str, text: str) -> BitMap:
        """Documents holding every jieba word of ``text`` in ``fieldname``."""
        words = sorted(set(words_of(text)), key=lambda w: self.frequency(fieldname, w))
        if not words:
            return BitMap()
        result = self.term(fieldname, words[0])
        for word in words[1:]:
            result = self.intersect(result, fieldname, word)
        return result & self.live

    def field(self, node: FieldNode) -> BitMap:
        """A facet's documents for the value; ``title:`` is an exact string of the title;
        ``date:`` the documents dated inside the range; any other query field, its term."""
        if isinstance(node.value, DateRange):
            return self.dates.filter(node.value)
        if node.name == schema.TITLE:
            return self.exact(node.value, title=True)
        if node.name in self.facets:
            return self.facets[node.name].filter((node.value,))
        return self.term(node.name, node.value) & self.live

    # -- trees ----------------------------------------------------------------------------------

    def evaluate(self, node) -> BitMap:
        if isinstance(node, TermNode):
            exact = self.exact(node.text)
            if node.exact or set(words_of(node.text)) == {node.text}:
                # A term that is one word: a document holding that word (in its text or title)
                # holds the string, so the words add nothing and their postings are not read.
                return exact
            return exact | self.words(schema.WORDS, node.text) | self.words(schema.TITLE, node.text)
        if isinstance(node, FieldNode):
            return self.field(node)
        if isinstance(node, NotNode):
            return self.live - self.evaluate(node.child)
        if isinstance(node, AndNode):
            positives = [c for c in node.children if not isinstance(c, NotNode)]
            negatives = [c.child for c in node.children if isinstance(c, NotNode)]
            result = self.live
            for child in positives:
                result = result & self.evaluate(child)
                if not result:
                    return BitMap()
            for child in negatives:
                result = result - self.evaluate(child)
            return result
        if isinstance(node, OrNode):
            return BitMap.union(*(self.evaluate(c) for c in node.children))
        raise TypeError(node)
