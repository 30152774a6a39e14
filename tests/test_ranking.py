"""Ranking a person can read (issue 10): a small archive of stories written for each rule, the
rest of their text real paragraphs of the seed pages, indexed by the real indexer and searched
through the real API; and ``explain`` (``/api/search?explain=1``, ``newsearch search --explain``)
telling the same story as the order."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest

from whoosh import query as wq

from indexer import schema
from indexer.build import build_index
from indexer.fields import TITLE_BOOST
from searchapp import ranking
from searchapp.core import result_set
from searchapp.request import query_from_args
from searchapp.store import SearchIndex
from searchapp.terms import positive_terms, words_of
from searchapp.web import create_app
from searchapp.web.openapi import openapi_document

from conftest import seed_paragraphs

WORDS = ("滑雪场", "冰雪", "旅游", "铁岭", "阜新", "温泉", "博物馆", "花生")


def _filler(count: int, start: int) -> list[str]:
    """``count`` seed paragraphs holding none of the test's words (the same ones for the same start)."""
    plain = [p for p in seed_paragraphs() if not any(word in p for word in WORDS)]
    return [plain[(start + i) % len(plain)] for i in range(count)]


def _story(story_id: str, title: str, paragraphs: list[str]) -> dict:
    return {"id": story_id, "title": title, "text": "\n".join(paragraphs), "date": "2023-05-01"}


