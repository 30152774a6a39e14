"""Citations: GB/T 7714-2015, RIS and BibTeX of real articles (the corpus's Liaoning Daily pages
and a generated page with a date and a page label), through the core, the API and the article
page; the formats' rules on made-up references."""

import re
from urllib.parse import urlsplit

import jsonschema
import pytest

from conftest import XSS_TITLE
from searchapp import core
from searchapp.citation import (Reference, bibtex, bibtex_escape, bibtex_key, gbt7714, iso_date,
                                page_number, reference, ris)
from searchapp.web.citation import attachment
from searchapp.web.openapi import openapi_document

RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  - (.*)$")
BIBTEX_ENTRY = re.compile(r"^@article\{(?P<key>[^,\s]+),\n(?P<body>(?:  \w+ = \{.*\},\n)+)\}\n$")
BIBTEX_FIELD = re.compile(r"^  (\w+) = \{(.*)\},$", re.M)


def check(data, name):
    document = openapi_document()
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def parse_ris(text: str) -> list[tuple[str, str]]:
    """The (tag, value) lines of one RIS record; every line ended by CR LF, TY first, ER last."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text[:-2].split("\r\n")
    tags = []
    for line in lines:
        match = RIS_LINE.match(line)
        assert match, line
        tags.append(match.groups())
    assert tags[0] == ("TY", "NEWS") and tags[-1] == ("ER", "")
    return tags


def ris_values(tags, tag: str) -> list[str]:
    return [value for name, value in tags if name == tag]


def parse_bibtex(text: str) -> tuple[str, dict[str, str]]:
    match = BIBTEX_ENTRY.match(text)
    assert match, text
    return match["key"], dict(BIBTEX_FIELD.findall(match["body"]))


def corpus_articles(corpus_client) -> list[dict]:
    hits = corpus_client.get("/api/search?paper=辽宁日报&per_page=100").get_json()["hits"]
    assert len(hits) > 20
    return [corpus_client.get(f"/api/articles/{hit['id']}").get_json() for hit in hits]


def full_title(article: dict) -> str:
    return f"{article['title']}: {article['subtitle']}" if article["subtitle"] else article["title"]


# --- the seed pages ---------------------------------------------------------------------------


def test_gbt7714_of_a_seed_article_exactly(corpus_client):
    response = corpus_client.get("/api/articles/001_1229933dc2040656-01/cite?format=gbt7714")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Content-Disposition" not in response.headers
    assert response.get_data(as_text=True) == (
        "侯悦林. 跑好第一棒 冲刺开门红: 阜新用实干和拼搏推动“三年行动”开好局起好步[N]. 辽宁日报, 2023.")
    # The default format is GB/T 7714.
    assert corpus_client.get("/api/articles/001_1229933dc2040656-01/cite").get_data() == response.get_data()


def test_gbt7714_with_two_authors_and_with_none(corpus_search):
    two = core.get_article(corpus_search, "002_45d33814e4b80692-03")
    assert two.reporters == ["李显彬", "侯悦林"]
    assert gbt7714(reference(two, "u")) == "李显彬, 侯悦林. 人大代表票决 确定民生实事项目[N]. 辽宁日报, 2021."
    nobody = core.get_article(corpus_search, "000_4137a59cd7bc1a7b-03")
    assert nobody.reporters == []
    assert gbt7714(reference(nobody, "u")) == "“双十行动”这样干[N]. 辽宁日报, 2025."


def test_every_seed_article_field_by_field(corpus_client):
    for article in corpus_articles(corpus_client):
        base = f"/api/articles/{article['id']}/cite"
        year = str(article["year"])
        page_url = f"http://localhost/articles/{article['id']}"

        text = corpus_client.get(base).get_data(as_text=True)
        authors = ", ".join(article["reporters"])
        assert text == (f"{authors}. " if authors else "") + f"{full_title(article)}[N]. 辽宁日报, {year}."

        response = corpus_client.get(base + "?format=ris")
        assert response.headers["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{article["id"]}.ris"'
        tags = parse_ris(response.get_data(as_text=True))
        assert ris_values(tags, "AU") == article["reporters"]
        assert ris_values(tags, "TI") == [full_title(article)]
        assert ris_values(tags, "T2") == ["辽宁日报"]
        assert ris_values(tags, "PY") == [year]
        assert ris_values(tags, "DA") == [] and ris_values(tags, "SP") == []  # no date, no page label
        assert ris_values(tags, "UR") == [page_url]

        response = corpus_client.get(base + "?format=bibtex")
        assert response.headers["Content-Type"] == "application/x-bibtex; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{article["id"]}.bib"'
        key, values = parse_bibtex(response.get_data(as_text=True))
        assert key == article["id"]
        assert values.get("author", "") == " and ".join(article["reporters"])
        assert values["title"] == bibtex_escape(full_title(article))  # 增长26% -> 增长26\\%
        assert values["journal"] == "辽宁日报"
        assert values["year"] == values["date"] == year
        assert "pages" not in values
        assert values["url"] == page_url


def test_the_permalink_is_the_article_page(corpus_client):
    tags = parse_ris(corpus_client.get("/api/articles/002_45d33814e4b80692-05/cite?format=ris").get_data(as_text=True))
    url = urlsplit(ris_values(tags, "UR")[0])
    assert url.scheme == "http" and url.netloc == "localhost"
    page = corpus_client.get(url.path)
    assert page.status_code == 200 and "海州区 获评全省文明城市" in page.get_data(as_text=True)


# --- a dated page with a page label (the generated archive's catalog row) -----------------------


def test_a_dated_article_with_its_page(client):
    hits = client.get("/api/search?paper=辽宁日报&per_page=20").get_json()["hits"]
    hit = next(h for h in hits if h["reporters"])
    article = client.get(f"/api/articles/{hit['id']}").get_json()
    assert (article["date"], article["paper"], article["page_label"]) == ("2019-05-04", "辽宁日报", "第3版")
    base = f"/api/articles/{hit['id']}/cite"

    text = client.get(base).get_data(as_text=True)
    assert text == f"{', '.join(article['reporters'])}. {full_title(article)}[N]. 辽宁日报, 2019-05-04(3)."

    tags = parse_ris(client.get(base + "?format=ris").get_data(as_text=True))
    assert ris_values(tags, "PY") == ["2019"] and ris_values(tags, "DA") == ["2019/05/04/"]
    assert ris_values(tags, "SP") == ["3"] and ris_values(tags, "T2") == ["辽宁日报"]

    key, values = parse_bibtex(client.get(base + "?format=bibtex").get_data(as_text=True))
    assert (values["date"], values["year"], values["pages"]) == ("2019-05-04", "2019", "3")
    assert key == bibtex_key(hit["id"]) and key != hit["id"]  # the id has a "~"
    assert client.get(base + "?format=bibtex").headers["Content-Disposition"] == \
        f'attachment; filename="{hit["id"]}.bib"'


def test_html_in_a_title_is_text_in_every_format(client):
    hit = client.get("/api/search?q=测试页面").get_json()["hits"][0]
    assert hit["title"] == XSS_TITLE
    base = f"/api/articles/{hit['id']}/cite"
    assert client.get(base).get_data(as_text=True) == f"李波. {XSS_TITLE}[N]."  # no paper, no date
    assert ris_values(parse_ris(client.get(base + "?format=ris").get_data(as_text=True)), "TI") == [XSS_TITLE]
    assert parse_bibtex(client.get(base + "?format=bibtex").get_data(as_text=True))[1]["title"] == XSS_TITLE
    page = client.get(f"/articles/{hit['id']}").get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;标题" in page


# --- errors and routing -----------------------------------------------------------------------


def test_unknown_article_is_a_404_json_error(client):
    response = client.get("/api/articles/no-such-article/cite?format=ris")
    assert response.status_code == 404 and response.is_json
    check(response.get_json(), "Error")
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("params, parameter, reason", [
    ("format=pdf", "format", "unknown_format"),
    ("format=XML", "format", "unknown_format"),
    ("style=apa", "style", "unknown_parameter"),
])
def test_bad_parameters_are_400_json_errors(client, params, parameter, reason):
    hit = client.get("/api/search?q=发展").get_json()["hits"][0]
    response = client.get(f"/api/articles/{hit['id']}/cite?{params}")
    assert response.status_code == 400 and response.is_json
    check(response.get_json(), "Error")
    error = response.get_json()["error"]
    assert (error["code"], error["parameter"], error["reason"]) == ("bad_parameter", parameter, reason)


def test_the_chinese_message_of_a_bad_format():
    from searchapp.query import QueryError
    from searchapp.web.messages import query_error
    error = QueryError("format must be one of gbt7714, ris, bibtex, not 'pdf'", "format", code="unknown_format")
    assert query_error(error) == "格式只能是 gbt7714、ris、bibtex，而不是“pdf”。"


def test_cite_routes_past_the_article_route(app, client):
    """``/api/articles/<path:id>`` takes slashes: ``…/cite`` must still reach the citation, for
    ids of every shape, and the article route must keep its own. (So the JSON of an article whose
    id ends in "/cite" cannot be asked for: that URL is the citation of the id before it.)"""
    adapter = app.url_map.bind("localhost")
    for article_id in ("001_1229933dc2040656-01", "pages~page_000-01", "rec-003", "a/b/c-01", "x/cite"):
        assert adapter.match(f"/api/articles/{article_id}/cite") == ("citation.cite_article", {"article_id": article_id})
    for article_id in ("001_1229933dc2040656-01", "pages~page_000-01", "rec-003", "a/b/c-01", "cite", "x/cited"):
        assert adapter.match(f"/api/articles/{article_id}") == ("api.article", {"article_id": article_id})
    assert adapter.match("/api/articles/x/cite") == ("citation.cite_article", {"article_id": "x"})
    hit = client.get("/api/search?q=发展").get_json()["hits"][0]
    assert client.get(f"/api/articles/{hit['id']}").is_json
    assert client.get(f"/api/articles/{hit['id']}/cite").mimetype == "text/plain"
    assert client.get(f"/api/articles/{hit['id']}/cite/more").status_code == 404


def test_cite_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    item = document["paths"]["/api/articles/{id}/cite"]["get"]
    assert set(item["responses"]["200"]["content"]) == {
        "text/plain", "application/x-research-info-systems", "application/x-bibtex"}
    format_param = next(p for p in item["parameters"] if p["name"] == "format")
    assert format_param["schema"]["enum"] == ["gbt7714", "ris", "bibtex"]


# --- the article page -------------------------------------------------------------------------


def test_the_article_page_cites_the_article(corpus_client):
    article_id = "002_45d33814e4b80692-03"
    page = corpus_client.get(f"/articles/{article_id}").get_data(as_text=True)
    assert "<h2 id=\"cite-heading\">引用</h2>" in page
    assert '<p class="citation" id="citation">李显彬, 侯悦林. 人大代表票决 确定民生实事项目[N]. 辽宁日报, 2021.</p>' in page
    assert f'<a href="http://localhost/articles/{article_id}" id="permalink">http://localhost/articles/{article_id}</a>' in page
    links = re.findall(r'<a href="([^"]+)" download>(RIS|BibTeX)</a>', page)
    assert [label for _, label in links] == ["RIS", "BibTeX"]
    for href, label in links:
        response = corpus_client.get(href.replace("&amp;", "&"))
        assert response.status_code == 200
        assert response.mimetype == {"RIS": "application/x-research-info-systems", "BibTeX": "application/x-bibtex"}[label]


# --- the formats' rules, on made-up references -------------------------------------------------


def made_up(**changes) -> Reference:
    values = dict(id="x-01", authors=("甲", "乙"), title="题名", paper="某报", date="2020-01-02",
                  date_inferred=False, page="4", url="http://h/articles/x-01")
    values.update(changes)
    return Reference(**values)


def test_gbt7714_rules():
    assert gbt7714(made_up()) == "甲, 乙. 题名[N]. 某报, 2020-01-02(4)."
    assert gbt7714(made_up(authors=("甲", "乙", "丙", "丁"))) == "甲, 乙, 丙, 等. 题名[N]. 某报, 2020-01-02(4)."
    assert gbt7714(made_up(authors=("甲", "乙", "丙"))) == "甲, 乙, 丙. 题名[N]. 某报, 2020-01-02(4)."
    assert gbt7714(made_up(authors=())) == "题名[N]. 某报, 2020-01-02(4)."
    assert gbt7714(made_up(paper="")) == "甲, 乙. 题名[N]. 2020-01-02(4)."
    assert gbt7714(made_up(date="")) == "甲, 乙. 题名[N]. 某报."  # a page without a date says nothing
    assert gbt7714(made_up(date="2020", page="")) == "甲, 乙. 题名[N]. 某报, 2020."
    assert gbt7714(made_up(date="2020", date_inferred=True, page="")) == "甲, 乙. 题名[N]. 某报, [2020]."
    assert gbt7714(made_up(paper="", date="", page="")) == "甲, 乙. 题名[N]."


def test_ris_dates_by_precision():
    assert ris_values(parse_ris(ris(made_up(date="2020-01"))), "DA") == ["2020/01//"]
    year_only = parse_ris(ris(made_up(date="2020", page="")))
    assert ris_values(year_only, "PY") == ["2020"] and ris_values(year_only, "DA") == []
    assert ris_values(parse_ris(ris(made_up(date=""))), "PY") == []


def test_reference_reads_an_article():
    class Article:
        id, title, subtitle, paper, year, year_inferred = "p-01", "标题\n第二行", "", "报", 2020, True
        reporters, date, page_label = ["甲", " "], "", "第十二版"
    ref = reference(Article(), "http://h/articles/p-01")
    assert ref.title == "标题 第二行" and ref.authors == ("甲",)
    assert (ref.date, ref.date_inferred, ref.page) == ("2020", True, "12")
    Article.date, Article.page_label = "2020-5-4", "要闻"
    ref = reference(Article(), "u")
    assert (ref.date, ref.date_inferred, ref.page) == ("2020-05-04", False, "")


@pytest.mark.parametrize("label, number", [
    ("第3版", "3"), ("3", "3"), ("第 12 版", "12"), ("A3版", "A3"), ("第a3版", "A3"), ("第三版", "3"),
    ("第十版", "10"), ("第十二版", "12"), ("第二十三版", "23"), ("要闻", ""), ("", ""), ("第版", ""),
])
def test_page_numbers(label, number):
    assert page_number(label) == number


def test_iso_dates():
    assert [iso_date(v) for v in ("2019-05-04", "2019/5/4", "2019-05", "2019", "5月4日", "")] == [
        "2019-05-04", "2019-05-04", "2019-05", "2019", "", ""]


def test_bibtex_escapes_special_characters():
    raw = r"50% & $5 #1 a_b {x} ~ ^ \end"
    escaped = bibtex_escape(raw)
    assert escaped == r"50\% \& \$5 \#1 a\_b \{x\} \~{} \^{} \textbackslash{}end"
    key, values = parse_bibtex(bibtex(made_up(title=raw, authors=("Li Bo", "甲"))))
    assert values["title"] == escaped
    assert values["author"] == "{Li Bo} and 甲"  # one name, not "Bo, Li"
    depth = 0
    for char in re.sub(r"\\[{}]", "", values["title"]):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_bibtex_keys_are_stable_and_distinct():
    assert bibtex_key("001_1229933dc2040656-01") == "001_1229933dc2040656-01"
    assert bibtex_key("more~001-01") == bibtex_key("more~001-01")
    assert re.fullmatch(r"[A-Za-z0-9_.:-]+", bibtex_key("报纸 {1},#%"))
    assert bibtex_key("a~b") != bibtex_key("a b") != bibtex_key("a_b")


def test_download_names():
    assert attachment("rec-001.ris") == 'attachment; filename="rec-001.ris"'
    assert attachment("记录 1.bib") == "attachment; filename=\"___1.bib\"; filename*=UTF-8''%E8%AE%B0%E5%BD%95%201.bib"


@pytest.mark.parametrize("name", ["RIS", "BibTeX", "GBT7714"])
def test_the_format_is_read_in_any_case_as_the_exports_is(client, name):
    hit = client.get("/api/search?q=发展").get_json()["hits"][0]
    response = client.get(f"/api/articles/{hit['id']}/cite?format={name}")
    assert response.status_code == 200
    assert response.get_data() == client.get(f"/api/articles/{hit['id']}/cite?format={name.lower()}").get_data()


def test_one_download_name_helper_for_every_attachment():
    from searchapp.web.download import attachment as shared

    assert attachment is shared
    assert shared("newsearch-发展.csv", "newsearch-export.csv") == (
        "attachment; filename=\"newsearch-export.csv\"; filename*=UTF-8''newsearch-%E5%8F%91%E5%B1%95.csv")
