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

from pyroaring import BitMap
from whoosh import query as wq
from whoosh import scoring
from whoosh.idsets import DocIdSet

from indexer import schema
from searchapp.matching import DocSets
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


class Allowed(DocIdSet):
    """A bitmap as the filter of ``searcher.search`` (Whoosh takes a ``DocIdSet`` or a set)."""

    def __init__(self, docs: BitMap):
        self.docs = docs

    def __contains__(self, docnum) -> bool:
        return docnum in self.docs

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self):
        return iter(self.docs)


# A tier of up to this many documents is scored document by document (skipping through the
# words' postings); a larger one through Whoosh's collector over the postings.
DIRECT_SCORING_LIMIT = 300


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
    fields = (schema.WORDS, schema.TITLE)
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
        returned: set[int] = set()
        if words:
            query = wq.Or([wq.Term(f, w) for w in words for f in fields])
            for hit in searcher.search(query, filter=Allowed(tier), limit=need):
                order.append(hit.docnum)
                returned.add(hit.docnum)
                scores[hit.docnum] = hit.score or 0.0
        if len(returned) < need:  # every scored document of the tier was returned
            rest = tier - BitMap(returned)
            order.extend(rest[i] for i in range(min(need - len(returned), len(rest))))
    return order, scores
