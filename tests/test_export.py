"""Exporting whole result sets (``/api/export``, ``newsearch export``, the page's links) and
cursor paging of ``/api/search``, on the real generated index, checked against the search itself
and against the OpenAPI document."""

import csv
import io
import json
import random
import re
from urllib.parse import parse_qs, urlparse

import jsonschema
import pytest

from conftest import make_page, seed_paragraphs
from indexer.build import build_index
from searchapp import settings
from searchapp.export import BOM, COLUMNS, csv_chunks, jsonl_chunks
from searchapp.web import create_app
from searchapp.web.openapi import openapi_document

QUERIES = [
    {"q": "发展"},
    {"q": "发展", "sort": "date"},
    {"q": "发展", "district": ["海州区", "细河区"]},
    {"city": "沈阳"},
    {"q": "建设 OR 项目", "year": "2010..2030", "sort": "date"},
    {"q": "阜新县 -彰武县"},
]


def check(data, name):
    document = openapi_document()
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def paged_ids(client, params, per_page=7):
    """The ids of a query's hits, reached page by page through /api/search, and its total."""
    ids, page = [], 1
    while True:
        data = client.get("/api/search", query_string={**params, "per_page": per_page, "page": page}).get_json()
        ids += [hit["id"] for hit in data["hits"]]
        if page * per_page >= data["total"]:
            return ids, data["total"]
        page += 1


def csv_rows(text):
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM):], newline="")))
    assert rows[0] == list(COLUMNS)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def jsonl_rows(text):
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.split("\n") if line]


def export(client, params, fmt):
    response = client.get("/api/export", query_string={**params, "format": fmt})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("params", QUERIES)
def test_the_csv_has_exactly_the_searchs_rows_in_its_order(client, params):
    ids, total = paged_ids(client, params)
    assert total > 3  # a query worth exporting
    response = export(client, params, "csv")
    assert response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["X-Total-Count"] == str(total)
    assert response.headers["X-Export-Limit"] == str(settings.EXPORT_MAX_ROWS)
    assert response.headers["X-Export-Truncated"] == "false"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark, for Excel and WPS
    rows = csv_rows(raw.decode("utf-8"))
    assert len(rows) == total
    assert [row["id"] for row in rows] == ids


def test_csv_cells_hold_what_the_search_shows(client):
    params = {"q": "发展", "district": "海州区"}
    hits = client.get("/api/search", query_string={**params, "per_page": 100}).get_json()["hits"]
    rows = csv_rows(export(client, params, "csv").get_data(as_text=True))
    assert len(rows) == len(hits)
    for hit, row in zip(hits, rows):
        assert row["title"] == hit["title"] and row["city"] == hit["city"] and row["source"] == hit["source"]
        assert row["districts"] == "、".join(hit["districts"]) and "海州区" in row["districts"].split("、")
        assert row["topics"] == "、".join(hit["topics"]) and row["reporters"] == "、".join(hit["reporters"])
        assert row["year"] == ("" if hit["year"] is None else str(hit["year"]))
        assert float(row["score"]) == hit["score"]
        # The article page's absolute URL: the permalink its citation gives.
        ris = client.get(f"/api/articles/{hit['id']}/cite?format=ris").get_data(as_text=True)
        assert f"UR  - {row['url']}\r\n" in ris and row["url"] == f"http://localhost/articles/{hit['id']}"


@pytest.mark.parametrize("params", QUERIES)
def test_json_lines_parse_and_reach_the_ids_paging_reaches(client, params):
    ids, total = paged_ids(client, params)
    response = export(client, params, "jsonl")
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["X-Total-Count"] == str(total)
    rows = jsonl_rows(response.get_data(as_text=True))
    assert [row["id"] for row in rows] == ids
    assert all(list(row) == list(COLUMNS) for row in rows)
    assert all(isinstance(row[name], list) for row in rows for name in ("districts", "topics", "reporters"))
    for row in rows[:3]:  # the url is the article's page
        assert client.get(row["url"]).status_code == 200


