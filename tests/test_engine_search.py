"""The SphinxQL backend (issue 13) against the embedded index, on real ``searchd`` shards.

The generated archive (pages in both scripts and several encodings, JSON Lines records) is
indexed into a two-shard engine (a distributed table over two searchd processes) by the real
indexer, and the core's behaviours are checked on both backends alike: the query language,
the recall guarantee on sampled substrings (against a direct scan), facet counts (against a
direct count), cross-script queries, highlighting; then the front ends on the engine, and a
shard that is down.
"""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from indexer.normalize import normalize
from searchapp import core
from searchapp.engine_search import EngineIndex
from searchapp.highlight import HtmlFormatter
from searchapp.request import query_from_args
from searchapp.web import create_app
from searchapp.web.openapi import openapi_document

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def engine_url(two_shards, generated_archive):
    from indexer.engine_build import build_engine_index

    report = build_engine_index([generated_archive], two_shards.url, rebuild=True)
    assert not report.problems, report.problems
    return two_shards.url


@pytest.fixture(scope="module")
def engine(engine_url):
    return EngineIndex(engine_url)


@pytest.fixture(scope="module", params=["embedded", "engine"])
def backend(request, generated_search, engine):
    return generated_search if request.param == "embedded" else engine


def _all(index, **params):
    """Every hit id of a query (paged), and the first page's result."""
    ids, page, first = [], 1, None
    while True:
        result = core.search(index, query_from_args({**params, "per_page": "100", "page": str(page)}))
        first = first or result
        ids.extend(hit.id for hit in result.hits)
        if page * 100 >= result.total:
            assert len(ids) == result.total == len(set(ids))
            return set(ids), first
        page += 1


QUERIES = [
    {"q": "发展"}, {"q": "發展"}, {"q": '"细河区"'}, {"q": "阜新 招商"}, {"q": "发展 OR 细河"},
    {"q": "-发展"}, {"q": "NOT 细河 阜新"}, {"q": "(阜新 OR 铁岭) 项目"}, {"q": "city:沈阳"},
    {"q": "district:海州区"}, {"q": "year:2019"}, {"q": "year:2012..2016 发展"}, {"q": "title:记录"},
    {"q": "发展", "district": ["海州区", "细河区"]}, {"q": "发展", "year": "2010..2015"},
    {"q": "发展", "year_from": "2015"}, {"q": "date:2015 发展"}, {"q": "发展", "date_from": "2012", "date_to": "2016-05"},
    {"q": "测试页面包含"}, {"q": "阜蒙县"}, {"q": "阜蒙县", "aliases": "0"}, {"city": "铁岭", "sort": "date"},
    {"q": '"。"'}, {"q": "2019"}, {"q": "SAOMIAO"}, {"q": "saomiao"},
]


@pytest.mark.parametrize("params", QUERIES, ids=[json.dumps(p, ensure_ascii=False) for p in QUERIES])
def test_the_same_results_and_facets_on_both_backends(generated_search, engine, params):
    embedded_ids, embedded = _all(generated_search, **params)
    engine_ids, found = _all(engine, **params)
    assert engine_ids == embedded_ids
    assert found.facets == embedded.facets
    assert found.timeline == embedded.timeline
    assert found.aliases == embedded.aliases


def _grams_texts(generated_search) -> dict[str, str]:
    """What the exact layer holds of each article: its normalised title and text."""
    texts = {}
    for stored in generated_search.searcher().all_stored_fields():
        text, title = normalize(stored["text"]), normalize(stored.get("title") or "")
        texts[stored["id"]] = text if title in text else f"{title}\n{text}"
    return texts


def test_every_sampled_string_finds_exactly_its_articles(generated_search, engine):
    texts = _grams_texts(generated_search)
    rng = random.Random(13)
    pool = sorted(texts.values())
    checked = 0
    for _ in range(150):
        text = rng.choice(pool)
        length = rng.choice([1, 2, 3, 4, 5, 8])
        start = rng.randrange(0, max(1, len(text) - length))
        sample = text[start:start + length]
        if not sample.strip() or '"' in sample or "\n" in sample or sample != sample.strip():
            continue
        expected = {aid for aid, body in texts.items() if sample in body}
        found, _ = _all(engine, q=f'"{sample}"')
        assert found == expected, sample
        checked += 1
    assert checked > 100


def test_simplified_and_traditional_are_one_on_the_engine(engine):
    simplified, _ = _all(engine, q='"发展"')
    traditional, _ = _all(engine, q='"發展"')
    assert simplified == traditional and len(simplified) > 10


def test_facet_counts_match_a_direct_count(generated_search, engine):
    _, found = _all(engine, q="发展")
    ids, _ = _all(generated_search, q="发展")
    counts: dict[str, int] = {}
    for stored in generated_search.searcher().all_stored_fields():
        if stored["id"] in ids:
            for district in (stored.get("district") or "").split(","):
                if district:
                    counts[district] = counts.get(district, 0) + 1
    assert {b.value: b.count for b in found.facets["district"]} == counts


