"""The concordance (KWIC): the core against a direct count of occurrences in the articles' texts,
the JSON API against its OpenAPI schemas, the CSV, the page and the CLI, all on the real
generated index (which has traditional-script pages, records and a page holding <script> text)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

import jsonschema
import pytest

from indexer.normalize import fold, normalize
from searchapp import core
from searchapp.kwic import concordance, request_from_args
from searchapp.request import Query
from searchapp.web.openapi import openapi_document

# Queries whose strings are listed by hand (aliases off, so no place name is added).
QUERIES = [
    ("发展", ["发展"]),
    ("细河 OR 开原", ["细河", "开原"]),
    ('"本报讯"', ["本报讯"]),
    ("阜新 OR 发展 OR 阜新市", ["阜新", "发展", "阜新市"]),
    ("兩岸", ["两岸"]),
]


def check(data, name):
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{name}",
                               "components": openapi_document()["components"]})


def all_ids(index) -> list[str]:
    """Every article of the index, from the search core with no query (all of them, by date)."""
    ids, page = [], 1
    while True:
        found = core.search(index, Query(sort="date", result_page=page, per_page=100))
        ids.extend(hit.id for hit in found.hits)
        if page >= found.result_pages:
            return ids
        page += 1


def matching_ids(index, text: str) -> list[str]:
    ids, page = [], 1
    while True:
        found = core.search(index, Query(text=text, aliases=False, result_page=page, per_page=100))
        ids.extend(hit.id for hit in found.hits)
        if page >= found.result_pages:
            return ids
        page += 1


def text_of(index, article_id: str) -> str:
    return core.get_article(index, article_id).text


def direct_count(index, ids, strings) -> int:
    """Occurrences of ``strings`` in the normalised texts of the articles ``ids``, as str.count counts."""
    total = 0
    for article_id in ids:
        norm = normalize(text_of(index, article_id))
        total += sum(norm.count(string) for string in strings)
    return total


def kwic(index, **params):
    return concordance(index, request_from_args({"aliases": "0", **params}))


def shown(text: str) -> str:
    """The text as a line shows it: a run of whitespace holding a line break as ¶."""
    return re.sub(r"\s*\n\s*", "¶", text).replace("\t", " ")


# -- the core against a direct count ----------------------------------------------------------


@pytest.mark.parametrize("query, strings", QUERIES)
def test_line_count_equals_a_direct_count_over_every_article(generated_search, query, strings):
    # These queries are ORs of single strings: every article holding one of them matches (the
    # search's recall guarantee), so the count over the whole archive is the count to reach.
    result = kwic(generated_search, q=query)
    assert result.strings == strings
    expected = direct_count(generated_search, all_ids(generated_search), strings)
    assert expected > 0
    assert result.total_lines == expected and not result.truncated
    holding = {line.id for line in result.lines}
    assert result.articles == len(holding)
    for string in strings:
        assert sum(line.term == string for line in result.lines) == \
            direct_count(generated_search, holding, [string])


def test_occurrences_of_a_string_do_not_overlap(generated_search):
    # "000" holds "00" twice overlapping, counted once (as str.count counts).
    result = kwic(generated_search, q="00")
    texts = [normalize(text_of(generated_search, i)) for i in all_ids(generated_search)]
    overlapping = sum(len(re.findall("(?=00)", norm)) for norm in texts)
    assert result.total_lines == sum(norm.count("00") for norm in texts) < overlapping
    for a, b in zip(result.lines, result.lines[1:]):
        if a.id == b.id:
            assert b.offset >= a.offset + 2


def test_an_and_query_counts_in_the_articles_the_search_matches(generated_search):
    ids = matching_ids(generated_search, "阜新 招商")
    result = kwic(generated_search, q="阜新 招商")
    assert result.search_total == len(ids) > 0
    assert result.total_lines == direct_count(generated_search, ids, ["阜新", "招商"])
    assert {line.id for line in result.lines} <= set(ids)


def test_a_phrase_of_several_words_counts_only_where_it_stands_whole(generated_search):
    ids = matching_ids(generated_search, "经济发展")
    result = kwic(generated_search, q="经济发展")
    whole = direct_count(generated_search, ids, ["经济发展"])
    assert result.total_lines == whole > 0
    assert result.search_total == len(ids) > result.articles  # some hold its words apart only


def test_a_simplified_query_shows_the_traditional_characters_it_found(generated_search):
    result = kwic(generated_search, q="发展")
    traditional = [line for line in result.lines if line.match == "發展"]
    assert traditional and {line.match for line in result.lines} == {"发展", "發展"}
    for line in traditional:
        assert text_of(generated_search, line.id)[line.offset:line.offset + 2] == "發展"


@pytest.mark.parametrize("width", [1, 5, 20, 37])
def test_each_line_is_a_slice_of_the_text_at_its_offset(generated_search, width):
    result = kwic(generated_search, q="阜新 OR 發展 OR 本报讯", width=str(width))
    assert result.width == width and result.total_lines > 50
    for line in result.lines:
        text = text_of(generated_search, line.id)
        whole, before = shown(text), shown(text[:line.offset])
        at = len(before)
        assert whole[at - len(line.left):at] == line.left
        assert whole[at:at + len(line.match)] == line.match
        assert whole[at + len(line.match):].startswith(line.right)
        assert len(line.left) == min(width, at)
        assert len(line.right) == min(width, len(whole) - at - len(line.match))
        assert normalize(line.match.replace("¶", "\n")) == line.term
        assert not text[line.offset].isspace()


def test_lines_by_date_are_newest_first_then_in_text_order(generated_search):
    lines = kwic(generated_search, q="发展").lines
    keys = [((line.year or 0), line.date) for line in lines]
    assert keys == sorted(keys, reverse=True)
    for a, b in zip(lines, lines[1:]):
        if a.id == b.id:
            assert a.offset < b.offset


@pytest.mark.parametrize("sort", ["left", "right"])
def test_sorting_by_left_or_right_context(generated_search, sort):
    by_date = kwic(generated_search, q="发展 OR 细河").lines
    lines = kwic(generated_search, q="发展 OR 细河", sort=sort).lines
    assert sorted(lines, key=lambda l: (l.id, l.offset)) == sorted(by_date, key=lambda l: (l.id, l.offset))
    if sort == "left":
        keys = [fold(line.left)[::-1] for line in lines]  # read from the match outwards
    else:
        keys = [fold(line.right) for line in lines]
    assert keys == sorted(keys) and lines != by_date
    ties = [(a, b) for a, b in zip(lines, lines[1:]) if fold(getattr(a, sort)) == fold(getattr(b, sort))]
    for a, b in ties:  # ties keep the date order
        assert by_date.index(a) < by_date.index(b)


def test_aliases_add_the_places_other_names(generated_search):
    alone = kwic(generated_search, q="阜蒙县")
    widened = concordance(generated_search, request_from_args({"q": "阜蒙县"}))
    assert alone.strings == ["阜蒙县"] and "阜新县" in widened.strings
    assert widened.aliases["阜蒙县"]
    assert widened.total_lines == direct_count(generated_search, all_ids(generated_search), widened.strings) > 0


def test_the_caps_truncate_and_keep_the_newest(generated_search):
    request = request_from_args({"q": "发展", "aliases": "0"})
    everything = concordance(generated_search, request)
    capped = concordance(generated_search, request, max_lines=7)
    assert capped.truncated and capped.total_lines == 7 and capped.lines == everything.lines[:7]
    few = concordance(generated_search, request, max_articles=2)
    assert few.truncated and few.articles == 2
    assert few.lines == everything.lines[:len(few.lines)]
    exact = concordance(generated_search, request, max_lines=everything.total_lines)
    assert not exact.truncated and exact.lines == everything.lines


# -- the JSON API and the CSV -------------------------------------------------------------------


def test_api_matches_the_schema_and_the_core(client, generated_search):
    response = client.get("/api/kwic?q=细河&aliases=0&width=8&per_page=5&page=2&sort=right")
    assert response.status_code == 200
    data = response.get_json()
    check(data, "KwicResult")
    result = kwic(generated_search, q="细河", width="8", sort="right")
    assert data["total_lines"] == result.total_lines and data["pages"] == -(-result.total_lines // 5)
    assert [(l["id"], l["offset"], l["left"]) for l in data["lines"]] == \
        [(l.id, l.offset, l.left) for l in result.lines[5:10]]
    first = data["lines"][0]
    assert first["url"].endswith(
        f"/articles/{first['id']}?q=%E7%BB%86%E6%B2%B3&at={first['offset']}&aliases=0#match-at")
    article = client.get(first["url"].split("#")[0])
    assert article.status_code == 200 and 'id="match-at"' in article.get_data(as_text=True)


def test_a_line_links_to_its_own_occurrence_in_the_article(client):
    """Each line's link scrolls to the mark of that occurrence, not to the first one."""
    data = client.get("/api/kwic?q=发展&aliases=0&per_page=500").get_json()
    by_article: dict[str, list[dict]] = {}
    for line in data["lines"]:
        by_article.setdefault(line["id"], []).append(line)
    article_id, lines = max(by_article.items(), key=lambda item: len(item[1]))
    assert len(lines) >= 3
    for place, line in enumerate(sorted(lines, key=lambda l: l["offset"])):
        page = client.get(line["url"].split("#")[0]).get_data(as_text=True)
        body = page[page.index('<div class="body">'):]
        before, after = body.split('<span id="match-at"></span>')
        assert before.count("<mark") == place  # the marks before it: the occurrences before it
        assert re.match(r'<mark( id="first-match")? class="at">' + re.escape(line["match"]) + "</mark>", after)