STORIES = [
    # A headline match and a passing mention: the same text, one sentence naming the ski resort.
    _story("mention", "全市推进重点项目建设", [*_filler(3, 0), "城郊新建的滑雪场本月开放。", *_filler(2, 3)]),
    _story("headline", "城郊滑雪场本月开放", [*_filler(3, 0), "城郊新建的滑雪场本月开放。", *_filler(2, 3)]),
    # The string as typed above its words scattered through the text.
    _story("scattered", "全市推进重点项目建设",
           [*_filler(2, 10), "冰雪运动进校园。", *_filler(2, 12), "乡村旅游持续升温。"]),
    _story("phrase", "全市推进重点项目建设",
           [*_filler(2, 10), "冰雪旅游持续升温。", *_filler(2, 12), "运动进校园。"]),
    # A story about a place and one naming it once, as long as each other.
    _story("about", "城市更新项目开工",
           [*_filler(2, 20), "铁岭的老城改造今年开工，市民盼了多年。", "铁岭还将修缮铁岭老街，让铁岭更宜居。"]),
    _story("once", "城市更新项目开工",
           [*_filler(2, 20), "来自铁岭的专家参加了论证会，大家意见一致。", "项目还将修缮老街，让城市更宜居。"]),
    # Three stories alike in every word: ties, kept in index order.
    *[_story(f"tie-{n}", "温泉博物馆开馆", [*_filler(2, 30), "温泉博物馆今天开馆。"]) for n in range(3)],
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranking")
    with open(root / "stories.jsonl", "w", encoding="utf-8") as handle:
        for story in STORIES:
            handle.write(json.dumps(story, ensure_ascii=False) + "\n")
    index_dir = root / "index"
    report = build_index([root / "stories.jsonl"], index_dir, workers=1)
    assert report.articles_added == len(STORIES) and not report.problems
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    return app.test_client()


def _ids(client, q: str, **params) -> list[str]:
    response = client.get("/api/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    return [hit["id"] for hit in response.get_json()["hits"]]


def test_a_headline_match_ranks_above_a_passing_mention(client):
    assert _ids(client, "滑雪场") == ["headline", "mention"]


def test_the_string_as_typed_ranks_above_its_words_scattered(client):
    """冰雪旅游 is found in both (every word of it is there), but only one holds the string."""
    assert _ids(client, "冰雪旅游")[:2] == ["phrase", "scattered"]


def test_a_story_about_a_place_ranks_above_one_naming_it_once(client):
    assert _ids(client, "铁岭") == ["about", "once"]


def test_ties_keep_index_order_on_every_page(client):
    assert _ids(client, "温泉 博物馆") == ["tie-0", "tie-1", "tie-2"]
    walked = [_ids(client, "温泉 博物馆", per_page=1, page=n)[0] for n in (1, 2, 3)]
    assert walked == ["tie-0", "tie-1", "tie-2"]


def _explained(client, q: str, **params) -> list[dict]:
    response = client.get("/api/search", query_string={"q": q, "explain": "1", **params})
    assert response.status_code == 200, response.get_json()
    document = openapi_document()
    schema = {**document["components"]["schemas"]["SearchResult"], "components": document["components"]}
    jsonschema.validate(response.get_json(), schema)
    return response.get_json()["hits"]


@pytest.mark.parametrize("q", ["滑雪场", "冰雪旅游", "铁岭", "温泉 博物馆", "冰雪 运动"])
def test_explain_tells_the_order(client, q):
    """Each hit's explanation: its position, its tier, and a score that is the sum of its words'
    (and the hit's score); the hits are in the order the explanations give (more exact terms
    first, then the higher score)."""
    hits = _explained(client, q)
    assert hits
    keys = []
    for position, hit in enumerate(hits, 1):
        why = hit["explain"]
        assert why["position"] == position and why["order"] == "relevance" and why["model"] == "likelihood"
        assert why["score"] == pytest.approx(sum(word["score"] for word in why["words"]), abs=1e-3)
        assert hit["score"] == pytest.approx(why["score"], abs=1e-3)
        assert {part["field"] for word in why["words"] for part in word["fields"]} == {"title", "text"}
        keys.append((-len(why["tier"]["exact_terms"]), -why["score"]))
    assert keys == sorted(keys)


def test_explain_names_the_headline_and_the_counts(client):
    first, second = _explained(client, "滑雪场")
    title = {hit["id"]: next(p for p in hit["explain"]["words"][0]["fields"] if p["field"] == "title")
             for hit in (first, second)}
    assert title["headline"]["tf"] == 1 and title["mention"]["tf"] == 0
    about, once = _explained(client, "铁岭")
    counts = {hit["id"]: next(p for p in hit["explain"]["words"][0]["fields"] if p["field"] == "text")["tf"]
              for hit in (about, once)}
    assert counts == {"about": 4, "once": 1}


def test_explain_by_date_says_so(client):
    hits = _explained(client, "温泉", sort="date")
    assert [hit["explain"]["order"] for hit in hits] == ["date"] * 3


def test_explain_is_left_out_unless_asked_and_checked(client):
    response = client.get("/api/search", query_string={"q": "铁岭"})
    assert all("explain" not in hit for hit in response.get_json()["hits"])
    bad = client.get("/api/search", query_string={"q": "铁岭", "explain": "yes"})
    assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "explain"


def test_the_cli_explains(client, tmp_path_factory, cli):
    index_dir = client.application.config["INDEX_DIR"]
    done = cli("search", "铁岭", "--explain", index_dir=index_dir)
    assert done.returncode == 0, done.stderr
    assert "为何排在第 1 位：1/1 个检索词整串出现（铁岭）" in done.stdout
    assert "铁岭：标题 0 次/" in done.stdout and "正文 4 次/" in done.stdout
    as_json = cli("search", "铁岭", "--explain", "--json", index_dir=index_dir)
    assert json.loads(as_json.stdout)["hits"][0]["explain"]["tier"]["exact_terms"] == ["铁岭"]


# -- the arithmetic on whole posting lists --------------------------------------------------------

@pytest.fixture(scope="module")
def two_segments(generated_archive, tmp_path_factory):
    """The generated archive in two segments (two runs), so that postings come from segments at
    different offsets."""
    index_dir = tmp_path_factory.mktemp("two-segments") / "index"
    pages = sorted((generated_archive / "pages").glob("*.txt"))
    for part in (pages[:20], pages[20:]):
        report = build_index(part, index_dir, workers=1)
        assert report.articles_added and not report.problems
    index = SearchIndex(index_dir)
    yield index
    index.close()


@pytest.mark.parametrize("q", ["的", "铁岭", "发展", "阜新 建设", "经济 发展 项目", "铁岭 NOT 阜新"])
@pytest.mark.parametrize("direct_limit, skip_ratio", [(0, 10**9), (10**9, 8), (0, 1)])
@pytest.mark.parametrize("dense_share", [64, 0])  # frequencies placed through a whole-archive array, or not
def test_every_document_is_ranked_as_the_formula_says(two_segments, q, direct_limit, skip_ratio, dense_share,
                                                      monkeypatch):
    """``ranked`` over a whole result set, its posting lists read whole (limit 0) or skipped
    through document by document, against the module's formula written out here with Whoosh's
    own postings and lengths: the same documents, each with the formula's score, in tiers, by
    score within a tier, ties by document number."""
    monkeypatch.setattr(ranking, "DIRECT_SCORING_LIMIT", direct_limit)
    monkeypatch.setattr(ranking, "SKIP_RATIO", skip_ratio)
    monkeypatch.setattr(ranking, "DENSE_SHARE", dense_share)
    found = result_set(two_segments, query_from_args({"q": q}))
    terms = positive_terms(found.tree)
    searcher, reader = found.searcher, found.searcher.reader()
    assert len(reader.leaf_readers()) == 2 and len(found.docs) >= 5, q
    order, scores = ranking.ranked(searcher, found.docsets, terms, found.docs, len(found.docs))
    assert sorted(order) == list(found.docs)

    p = ranking.PARAMS
    weights, mus = (p.title_weight, 1 - p.title_weight), (p.title_mu, p.text_mu)
    fields = (schema.TITLE, schema.WORDS)
    words = sorted({w for term in terms for w in words_of(term.text)})
    tf = {}  # (word, field) -> document -> occurrences (the title's boost taken out)
    for word in words:
        for fieldname in fields:
            matcher = wq.Term(fieldname, word).matcher(searcher, searcher.context())
            tf[word, fieldname] = {}
            while matcher.is_active():
                tf[word, fieldname][matcher.id()] = matcher.weight() / (TITLE_BOOST if fieldname == schema.TITLE else 1)
                matcher.next()
    keys = []
    for docnum in order:
        lengths = [reader.doc_field_length(docnum, f, 0) for f in fields]
        expected, held = 0.0, False
        for word in words:
            archive = [ranking._archive_probability(searcher, found.docsets, f, word) for f in fields]
            counts = [tf[word, f].get(docnum, 0.0) for f in fields]
            held = held or any(counts)
            likelihood = sum(weights[i] * (counts[i] + mus[i] * archive[i]) / (lengths[i] + mus[i]) for i in (0, 1))
            expected += math.log(likelihood / (weights[0] * archive[0] + weights[1] * archive[1]))
        tier = -sum(docnum in found.docsets.exact(term.text) for term in terms)
        if held:
            assert scores[docnum] == pytest.approx(expected, rel=1e-9, abs=1e-12), (q, docnum)
        else:
            assert docnum not in scores
        keys.append((tier, 0 if held else 1, -expected if held else 0.0, docnum))
    for before, after in zip(keys, keys[1:]):  # sorted, up to rounding between near-equal scores
        assert before[:2] < after[:2] or (before[:2] == after[:2] and (
            before[2] < after[2] - 1e-9 or (abs(before[2] - after[2]) <= 1e-9 and
                                             (before[2] != after[2] or before[3] < after[3])))), (q, before, after)