def test_snippets_and_articles_are_the_same(generated_search, engine):
    query = query_from_args({"q": "发展 细河", "per_page": "100"})
    embedded = {hit.id: hit for hit in core.search(generated_search, query, HtmlFormatter()).hits}
    found = core.search(engine, query, HtmlFormatter()).hits
    assert found
    for hit in found:
        assert hit.snippets == embedded[hit.id].snippets and "<mark>" in "".join(hit.snippets)
        assert (hit.title, hit.when, hit.districts) == (embedded[hit.id].title, embedded[hit.id].when,
                                                        embedded[hit.id].districts)
    one = found[0].id
    assert core.get_article(engine, one, "发展") == core.get_article(generated_search, one, "发展")
    assert core.get_article(engine, "no-such-id") is None
    page = core.get_article(generated_search, one).page_id
    if page:
        assert [a["id"] for a in core.page_articles(engine, page)] == \
            [a["id"] for a in core.page_articles(generated_search, page)]


def test_stats_count_the_same(generated_search, engine):
    mine, theirs = core.stats(engine, with_sources=True), core.stats(generated_search, with_sources=True)
    for key in ("articles", "pages", "source_files", "facets", "sources"):
        assert mine[key] == theirs[key], key


# -- the front ends on the engine ------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_client(engine_url, tmp_path_factory):
    app = create_app({"INDEX_DIR": str(tmp_path_factory.mktemp("unused")), "BACKEND": engine_url, "TESTING": True})
    return app.test_client()


def test_the_api_and_the_page_on_the_engine(engine_client, client):
    document = openapi_document()
    data = engine_client.get("/api/search?q=发展&district=海州区&per_page=5").get_json()
    jsonschema.validate(data, {"$ref": "#/components/schemas/SearchResult", "components": document["components"]})
    assert data["total"] == client.get("/api/search?q=发展&district=海州区").get_json()["total"]
    page = engine_client.get("/?q=发展").get_data(as_text=True)
    assert '<span id="total">' in page and "<mark>" in page
    article = engine_client.get(f"/articles/{data['hits'][0]['id']}?q=发展")
    assert article.status_code == 200 and "<mark" in article.get_data(as_text=True)
    bad = engine_client.get("/api/search?q=(发展")
    assert bad.status_code == 400
    tool = engine_client.get("/api/kwic?q=发展")
    assert tool.status_code == 501 and tool.get_json()["error"]["code"] == "not_implemented"
    why = engine_client.get("/api/search?q=发展&explain=1")  # the engine ranks by its own order
    assert why.status_code == 501 and "explain" in why.get_json()["error"]["message"]


def test_the_cli_on_the_engine(cli, engine_url):
    done = cli("search", "发展", "--backend", engine_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] > 10
    shown = cli("show", json.loads(done.stdout)["hits"][0]["id"], "--backend", engine_url)
    assert shown.returncode == 0 and shown.stdout.strip()
    stats = cli("stats", "--backend", engine_url)
    assert stats.returncode == 0 and "articles" in stats.stdout
    bad = cli("search", "发展", "--backend", "mysql://x")
    assert bad.returncode == 1 and "sphinxql://" in bad.stderr and "Traceback" not in bad.stderr


def test_the_two_shards_each_hold_part_and_merge(engine, two_shards, engine_url):
    from indexer import engine as engine_module

    counts = []
    for node in two_shards.shards:
        connection = engine_module.connect(node)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {node.table} WHERE MATCH('@tags tall') LIMIT 0")
            cursor.execute("SHOW META")
            counts.append(int(dict(cursor.fetchall())["total_found"]))
        connection.close()
    assert all(counts) and sum(counts) == core.stats(engine)["articles"]


def test_a_shard_down_is_a_clear_error_not_a_500(two_shards, engine_url, engine_client, cli):
    two_shards.stop_node(1)
    try:
        response = engine_client.get("/api/search?q=发展")
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "index_unavailable"
        page = engine_client.get("/?q=发展")
        assert page.status_code == 503 and "分片" in page.get_data(as_text=True)
        done = cli("search", "发展", "--backend", engine_url)
        assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    finally:
        two_shards.start_node(1)
    assert engine_client.get("/api/search?q=发展").status_code == 200


def test_newsearch_serve_on_the_engine(engine_url):
    """The real server (gunicorn) on the two-shard engine, as `newsearch serve --backend URL`."""
    import urllib.request

    from conftest import served

    with served("--backend", engine_url) as running:
        with urllib.request.urlopen(f"{running.url}/api/search?q=%E5%8F%91%E5%B1%95") as response:
            data = json.loads(response.read())
        assert data["total"] > 10 and data["hits"][0]["snippets"]
        with urllib.request.urlopen(f"{running.url}/?q=%E5%8F%91%E5%B1%95") as response:
            assert response.status == 200 and "<mark>" in response.read().decode("utf-8")
    assert "Traceback" not in running.stderr
