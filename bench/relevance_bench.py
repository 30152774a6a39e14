"""Relevance benchmark: known-item search, newsearch's ranking against two baselines, same run.

A simulated reader remembers something of one story and wants that story back. For each
collection of ../shared/corpora (``cctv_xwlb``, 2022-2026, and ``cctv_xwlb_2012_2018``) the
script builds three indexes of all its stories (cached in bench/results/, ``--rebuild`` starts
over), generates known-item queries with a fixed seed, runs every query through every system
and reports, per kind of query and overall, MRR@10 (1/rank of the wanted story, 0 below rank
10), success@1 and success@10.

Systems
- ``ours``: the real core, ``searchapp.core.search`` on ``SearchIndex`` with the query as the API
  takes it (``query_from_args({"q": ..., "year": "2015"})``); the index is built with
  ``indexer.build.build_index`` from a JSON Lines file of the records (``search_bench.build_ours``).
- ``tantivy``: a plain BM25 peer (tantivy, a bench-only dependency: ``pip install -e '.[bench]'``).
  Title and body are segmented exactly as ours (``indexer.analysis.segment`` on
  ``indexer.normalize.normalize``'d text), stored space-joined in two text fields with tantivy's
  ``whitespace`` tokenizer; default BM25 (k1 1.2, b 0.75), no boosts. A query's terms are split
  on spaces and segmented the same way; every word must match, in the title or the body (a
  boolean MUST of SHOULD(title:w, body:w), i.e. what ``parse_query('+w1 +w2', ["title",
  "body"])`` gives); a quoted phrase is a phrase query on its words (title or body). Filters are
  native MUST clauses with score 0 (``const_score_query``): ``year`` an indexed integer, ``city``
  a raw string holding the city our indexer gave the story (read back from our index).
- ``naive``: Whoosh + ``jieba.analyse.ChineseAnalyzer`` as bench/search_bench.py builds it
  (``build_baseline``, imported, not copied); queried with Whoosh's ``MultifieldParser`` over
  title and content (AND by default; search_bench's parser searches content only), the year as
  ``year:YYYY`` in the query; its schema has no city, so a place filter is applied to the
  complete ranked result list (``limit=None``) by the story's city.
- ``ours-bm25f`` (``--no-experiment`` leaves it out): ours with the ranking it had before issue
  10 (``searchapp.ranking.Params(model="bm25f")``: BM25F, k1 1.2, b 0.75, the title boosted x3,
  within the same exact-match tiers): the same matching, the earlier order.
- ``oracle`` (left out with it): the ceiling. It knows the rules below and orders the stories by
  the probability that each would have produced the query (posterior under a uniform prior over
  the stories that allow the kind): for ``body``, the probability of drawing those key words
  without replacement in proportion to TF-IDF; ``headline`` the same in proportion to IDF among
  the headline's key words; ``phrase`` the phrase's draw weight over the story's; ``year`` and
  ``place`` the word's share of the story's key-word TF-IDF; ``oneword`` the word's share of the
  story. No ranking can do better on average; what it reaches bounds what any target can ask.

Query generation (``--per-kind`` stories per kind and collection, default 200, so 1,200 queries a
collection; ``--seed``, default 10; one ``random.Random`` per collection and kind, so the
queries of a kind do not change when another kind's rules do). Texts are normalised and
segmented as our indexer does; the body's lead-in (「央视网消息（新闻联播）：」,
「中国网络电视台消息(新闻联播)：」) is never used. A *key word* is a word of at least two
characters, without digits, not in jieba's stop list and in at most 10% of the collection's
stories (so 的, 央视网, 习近平, 中国 are never key words). Its weight in a story is TF-IDF:
occurrences in the story × ln(N / stories containing it). Targets are drawn uniformly (each at
most once per kind) among the stories that allow the kind:
- ``body``: 2 or 3 (alternately) distinct key words of the body, drawn without replacement with
  probability proportional to TF-IDF (the discriminative known-item model of Azzopardi, de Rijke
  & Balog 2007), joined with spaces: ``冬奥会 志愿者 延庆``.
- ``headline``: 2 or 3 key words of the headline, drawn in proportion to IDF. Stories whose
  normalised headline recurs on another date (「国家卫生健康委通报最新疫情」 ×353) are not
  targets: their headline cannot single them out.
- ``phrase``: a remembered phrase in quotes: a run of whole consecutive words of one body
  sentence, 4-8 Han characters (no punctuation, digits or Latin), holding at least one key word,
  drawn in proportion to the highest IDF of its words: ``"冰雪运动热潮"``.
- ``year``: one key word of the body (TF-IDF draw) and the story's year: ``q=冬奥会&year=2022``.
- ``place``: one key word of the body that is no place name of the gazetteer (TF-IDF draw) and
  the story's city as our indexer tags it (a city of Liaoning: in these national collections,
  about 1% of the stories): ``q=冰雪&city=沈阳``.
- ``oneword``: the story's key word with the highest TF-IDF for which the story is the one most
  about it: the share of the word among the story's words (title and body) is the highest of
  all stories, at least 1.5 times the next story's (stories equal to the target aside); the word
  occurs at least twice in the story and in at least 3 stories (else there is nothing to rank).

One right answer: a query's wanted story plus the stories *equal* to it: the same normalised
headline on the same date, or the same normalised body (repeated items; 0 and ~380 stories of
the two collections). Any of them at a rank counts. Recurring headlines on other dates are not
equal (they are other days' news); headline queries avoid them instead (see above).

Results: a table per collection and overall on stdout, bench/results/relevance.json (figures,
rules, versions) and bench/results/relevance-queries.json (every query with each system's rank).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import math
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_bench import RESULTS, SHARED, build_baseline, build_ours  # noqa: E402
from indexer.sources import fingerprint  # noqa: E402

COLLECTIONS = ("cctv_xwlb", "cctv_xwlb_2012_2018")
KINDS = ("body", "headline", "phrase", "year", "place", "oneword")
SYSTEMS = ("ours", "tantivy", "naive")
EXPERIMENT = "ours-bm25f"
ORACLE = "oracle"
DEPTH = 10
STOP_SHARE = 0.10  # a word in more of the stories than this is no key word
ONEWORD_MARGIN = 1.5
LEAD_IN = re.compile(r"^\s*(?:央视网|中国网络电视台)消息\s*[(（]\s*新闻联播\s*[)）]\s*[:：]?")
HAN_ONLY = re.compile(r"[\u4e00-\u9fff]+")
STAMP_VERSION = 1


# ---------------------------------------------------------------- the collection, analysed once

@dataclass
class Collection:
    """The records of one collection with what query generation and tantivy need."""

    name: str
    records: list[dict]
    title_words: list[list[str]]
    body_words: list[list[tuple[str, int, int]]]  # (word, start, end) in the normalised body
    bodies: list[str]  # normalised bodies
    lead: list[int]  # length of the lead-in of each body (words before it are never used)
    df: Counter
    postings: dict[str, list[tuple[int, int]]]  # word -> [(doc, tf in title + body)]
    lengths: list[int]  # words in title + body
    answers: list[frozenset[int]]  # a story and the stories equal to it
    title_recurs: list[bool]  # its normalised headline occurs on another date

    @property
    def size(self) -> int:
        return len(self.records)

    def idf(self, word: str) -> float:
        return math.log(self.size / self.df[word])


def corpus_path(name: str) -> Path:
    return SHARED / name / "articles.jsonl.gz"


def load_records(name: str) -> list[dict]:
    """All stories of a collection (search_bench's loader reads only cctv_xwlb, or joins days)."""
    with gzip.open(corpus_path(name), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def analyse(name: str, records: list[dict]) -> Collection:
    from indexer.analysis import segment
    from indexer.normalize import normalize

    title_words, body_words, bodies, lead, lengths = [], [], [], [], []
    df: Counter = Counter()
    postings: dict[str, list[tuple[int, int]]] = {}
    by_title_date: dict[tuple[str, str], list[int]] = {}
    by_body: dict[str, list[int]] = {}
    title_dates: dict[str, set[str]] = {}
    for doc, record in enumerate(records):
        title = normalize(record.get("title", ""))
        body = normalize(record["text"])
        titled = [w for w, _, _ in segment(title).words] if title else []
        words = list(segment(body).words)
        match = LEAD_IN.match(body)
        title_words.append(titled)
        body_words.append(words)
        bodies.append(body)
        lead.append(match.end() if match else 0)
        counts = Counter(titled)
        counts.update(w for w, _, _ in words)
        lengths.append(sum(counts.values()))
        df.update(counts.keys())
        for word, tf in counts.items():
            postings.setdefault(word, []).append((doc, tf))
        key = re.sub(r"\W", "", title)
        by_title_date.setdefault((key, record["date"]), []).append(doc)
        by_body.setdefault(body, []).append(doc)
        title_dates.setdefault(key, set()).add(record["date"])
    answers = []
    recurs = []
    for doc, record in enumerate(records):
        key = re.sub(r"\W", "", normalize(record.get("title", "")))
        answers.append(frozenset(by_title_date[(key, record["date"])]) | frozenset(by_body[bodies[doc]]))
        recurs.append(len(title_dates[key]) > 1)
    return Collection(name, records, title_words, body_words, bodies, lead, df, postings, lengths,
                      answers, recurs)


# ---------------------------------------------------------------- queries

@dataclass
class KnownItem:
    collection: str
    kind: str
    q: str
    filters: dict[str, str]
    target: str
    answers: list[str]
    ranks: dict[str, int | None] = field(default_factory=dict)  # system -> 1-based rank or None


def _stop_words() -> frozenset[str]:
    from jieba.analyse import default_tfidf

    return frozenset(default_tfidf.stop_words)


def _place_names() -> frozenset[str]:
    from indexer.gazetteer import load_gazetteer

    return frozenset(load_gazetteer().dictionary_words())


def weighted_sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """``k`` distinct keys, each draw in proportion to the remaining weights."""
    pool = dict(weights)
    chosen = []
    while pool and len(chosen) < k:
        keys = sorted(pool)
        pick = rng.choices(keys, weights=[pool[key] for key in keys])[0]
        chosen.append(pick)
        del pool[pick]
    return chosen


class Generator:
    """The rules of the module docstring, one method per kind (``None``: the story does not allow it)."""

    def __init__(self, coll: Collection, cities: dict[str, str]):
        self.coll = coll
        self.cities = cities
        self.stop = _stop_words()
        self.places = _place_names()
        self.limit = STOP_SHARE * coll.size

    def key(self, word: str) -> bool:
        return (len(word) >= 2 and not any(c.isdigit() for c in word) and word not in self.stop
                and self.coll.df[word] <= self.limit)

    def body_tfidf(self, doc: int, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
        lead = self.coll.lead[doc]
        tf = Counter(w for w, start, _ in self.coll.body_words[doc] if start >= lead and self.key(w)
                     and w not in exclude)
        return {w: n * self.coll.idf(w) for w, n in tf.items()}

    def body(self, rng, doc, number):
        weights = self.body_tfidf(doc)
        k = 2 + number % 2
        if len(weights) < k:
            return None
        return " ".join(weighted_sample(rng, weights, k)), {}

    def headline(self, rng, doc, number):
        if self.coll.title_recurs[doc]:
            return None
        weights = {w: self.coll.idf(w) for w in self.coll.title_words[doc] if self.key(w)}
        k = min(2 + number % 2, len(weights))
        if k < 2:
            return None
        return " ".join(weighted_sample(rng, weights, k)), {}

    def phrase(self, rng, doc, number):
        spans = self.spans(doc)
        if not spans:
            return None
        return f'"{weighted_sample(rng, spans, 1)[0]}"', {}

    def spans(self, doc: int) -> dict[str, float]:
        """The phrases a reader may remember of a story's body, each with its draw weight."""
        words = [(w, s, e) for w, s, e in self.coll.body_words[doc] if s >= self.coll.lead[doc]]
        spans: dict[str, float] = {}
        for i in range(len(words)):
            end, picked = words[i][1], []
            for word, start, stop in words[i:]:
                if start != end or not HAN_ONLY.fullmatch(word) or stop - words[i][1] > 8:
                    break
                picked.append(word)
                end = stop
                if stop - words[i][1] >= 4 and any(self.key(w) for w in picked):
                    text = self.coll.bodies[doc][words[i][1]:stop]
                    spans[text] = max(spans.get(text, 0.0), max(self.coll.idf(w) for w in picked))
        return spans

    def year(self, rng, doc, number):
        weights = self.body_tfidf(doc)
        if not weights:
            return None
        return weighted_sample(rng, weights, 1)[0], {"year": self.coll.records[doc]["date"][:4]}

    def place(self, rng, doc, number):
        city = self.cities.get(self.coll.records[doc]["id"])
        weights = self.body_tfidf(doc, exclude=self.places)
        if not city or not weights:
            return None
        return weighted_sample(rng, weights, 1)[0], {"city": city}

    def oneword(self, rng, doc, number):
        coll = self.coll
        weights = self.body_tfidf(doc)
        for w in (w for w in coll.title_words[doc] if self.key(w)):
            weights[w] = weights.get(w, 0.0) + coll.idf(w)
        for word in sorted(weights, key=lambda w: (-weights[w], w)):
            if coll.df[word] < 3:
                continue
            shares = sorted(((tf / coll.lengths[d], d) for d, tf in coll.postings[word]
                             if d not in coll.answers[doc] or d == doc), reverse=True)
            if len(shares) < 2:
                continue
            best_share, best = shares[0]
            tf = next(tf for d, tf in coll.postings[word] if d == doc)
            if best == doc and tf >= 2 and best_share >= ONEWORD_MARGIN * shares[1][0]:
                return word, {}
        return None


def make_queries(coll: Collection, cities: dict[str, str], per_kind: int, seed: int) -> list[KnownItem]:
    gen = Generator(coll, cities)
    items = []
    for kind in KINDS:
        rng = random.Random(f"{seed}/{coll.name}/{kind}")
        pool = list(range(coll.size))
        if kind == "place":
            pool = [d for d in pool if cities.get(coll.records[d]["id"])]
        rng.shuffle(pool)
        made = 0
        for doc in pool:
            if made == per_kind:
                break
            query = getattr(gen, kind)(rng, doc, made)
            if query is None:
                continue
            text, filters = query
            items.append(KnownItem(coll.name, kind, text, filters, coll.records[doc]["id"],
                                   sorted(coll.records[d]["id"] for d in coll.answers[doc])))
            made += 1
        if made < per_kind:
            print(f"  note: only {made} {kind} queries (stories allowing it: {len(pool)})", flush=True)
    return items


# ---------------------------------------------------------------- indexes (cached)

def _analysis_signature() -> str:
    """What tantivy's tokens depend on: our normalisation, segmentation and gazetteer."""
    digest = hashlib.sha1()
    for rel in ("indexer/normalize.py", "indexer/analysis.py", "indexer/data/gazetteer.toml"):
        digest.update((ROOT / rel).read_bytes())
    return digest.hexdigest()


def _stamp_path(index_dir: Path) -> Path:
    return index_dir.parent / f"{index_dir.name}.stamp.json"


def _cached(index_dir: Path, stamp: dict) -> bool:
    path = _stamp_path(index_dir)
    return index_dir.is_dir() and path.exists() and json.loads(path.read_text()) == stamp


def _stamp(index_dir: Path, stamp: dict) -> None:
    _stamp_path(index_dir).write_text(json.dumps(stamp, indent=2))


def ensure_ours(records, index_dir: Path, stamp: dict, rebuild: bool) -> str:
    from searchapp.store import SearchIndex

    if not rebuild and _cached(index_dir, stamp):
        try:
            if SearchIndex(index_dir).searcher().doc_count() == len(records):
                return "cached"
        except Exception as error:  # an index of another schema (IndexOutdated) or a broken one
            print(f"  our cached index is not usable ({error}); rebuilding", flush=True)
    _stamp_path(index_dir).unlink(missing_ok=True)
    seconds = build_ours(records, index_dir)
    count = SearchIndex(index_dir).searcher().doc_count()
    if count != len(records):
        print(f"  WARNING: our index holds {count} of {len(records)} stories", flush=True)
    _stamp(index_dir, stamp)
    return f"built in {seconds:.0f}s"


def ensure_naive(records, index_dir: Path, stamp: dict, rebuild: bool) -> str:
    if not rebuild and _cached(index_dir, stamp):
        return "cached"
    _stamp_path(index_dir).unlink(missing_ok=True)
    seconds = build_baseline(records, index_dir)
    _stamp(index_dir, stamp)
    return f"built in {seconds:.0f}s"


def tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="whitespace")
    builder.add_text_field("body", tokenizer_name="whitespace")
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_text_field("city", tokenizer_name="raw")
    return builder.build()


def ensure_tantivy(coll: Collection, cities: dict[str, str], index_dir: Path, stamp: dict,
                   rebuild: bool) -> str:
    import tantivy

    if not rebuild and _cached(index_dir, stamp):
        return "cached"
    started = time.perf_counter()
    _stamp_path(index_dir).unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    index = tantivy.Index(tantivy_schema(), path=str(index_dir))
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    for doc, record in enumerate(coll.records):
        values = {"id": record["id"], "title": " ".join(coll.title_words[doc]),
                  "body": " ".join(w for w, _, _ in coll.body_words[doc]), "year": int(record["date"][:4])}
        if cities.get(record["id"]):
            values["city"] = cities[record["id"]]
        writer.add_document(tantivy.Document(**values))
    writer.commit()
    writer.wait_merging_threads()
    _stamp(index_dir, stamp)
    return f"built in {time.perf_counter() - started:.0f}s"


def cities_of(index_dir: Path) -> dict[str, str]:
    """Story id -> the city our indexer tagged it with (the ``city`` facet)."""
    from whoosh import query as wq

    from searchapp.store import SearchIndex

    searcher = SearchIndex(index_dir).searcher()
    found = {}
    for city in searcher.reader().field_terms("city"):
        city = city.decode("utf-8") if isinstance(city, bytes) else city
        for docnum in searcher.docs_for_query(wq.Term("city", city)):
            found[searcher.stored_fields(docnum)["id"]] = city
    return found


# ---------------------------------------------------------------- systems

class Ours:
    name = "ours"

    def __init__(self, index_dir: Path):
        from searchapp.store import SearchIndex

        self.index = SearchIndex(index_dir)

    def top(self, item: KnownItem) -> list[str]:
        from searchapp.core import search
        from searchapp.request import query_from_args

        query = query_from_args({"q": item.q, **item.filters, "per_page": str(DEPTH)})
        return [hit.id for hit in search(self.index, query).hits]


class OursBM25F(Ours):
    """Ours with the ranking it had before issue 10 (BM25F within the tiers): the same matching."""

    name = EXPERIMENT

    def top(self, item: KnownItem) -> list[str]:
        from searchapp import ranking

        shipped = ranking.PARAMS
        ranking.PARAMS = ranking.Params(model="bm25f")
        try:
            return super().top(item)
        finally:
            ranking.PARAMS = shipped


class Oracle:
    """The ceiling: the ranking that knows the generation rules (``Generator``) and orders the
    stories by the probability that each would have produced the query (the posterior with a
    uniform prior over the stories that allow the kind): no ranking can do better on average.
    Ties by story order."""

    name = ORACLE

    def __init__(self, coll: Collection, gen: "Generator"):
        self.coll, self.gen = coll, gen
        self.ids = {r["id"]: d for d, r in enumerate(coll.records)}
        self.docs_of = {w: [d for d, _ in p] for w, p in coll.postings.items()}

    @staticmethod
    def _drawn(words: list[str], weights: dict[str, float]) -> float:
        """Probability that draws without replacement, in proportion to ``weights``, give ``words`` (any order)."""
        total, found = sum(weights.values()), 0.0
        for order in itertools.permutations(words):
            p, left = 1.0, total
            for w in order:
                if w not in weights or left <= 0:
                    return 0.0
                p *= weights[w] / left
                left -= weights[w]
            found += p
        return found

    def _spans(self, doc: int) -> dict[str, float]:
        return self.gen.spans(doc)

    def likelihoods(self, item: KnownItem) -> dict[int, float]:
        coll, gen = self.coll, self.gen
        if item.kind in ("body", "headline"):
            words = item.q.split()
            docs = set.intersection(*(set(self.docs_of.get(w, ())) for w in words))
            if item.kind == "body":
                return {d: self._drawn(words, gen.body_tfidf(d)) for d in docs}
            return {d: self._drawn(words, {w: coll.idf(w) for w in coll.title_words[d] if gen.key(w)})
                    for d in docs if not coll.title_recurs[d]}
        if item.kind == "phrase":
            text = item.q.strip('"')
            found = {}
            for d, body in enumerate(coll.bodies):
                if text in body:
                    spans = gen.spans(d)
                    if text in spans:
                        found[d] = spans[text] / sum(spans.values())
            return found
        if item.kind in ("year", "place"):
            found = {}
            for d in self.docs_of.get(item.q, ()):
                if item.kind == "year" and coll.records[d]["date"][:4] != item.filters["year"]:
                    continue
                if item.kind == "place" and gen.cities.get(coll.records[d]["id"]) != item.filters["city"]:
                    continue
                weights = gen.body_tfidf(d, exclude=gen.places if item.kind == "place" else frozenset())
                if item.q in weights:
                    found[d] = weights[item.q] / sum(weights.values())
            return found
        # oneword: the story the word has the largest share of
        return {d: tf / coll.lengths[d] for d, tf in coll.postings.get(item.q, ())}

    def top(self, item: KnownItem) -> list[str]:
        scores = self.likelihoods(item)
        best = sorted((d for d in scores if scores[d] > 0), key=lambda d: (-scores[d], d))[:DEPTH]
        return [self.coll.records[d]["id"] for d in best]


class Tantivy:
    name = "tantivy"

    def __init__(self, index_dir: Path):
        import tantivy

        self.t = tantivy
        self.schema = tantivy_schema()
        self.index = tantivy.Index(self.schema, path=str(index_dir), reuse=True)
        self.searcher = self.index.searcher()

    def _either(self, make) -> object:
        Q, Occur = self.t.Query, self.t.Occur
        return Q.boolean_query([(Occur.Should, make("title")), (Occur.Should, make("body"))])

    def query(self, item: KnownItem):
        from indexer.analysis import segment
        from indexer.normalize import normalize

        Q, Occur = self.t.Query, self.t.Occur
        clauses = []
        if item.q.startswith('"'):
            words = [w for w, _, _ in segment(normalize(item.q.strip('"'))).words]
            if len(words) == 1:
                clauses.append(self._either(lambda f: Q.term_query(self.schema, f, words[0])))
            else:
                clauses.append(self._either(lambda f: Q.phrase_query(self.schema, f, words)))
        else:
            for term in item.q.split():
                for word, _, _ in segment(normalize(term)).words:
                    clauses.append(self._either(lambda f, w=word: Q.term_query(self.schema, f, w)))
        if "year" in item.filters:
            clauses.append(Q.const_score_query(Q.term_query(self.schema, "year", int(item.filters["year"])), 0.0))
        if "city" in item.filters:
            clauses.append(Q.const_score_query(Q.term_query(self.schema, "city", item.filters["city"]), 0.0))
        return Q.boolean_query([(Occur.Must, clause) for clause in clauses])

    def top(self, item: KnownItem) -> list[str]:
        hits = self.searcher.search(self.query(item), DEPTH).hits
        return [self.searcher.doc(address)["id"][0] for _, address in hits]


class Naive:
    name = "naive"

    def __init__(self, index_dir: Path, cities: dict[str, str]):
        from whoosh import index
        from whoosh.qparser import MultifieldParser

        self.searcher = index.open_dir(str(index_dir)).searcher()
        self.parser = MultifieldParser(["title", "content"], self.searcher.schema)
        self.cities = cities

    def top(self, item: KnownItem) -> list[str]:
        text = item.q + (f" year:{item.filters['year']}" if "year" in item.filters else "")
        query = self.parser.parse(text)
        if "city" not in item.filters:
            return [hit["id"] for hit in self.searcher.search(query, limit=DEPTH)]
        ids = (hit["id"] for hit in self.searcher.search(query, limit=None))
        return [i for i in ids if self.cities.get(i) == item.filters["city"]][:DEPTH]


# ---------------------------------------------------------------- scoring and reporting

def run_system(system, items: list[KnownItem]) -> tuple[float, int]:
    started, errors = time.perf_counter(), 0
    for item in items:
        try:
            ids = system.top(item)[:DEPTH]
        except Exception as error:  # counted as a miss and reported
            errors += 1
            if errors <= 3:
                print(f"    {system.name}: {item.kind} {item.q!r} {item.filters}: {error!r}", flush=True)
            ids = []
        answers = set(item.answers)
        item.ranks[system.name] = next((r for r, i in enumerate(ids, 1) if i in answers), None)
    return time.perf_counter() - started, errors


def metrics(items: list[KnownItem], system: str) -> dict:
    ranks = [item.ranks.get(system) for item in items]
    n = len(ranks)
    if not n:
        return {"n": 0, "mrr10": None, "s1": None, "s10": None}
    return {"n": n,
            "mrr10": round(sum(1 / r for r in ranks if r) / n, 4),
            "s1": round(sum(r == 1 for r in ranks) / n, 4),
            "s10": round(sum(r is not None for r in ranks) / n, 4)}


def table(items: list[KnownItem], systems: list[str]) -> dict:
    rows = {kind: {s: metrics([i for i in items if i.kind == kind], s) for s in systems} for kind in KINDS}
    rows["overall"] = {s: metrics(items, s) for s in systems}
    return rows


def paired(items: list[KnownItem], systems: list[str], seed: int) -> dict:
    """Each other system against ours, query by query: wins, losses and the MRR@10 difference
    (system - ours) with a 95% bootstrap interval (2,000 resamples of the queries, fixed seed),
    per kind and overall. With 200 queries a kind, differences under ~0.02-0.03 are noise."""
    rng = random.Random(seed)

    def compare(group: list[KnownItem], other: str) -> dict:
        diffs = [(1 / i.ranks[other] if i.ranks.get(other) else 0.0) - (1 / i.ranks["ours"] if i.ranks.get("ours") else 0.0)
                 for i in group]
        n = len(diffs)
        if not n:
            return {}
        means = sorted(sum(rng.choice(diffs) for _ in range(n)) / n for _ in range(2000))
        return {"better_than_ours": sum(d > 0 for d in diffs), "worse_than_ours": sum(d < 0 for d in diffs),
                "mrr10_diff": round(sum(diffs) / n, 4), "ci95": [round(means[50], 4), round(means[1949], 4)]}

    groups = {kind: [i for i in items if i.kind == kind] for kind in KINDS}
    groups["overall"] = items
    return {other: {kind: compare(group, other) for kind, group in groups.items()}
            for other in systems if other != "ours"}


def ratios(rows: dict, other: str = "tantivy") -> dict:
    """Ours' MRR@10 over ``other``'s, per kind and overall (issue 10's target: 1.10 overall, no
    kind below 1.00)."""
    return {kind: round(r["ours"]["mrr10"] / r[other]["mrr10"], 3) if r[other]["mrr10"] else None
            for kind, r in rows.items()}


def print_ratios(rows: dict, systems: list[str]) -> None:
    for system in ("ours", ORACLE):
        if system in systems:
            shown = {k: v for k, v in ratios({k: {"ours": r[system], "tantivy": r["tantivy"]}
                                                for k, r in rows.items()}).items()}
            print(f"  {system} / tantivy, MRR@10: " + "; ".join(f"{k} {v:.3f}" for k, v in shown.items() if v))


def print_paired(pairs: dict) -> None:
    for other, by_kind in pairs.items():
        cells = [f"{kind} {c['mrr10_diff']:+.3f} [{c['ci95'][0]:+.3f},{c['ci95'][1]:+.3f}] "
                 f"{c['better_than_ours']}/{c['worse_than_ours']}" for kind, c in by_kind.items() if c]
        print(f"  {other} - ours (MRR@10 diff [95% CI] queries better/worse): " + "; ".join(cells))


def print_table(title: str, rows: dict, systems: list[str]) -> None:
    print(f"\n{title}")
    print(f"{'kind':9} {'n':>4}  " + "  ".join(f"{s:>22}" for s in systems))
    print(f"{'':9} {'':>4}  " + "  ".join(f"{'MRR@10   S@1  S@10':>22}" for _ in systems))
    for kind, by_system in rows.items():
        n = next(iter(by_system.values()))["n"]
        cells = []
        for s in systems:
            m = by_system[s]
            cells.append(f"{m['mrr10']:.3f} {m['s1']:5.3f} {m['s10']:5.3f}" if n else "-")
        print(f"{kind:9} {n:>4}  " + "  ".join(f"{c:>22}" for c in cells))


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--per-kind", type=int, default=200, help="queries per kind and collection")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes")
    parser.add_argument("--limit", type=int, help="only the first N stories of each collection (a smoke test)")
    parser.add_argument("--no-experiment", action="store_true", help=f"leave out {EXPERIMENT} and {ORACLE}")
    args = parser.parse_args()
    import tantivy

    from indexer.schema import SCHEMA_VERSION

    started = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)
    systems = [*SYSTEMS, *([] if args.no_experiment else [EXPERIMENT, ORACLE])]
    report: dict = {
        "rules": {"per_kind": args.per_kind, "seed": args.seed, "depth": DEPTH, "stop_share": STOP_SHARE,
                  "oneword_margin": ONEWORD_MARGIN, "kinds": list(KINDS),
                  "equal_answers": "same normalised headline and date, or same normalised body",
                  "headline_targets": "only stories whose normalised headline occurs on no other date"},
        "versions": {"tantivy": tantivy.__version__, "schema": SCHEMA_VERSION, "git_head": _git("rev-parse", "HEAD"),
                     "uncommitted_in_searchapp_indexer": _git("status", "--porcelain", "searchapp", "indexer")
                     .splitlines()},
        "collections": {},
    }
    everything: list[KnownItem] = []
    for name in args.collections.split(","):
        phase = time.perf_counter()
        records = load_records(name)[: args.limit]
        print(f"{name}: {len(records)} stories", flush=True)
        records_sha1 = fingerprint(corpus_path(name)) + (f"[:{args.limit}]" if args.limit else "")
        base = RESULTS / f"relevance-{name}" if not args.limit else RESULTS / f"relevance-{name}-first{args.limit}"
        ours_dir, naive_dir, tantivy_dir = (Path(f"{base}-{s}") for s in ("ours", "naive", "tantivy"))
        stamp = {"v": STAMP_VERSION, "records_sha1": records_sha1}
        print(f"  ours: {ensure_ours(records, ours_dir, {**stamp, 'schema': SCHEMA_VERSION}, args.rebuild)}",
              flush=True)
        cities = cities_of(ours_dir)
        coll = analyse(name, records)
        print(f"  analysed ({len(cities)} stories with a city); {time.perf_counter() - phase:.0f}s so far",
              flush=True)
        print(f"  naive: {ensure_naive(records, naive_dir, stamp, args.rebuild)}", flush=True)
        print("  tantivy: " + ensure_tantivy(coll, cities, tantivy_dir,
                                             {**stamp, "tantivy": tantivy.__version__,
                                              "analysis": _analysis_signature()}, args.rebuild), flush=True)
        items = make_queries(coll, cities, args.per_kind, args.seed)
        runners = [Ours(ours_dir), Tantivy(tantivy_dir), Naive(naive_dir, cities)]
        if not args.no_experiment:
            runners += [OursBM25F(ours_dir), Oracle(coll, Generator(coll, cities))]
        seconds = {}
        for runner in runners:
            spent, errors = run_system(runner, items)
            seconds[runner.name] = round(spent, 1)
            print(f"  {runner.name}: {len(items)} queries in {spent:.0f}s" + (f", {errors} errors" if errors else ""),
                  flush=True)
        rows = table(items, systems)
        print_table(f"{name} ({len(records)} stories)", rows, systems)
        print_ratios(rows, systems)
        pairs = paired(items, systems, args.seed)
        print_paired(pairs)
        report["collections"][name] = {"stories": len(records), "stories_with_city": len(cities),
                                       "queries": len(items), "by_kind": rows, "paired": pairs,
                                       "seconds": {"total": round(time.perf_counter() - phase, 1), **seconds}}
        everything.extend(items)
        del coll
    if len(report["collections"]) > 1:
        rows = table(everything, systems)
        print_table("both collections", rows, systems)
        print_ratios(rows, systems)
        pairs = paired(everything, systems, args.seed)
        print_paired(pairs)
        report["overall"] = {"by_kind": rows, "paired": pairs}
    report["seconds"] = round(time.perf_counter() - started, 1)
    (RESULTS / "relevance.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (RESULTS / "relevance-queries.json").write_text(
        json.dumps([asdict(item) for item in everything], ensure_ascii=False, indent=0))
    print(f"\n{len(everything)} queries, {report['seconds']:.0f}s; bench/results/relevance.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