def test_hits_known_to_the_catalog_carry_paper_and_page(client):
    rows = jsonl_rows(export(client, {"q": "第0号测试版面"}, "jsonl").get_data(as_text=True))
    first = next(row for row in rows if row["id"] == "pages~page_000-01")
    assert first["paper"] == "辽宁日报" and first["page_label"] == "第3版" and first["date"] == "2019-05-04"


def test_a_small_limit_cuts_the_export_and_says_so(client):
    ids, total = paged_ids(client, {"q": "发展"})
    for fmt, read in (("csv", csv_rows), ("jsonl", jsonl_rows)):
        response = client.get("/api/export", query_string={"q": "发展", "format": fmt, "limit": 4})
        assert response.headers["X-Export-Truncated"] == "true"
        assert response.headers["X-Export-Limit"] == "4" and response.headers["X-Total-Count"] == str(total)
        assert [row["id"] for row in read(response.get_data(as_text=True))] == ids[:4]
    enough = client.get("/api/export", query_string={"q": "发展", "limit": total})
    assert enough.headers["X-Export-Truncated"] == "false" and len(csv_rows(enough.get_data(as_text=True))) == total


def test_the_apps_cap_applies_and_limit_cannot_pass_it(generated_index):
    client = create_app({"INDEX_DIR": str(generated_index), "TESTING": True, "EXPORT_MAX_ROWS": 5}).test_client()
    response = client.get("/api/export?q=发展")
    assert response.headers["X-Export-Limit"] == "5" and response.headers["X-Export-Truncated"] == "true"
    assert len(csv_rows(response.get_data(as_text=True))) == 5
    above = client.get("/api/export?q=发展&limit=6")
    assert above.status_code == 400 and above.get_json()["error"]["reason"] == "out_of_range"


@pytest.mark.parametrize("query, parameter, reason", [
    ("q=发展&format=xml", "format", "unknown_format"),
    ("q=发展&limit=0", "limit", "out_of_range"),
    ("q=发展&limit=abc", "limit", "not_a_number"),
    ("q=发展&page=2", "page", "unknown_parameter"),
    ("q=发展&per_page=5", "per_page", "unknown_parameter"),
    ("format=csv", "q", "missing_query"),
    ("q=(发展", "q", "unclosed_parenthesis"),
])
def test_bad_export_parameters_are_400_as_documented(client, query, parameter, reason):
    response = client.get("/api/export?" + query)
    assert response.status_code == 400 and response.is_json
    check(response.get_json(), "Error")
    assert response.get_json()["error"]["parameter"] == parameter
    assert response.get_json()["error"]["reason"] == reason
    assert "400" in openapi_document()["paths"]["/api/export"]["get"]["responses"]


def test_the_openapi_document_describes_the_export(client):
    operation = openapi_document()["paths"]["/api/export"]["get"]
    names = {param["name"] for param in operation["parameters"]}
    assert {"q", "city", "district", "year", "sort", "aliases", "format", "limit"} <= names
    assert not {"page", "per_page", "cursor"} & names
    ok = operation["responses"]["200"]
    for fmt in ("csv", "jsonl"):
        response = export(client, {"q": "发展"}, fmt)
        assert response.mimetype in ok["content"]
        for header in ("X-Total-Count", "X-Export-Limit", "X-Export-Truncated", "Content-Disposition"):
            assert header in ok["headers"] and header in response.headers
            jsonschema.validate(int(response.headers[header]) if header in ("X-Total-Count", "X-Export-Limit")
                                else response.headers[header], ok["headers"][header]["schema"])
    assert {"400", "405", "503"} <= set(operation["responses"])
    assert client.post("/api/export?q=发展").status_code == 405


