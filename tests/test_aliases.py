"""A place searched by one of its names finds its other names (from the gazetteer), says so, and
can be told not to; quoted strings stay exact (issue 12)."""

from __future__ import annotations

import json

import pytest

from indexer.build import build_index
from searchapp.core import get_article, search
from searchapp.request import query_from_args
from searchapp.store import SearchIndex
from searchapp.web import create_app

RECORDS = [
    {"id": "full", "title": "阜新蒙古族自治县治沙", "text": "阜新蒙古族自治县今年治沙造林两万亩。"},
    {"id": "short", "title": "阜蒙县治沙", "text": "阜蒙县今年治沙造林的面积又有增加。"},
    {"id": "qy-short", "title": "清原县新闻", "text": "清原县的山林保护工作。"},
    {"id": "qy-full", "title": "清原满族自治县新闻", "text": "清原满族自治县的旅游。"},
    {"id": "other", "title": "铁岭新闻", "text": "铁岭市的一条新闻。"},
]


@pytest.fixture(scope="module")
def alias_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("aliases")
    (root / "archive").mkdir()
    (root / "archive" / "places.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    build_index([root / "archive"], root / "index", workers=1)
    index = SearchIndex(root / "index")
    yield root / "index", index
    index.close()


def _ids(index, **params) -> set[str]:
    return {hit.id for hit in search(index, query_from_args(params)).hits}


def test_a_short_name_finds_the_full_name_and_the_reverse(alias_index):
    _, index = alias_index
    assert _ids(index, q="阜蒙县") == {"full", "short"}
    assert _ids(index, q="阜新蒙古族自治县") == {"full", "short"}
    assert _ids(index, q="清原满族自治县") == {"qy-short", "qy-full"}
    result = search(index, query_from_args({"q": "阜蒙县 治沙"}))
    assert result.aliases == {"阜蒙县": ("阜新蒙古族自治县", "阜新县", "阜新蒙古自治县")}


def test_quoted_names_stay_exact_and_aliases_can_be_turned_off(alias_index):
    _, index = alias_index
    assert _ids(index, q='"阜蒙县"') == {"short"}
    assert _ids(index, q="阜蒙县", aliases="0") == {"short"}
    assert not search(index, query_from_args({"q": "阜蒙县", "aliases": "0"})).aliases


def test_the_other_names_are_marked_in_snippets_and_on_the_article(alias_index):
    _, index = alias_index
    hit = next(h for h in search(index, query_from_args({"q": "阜蒙县"})).hits if h.id == "full")
    assert "<mark>阜新蒙古族自治县</mark>" in hit.snippets[0]
    assert "<mark>阜新蒙古族自治县</mark>" in get_article(index, "full", "阜蒙县").paragraphs[0]


def test_the_page_the_api_and_the_cli_say_what_was_also_searched(alias_index, cli):
    index_dir, _ = alias_index
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    page = client.get("/?q=阜蒙县").get_data(as_text=True)
    assert "同时搜索了 阜新蒙古族自治县、阜新县、阜新蒙古自治县" in page and "aliases=0" in page
    off = client.get("/?q=阜蒙县&aliases=0").get_data(as_text=True)
    assert '<span id="total">1</span>' in off and "同时搜索了" not in off
    data = client.get("/api/search?q=阜蒙县").get_json()
    assert data["aliases"] == {"阜蒙县": ["阜新蒙古族自治县", "阜新县", "阜新蒙古自治县"]} and data["total"] == 2
    assert client.get("/api/search?q=阜蒙县&aliases=2").status_code == 400
    done = cli("search", "阜蒙县", index_dir=index_dir)
    assert "同时搜索了 阜新蒙古族自治县" in done.stdout and "找到 2 篇文章" in done.stdout
    done = cli("search", "阜蒙县", "--no-aliases", index_dir=index_dir)
    assert "同时搜索了" not in done.stdout and "找到 1 篇文章" in done.stdout


def test_with_aliases_off_the_article_page_marks_only_the_name_typed(alias_index):
    index_dir, index = alias_index
    assert "<mark>" not in get_article(index, "full", "阜蒙县", aliases=False).paragraphs[0]
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    page = client.get("/?q=阜新蒙古族自治县&aliases=0").get_data(as_text=True)
    assert "aliases=0" in page[page.index('<li class="hit">'):]  # the hit's link keeps it
    article = client.get("/articles/full?q=阜蒙县&aliases=0").get_data(as_text=True)
    assert "<mark" not in article
