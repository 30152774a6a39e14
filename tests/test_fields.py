"""The table of fields (``indexer.fields``) is the one place field knowledge lives: the schema,
the facets, the query language, the API, the OpenAPI document, the CLI and the page all follow
it. The ``paper`` facet (报纸) is the proof: it was added as one row of the table, plus its data
(the catalog's ``paper`` column, a record's ``paper`` key)."""

from __future__ import annotations

import json

import pytest

from indexer import fields
from indexer.build import build_index
from indexer.schema import build_schema
from searchapp.cli import build_parser, main
from searchapp.core import search
from searchapp.query import QueryError, parse
from searchapp.request import query_from_args
from searchapp.store import SearchIndex
from searchapp.web import create_app
from searchapp.web.openapi import openapi_document

from conftest import CORPUS

@pytest.fixture(scope="module")
def paper_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("papers")
    archive = root / "archive"
    archive.mkdir()
    (archive / "page.txt").write_text((CORPUS / "002_45d33814e4b80692.txt").read_text("utf-8"), "utf-8")
    (archive / "catalog.csv").write_text("file,paper\npage.txt,辽宁日报\n", "utf-8")
    records = [{"id": "r1", "text": "阜新市海州区的新闻，报纸测试一", "paper": "辽宁日报"},
               {"id": "r2", "text": "阜新市细河区的新闻，报纸测试二", "paper": "阜新日报"},
               {"id": "r3", "text": "铁岭市的新闻，报纸测试三", "source": "阜新日报"},
               {"id": "r4", "text": "没有报纸的新闻，报纸测试四"}]
    (archive / "records.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    index_dir = root / "index"
    report = build_index([archive], index_dir, workers=1)
    assert not report.problems, report.problems
    return index_dir


def test_every_field_of_the_table_is_in_the_schema_and_nothing_else():
    beside = {fields.GRAMS, fields.COLUMN}  # in each segment's gram file (indexer.gramindex)
    assert set(build_schema().names()) == {field.name for field in fields.FIELDS if field.kind not in beside}
    assert {f.name for f in fields.FIELDS if f.kind in beside} == {"grams", "title_grams", "norm_text", "norm_title"}
    assert [f.name for f in fields.FACETS] == ["city", "district", "year", "topic", "paper"]


def test_the_paper_facet_counts_and_filters(paper_index):
    index = SearchIndex(paper_index)
    result = search(index, query_from_args({"q": "报纸测试"}))
    assert {b.value: b.count for b in result.facets["paper"]} == {"辽宁日报": 1, "阜新日报": 2}
    narrowed = search(index, query_from_args({"q": "报纸测试", "paper": "阜新日报"}))
    assert {h.id for h in narrowed.hits} == {"r2", "r3"}
    assert {h.id for h in search(index, query_from_args({"q": "paper:阜新日报 报纸测试"})).hits} == {"r2", "r3"}
    liaoning = {h.id for h in search(index, query_from_args({"paper": "辽宁日报", "per_page": "100"})).hits}
    assert "r1" in liaoning and {i for i in liaoning if i != "r1"} and all(
        i.startswith("page-") for i in liaoning - {"r1"})  # the catalog's paper for the page's articles
    index.close()


def test_the_paper_facet_in_the_api_openapi_page_and_cli(paper_index, capsys):
    client = create_app({"INDEX_DIR": str(paper_index), "TESTING": True}).test_client()
    data = client.get("/api/search?q=报纸测试&paper=阜新日报").get_json()
    assert data["total"] == 2 and data["filters"] == {"paper": ["阜新日报"]}
    assert {b["value"] for b in data["facets"]["paper"]} == {"辽宁日报", "阜新日报"}
    document = openapi_document()
    assert "paper" in {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert "paper" in document["components"]["schemas"]["Facets"]["required"]
    page = client.get("/?q=报纸测试").get_data(as_text=True)
    assert "<h3>报纸</h3>" in page and 'data-value="阜新日报"' in page
    assert main(["search", "报纸测试", "--paper", "阜新日报", "--json", "--index-dir", str(paper_index)]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 2
    assert "--paper" in build_parser()._subparsers._group_actions[0].choices["search"].format_help()


def test_query_fields_come_from_the_table():
    for field in fields.QUERY_FIELDS:
        parse(f"{field.name}:2021" if field.facet == fields.RANGE_FACET or field.parse else f"{field.name}:阜新")
    with pytest.raises(QueryError, match="known fields: " + ", ".join(f.name for f in fields.QUERY_FIELDS)):
        parse("nosuchfield:x")