def test_the_file_is_named_after_the_query(client):
    chinese = client.get("/api/export?q=发展 建设&format=jsonl").headers["Content-Disposition"]
    assert 'filename="newsearch-export.jsonl"' in chinese  # for clients that read only ASCII
    assert "filename*=UTF-8''newsearch-%E5%8F%91%E5%B1%95_%E5%BB%BA%E8%AE%BE.jsonl" in chinese
    assert client.get("/api/export?city=沈阳").headers["Content-Disposition"] == \
        'attachment; filename="newsearch-export.csv"'


def test_the_results_page_links_to_the_export_of_all_its_pages(client):
    page = client.get("/?q=发展&district=海州区&sort=date&page=2&per_page=3").get_data(as_text=True)
    links = dict((label, href.replace("&amp;", "&")) for href, label in
                 re.findall(r'<a class="export" href="([^"]+)"[^>]*>(导出 [^<]+)</a>', page))
    assert set(links) == {"导出 CSV", "导出 JSON Lines"}
    for label, fmt in (("导出 CSV", "csv"), ("导出 JSON Lines", "jsonl")):
        url = urlparse(links[label])
        assert url.path == "/api/export"
        assert parse_qs(url.query) == {"q": ["发展"], "district": ["海州区"], "sort": ["date"], "format": [fmt]}
    total = re.search(r'<span id="total">(\d+)</span>', page).group(1)
    response = client.get(links["导出 CSV"])
    assert response.status_code == 200 and response.headers["X-Total-Count"] == total
    assert len(csv_rows(response.get_data(as_text=True))) == int(total)
    assert "导出 CSV" not in client.get("/?q=量子计算机").get_data(as_text=True)  # nothing to export


def test_cli_export_to_a_file_and_to_stdout_give_the_api_rows(client, generated_index, cli, tmp_path):
    args = ("export", "发展", "--district", "海州区", "--district", "细河区", "--sort", "date")
    target = tmp_path / "out.csv"
    done = cli(*args, "-o", str(target), index_dir=generated_index)
    assert done.returncode == 0, done.stderr
    total = paged_ids(client, {"q": "发展", "district": ["海州区", "细河区"]})[1]
    assert done.stdout.strip() == f"exported {total} of {total} articles to {target}"
    written = target.read_bytes()
    printed = cli(*args, index_dir=generated_index)
    assert printed.returncode == 0 and printed.stderr == ""
    assert printed.stdout.encode("utf-8") == written
    api = export(client, {"q": "发展", "district": ["海州区", "细河区"], "sort": "date"}, "csv").get_data()
    # The same rows; the url the article page's path (the CLI knows no host), the API's absolute.
    assert written == api.replace(b",http://localhost/articles/", b",/articles/")
    assert len(csv_rows(written.decode("utf-8"))) == total and b"http" not in written
    lines = cli("export", "city:沈阳", "--format", "jsonl", index_dir=generated_index)
    api_rows = jsonl_rows(export(client, {"q": "city:沈阳"}, "jsonl").get_data(as_text=True))
    assert jsonl_rows(lines.stdout) == [{**row, "url": row["url"].removeprefix("http://localhost")} for row in api_rows]
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind


def test_cli_export_filters_only_and_limit(client, generated_index, cli):
    done = cli("export", "--city", "沈阳", "--format", "jsonl", "--limit", "2", index_dir=generated_index)
    assert done.returncode == 0
    rows = jsonl_rows(done.stdout)
    assert [row["id"] for row in rows] == paged_ids(client, {"city": "沈阳"})[0][:2]
    assert "only the first 2 were exported" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["export", "发展", "--format", "xml"], "format must be one of csv, jsonl"),
    (["export", "发展", "--limit", "0"], "limit must be between 1 and"),
    (["export"], "empty query"),
    (["export", "(发展"], "unbalanced parenthesis"),
])
def test_cli_export_bad_usage_exits_2_and_writes_nothing(generated_index, cli, tmp_path, args, message):
    target = tmp_path / "out.csv"
    done = cli(*args, "-o", str(target), index_dir=generated_index)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("newsearch: error:") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_cli_export_to_a_missing_folder_fails_with_one_line(generated_index, cli, tmp_path):
    done = cli("export", "发展", "-o", str(tmp_path / "no" / "out.csv"), index_dir=generated_index)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("newsearch: error:") and len(done.stderr.strip().splitlines()) == 1


