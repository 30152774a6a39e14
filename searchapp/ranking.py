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

import heapq
import math
from array import array
from dataclasses import asdict, dataclass

from pyroaring import BitMap
from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from indexer import schema
from indexer.fields import TITLE_BOOST
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


# A tier of up to this many documents is read document by document (skipping through the words'
# postings); a larger one by reading the words' postings block by block.
DIRECT_SCORING_LIMIT = 300


def _field_lengths(searcher, fieldname: str) -> array:
    """Each document's length (words) of ``fieldname``, by global document number, as Whoosh's
    scorer reads it (``doc_field_length(docnum, fieldname, 1)``); read once per searcher."""
    cache = getattr(searcher, "_newsearch_lengths", None)
    if cache is None:
        cache = {}
        setattr(searcher, "_newsearch_lengths", cache)
    lengths = cache.get(fieldname)
    if lengths is None:
        lengths = array("I")
        for leaf, _ in leaves(searcher.reader()):
            length = leaf.doc_field_length  # None in a segment where no document has the field
            lengths.extend(length(d, fieldname, 1) or 0 for d in range(leaf.doc_count_all()))
        cache[fieldname] = lengths
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


def _postings(searcher, docsets: DocSets, word: str, fieldname: str, docs: BitMap):
    """(document, how often ``word`` occurs in its ``fieldname``, the title's index-time boost
    taken out) for each document of ``docs`` that holds it: postings read block by block, or,
    for a few documents, skipped to."""
    if not docsets.frequency(fieldname, word):
        return
    unboost = TITLE_BOOST if fieldname == schema.TITLE else 1.0
    if len(docs) <= DIRECT_SCORING_LIMIT:
        matcher = wq.Term(fieldname, word).matcher(searcher, searcher.context())
        for docnum in docs:
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if not matcher.is_active():
                break
            if matcher.id() == docnum:
                yield docnum, matcher.weight() / unboost
        return
    for leaf, offset in leaves(searcher.reader()):
        try:
            matcher = leaf.postings(fieldname, word)
        except TermNotFound:
            continue
        for ids, weights in _blocks(matcher):
            for docnum, tf in zip(ids, weights):
                if offset + docnum in docs:
                    yield offset + docnum, tf / unboost


def _frequencies(searcher, docsets: DocSets, word: str, fieldname: str, docs: BitMap) -> dict[int, float]:
    return dict(_postings(searcher, docsets, word, fieldname, docs))


def _one_word(searcher, docsets: DocSets, word: str, docs: BitMap) -> tuple[dict[int, float], float]:
    """The likelihood of one word for each document of ``docs`` that holds it, read straight off
    its postings (a one-word query's tier may be most of the archive), and the archive's: the
    order of ``_score``'s, whose score is ln(likelihood / archive's)."""
    p = PARAMS
    weight, title_mu, text_mu = p.title_weight, p.title_mu, p.text_mu
    title_p, text_p = (_archive_probability(searcher, docsets, f, word) for f, _ in FIELDS)
    title_lengths, text_lengths = (_field_lengths(searcher, f) for f, _ in FIELDS)
    title_mass, text_mass = title_mu * title_p, text_mu * text_p
    found: dict[int, float] = {}
    for docnum, tf in _postings(searcher, docsets, word, schema.WORDS, docs):
        found[docnum] = ((1 - weight) * (tf + text_mass) / (text_lengths[docnum] + text_mu)
                         + weight * title_mass / (title_lengths[docnum] + title_mu))
    get = found.get
    for docnum, tf in _postings(searcher, docsets, word, schema.TITLE, docs):
        title = weight / (title_lengths[docnum] + title_mu)
        base = get(docnum)
        if base is None:
            base = (1 - weight) * text_mass / (text_lengths[docnum] + text_mu) + title * title_mass
        found[docnum] = base + title * tf
    return found, weight * title_p + (1 - weight) * text_p


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


def _score(searcher, docsets: DocSets, words: list[str], docs: BitMap) -> dict[int, float]:
    """The score of each document of ``docs`` that holds any of ``words`` (in the title or the
    text): ``_word_score`` summed, its arithmetic inlined for the likelihood (the words' ratios
    multiplied, one logarithm a document), as a tier may hold most of the archive."""
    stats = _words(searcher, docsets, words, docs)
    title_lengths, text_lengths = (_field_lengths(searcher, f) for f, _ in FIELDS)
    candidates: set[int] = set()
    for word in stats:
        candidates.update(word.tf[0])
        candidates.update(word.tf[1])
    if PARAMS.model != "likelihood":
        return {docnum: sum(_word_score(word, docnum, (title_lengths[docnum], text_lengths[docnum]))
                            for word in stats) for docnum in candidates}
    p = PARAMS
    weight, title_mu, text_mu = p.title_weight, p.title_mu, p.text_mu
    # Per word: its title and text frequencies, the smoothing masses, the archive's probability.
    prepared = [(word.tf[0].get, word.tf[1].get, title_mu * word.archive[0], text_mu * word.archive[1],
                 weight * word.archive[0] + (1 - weight) * word.archive[1]) for word in stats]
    log = math.log
    scores = {}
    for docnum in candidates:
        title = weight / (title_lengths[docnum] + title_mu)
        text = (1 - weight) / (text_lengths[docnum] + text_mu)
        ratio = 1.0
        for title_tf, text_tf, title_mass, text_mass, background in prepared:
            ratio *= (title * (title_tf(docnum, 0.0) + title_mass) + text * (text_tf(docnum, 0.0) + text_mass)) / background
        scores[docnum] = log(ratio)
    return scores


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
        if len(words) == 1 and PARAMS.model == "likelihood":
            scored, background = _one_word(searcher, docsets, words[0], tier)
            best = [(docnum, math.log(likelihood / background)) for docnum, likelihood
                    in heapq.nsmallest(need, scored.items(), key=lambda item: (-item[1], item[0]))]
        else:
            scored = _score(searcher, docsets, words, tier) if words else {}
            best = heapq.nsmallest(need, scored.items(), key=lambda item: (-item[1], item[0]))
        for docnum, score in best:
            order.append(docnum)
            scores[docnum] = score
        if len(best) < need:  # every scored document of the tier was taken: the rest, in order
            rest = tier - BitMap(scored)
            order.extend(rest[i] for i in range(min(need - len(best), len(rest))))
    return order, scores


def explain(searcher, docsets: DocSets, terms: list[TermNode], docnum: int) -> dict:
    """Why a document of a query's results ranks where it does: its tier (how many of the query's
    terms it holds as exact strings; more come first), and its score word by word and field by
    field, with the parameters; the same arithmetic as ``ranked``."""
    words = sorted({w for term in terms for w in words_of(term.text)})
    exact = [term.text for term in terms if docnum in docsets.exact(term.text)]
    lengths = tuple(_field_lengths(searcher, f)[docnum] for f, _ in FIELDS)
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
