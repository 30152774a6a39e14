"""Which documents match a query: set algebra over posting lists, exact strings verified.

- A word or gram term is the set of documents in its posting list (read once per search).
- An exact string (quoted, or the exact part of an unquoted term) is the intersection of the
  document sets of its rarest bigrams (candidates), each candidate then checked with a plain
  substring test on the document's normalised text (a column), so the set is exact.
- AND, OR and NOT are intersection, union and difference; ``NOT x`` alone is "all but x".

Ranking is not done here (``searchapp.ranking``).
"""

from __future__ import annotations

from itertools import accumulate

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from indexer import schema
from searchapp.query import AndNode, FieldNode, NotNode, OrNode, TermNode
from searchapp.terms import words_of

# How many of a string's bigrams to intersect before verifying the candidates.
BIGRAMS_TO_INTERSECT = 3
# Intersecting a set with a posting list this many times longer skips through the list
# (``skip_to``) instead of reading all of it.
SKIP_RATIO = 8


def _leaf_ids(matcher) -> list[int]:
    """All document ids of a fresh leaf matcher, read a whole block at a time.

    Whoosh's generic ``all_ids()`` yields one id per Python call through several layers; the
    W3 leaf matcher (``W3LeafMatcher``) keeps each block's ids as deltas, so this decodes whole
    blocks with ``itertools.accumulate``, through private members of whoosh-reloaded 2.7.5
    (pinned): ``_read_data``, ``_data``, ``_next_block``, ``_i``, ``_byteids``
    (``tests/test_whoosh_internals.py`` checks them). Any other matcher (inlined postings come
    as a ``ListMatcher``) falls back to ``all_ids()``. A deleted-documents filter
    (``FilterMatcher``, which the reader puts around a segment's postings when it has deletions)
    is dropped: callers intersect with the live documents.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids or matcher._i:
        return list(matcher.all_ids())
    ids: list[int] = []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        ids.extend(accumulate(matcher._data[0]))
        matcher._next_block()
    return ids


def posting_ids(reader, fieldname: str, text: str) -> frozenset[int]:
    """Global document numbers of the postings of ``fieldname:text`` (deleted ones may be
    included)."""

    found: list[int] = []
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    for leaf, offset in leaves:
        try:
            matcher = leaf.postings(fieldname, text)
        except TermNotFound:  # not in this segment (also what a segment without the field raises)
            continue
        ids = _leaf_ids(matcher)
        found.extend(ids if not offset else (offset + i for i in ids))
    return frozenset(found)


class DocSets:
    """Evaluates query trees against one searcher; caches the posting lists it reads."""

    def __init__(self, searcher, live: frozenset[int], facets: dict):
        self.reader = searcher.reader()
        self.live = live
        self.facets = facets  # name -> searchapp.facets.TermFacet (value -> documents)
        self._postings: dict[tuple[str, str], frozenset[int]] = {}
        self._exact: dict[tuple[str, bool], frozenset[int]] = {}
        self._frequencies: dict[tuple[str, str], int] = {}
        # Column readers are costly to open (they read offset tables): one set per searcher.
        cache = getattr(searcher, "_newsearch_columns", None)
        if cache is None:
            cache = {}
            setattr(searcher, "_newsearch_columns", cache)
        self._columns = cache

    # -- leaves ---------------------------------------------------------------------------------

    def term(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        found = self._postings.get(key)
        if found is None:
            found = self._postings[key] = posting_ids(self.reader, fieldname, text)
        return found

    def _leaves(self):
        return self.reader.leaf_readers() if hasattr(self.reader, "leaf_readers") else [(self.reader, 0)]

    def frequency(self, fieldname: str, text: str) -> int:
        key = (fieldname, text)
        if key not in self._frequencies:
            self._frequencies[key] = self.reader.doc_frequency(fieldname, text)
        return self._frequencies[key]

    def intersect(self, docs: frozenset[int], fieldname: str, text: str) -> frozenset[int]:
        """``docs`` ∩ the documents of ``fieldname:text``; skips through a much longer list."""

        if not docs:
            return docs
        if (fieldname, text) in self._postings or self.frequency(fieldname, text) <= SKIP_RATIO * len(docs):
            return docs & self.term(fieldname, text)
        found = []
        ordered = sorted(docs)
        for leaf, offset in self._leaves():
            end = offset + leaf.doc_count_all()
            try:
                matcher = leaf.postings(fieldname, text)
            except TermNotFound:  # not in this segment (also what a segment without the field raises)
                continue
            for docnum in ordered:
                if docnum < offset or docnum >= end:
                    continue
                if not matcher.is_active():
                    break
                local = docnum - offset
                if matcher.id() < local:
                    matcher.skip_to(local)
                    if not matcher.is_active():
                        break
                if matcher.id() == local:
                    found.append(docnum)
        return frozenset(found)

    def _column(self, name: str) -> list[tuple[int, int, object]]:
        """(first docnum, end docnum, column reader) per segment: no multi-segment wrapper."""
        if name not in self._columns:
            self._columns[name] = [
                (offset, offset + leaf.doc_count_all(), leaf.column_reader(name))
                for leaf, offset in self._leaves() if leaf.has_column(name)]
        return self._columns[name]

    def _verify(self, candidates: frozenset[int], needle: bytes, column_name: str) -> frozenset[int]:
        found = []
        for start, end, column in self._column(column_name):
            found.extend(d for d in candidates if start <= d < end and needle in column[d - start])
        return frozenset(found)

    def exact(self, text: str, title: bool = False) -> frozenset[int]:
        """Documents whose normalised text (or title) contains ``text``."""
        key = (text, title)
        if key not in self._exact:
            self._exact[key] = self._find_exact(text, title)
        return self._exact[key]

    def _find_exact(self, text: str, title: bool) -> frozenset[int]:
        fieldname = schema.TITLE_GRAMS if title else schema.GRAMS
        if len(text) == 1:
            return self.term(fieldname, text) & self.live
        grams = {text[i:i + 2] for i in range(len(text) - 1)}
        frequency = {gram: self.frequency(fieldname, gram) for gram in grams}
        if not all(frequency.values()):
            return frozenset()
        rarest = sorted(grams, key=frequency.__getitem__)
        candidates = self.term(fieldname, rarest[0])
        for gram in rarest[1:BIGRAMS_TO_INTERSECT]:
            candidates = self.intersect(candidates, fieldname, gram)
        candidates = candidates & self.live
        if len(text) == 2:
            return candidates  # having the bigram is containing the string
        return self._verify(candidates, text.encode("utf-8"),
                            schema.TITLE_COLUMN if title else schema.TEXT_COLUMN)

    def words(self, fieldname: str, text: str) -> frozenset[int]:
        """Documents holding every jieba word of ``text`` in ``fieldname``."""
        words = sorted(set(words_of(text)), key=lambda w: self.frequency(fieldname, w))
        if not words:
            return frozenset()
        result = self.term(fieldname, words[0])
        for word in words[1:]:
            result = self.intersect(result, fieldname, word)
        return result & self.live

    def field(self, node: FieldNode) -> frozenset[int]:
        """A facet's documents for the value; ``title:`` is an exact string of the title; any
        other query field, its term."""
        if node.name == schema.TITLE:
            return self.exact(node.value, title=True)
        if node.name in self.facets:
            return self.facets[node.name].filter((node.value,))
        return self.term(node.name, node.value) & self.live

    # -- trees ----------------------------------------------------------------------------------

    def evaluate(self, node) -> frozenset[int]:
        if isinstance(node, TermNode):
            exact = self.exact(node.text)
            if node.exact:
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
                    return frozenset()
            for child in negatives:
                result = result - self.evaluate(child)
            return result
        if isinstance(node, OrNode):
            return frozenset().union(*(self.evaluate(c) for c in node.children))
        raise TypeError(node)