def test_csv_defuses_formulas_and_json_lines_keep_one_article_a_line():
    row = {column: "" for column in COLUMNS}
    row.update(id="x-1", title="=HYPERLINK(\"http://example.com\")", districts=["-海州区", "细河区"],
               topics=[], reporters=["@李波"], year=None, score=0.0)
    parsed = csv_rows("".join(csv_chunks([row])))[0]
    assert parsed["title"] == "'=HYPERLINK(\"http://example.com\")" and parsed["id"] == "x-1"
    assert parsed["districts"] == "'-海州区、细河区" and parsed["reporters"] == "'@李波" and parsed["year"] == ""
    tricky = {**row, "title": "第一行\u2028第二行\u2029第三\x85段\n换行"}
    text = "".join(jsonl_chunks([tricky, row]))
    assert len(text.splitlines()) == 2  # str.splitlines breaks at U+2028, U+2029 and U+0085 too
    assert [json.loads(line) for line in text.splitlines()] == [tricky, row]


# -- cursor paging of /api/search ----------------------------------------------------------------

def walk(client, params, per_pages=(3,)):
    """Every hit reached by following next_cursor from the first page (per_page cycling through
    ``per_pages``), each response checked against the schema; and the total."""
    ids, cursor, step = [], None, 0
    while True:
        query = {**params, "per_page": per_pages[step % len(per_pages)]}
        if cursor:
            query["cursor"] = cursor
        response = client.get("/api/search", query_string=query)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        check(data, "SearchResult")
        ids += [hit["id"] for hit in data["hits"]]
        cursor, step = data["next_cursor"], step + 1
        if cursor is None:
            return ids, data["total"]
        assert data["hits"]  # a cursor is given only when there are more hits


@pytest.mark.parametrize("params", QUERIES)
def test_cursor_paging_visits_every_hit_exactly_once(client, params):
    ids, total = walk(client, params)
    assert len(ids) == total == len(set(ids))
    exported = [row["id"] for row in jsonl_rows(export(client, params, "jsonl").get_data(as_text=True))]
    assert ids == exported
    assert walk(client, params, per_pages=(2, 5, 1))[0] == ids  # per_page may change on the way


def test_cursor_paging_has_no_page_limit(client, monkeypatch):
    monkeypatch.setattr(settings, "MAX_PAGE", 2)
    assert client.get("/api/search?q=发展&per_page=3&page=3").status_code == 400
    ids, total = walk(client, {"q": "发展"})
    assert total > 3 * 2 and len(ids) == total == len(set(ids))


def test_next_cursor_is_always_in_the_result(client):
    empty = client.get("/api/search?q=量子计算机").get_json()
    assert "next_cursor" in empty and empty["next_cursor"] is None and empty["total"] == 0
    total = client.get("/api/search?q=发展").get_json()["total"]
    last = client.get("/api/search", query_string={"q": "发展", "per_page": total}).get_json()
    assert last["next_cursor"] is None and len(last["hits"]) == total
    first = client.get("/api/search", query_string={"q": "发展", "per_page": total - 1}).get_json()
    after = client.get("/api/search", query_string={"q": "发展", "cursor": first["next_cursor"]}).get_json()
    assert [hit["id"] for hit in after["hits"]] == [hit["id"] for hit in last["hits"]][-1:]


def bad_cursor(client, query, parameter="cursor"):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400 and response.is_json
    check(response.get_json(), "Error")
    error = response.get_json()["error"]
    assert error["code"] == "bad_parameter" and error["parameter"] == parameter
    return error["reason"]


