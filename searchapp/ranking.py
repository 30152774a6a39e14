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

from whoosh import query as wq
from whoosh import scoring

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


def _tiers(docsets: DocSets, terms: list[TermNode], final: frozenset[int]) -> list[frozenset[int]]:
    """``final`` split by how many query terms occur in a document as exact strings, most first."""
    exact = [docsets.exact(term.text) for term in terms]
    if len(exact) == 1:
        return [final & exact[0], final - exact[0]]
    counts: dict[int, set[int]] = {}
    for docnum in final & frozenset().union(*exact):
        counts.setdefault(sum(docnum in e for e in exact), set()).add(docnum)
    tiers = [frozenset(counts[c]) for c in sorted(counts, reverse=True)]
    return tiers + [final - frozenset().union(*exact)]


# A tier of up to this many documents is scored document by document (skipping through the
# words' postings); a larger one through Whoosh's collector over the postings.
DIRECT_SCORING_LIMIT = 300


def _score_directly(searcher, docsets: DocSets, words: list[str],
                    docs: frozenset[int]) -> list[tuple[float, int]]:
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
    for docnum in sorted(docs):
        score = 0.0
        for matcher in matchers:
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                score += matcher.score()
        scored.append((score, docnum))
    return scored


def ranked(searcher, docsets: DocSets, terms: list[TermNode], final: frozenset[int],
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
            for hit in searcher.search(query, filter=set(tier), limit=need):
                order.append(hit.docnum)
                returned.add(hit.docnum)
                scores[hit.docnum] = hit.score or 0.0
        if len(returned) < need:  # every scored document of the tier was returned
            order.extend(sorted(tier - returned)[: need - len(returned)])
    return order, scores
