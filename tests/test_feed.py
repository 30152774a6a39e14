"""The Atom feed of a search, read by a real feed parser (feedparser) and by an XML parser, over
the generated archive (dated records, a dated page, undated pages, a page of HTML/script text)."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlsplit

import feedparser
import pytest

from conftest import XSS_TITLE
from searchapp.web.feed import FEED_ENTRIES

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def get_feed(client, params: str):
    response = client.get(f"/feed.atom?{params}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return response, parsed


def local(url: str) -> str:
    """The path and query of an absolute URL of the test app."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "localhost")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def search_hits(client, params: str, count: int = FEED_ENTRIES) -> list[dict]:
    data = client.get(f"/api/search?{params}&sort=date&per_page={count}").get_json()
    return data["hits"], data["total"]


def test_feed_of_a_search_is_its_newest_hits(client):
    response, feed = get_feed(client, "q=发展")
    hits, total = search_hits(client, "q=发展")
    assert total > FEED_ENTRIES  # so the cap is what limits the entries
    assert len(feed.entries) == FEED_ENTRIES
    assert [e.title for e in feed.entries] == [h["title"] or h["id"] for h in hits]
    assert [local(e.link) for e in feed.entries] == [f"/articles/{h['id']}" for h in hits]
    assert [e.id for e in feed.entries] == [e.link for e in feed.entries]
    # Newest first: entries' dates never increase; undated articles (no ``published``) come last.
    dated = [datetime.fromisoformat(e.published) for e in feed.entries if "published" in e]
    assert dated == sorted(dated, reverse=True) and len(set(dated)) > 5
    assert all("published" in e for e in feed.entries[:len(dated)])
    assert all(e.updated == e.published for e in feed.entries if "published" in e)


def test_entries_link_to_real_article_pages(client):
    _, feed = get_feed(client, "q=阜新&per_page=8")
    assert len(feed.entries) == 8
    for entry in feed.entries:
        page = client.get(local(entry.link))
        assert page.status_code == 200
        assert f"<h1>{entry.title}</h1>" in page.get_data(as_text=True)


def test_entry_dates_and_summaries(client):
    hits, _ = search_hits(client, "paper=辽宁日报")
    dated = next(h for h in hits if h.get("date") == "2019-05-04")
    _, feed = get_feed(client, "paper=辽宁日报")
    entry = next(e for e in feed.entries if local(e.link) == f"/articles/{dated['id']}")
    assert entry.updated == "2019-05-04T00:00:00+08:00"
    assert entry.summary.startswith("2019-05-04 · 辽宁日报 第3版")
    assert entry.summary_detail.type == "text/plain"
    assert "<mark>" not in entry.summary
    if dated["reporters"]:
        assert [a.name for a in entry.authors] == dated["reporters"]
    # A record dated to the day, in China's time zone.
    _, records = get_feed(client, "q=记录&per_page=3")
    hits, _ = search_hits(client, "q=记录", 3)
    assert [e.updated for e in records.entries] == [f"{h['date']}T00:00:00+08:00" for h in hits]


def test_the_feed_is_valid_atom(client):
    """RFC 4287's required elements, checked on the XML itself: the feed's id, title, updated,
    author and self link; each entry's id, title, updated and alternate link; dates in RFC 3339."""
    response = client.get("/feed.atom?q=海州区")
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    links = {link.get("rel"): link for link in root.findall(f"{ATOM}link")}
    assert links["self"].get("type") == "application/atom+xml"
    assert links["self"].get("href") == root.findtext(f"{ATOM}id")
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        assert [link.get("rel") for link in entry.findall(f"{ATOM}link")] == ["alternate"]
    assert len({entry.findtext(f"{ATOM}id") for entry in entries}) == len(entries)


def test_feed_links_and_title(client):
    _, feed = get_feed(client, "q=发展&city=铁岭&sort=relevance&page=3")
    assert feed.feed.title == "新闻档案检索：发展；城市：铁岭"
    links = {link.rel: link.href for link in feed.feed.links}
    # Paging and order are not part of the feed's address: one query, one feed.
    assert local(links["self"]) == "/feed.atom?q=%E5%8F%91%E5%B1%95&city=%E9%93%81%E5%B2%AD"
    assert feed.feed.id == links["self"]
    assert local(links["alternate"]) == "/?q=%E5%8F%91%E5%B1%95&city=%E9%93%81%E5%B2%AD&sort=date"
    page = client.get(local(links["alternate"]))
    assert page.status_code == 200 and "<strong>日期</strong>" in page.get_data(as_text=True)
    again = client.get(local(links["self"]))
    assert feedparser.parse(again.get_data()).feed.id == feed.feed.id
    assert feed.feed.author == "新闻档案检索"