def test_paging_visits_every_line_once(client):
    whole = client.get("/api/kwic?q=发展&per_page=500").get_json()
    assert whole["pages"] == 1 and len(whole["lines"]) == whole["total_lines"] > 20
    seen = []
    for page in range(1, -(-whole["total_lines"] // 7) + 1):
        data = client.get(f"/api/kwic?q=发展&per_page=7&page={page}").get_json()
        check(data, "KwicResult")
        seen.extend(data["lines"])
    assert seen == whole["lines"]
    after = client.get(f"/api/kwic?q=发展&per_page=7&page={page + 1}").get_json()
    assert after["lines"] == [] and after["total_lines"] == whole["total_lines"]


def test_csv_has_a_header_and_one_row_per_line(client):
    data = client.get("/api/kwic?q=发展 OR 细河&per_page=500&sort=left").get_json()
    response = client.get("/api/kwic?q=发展 OR 细河&sort=left&format=csv&page=2&per_page=3")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["id", "title", "date", "year", "offset", "term", "left", "match", "right", "url"]
    assert len(rows) - 1 == data["total_lines"] == int(response.headers["X-Total-Lines"])
    assert response.headers["X-Truncated"] == "false"
    for row, line in zip(rows[1:], data["lines"]):  # every line, not one page, in the same order
        assert row[:3] == [line["id"], line["title"], line["date"]] and int(row[4]) == line["offset"]
        assert row[6:10] == [line["left"], line["match"], line["right"], line["url"]]


@pytest.mark.parametrize("url, parameter, reason", [
    ("/api/kwic", "q", "empty_query"),
    ("/api/kwic?q=-发展", "q", "nothing_to_find"),
    ("/api/kwic?q=title:发展", "q", "nothing_to_find"),
    ("/api/kwic?q=发展&width=0", "width", "out_of_range"),
    ("/api/kwic?q=发展&width=101", "width", "out_of_range"),
    ("/api/kwic?q=发展&width=wide", "width", "not_a_number"),
    ("/api/kwic?q=发展&sort=relevance", "sort", "not_one_of"),
    ("/api/kwic?q=发展&per_page=501", "per_page", "out_of_range"),
    ("/api/kwic?q=发展&format=xml", "format", "not_one_of"),
    ("/api/kwic?q=发展&colour=red", "colour", "unknown_parameter"),
    ("/api/kwic?q=(发展", "q", "unclosed_parenthesis"),
])
def test_bad_parameters_are_400_json(client, url, parameter, reason):
    response = client.get(url)
    assert response.status_code == 400 and response.is_json
    check(response.get_json(), "Error")
    error = response.get_json()["error"]
    assert error["parameter"] == parameter and error["reason"] == reason


def test_every_status_is_documented():
    responses = openapi_document()["paths"]["/api/kwic"]["get"]["responses"]
    assert {"200", "400", "405", "503"} <= set(responses)
    assert set(responses["200"]["content"]) == {"application/json", "text/csv"}
    names = {p["name"] for p in openapi_document()["paths"]["/api/kwic"]["get"]["parameters"]}
    assert {"q", "width", "sort", "page", "per_page", "format", "aliases", "year", "city"} <= names


def test_wrong_method_is_json_405(client):
    response = client.post("/api/kwic?q=发展")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    check(response.get_json(), "Error")


# -- the page -----------------------------------------------------------------------------------


def test_page_lists_the_lines_aligned_with_links(client, generated_search):
    response = client.get("/kwic?q=细河&aliases=0&sort=left")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    result = kwic(generated_search, q="细河", sort="left")
    assert f'<span id="total-lines">{result.total_lines}</span>' in page
    rows = re.findall(r'<tr><td class="left">(.*?)</td><td class="match"><a href="([^"]+)"><mark>(.*?)</mark>', page)
    assert len(rows) == min(50, result.total_lines)
    first = result.lines[0]
    assert rows[0][0] == first.left and rows[0][2] == first.match
    assert rows[0][1] == f"/articles/{first.id}?q=%E7%BB%86%E6%B2%B3&amp;at={first.offset}&amp;aliases=0#match-at"
    assert "导出 CSV" in page and "format=csv" in page and "<strong>左语境</strong>" in page
    assert client.get(rows[0][1].replace("&amp;", "&")).status_code == 200


def test_page_pager(client):
    first = client.get("/kwic?q=发展&per_page=10").get_data(as_text=True)
    assert 'rel="next"' in first and "第 1 / " in first
    total = int(re.search(r'id="total-lines">(\d+)<', first).group(1))
    last = -(-total // 10)
    end = client.get(f"/kwic?q=发展&per_page=10&page={last}").get_data(as_text=True)
    assert 'rel="prev"' in end and 'rel="next"' not in end
    assert end.count('<td class="left">') == total - 10 * (last - 1)
    assert client.get(f"/kwic?q=发展&per_page=10&page={last + 1}").status_code == 404


def test_page_escapes_the_article_text(client):
    page = client.get("/kwic?q=测试页面包含&width=80").get_data(as_text=True)
    assert '<span id="total-lines">1</span>' in page
    assert "&lt;script&gt;alert(" in page and "<script>alert" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_page_without_a_query_shows_the_form_and_bad_input_a_message(client):
    empty = client.get("/kwic")
    assert empty.status_code == 200 and 'name="width"' in empty.get_data(as_text=True)
    bad = client.get("/kwic?q=发展&sort=up")
    assert bad.status_code == 400
    assert "排序方式只能是 date、left、right 之一，而不是“up”" in bad.get_data(as_text=True)
    nothing = client.get("/kwic?q=-发展")
    assert nothing.status_code == 400 and "至少一个要查找的词" in nothing.get_data(as_text=True)


def test_search_page_links_to_the_concordance(client):
    page = client.get("/?q=细河&year=2019").get_data(as_text=True)
    link = re.search(r'<a class="kwic-link" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link.startswith("/kwic?") and "year=2019" in link
    assert client.get(link).status_code == 200


# -- the CLI ------------------------------------------------------------------------------------


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_cli_prints_one_line_per_occurrence_aligned(generated_index, generated_search, cli):
    done = cli("kwic", "发展", "--no-aliases", "--width", "12", index_dir=generated_index)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    result = kwic(generated_search, q="发展", width="12")
    assert printed[0].startswith(f"“发展”共出现 {result.total_lines} 处")
    assert len(printed) - 1 == result.total_lines
    assert "\x1b[" not in done.stdout
    for shown_line, line in zip(printed[1:], result.lines):
        left = line.left
        head = shown_line[:shown_line.index(f"{left} {line.match} ")] + left
        assert columns(head) == 24, shown_line  # the matches one above the other
        assert shown_line.rstrip().endswith(line.id)


def test_cli_limit_csv_and_bad_options(generated_index, generated_search, cli):
    limited = cli("kwic", "发展", "--limit", "3", index_dir=generated_index)
    assert len(limited.stdout.splitlines()) == 4 and "显示前 3 处" in limited.stdout
    as_csv = cli("kwic", "发展", "--no-aliases", "--sort", "right", "--csv", index_dir=generated_index)
    assert as_csv.stdout.startswith("\ufeffid,title,")
    rows = list(csv.reader(io.StringIO(as_csv.stdout.lstrip("\ufeff"), newline="")))
    result = kwic(generated_search, q="发展", sort="right")
    assert len(rows) - 1 == result.total_lines
    assert [row[8] for row in rows[1:]] == [line.right for line in result.lines]
    excluded = cli("kwic", "发展", "-细河", "--no-aliases", index_dir=generated_index)
    assert excluded.returncode == 0
    for args, message in [(["--width", "0"], "width must be between"), (["--sort", "up"], "sort must be one of")]:
        done = cli("kwic", "发展", *args, index_dir=generated_index)
        assert done.returncode == 2 and message in done.stderr and done.stdout == ""
    nothing = cli("kwic", "-发展", index_dir=generated_index)
    assert nothing.returncode == 2 and "no word to find" in nothing.stderr


# -- the CSV, written as the export writes it; dates as hits show them ---------------------------


def test_the_csv_is_the_exports_csv_with_its_formula_guard():
    from searchapp.kwic import CSV_COLUMNS, KwicLine, KwicResult, csv_chunks

    line = KwicLine(id="a1", title="=HYPERLINK(\"x\")", date="2023", year=2023, left="-1+2", match="发展",
                    right="@SUM(A1)", offset=3, term="发展")
    result = KwicResult(query="发展", strings=["发展"], width=5, sort="date", page=1, per_page=10,
                        lines=[line], articles=1, search_total=1, truncated=False)
    text = "".join(csv_chunks(result, lambda line: f"/articles/{line.id}"))
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert rows == [[*CSV_COLUMNS, "url"],
                    ["a1", "'=HYPERLINK(\"x\")", "2023", "2023", "3", "发展", "'-1+2", "发展", "'@SUM(A1)", "/articles/a1"]]


def test_the_cli_csv_is_utf8_bytes_whatever_the_locale(generated_index):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "searchapp.cli", "kwic", "细河", "--no-aliases", "--csv",
                           "--index-dir", str(generated_index)], capture_output=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    assert done.stdout.startswith(b"\xef\xbb\xbfid,title,date,")
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"), newline="")))
    assert len(rows) > 1 and all(row[5] == "细河" for row in rows[1:])


@pytest.mark.parametrize("url", ["/api/kwic?q=发展&format=CSV", "/api/kwic?q=发展&format=Csv"])
def test_the_format_is_read_in_any_case_as_the_exports_and_citations_are(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data() == client.get("/api/kwic?q=发展&format=csv").get_data()


def test_lines_say_a_date_known_only_to_its_year_as_hits_do(dated_client, dated_index, cli):
    data = dated_client.get("/api/kwic?q=发展&per_page=500").get_json()
    check(data, "KwicResult")
    hits = {}
    for page in (1, 2, 3):
        hits.update({h["id"]: h for h in dated_client.get(
            f"/api/search?q=发展&aliases=1&per_page=100&page={page}").get_json()["hits"]})
    assert {line["when"] for line in data["lines"]} >= {"2023 年，日期不详", "2023 年 5 月，日期不详"}
    for line in data["lines"]:
        assert line["when"] == hits[line["id"]]["when"]
    page = dated_client.get("/kwic?q=发展&per_page=500").get_data(as_text=True)
    shown = re.findall(r'<td class="date">([^<]*)</td>', page)
    assert shown == [line["when"] or "—" for line in data["lines"]]
    printed = cli("kwic", "发展", index_dir=dated_index).stdout.splitlines()[1:]
    assert len(printed) == len(data["lines"])
    for text, line in zip(printed, data["lines"]):
        assert f"  {line['when'] or '—'}" in text and text.rstrip().endswith(line["id"])
    ids = [text.rstrip().rsplit(" ", 1)[1] for text in printed]
    assert len({columns(text) - columns(line_id) for text, line_id in zip(printed, ids)}) == 1  # ids aligned
