"""The search page's parts (issue 12): the timeline, the hits' lines, long facets, Chinese error
messages, compression and Werkzeug's headers on errors."""

import gzip
import re

import pytest

from searchapp.query import QueryError
from searchapp.results import FacetBucket, Timeline
from searchapp.web import messages, pages
from searchapp.web.timeline import MAX_BAR, MAX_LABELS, timeline_svg


def html(response):
    return response.get_data(as_text=True)


def _timeline(years: dict[int, int]) -> str:
    points = [(str(y), n) for y, n in sorted(years.items()) if n]
    return str(timeline_svg(Timeline("year", "", points), lambda period: f"/?date_from={period}&date_to={period}"))


def _percent(svg: str, attribute: str) -> list[float]:
    return [float(v) for v in re.findall(rf'<rect[^>]* {attribute}="([\d.]+)%"', svg)]


# ---------------------------------------------------------------------------------------------
# Timeline


def test_the_timeline_is_not_scaled_so_its_text_keeps_its_css_size():
    svg = _timeline({2020: 5, 2021: 3})
    assert "viewBox" not in svg and 'width="100%"' in svg  # coordinates in % of the width, text in px
    css = open(pages.__file__.replace("pages.py", "static/style.css"), encoding="utf-8").read()
    size = re.search(r"\.timeline text \{[^}]*font-size: (\d+)px", css)
    assert size and int(size.group(1)) >= 12


def test_a_long_span_labels_at_most_eight_round_years():
    svg = _timeline({year: 1 + year % 7 for year in range(1980, 2024)})
    labels = [int(y) for y in re.findall(r'<text class="year"[^>]*>(\d+)</text>', svg)]
    assert 2 <= len(labels) <= MAX_LABELS
    assert all(year % 10 == 0 for year in labels)
    assert len(_percent(svg, "width")) == 2024 - 1980  # a bar (or an empty slot) per year


def test_one_year_is_a_centred_bar_not_a_block():
    svg = _timeline({2021: 7})
    (x,), (width,) = _percent(svg, "x"), _percent(svg, "width")
    assert width <= MAX_BAR and abs(x + width / 2 - 50) < 0.01
    assert re.search(r'<text class="count"[^>]*>7</text>', svg)


def test_counts_are_written_over_the_bars_while_they_fit():
    svg = _timeline({2019: 12, 2020: 0, 2021: 345})
    assert re.findall(r'<text class="count"[^>]*>(\d+)</text>', svg) == ["12", "345"]
    crowded = _timeline({year: 100 + year for year in range(1970, 2024)})
    assert 'class="count"' not in crowded and "<title>2000 年：2100 篇</title>" in crowded


def test_the_pages_timeline_zooms_into_years(corpus_client):
    page = html(corpus_client.get("/?q=细河"))
    svg = page[page.index('<svg class="timeline"'):page.index("</svg>")]
    assert re.search(r'<a href="/\?q=%E7%BB%86%E6%B2%B3&amp;date_from=2020&amp;date_to=2020"', svg)
    years = re.findall(r'<text class="year"[^>]*>(\d+)</text>', svg)
    assert years == ["2020", "2021", "2022", "2023"]  # a year without results keeps its (empty) place
    assert svg.count("<a href=") == 3


# ---------------------------------------------------------------------------------------------
# Hits and facets


