"""Ranking: which of the matched documents come first.

Documents in which more of the query's terms occur as contiguous strings come first (tiers: a
contiguous match above scattered words), then BM25F on the words within a tier (the text and
the title, the title boosted in the schema); ties keep index order. ``sort=date`` does not rank
(``searchapp.core``).

The weighting is chosen by name (``weighting``; an unknown name is an error that lists the
choices), as bm25s does.
"""

from __future__ import annotations

import heapq

from array import array

from pyroaring import BitMap
from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from indexer import schema
from searchapp.matching import DocSets, leaves
from searchapp.query import TermNode
from searchapp.terms import words_of


def bm25f():
    """BM25F over the words; the title's boost (x3) lives in the schema."""
    return scoring.BM25F(B=0.75, K1=1.2)


RANKINGS = {"bm25f": bm25f}


def weighting(name: str):
    try:
        return RANKINGS[name]()
    except KeyError:
        raise ValueError(f"unknown ranking {name!r}; choose one of {', '.join(RANKINGS)}") from None


def _tiers(docsets: DocSets, terms: list[TermNode], final: BitMap) -> list[BitMap]:
    """``final`` split by how many query terms occur in a document as exact strings, most first
    (set algebra: ``at_least[j]`` holds the documents with at least j of them)."""
    at_least = [final]
    for exact in (docsets.exact(term.text) for term in terms):
        at_least = [at_least[0]] + [at_least[j] | (at_least[j - 1] & exact) if j < len(at_least)
                                    else at_least[j - 1] & exact for j in range(1, len(at_least) + 1)]
    exactly = [at_least[j] - at_least[j + 1] for j in range(len(at_least) - 1)] + [at_least[-1]]
    return [tier for tier in reversed(exactly) if tier]


# A tier of up to this many documents is scored document by document (skipping through the
# words' postings); a larger one by reading the words' postings block by block.
DIRECT_SCORING_LIMIT = 300


def _field_lengths(searcher, leaf, fieldname: str) -> array:
    """Each document's length of ``fieldname`` in one segment, as Whoosh's scorer reads it
    (``doc_field_length(docnum, fieldname, 1)``), read once per searcher and segment."""
    cache = getattr(searcher, "_newsearch_lengths", None)
    if cache is None:
        cache = {}
        setattr(searcher, "_newsearch_lengths", cache)
    key = (leaf.segment().segment_id(), fieldname)
    lengths = cache.get(key)
    if lengths is None:
        length = leaf.doc_field_length
        lengths = cache[key] = array("I", (length(d, fieldname, 1) for d in range(leaf.doc_count_all())))
    return lengths


def _blocks(matcher):
    """(document ids, weights) of a leaf matcher, a block at a time (``matching._leaf_ids``
    reads the same private members of the pinned Whoosh; other matchers one posting at a time)."""
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids or matcher._i:
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights
        return
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        yield matcher._ids, matcher._weights
        matcher._next_block()


def _score_postings(searcher, docsets: DocSets, words: list[str], docs: BitMap) -> dict[int, float]:
    """BM25F of the documents of ``docs`` that hold any of ``words`` (in the text or the
    title): the words' postings read block by block, each scored with Whoosh's own BM25F
    formula and statistics (``BM25FScorer``: idf, average field length, B, K1)."""
    scores: dict[int, float] = {}
    get = scores.get
    for word in words:
        for fieldname in (schema.WORDS, schema.TITLE):
            if not docsets.frequency(fieldname, word):
                continue
            scorer = searcher.weighting.scorer(searcher, fieldname, word)
            idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
            for leaf, offset in leaves(searcher.reader()):
                try:
                    matcher = leaf.postings(fieldname, word)
                except TermNotFound:
                    continue
                lengths = _field_lengths(searcher, leaf, fieldname)
                for ids, weights in _blocks(matcher):
                    for docnum, tf in zip(ids, weights):
                        found = offset + docnum
                        if found in docs:
                            score = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths[docnum] / avgfl)))
                            scores[found] = get(found, 0.0) + score
    return scores


def _score_directly(searcher, docsets: DocSets, words: list[str],
                    docs: BitMap) -> list[tuple[float, int]]:
    """BM25F of ``docs`` for ``words`` in the text and the title, via ``skip_to`` (0 for a
    document none of the words occurs in)."""
    context = searcher.context()
    matchers = []
    for word in words:
        for field in (schema.WORDS, schema.TITLE):
            if not docsets.frequency(field, word):
                continue
            matcher = wq.Term(field, word).matcher(searcher, context)
            if matcher.is_active():
                matchers.append(matcher)
    scored = []
    for docnum in docs:
        score = 0.0
        for matcher in matchers:
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                score += matcher.score()
        scored.append((score, docnum))
    return scored


def ranked(searcher, docsets: DocSets, terms: list[TermNode], final: BitMap,
            limit: int) -> tuple[list[int], dict[int, float]]:
    """The first ``limit`` documents of ``final``: exact-match tiers first, BM25F within a tier
    (words in the text and in the boosted title), documents no word scores last in a tier."""
    words = sorted({w for term in terms for w in words_of(term.text)})
    order: list[int] = []
    scores: dict[int, float] = {}
    for tier in _tiers(docsets, terms, final):
        need = limit - len(order)
        if need <= 0:
            break
        if not tier:
            continue
        if len(tier) <= DIRECT_SCORING_LIMIT:
            best = heapq.nsmallest(need, _score_directly(searcher, docsets, words, tier),
                                   key=lambda item: (-item[0], item[1]))
            for score, docnum in best:
                order.append(docnum)
                if score:
                    scores[docnum] = score
            continue
        scored = _score_postings(searcher, docsets, words, tier) if words else {}
        best = heapq.nsmallest(need, scored.items(), key=lambda item: (-item[1], item[0]))
        for docnum, score in best:
            order.append(docnum)
            scores[docnum] = score
        if len(best) < need:  # every scored document of the tier was taken: the rest, in order
            rest = tier - BitMap(scored)
            order.extend(rest[i] for i in range(min(need - len(best), len(rest))))
    return order, scores
