"""The search page, the article page and the page view through Flask's test client."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import XSS_TITLE


def html(response):
    return response.get_data(as_text=True)


def test_landing_page_shows_facets_and_timeline(client):
    page = html(client.get("/"))
    assert '<input type="search" name="q"' in page and "城市" in page and "<svg" in page


def test_results_page(corpus_client):
    response = corpus_client.get("/?q=细河")
    page = html(response)
    assert response.status_code == 200
    assert 'value="细河"' in page  # the box keeps the query
    assert '<span id="total">4</span>' in page
    assert "<mark>細河</mark>" in page and "<mark>细河</mark>" in page
    assert 'class="timeline"' in page and "年份" in page
    assert re.search(r'href="/articles/003_99244411f5f1c9bb-01\?q=%E7%BB%86%E6%B2%B3#first-match"', page)


def test_facet_links_toggle_filters_and_show_chips(corpus_client):
    page = html(corpus_client.get("/?q=发展"))
    link = re.search(r'<a class="bucket" href="([^"]+)"\s+data-value="海州区"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(link).query) == {"q": ["发展"], "district": ["海州区"]}
    narrowed = html(corpus_client.get(link))
    assert 'class="chip"' in narrowed and "区县：海州区" in narrowed
    total = int(re.search(r'<span id="total">(\d+)</span>', narrowed).group(1))
    assert 0 < total < int(re.search(r'<span id="total">(\d+)</span>', page).group(1))
    chip = re.search(r'<a class="chip" href="([^"]+)"', narrowed).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(chip).query) == {"q": ["发展"]}


def test_pagination_and_sort_links(client):
    page = html(client.get("/?q=发展&per_page=5"))
    next_link = re.search(r'<a rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(next_link).query)["page"] == ["2"]
    second = html(client.get(next_link))
    assert "第 2 / " in second and 'rel="prev"' in second
    assert "sort=date" in page


def test_empty_result_offers_a_way_out(corpus_client):
    page = html(corpus_client.get("/?q=海州区 量子计算机&city=铁岭"))
    assert '<span id="total">0</span>' in page
    assert "去掉筛选“城市：铁岭”" in page and "去掉“量子计算机”" in page


@pytest.mark.parametrize("url", [
    '/?q="海州区 量子计算机"', "/?q=(阜新 OR 铁岭) 量子计算机", "/?q=NOT 阜新 量子", "/?q=title:量子计算机",
    "/?q=海州区 量子计算机&city=铁岭", "/?q=细河&year_from=1990&year_to=1995", "/?q=量子计算机",
    '/?q="海州区 量子计算机" OR "细河 量子"', "/?q=district:海州区 铁西区 -阜新",
])
def test_every_suggested_link_works(corpus_client, url):
    page = html(corpus_client.get(url))
    assert '<span id="total">0</span>' in page
    empty = page[page.index('<div class="empty">'):]
    links = [link.replace("&amp;", "&") for link in re.findall(r'<li><a href="([^"]+)"', empty[:empty.index("</div>")])]
    assert links, f"no suggestion for {url}"
    for link in links:
        assert corpus_client.get(link).status_code == 200, link


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_user_input_is_escaped_everywhere(client, payload):
    for url in (f"/?q={payload}", f"/?q=发展&district={payload}", f"/?q=发展&topic={payload}",
                f"/articles/{payload}", f"/?q=({payload}"):
        page = html(client.get(url))
        assert payload not in page, url
        assert "<script>" not in page and "<img src=x" not in page, url


def test_article_text_and_title_are_escaped(client):
    page = html(client.get("/?q=测试页面包含"))
    assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
    article_id = re.search(r'href="/articles/([^"?]+)\?', page).group(1)
    article = html(client.get(f"/articles/{article_id}?q=测试页面包含"))
    assert "<script>" not in article and "onerror=alert(2)>" not in article
    assert '<mark id="first-match">测试页面包含</mark>' in article


def test_article_page_metadata_page_link_and_related(corpus_client):
    page = html(corpus_client.get("/articles/002_45d33814e4b80692-05?q=文明城市"))
    assert "海州区 获评全省文明城市" in page and '<mark id="first-match">' in page
    assert 'href="/pages/002_45d33814e4b80692"' in page
    assert "相关文章" in page
    whole = html(corpus_client.get("/pages/002_45d33814e4b80692"))
    assert whole.count('class="piece"') == 5


def test_unknown_article_and_page_are_404(client):
    assert client.get("/articles/nope").status_code == 404
    assert client.get("/pages/nope").status_code == 404
    assert client.get("/no/such/route").status_code == 404


def test_bad_query_is_400_with_the_message(client):
    response = client.get("/?q=(阜新")
    assert response.status_code == 400 and "第 1 个字符处的左括号“(”没有对应的右括号" in html(response)
    assert client.get("/?q=阜新&per_page=101").status_code == 400
    assert client.get("/?q=" + "阜" * 501).status_code == 400


def test_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_external_resources(client):
    page = html(client.get("/?q=发展"))
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert '<meta name="viewport"' in page


def test_a_year_filter_on_the_page_shows_its_chip(corpus_client):
    """The chip of a selected year links to the page without it (the selected value is already
    a ``Range``: the page answered 500, the JSON API 200)."""
    for year in ("2023", "2020..2023"):
        response = corpus_client.get(f"/?q=项目&year={year}")
        assert response.status_code == 200, year
        assert 'href="/?q=%E9%A1%B9%E7%9B%AE"' in response.get_data(as_text=True), year