def _meta_lines(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<p class="meta">(.*?)</p>', page, re.S)]


def test_hits_show_the_paper_and_page_when_known(client):
    page = html(client.get("/?q=第0号测试版面"))
    lines = _meta_lines(page)
    assert any("辽宁日报 第3版" in line for line in lines)


def test_hits_leave_unknown_fields_out(client):
    lines = _meta_lines(html(client.get("/?q=记录&per_page=50")))
    assert lines
    for line in lines:
        assert "—" not in line and not re.search(r"·\s*·", line) and not line.strip().startswith("·")


def test_related_articles_leave_unknown_fields_out(client):
    related = html(client.get("/articles/rec-001"))
    related = related[related.index('class="related"'):]
    lines = re.findall(r'<span class="meta">(.*?)</span>', related)
    assert lines and all(line.strip() and not re.search(r"^\s*·|·\s*$", line) for line in lines)


def test_long_facets_show_ten_and_the_rest_behind_more(client):
    page = html(client.get("/?q=发展"))
    years = page[page.index('data-facet="year"'):]
    years = years[:years.index("</section>")]
    listed, hidden = years.split("<details")
    assert listed.count('class="bucket') == 10
    assert re.search(r"<summary>更多（(\d+)）</summary>", hidden) and hidden.count('class="bucket') >= 3


def test_a_selected_value_is_never_hidden_behind_more():
    buckets = [FacetBucket(str(2000 + i), 20 - i, selected=(i == 15)) for i in range(16)]
    shown, more = pages.split_buckets(buckets)
    assert len(shown) == 11 and shown[-1].selected and len(more) == 5
    assert pages.split_buckets(buckets[:12]) == (buckets[:12], [])  # one or two more: all shown


# ---------------------------------------------------------------------------------------------
# Chinese error messages


@pytest.mark.parametrize("url, code, message", [
    ("/?q=" + "阜" * 501, "too_long", "查询太长：501 个字符，最多 500 个。"),
    ("/?q=阜新%07", "control_character", "查询的第 3 个字符是控制字符（U+0007），请删去它。"),
    ('/?q="细河', "unclosed_quote", "第 1 个字符处的引号没有配对的后引号。"),
    ("/?q=「细河", "unclosed_quote", "第 1 个字符处的引号没有配对的后引号。"),
    ("/?q=阜新)", "unopened_parenthesis", "第 3 个字符处的右括号“)”前面没有对应的左括号。"),
    ("/?q=(阜新", "unclosed_parenthesis", "第 1 个字符处的左括号“(”没有对应的右括号。"),
    ("/?q=阜新 OR", "missing_operand", "第 4 个字符处的 OR 后面需要一个检索词。"),
    ("/?q=阜新 NOT", "missing_operand", "第 4 个字符处的 NOT 后面需要一个检索词。"),
    ("/?q=OR 阜新", "expected_term", "第 1 个字符前缺少检索词。"),
    ("/?q=foo:bar", "unknown_field", "第 1 个字符处的“foo:”不是可用的字段；可用的字段有：title、city、"),
    ("/?q=city: 阜新", "field_needs_value", "第 1 个字符处的“city:”后面要紧跟一个值（冒号后不留空格）。"),
    ('/?q=阜新 ""', "empty_quotes", "第 4 个字符处的引号里没有内容。"),
    ("/?q=AND", "empty_query", "请输入要检索的词。"),
    ('/?q=city:""', "missing_value", "城市需要一个值。"),
    ("/?q=阜新&year=20x1", "bad_year", "年份“20x1”无效：请写成 2021 或 2020..2023 这样的形式"),
    ("/?q=阜新&year_from=abc", "bad_year", "起始年份“abc”无效：应为四位数的年份，如 2021。"),
    ("/?q=year:2023..2020", "range_reversed", "年份范围的结束早于开始。"),
    ("/?q=阜新&year_from=2023&year_to=2020", "range_reversed", "起始年份晚于截止年份。"),
    ("/?q=阜新&page=abc", "not_a_number", "页码应为整数，而不是“abc”。"),
    ("/?q=阜新&per_page=101", "out_of_range", "每页条数应在 1 到 100 之间，而不是 101。"),
    ("/?q=阜新&sort=best", "not_a_choice", "排序方式只能是 relevance（相关度）或 date（日期），而不是“best”。"),
])
def test_query_errors_are_explained_in_chinese(client, url, code, message):
    response = client.get(url)
    assert response.status_code == 400
    shown = re.search(r'<p class="error" role="alert">查询有误：(.*?)</p>', html(response), re.S).group(1)
    assert message in shown.replace("&#34;", '"').replace("&#39;", "'")
    assert not re.search(r"position|must|unbalanced|[a-z]+ [a-z]+ [a-z]+", shown)  # no English left
    api = client.get("/api" + url.replace("/?", "/search?", 1)).get_json()["error"]
    assert api["code"] == "bad_parameter" and api["reason"] == code


@pytest.mark.parametrize("error, message", [
    (QueryError("unexpected 'x' at position 3", code="unexpected"), "第 3 个字符处不应出现“x”。"),
    (QueryError("empty term at position 2", code="empty_term"), "第 2 个字符处的检索词是空的。"),
    (QueryError("unknown parameter 'colour'; known: q", "colour", code="unknown_parameter"), "没有“colour”这个参数。"),
    (QueryError("q is required (or at least one of city)", code="missing_query"), "请输入查询，或至少选择一个筛选条件。"),
    (QueryError("a message no table knows", "page", code="something_new"), "页码有误（a message no table knows）。"),
])
def test_every_code_has_its_chinese_message(error, message):
    assert messages.query_error(error) == message


def test_every_code_raised_has_a_message():
    from pathlib import Path
    root = Path(pages.__file__).resolve().parents[1]
    raised = set()
    for name in ("query.py", "request.py", "cli.py", "web/api.py"):
        source = (root / name).read_text("utf-8")
        raised |= set(re.findall(r'code="(\w+)"', source))
        raised |= set(re.findall(r'code="\w+" if \w+ else "(\w+)"', source))
    assert raised and raised <= set(messages.MESSAGES), raised - set(messages.MESSAGES)


def test_http_errors_are_chinese_and_keep_werkzeugs_headers(client):
    response = client.post("/?q=阜新")
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert "这个地址不接受这种请求方式。" in html(response)
    assert "找不到这个页面。" in html(client.get("/no/such/route"))
    assert "只有 " in html(client.get("/?q=发展&page=999"))  # the page's own description stays
    api = client.delete("/api/search?q=阜新")
    assert api.status_code == 405 and "GET" in api.headers["Allow"] and api.is_json


def test_no_index_is_said_in_chinese(tmp_path):
    from searchapp.web import create_app
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    response = client.get("/?q=阜新")
    assert response.status_code == 503 and "中还没有检索索引，请先用 newsearch index 建立索引。" in html(response)


# ---------------------------------------------------------------------------------------------
# Pasted invisible characters on the article page


def test_the_article_page_marks_a_query_with_a_pasted_zero_width_space(corpus_client):
    page = html(corpus_client.get("/articles/002_45d33814e4b80692-05?q=\u200b文明\u200d城市\ufeff"))
    assert '<mark id="first-match">文明城市</mark>' in page
    assert "\u200b" not in page


# ---------------------------------------------------------------------------------------------
# Compression


def test_large_responses_are_gzipped_for_clients_that_accept_it(client):
    plain = client.get("/api/search?q=发展&per_page=20")
    packed = client.get("/api/search?q=发展&per_page=20", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in plain.headers["Vary"] and "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    import json
    unpacked, original = json.loads(gzip.decompress(packed.data)), plain.get_json()
    unpacked.pop("took_ms"), original.pop("took_ms")
    assert unpacked == original
    page = client.get("/?q=发展", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip" and "<!doctype html>" in gzip.decompress(page.data).decode()


def test_small_refused_and_passthrough_responses_are_not_gzipped(client):
    small = client.get("/api/articles/nope", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 404 and "Content-Encoding" not in small.headers and small.is_json
    refused = client.get("/api/search?q=发展", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.is_json
    static = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
    assert static.status_code == 200 and "Content-Encoding" not in static.headers
    static.close()