def test_feed_of_the_whole_archive(client):
    _, feed = get_feed(client, "")
    assert feed.feed.title == "新闻档案检索：全部文章"
    assert len(feed.entries) == FEED_ENTRIES
    dated = [datetime.fromisoformat(e.published) for e in feed.entries]  # the archive has 50 dated ones
    assert dated == sorted(dated, reverse=True)


def test_html_in_a_title_is_text(client):
    response, feed = get_feed(client, "q=测试页面")
    body = response.get_data(as_text=True)
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;" in body
    assert len(feed.entries) == 1
    root = ET.fromstring(response.get_data())
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == XSS_TITLE  # the title, exactly, as text
    assert '<script>alert("x")</script>' in entry.findtext(f"{ATOM}summary")
    assert feed.entries[0].title_detail.type == "text/plain"
    # No date at all: the entry says when the index changed, as the feed does.
    assert feed.entries[0].updated == feed.feed.updated and "published" not in feed.entries[0]


def test_no_hits_is_an_empty_feed(client):
    _, feed = get_feed(client, "q=%22不存在的词语组合%22")
    assert feed.entries == [] and feed.feed.title == "新闻档案检索：\"不存在的词语组合\""


@pytest.mark.parametrize("params, message", [
    ("q=%22unclosed", "引号没有配对"),
    ("per_page=51", "每页条数应在 1 到 50 之间，而不是 51。"),
    ("per_page=0", "每页条数应在 1 到 100 之间"),
    ("per_page=x", "每页条数应为整数"),
    ("year=abc", "年份“abc”无效"),
])
def test_bad_parameters_get_the_error_page(client, params, message):
    response = client.get(f"/feed.atom?{params}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_per_page_sets_the_number_of_entries(client):
    _, feed = get_feed(client, "q=发展&per_page=5")
    assert len(feed.entries) == 5
    assert local(feed.feed.id).endswith("&per_page=5")


def test_the_result_page_offers_the_feed(client):
    page = client.get("/?q=发展&city=铁岭&page=2").get_data(as_text=True)
    head = page.split("</head>")[0]
    alternate = re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)">', head)
    link = re.search(r'<a class="feed" href="([^"]+)" type="application/atom\+xml"[^>]*>订阅</a>', page)
    assert alternate and link and alternate.group(1) == link.group(1)
    href = link.group(1).replace("&amp;", "&")
    assert href == "/feed.atom?q=%E5%8F%91%E5%B1%95&city=%E9%93%81%E5%B2%AD"
    _, feed = get_feed(client, href.split("?", 1)[1])
    assert feed.feed.title == "新闻档案检索：发展；城市：铁岭"
    # The home page (no search) has no feed to offer.
    assert "application/atom+xml" not in client.get("/").get_data(as_text=True)


def test_the_feed_is_compressed_when_asked(client):
    response = client.get("/feed.atom?q=发展", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
    import gzip
    assert not feedparser.parse(gzip.decompress(response.get_data())).bozo


def test_date_filters_apply_to_the_feed(client):
    _, feed = get_feed(client, "date_from=2019-01-01&date_to=2019-12-31")
    hits, total = search_hits(client, "date_from=2019-01-01&date_to=2019-12-31")
    assert 0 < total < FEED_ENTRIES and len(feed.entries) == total
    assert [local(e.link) for e in feed.entries] == [f"/articles/{h['id']}" for h in hits]
    assert all(e.published.startswith("2019-") for e in feed.entries)
    assert feed.feed.title.startswith("新闻档案检索：日期：")


def test_an_entry_known_only_to_its_year_says_so_as_a_hit_does(client):
    hits, _ = search_hits(client, "q=发展")
    year_only = [h for h in hits if not h.get("date") and h.get("year")]
    assert year_only
    _, feed = get_feed(client, "q=发展")
    entries = {local(e.link).rsplit("/", 1)[1]: e for e in feed.entries}
    for hit in year_only:
        entry = entries[hit["id"]]
        assert entry.summary.startswith(f"{hit['year']} 年，日期不详") and hit["when"] == f"{hit['year']} 年，日期不详"
        assert entry.published == f"{hit['year']}-01-01T00:00:00+08:00"


def test_sort_and_page_are_ignored_as_the_docstring_says(client):
    _, plain = get_feed(client, "q=发展")
    for params in ("q=发展&sort=relevance&page=3", "q=发展&sort=bogus&page=0", "q=发展&page=x"):
        _, feed = get_feed(client, params)
        assert [e.id for e in feed.entries] == [e.id for e in plain.entries] and feed.feed.id == plain.feed.id