def test_a_damaged_or_foreign_cursor_is_refused(client):
    cursor = client.get("/api/search?q=发展&per_page=3").get_json()["next_cursor"]
    assert client.get("/api/search", query_string={"q": "发展", "cursor": cursor}).status_code == 200
    for position in range(len(cursor)):  # any one character changed
        changed = "A" if cursor[position] != "A" else "B"
        tampered = cursor[:position] + changed + cursor[position + 1:]
        assert bad_cursor(client, {"q": "发展", "cursor": tampered}) == "bad_cursor", position
    for damaged in (cursor[:-1], cursor[:10], cursor + "A", "not a cursor", "!!!", "x" * 300):
        assert bad_cursor(client, {"q": "发展", "cursor": damaged}) == "bad_cursor"
    assert bad_cursor(client, {"q": "发展", "city": "沈阳", "cursor": cursor}) == "cursor_other_query"
    assert bad_cursor(client, {"q": "发展", "sort": "date", "cursor": cursor}) == "cursor_other_query"
    assert bad_cursor(client, {"q": "发展", "page": 2, "cursor": cursor}) == "cursor_with_page"


def test_cursor_errors_are_documented():
    document = openapi_document()
    reasons = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["reason"]["enum"]
    assert {"bad_cursor", "cursor_other_query", "stale_cursor", "cursor_with_page"} <= set(reasons)
    cursor = next(p for p in document["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "cursor")
    assert all(reason in cursor["description"] for reason in ("bad_cursor", "stale_cursor", "cursor_other_query"))


def test_a_cursor_from_before_the_index_changed_is_stale(tmp_path):
    rng, paragraphs = random.Random(11), seed_paragraphs()
    archive, index_dir = tmp_path / "archive", tmp_path / "index"
    archive.mkdir()
    for number in range(3):
        (archive / f"page_{number}.txt").write_text(make_page(rng, paragraphs, number), "utf-8")
    build_index([archive], index_dir, workers=1)
    before = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    first = before.get("/api/search?q=发展&per_page=2").get_json()
    assert first["total"] > 2 and first["next_cursor"]
    again = before.get("/api/search", query_string={"q": "发展", "per_page": 2, "cursor": first["next_cursor"]})
    assert again.status_code == 200

    (archive / "page_3.txt").write_text(make_page(rng, paragraphs, 3), "utf-8")
    build_index([archive], index_dir, workers=1)
    after = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert after.get("/api/search?q=发展&per_page=2").get_json()["total"] > first["total"]
    assert bad_cursor(after, {"q": "发展", "per_page": 2, "cursor": first["next_cursor"]}) == "stale_cursor"


def test_cli_export_draws_progress_on_a_terminal_only(generated_index, tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    target = tmp_path / "out.jsonl"
    master, slave = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "searchapp.cli", "export", "发展", "--format", "jsonl",
                                "-o", str(target), "--index-dir", str(generated_index)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    stdout = process.communicate(timeout=120)[0]
    os.close(master)
    assert process.returncode == 0
    assert b"exporting [" in drawn and b"100.0%" in drawn  # the bar, on the terminal (stderr)
    assert stdout.decode("utf-8").startswith("exported ") and b"exporting" not in stdout
    assert len(jsonl_rows(target.read_text("utf-8"))) > 3


def test_without_a_query_the_message_names_every_filter_the_dates_too(client):
    error = client.get("/api/export?format=csv").get_json()["error"]
    assert error["reason"] == "missing_query"
    for name in ("city", "year_from", "date_from", "date_to"):
        assert name in error["message"]
    by_date = client.get("/api/export?date_from=2019&format=csv")  # a date alone is a filter enough
    assert by_date.status_code == 200 and int(by_date.headers["X-Total-Count"]) > 0


@pytest.mark.parametrize("name", ["CSV", "Csv", "JSONL"])
def test_the_format_is_read_in_any_case(client, name):
    response = client.get(f"/api/export?q=发展&format={name}")
    assert response.status_code == 200
    assert response.get_data() == client.get(f"/api/export?q=发展&format={name.lower()}").get_data()
