"""Ranking: which of the matched documents come first, and why (``explain``).

Documents in which more of the query's terms occur as contiguous strings come first (tiers: a
contiguous match above scattered words). Within a tier the order is the *likelihood* of the
query's words under the story (query likelihood with a mixture of field language models, the
known-item model of Ogilvie & Callan 2003): a reader who remembers a story picks words from its
headline or its text, so a story ranks by how likely it is to give those words,

    P(w | d) = λ · (tf_title + μ_title · P(w | titles)) / (|title| + μ_title)
             + (1 − λ) · (tf_text + μ_text · P(w | texts)) / (|text| + μ_text)

and its score is Σ_w ln(P(w | d) / P(w | archive)): how many times likelier the story makes each
word than the archive as a whole does (the denominator is the same for every story, so the order
is that of the likelihood). Short stories that are about a word rank above long ones that mention
it; a word in the headline counts with the headline's weight λ; the smoothing (μ, Dirichlet) keeps
a story that lacks one word of several in the running. The parameters were chosen on the
known-item benchmark (``make bench-relevance``; bench/README-relevance.md). Ties keep index order;
documents none of the words occurs in (matched as strings inside other words) come last in their
tier, in index order. ``sort=date`` does not rank (``searchapp.core``).

``model="bm25f"`` is the earlier ranking (BM25F over the words of the text and the title boosted
in the schema), kept for comparison in the benchmark. The searcher's own weighting (``weighting``,
used by more-like-this) is chosen by name, as bm25s does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from pyroaring import BitMap
from whoosh import scoring
from whoosh.reading import TermNotFound

from indexer import schema
from indexer.fields import TITLE_BOOST
from searchapp.matching import DocSets, bitmap_of, leaf_postings, leaf_postings_in, leaves
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


@dataclass(frozen=True)
class Params:
    """How the documents of a tier are ordered: ``model`` "likelihood" (λ, μ of the module's
    formula) or "bm25f" (k1, b; the title's index-time boost)."""

    model: str = "likelihood"
    title_weight: float = 0.2  # λ
    title_mu: float = 2.0
    text_mu: float = 30.0
    k1: float = 1.2
    b: float = 0.75


PARAMS = Params()
FIELDS = ((schema.TITLE, "title"), (schema.WORDS, "text"))


def _tiers(docsets: DocSets, terms: list[TermNode], final: BitMap) -> list[BitMap]:
    """``final`` split by how many query terms occur in a document as exact strings, most first
    (set algebra: ``at_least[j]`` holds the documents with at least j of them)."""
    at_least = [final]
    for exact in (docsets.exact(term.text) for term in terms):
        at_least = [at_least[0]] + [at_least[j] | (at_least[j - 1] & exact) if j < len(at_least)
                                    else at_least[j - 1] & exact for j in range(1, len(at_least) + 1)]
    exactly = [at_least[j] - at_least[j + 1] for j in range(len(at_least) - 1)] + [at_least[-1]]
    return [tier for tier in reversed(exactly) if tier]


# A word's postings are skipped through document by document for a tier of up to this many
# documents, or when the word has more than SKIP_RATIO times as many documents as the tier;
# else its whole posting lists are read, block by block, and filtered.
DIRECT_SCORING_LIMIT = 300
SKIP_RATIO = 64
# Candidates over 1/DENSE_SHARE of the archive: frequencies are placed through a whole-archive array.
DENSE_SHARE = 64


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class _Tier:
    """The documents being scored, and (made when first needed) whether each document, by
    global number, is one of them, for filtering whole posting lists."""

    def __init__(self, searcher, docs: BitMap):
        self.docs = docs
        self.size = searcher.reader().doc_count_all()  # documents in the archive (deleted ones too)
        self._numbers = None
        self._mask = None

    def skips(self, frequency: int) -> bool:
        """Whether a word of ``frequency`` documents is skipped through rather than read whole."""
        return len(self.docs) <= DIRECT_SCORING_LIMIT or frequency > SKIP_RATIO * len(self.docs)

    @property
    def numbers(self) -> np.ndarray:
        """The tier's documents, ascending."""
        if self._numbers is None:
            self._numbers = np.frombuffer(self.docs.to_array(), dtype=np.uint32).astype(np.int64)
        return self._numbers

    def within(self, first: int, end: int) -> list[int]:
        """The tier's documents from ``first`` up to ``end`` (excluded), counted from ``first``."""
        numbers = self.numbers
        return (numbers[np.searchsorted(numbers, first):np.searchsorted(numbers, end)] - first).tolist()

    @property
    def mask(self) -> np.ndarray:
        if self._mask is None:
            self._mask = np.zeros(self.size, dtype=bool)
            self._mask[self.numbers] = True
        return self._mask


def _postings(searcher, docsets: DocSets, word: str, fieldname: str, tier: _Tier) -> tuple[np.ndarray, np.ndarray]:
    """(documents of the tier that hold ``word`` in ``fieldname``, ascending; how often it
    occurs in each, the title's index-time boost taken out): each segment's postings skipped
    through to the tier's documents, or read whole, block by block, and filtered
    (``_Tier.skips``)."""
    frequency = docsets.frequency(fieldname, word)
    if not frequency:
        return _NONE
    unboost = TITLE_BOOST if fieldname == schema.TITLE else 1.0
    skips = tier.skips(frequency)
    found_ids, found_weights = [], []
    for leaf, offset in leaves(searcher.reader()):
        end = offset + leaf.doc_count_all()
        if end == offset or (skips and not tier.docs.range_cardinality(offset, end)):
            continue  # no document of the tier in this segment
        try:
            matcher = leaf.postings(fieldname, word)
        except TermNotFound:
            continue
        if not skips:
            ids, weights = leaf_postings(matcher)
            if offset:
                ids += offset
            keep = tier.mask[ids]
            found_ids.append(ids[keep])
            found_weights.append(weights[keep])
            continue
        ids, weights = leaf_postings_in(matcher, tier.within(offset, end))
        found_ids.append(np.array(ids, dtype=np.int64) + offset)
        found_weights.append(np.array(weights, dtype=np.float64))
    if not found_ids:
        return _NONE
    return np.concatenate(found_ids), np.concatenate(found_weights) / unboost


def _frequencies(searcher, docsets: DocSets, word: str, fieldname: str, docs: BitMap) -> dict[int, float]:
    ids, tfs = _postings(searcher, docsets, word, fieldname, _Tier(searcher, docs))
    return dict(zip(ids.tolist(), tfs.tolist()))


def _likelihoods(searcher, docsets: DocSets, words: list[str], docs: BitMap) -> tuple[np.ndarray, np.ndarray]:
    """(each document of ``docs`` that holds any of ``words`` in its title or text, ascending;
    the product over the words of P(w | document) / P(w | archive)): the module's formula on
    whole arrays, as a tier may hold most of the archive. Its logarithm is the score."""
    p = PARAMS
    weight, title_mu, text_mu = p.title_weight, p.title_mu, p.text_mu
    tier = _Tier(searcher, docs)
    found = [[_postings(searcher, docsets, word, fieldname, tier) for fieldname, _ in FIELDS]
             for word in words]
    candidates = _union([ids for pair in found for ids, _ in pair])
    title_lengths, text_lengths = (docsets.lengths(f)[candidates].astype(np.float64) for f, _ in FIELDS)
    title = weight / (title_lengths + title_mu)
    text = (1 - weight) / (text_lengths + text_mu)
    ratio = np.ones(len(candidates))
    for word, pair in zip(words, found):
        archive = [_archive_probability(searcher, docsets, f, word) for f, _ in FIELDS]
        tf = [_column(candidates, ids, tfs, tier.size) for ids, tfs in pair]
        background = weight * archive[0] + (1 - weight) * archive[1]
        ratio *= (title * (tf[0] + title_mu * archive[0]) + text * (tf[1] + text_mu * archive[1])) / background
    return candidates, ratio


def _column(candidates: np.ndarray, ids: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``values`` (of the documents ``ids``, a subset of ``candidates``) at the candidates'
    positions, 0 elsewhere: placed through an array of all ``size`` documents when the candidates
    are many (a binary search per id costs ten times as much), else by binary search."""
    if len(ids) == len(candidates):
        return values  # the same documents
    if len(candidates) * DENSE_SHARE > size:
        every = np.zeros(size)
        every[ids] = values
        return every[candidates]
    column = np.zeros(len(candidates))
    column[np.searchsorted(candidates, ids)] = values
    return column


def _union(arrays: list[np.ndarray]) -> np.ndarray:
    """The numbers in any of ``arrays`` (each ascending), ascending, once each (a stable sort
    merges the sorted runs; ``np.unique`` hashes, many times slower here)."""
    merged = np.concatenate(arrays)
    merged.sort(kind="stable")
    return merged[np.concatenate(([True], merged[1:] != merged[:-1]))] if len(merged) else merged


def _best(docs: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The positions of the ``count`` largest ``keys``, largest first, equal keys by document
    (``docs`` ascending)."""
    if len(keys) > count:
        threshold = np.partition(keys, len(keys) - count)[len(keys) - count]
        chosen = np.flatnonzero(keys >= threshold)  # ties at the threshold all stay in the running
    else:
        chosen = np.arange(len(keys))
    return chosen[np.lexsort((docs[chosen], -keys[chosen]))][:count]


@dataclass(frozen=True)
class _Word:
    """One query word's statistics in the two fields: (title, text) each."""

    word: str
    tf: tuple[dict[int, float], dict[int, float]]
    archive: tuple[float, float]  # likelihood: P(w | titles), P(w | texts); bm25f: idf
    average: tuple[float, float]  # bm25f: average field length


def _archive_probability(searcher, docsets: DocSets, fieldname: str, word: str) -> float:
    """P(word | the archive's titles or texts): its occurrences over the field's length (a word
    never seen there counts as half an occurrence: no zero probability); once per searcher, as
    Whoosh keeps its idf (summing over the segments takes a term lookup in each)."""
    cache = getattr(searcher, "_newsearch_archive", None)
    if cache is None:
        cache = {}
        setattr(searcher, "_newsearch_archive", cache)
    key = (fieldname, word)
    if key not in cache:
        reader = searcher.reader()
        unboost = TITLE_BOOST if fieldname == schema.TITLE else 1.0
        occurrences = reader.frequency(fieldname, word) / unboost if docsets.frequency(fieldname, word) else 0
        cache[key] = max(occurrences, 0.5) / (reader.field_length(fieldname) or 1)
    return cache[key]


def _words(searcher, docsets: DocSets, words: list[str], docs: BitMap) -> list[_Word]:
    found = []
    for word in words:
        tf, archive, average = [], [], []
        for fieldname, _ in FIELDS:
            tf.append(_frequencies(searcher, docsets, word, fieldname, docs))
            if PARAMS.model == "bm25f":
                archive.append(searcher.idf(fieldname, word))
                average.append(searcher.avg_field_length(fieldname) or 1.0)
                continue
            archive.append(_archive_probability(searcher, docsets, fieldname, word))
            average.append(0.0)
        found.append(_Word(word, (tf[0], tf[1]), (archive[0], archive[1]), (average[0], average[1])))
    return found


def _word_score(word: _Word, docnum: int, lengths: tuple[int, int], parts: list | None = None) -> float:
    """One word's share of a document's score (with ``parts``, what it is made of, appended)."""
    p = PARAMS
    tfs = (word.tf[0].get(docnum, 0.0), word.tf[1].get(docnum, 0.0))
    if p.model == "bm25f":
        score = 0.0
        for i, (_, name) in enumerate(FIELDS):
            tf = tfs[i] * (TITLE_BOOST if i == 0 else 1.0)
            share = (word.archive[i] * tf * (p.k1 + 1)
                     / (tf + p.k1 * ((1 - p.b) + p.b * lengths[i] / word.average[i]))) if tf else 0.0
            score += share
            if parts is not None:
                parts.append({"field": name, "tf": tfs[i], "length": lengths[i], "idf": round(word.archive[i], 4),
                              "average_length": round(word.average[i], 2), "score": round(share, 4)})
        return score
    weights, mus = (p.title_weight, 1 - p.title_weight), (p.title_mu, p.text_mu)
    fields = [weights[i] * (tfs[i] + mus[i] * word.archive[i]) / (lengths[i] + mus[i]) for i in range(2)]
    background = weights[0] * word.archive[0] + weights[1] * word.archive[1]
    score = math.log((fields[0] + fields[1]) / background)
    if parts is not None:
        for i, (_, name) in enumerate(FIELDS):
            parts.append({"field": name, "tf": tfs[i], "length": lengths[i],
                          "archive_probability": word.archive[i], "weighted_probability": fields[i]})
    return score


def _bm25f_scores(searcher, docsets: DocSets, words: list[str], docs: BitMap) -> dict[int, float]:
    """The earlier ranking's score (``model="bm25f"``) of each document of ``docs`` that holds
    any of ``words``, kept for comparison in the benchmark: ``_word_score`` summed."""
    stats = _words(searcher, docsets, words, docs)
    title_lengths, text_lengths = (docsets.lengths(f) for f, _ in FIELDS)
    candidates: set[int] = set()
    for word in stats:
        candidates.update(word.tf[0])
        candidates.update(word.tf[1])
    return {docnum: sum(_word_score(word, docnum, (title_lengths[docnum], text_lengths[docnum]))
                        for word in stats) for docnum in candidates}


def ranked(searcher, docsets: DocSets, terms: list[TermNode], final: BitMap,
           limit: int) -> tuple[list[int], dict[int, float]]:
    """The first ``limit`` documents of ``final``: exact-match tiers first, then by score within a
    tier, documents no word occurs in last in a tier (in index order)."""
    words = sorted({w for term in terms for w in words_of(term.text)})
    order: list[int] = []
    scores: dict[int, float] = {}
    for tier in _tiers(docsets, terms, final):
        need = limit - len(order)
        if need <= 0:
            break
        if not words:
            scored = _NONE
        elif PARAMS.model == "likelihood":
            scored = _likelihoods(searcher, docsets, words, tier)
        else:
            found = _bm25f_scores(searcher, docsets, words, tier)
            scored = np.array(sorted(found), dtype=np.int64), np.array([found[d] for d in sorted(found)])
        docs, keys = scored
        for i in _best(docs, keys, need).tolist():
            docnum = int(docs[i])
            order.append(docnum)
            scores[docnum] = math.log(keys[i]) if PARAMS.model == "likelihood" else float(keys[i])
        if len(docs) < need:  # every scored document of the tier was taken: the rest, in order
            rest = tier - bitmap_of(docs)
            order.extend(rest[i] for i in range(min(need - len(docs), len(rest))))
    return order, scores


def explain(searcher, docsets: DocSets, terms: list[TermNode], docnum: int) -> dict:
    """Why a document of a query's results ranks where it does: its tier (how many of the query's
    terms it holds as exact strings; more come first), and its score word by word and field by
    field, with the parameters; the same arithmetic as ``ranked``."""
    words = sorted({w for term in terms for w in words_of(term.text)})
    exact = [term.text for term in terms if docnum in docsets.exact(term.text)]
    lengths = tuple(int(docsets.lengths(f)[docnum]) for f, _ in FIELDS)
    explained, total, held = [], 0.0, False
    for word in _words(searcher, docsets, words, BitMap([docnum])):
        parts: list = []
        score = _word_score(word, docnum, lengths, parts)
        total += score
        held = held or any(part["tf"] for part in parts)
        explained.append({"word": word.word, "score": round(score, 4), "fields": parts})
    return {
        "tier": {"exact_terms": exact, "terms": len(terms)},
        "model": PARAMS.model,
        "score": round(total, 4) if held else None,  # None: no word occurs in it (last in its tier)
        "words": explained,
        "params": {k: v for k, v in asdict(PARAMS).items() if k != "model"
                   and (k in ("k1", "b")) == (PARAMS.model == "bm25f")},
    }
