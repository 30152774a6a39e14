"""Browsing by issue (issue 11): paper -> year -> month calendar -> day's pages -> a page's
articles, as pages and as JSON, checked against a direct count over the stored articles."""

from __future__ import annotations

import re
from urllib.parse import quote

import jsonschema
import pytest

from searchapp.web.openapi import openapi_document


def _check(data, name):
    document = openapi_document()
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


@pytest.fixture(scope="module")
def articles(dated_search):
    return list(dated_search.searcher().all_stored_fields())


def _paper(stored) -> str:
    return stored.get("paper") or "_"


def _year(stored):
    date = stored.get("date") or ""
    return int(date[:4]) if date else stored.get("year")


def _get(client, url, schema):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    data = response.get_json()
    _check(data, schema)
    return data


def test_papers_with_their_counts(dated_client, articles):
    data = _get(dated_client, "/api/browse", "BrowsePapers")
    expected = {}
    for stored in articles:
        expected[_paper(stored)] = expected.get(_paper(stored), 0) + 1
    assert {p["paper"]: p["articles"] for p in data["papers"]} == expected
    assert {p["paper"]: p["label"] for p in data["papers"]}["_"] == "未注明报纸"
    page = dated_client.get("/browse").get_data(as_text=True)
    assert 'href="/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5"' in page and "未注明报纸" in page


@pytest.mark.parametrize("paper", ["辽宁日报", "铁岭日报", "_"])
def test_years_of_a_paper(dated_client, articles, paper):
    data = _get(dated_client, f"/api/browse/{quote(paper)}", "BrowsePaper")
    mine = [a for a in articles if _paper(a) == paper]
    expected = {}
    for stored in mine:
        if _year(stored):
            expected[_year(stored)] = expected.get(_year(stored), 0) + 1
    assert {y["year"]: y["articles"] for y in data["years"]} == expected
    assert data["undated"] == sum(1 for a in mine if not _year(a))


def test_a_year_is_twelve_calendars_of_the_days_with_articles(dated_client, articles):
    data = _get(dated_client, "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023", "BrowseYear")
    mine = [a for a in articles if _paper(a) == "辽宁日报"]
    days = {}
    for stored in mine:
        date = stored.get("date") or ""
        if len(date) == 10 and date.startswith("2023"):
            days[date] = days.get(date, 0) + 1
    shown = {f"2023-{m['month']:02d}-{d['day']:02d}": d["articles"]
             for m in data["months"] for week in m["weeks"] for d in week if d and d["articles"]}
    assert shown == days
    assert data["year_only"] == sum(1 for a in mine if a.get("date") == "2023"
                                    or (not a.get("date") and a.get("year") == 2023))
    may = data["months"][4]
    assert may["month_only"] == sum(1 for a in mine if a.get("date") == "2023-05")
    assert all(len(week) == 7 for week in may["weeks"])
    assert [d["day"] for week in may["weeks"] for d in week if d] == list(range(1, 32))
    # 1 May 2023 was a Monday: the first week starts with it
    assert may["weeks"][0][0]["day"] == 1


def test_a_month_links_to_the_months_around_it(dated_client):
    data = _get(dated_client, "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5", "BrowseMonth")
    assert data["previous"] == "2023-04" and data["next"] == "2023-06"
    page = dated_client.get("/browse/辽宁日报/2023/5").get_data(as_text=True)
    assert 'href="/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5/1"' in page
    assert re.search(r'<td>4</td>', page)  # a day without articles is not a link
    assert 'rel="next" href="/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/6"' in page


def test_a_day_lists_its_pages_in_order_and_their_articles_in_page_order(dated_client, articles):
    data = _get(dated_client, "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5/1", "BrowseDay")
    on_day = [a for a in articles if _paper(a) == "辽宁日报" and a.get("date") == "2023-05-01"]
    assert data["articles"] == len(on_day)
    assert [p["label"] for p in data["pages"]] == ["第1版", "第2版", "第3版", ""]
    assert [p["page"] for p in data["pages"]][:3] == ["1", "2", "3"]
    for page in data["pages"]:
        expected = sorted((a for a in on_day if (a.get("page_label") or "") == page["label"]),
                          key=lambda a: (a.get("position") or 0, a["id"]))
        assert [a["id"] for a in page["articles"]] == [a["id"] for a in expected]
    assert len(data["pages"][0]["articles"]) > 1  # a page is split into several articles
    # the days around it, in this paper
    dated = sorted({a["date"] for a in articles if _paper(a) == "辽宁日报" and len(a.get("date") or "") == 10})
    at = dated.index("2023-05-01")
    assert (data["previous"], data["next"]) == (dated[at - 1], dated[at + 1])
    page = dated_client.get("/browse/辽宁日报/2023/5/1").get_data(as_text=True)
    links = re.findall(r'<h2><a href="([^"]+)">([^<]+)</a>', page)
    assert [label for _, label in links] == ["第1版", "第2版", "第3版", "无版次"]
    for href, label in links:
        shown = dated_client.get(href)
        assert shown.status_code == 200 and label in re.search(r"<h1>(.*?)</h1>", shown.get_data(as_text=True)).group(1)


def test_a_page_with_the_pages_and_days_around_it(dated_client):
    base = "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5/1"
    second = _get(dated_client, f"{base}/2", "BrowsePage")
    assert second["page"]["label"] == "第2版"
    assert (second["previous_page"], second["next_page"]) == ("1", "3")
    first = _get(dated_client, f"{base}/1", "BrowsePage")
    assert first["previous_page"] is None
    page = dated_client.get("/browse/辽宁日报/2023/5/1/2").get_data(as_text=True)
    assert "← 上一版" in page and "下一版 →" in page and "前一天" in page and "后一天" in page
    for article in second["page"]["articles"]:
        assert f'href="/articles/{article["id"]}"' in page
    assert dated_client.get(re.search(r'href="([^"]+)">整版', page).group(1)).status_code == 200


def test_records_without_a_paper_browse_by_date(dated_client, articles):
    loose = [a for a in articles if _paper(a) == "_" and a.get("date") == "2023-05-02"]
    assert loose
    data = _get(dated_client, "/api/browse/_/2023/5/2", "BrowseDay")
    assert len(data["pages"]) == 1 and data["pages"][0]["label"] == ""
    assert sorted(a["id"] for a in data["pages"][0]["articles"]) == sorted(a["id"] for a in loose)
    assert "无版次" in dated_client.get("/browse/_/2023/5/2").get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/api/browse/人民日报", "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/1999",
    "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/13",
    "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/2/30",
    "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5/4",
    "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/5/1/9",
])
def test_nothing_there_is_a_404_never_a_500(dated_client, url):
    response = dated_client.get(url)
    assert response.status_code == 404
    _check(response.get_json(), "Error")
    page = dated_client.get(url.replace("/api/", "/"))
    assert page.status_code == 404 and "<!doctype html>" in page.get_data(as_text=True)


def test_browsing_takes_no_parameters(dated_client):
    response = dated_client.get("/api/browse?year=2023")
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "year"


def test_month_of_a_year_without_articles_is_a_404_as_the_year_is(dated_client):
    for url in ("/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/0/1", "/api/browse/_/0/1",
                "/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/1999/5"):
        response = dated_client.get(url)
        assert response.status_code == 404, url
        _check(response.get_json(), "Error")
        assert dated_client.get(url.replace("/api/", "/")).status_code == 404
    assert dated_client.get("/api/browse/%E8%BE%BD%E5%AE%81%E6%97%A5%E6%8A%A5/2023/2").status_code == 200


ODD_PAPERS = ["人民日报/海外版", "_", "..", "A~2FB", "a\\b"]


@pytest.fixture(scope="module")
def odd_client(tmp_path_factory):
    """Papers whose names hold what a URL path would split or mistake: a "/", a name that is the
    key of "no paper", a dot segment, what looks like an escape, a backslash; and records
    without a paper."""
    from indexer.build import build_index
    from searchapp.web import create_app

    root = tmp_path_factory.mktemp("odd-papers")
    rows = ["file,date,year,paper,page"]
    for number, paper in enumerate(ODD_PAPERS):
        (root / f"p{number}.txt").write_text(f"\n第{number}版要闻\n\n本报讯 阜新县民生实事见效，第{number}条。\n", "utf-8")
        escaped = paper.replace('"', '""')
        rows.append(f'p{number}.txt,2023-05-0{number + 1},,"{escaped}",第1版')
    (root / "catalog.csv").write_text("\n".join(rows) + "\n", "utf-8")
    (root / "r.jsonl").write_text('{"id": "loose", "text": "阜新", "date": "2023-05-01"}\n', "utf-8")
    report = build_index([root], root.parent / "index", workers=1)
    assert not report.problems, report.problems
    return create_app({"INDEX_DIR": str(root.parent / "index"), "TESTING": True}).test_client()


def test_every_paper_name_browses_down_to_its_page(odd_client):
    listed = _get(odd_client, "/api/browse", "BrowsePapers")["papers"]
    keys = {p["label"]: p["paper"] for p in listed}
    assert set(keys) == {*ODD_PAPERS, "未注明报纸"} and len(set(keys.values())) == len(keys)
    assert keys["未注明报纸"] == "_" and keys["_"] != "_" and all("/" not in key for key in keys.values())
    index = odd_client.get("/browse").get_data(as_text=True)
    for number, paper in enumerate(ODD_PAPERS):
        # From the list of papers, link by link, to the day and the page.
        href = dict((label, link) for link, label in re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', index))
        paper_page = odd_client.get(href[paper.replace("&", "&amp;")])
        assert paper_page.status_code == 200, (paper, href[paper])
        year = re.search(r'<li><a href="([^"]+)">2023 年</a>', paper_page.get_data(as_text=True)).group(1)
        day = re.search(r'<td class="has"><a href="([^"]+)"', odd_client.get(year).get_data(as_text=True)).group(1)
        day_page = odd_client.get(day)
        assert day_page.status_code == 200 and f"2023-05-0{number + 1}" in day_page.get_data(as_text=True)
        page = re.search(r'<h2><a href="([^"]+)">第1版</a>', day_page.get_data(as_text=True)).group(1)
        shown = odd_client.get(page).get_data(as_text=True)
        assert f"第{number}版要闻" in shown
        data = _get(odd_client, "/api" + day, "BrowseDay")
        assert data["label"] == paper and data["paper"] == keys[paper]
        assert [a["title"] for p in data["pages"] for a in p["articles"]] == [f"第{number}版要闻"]
    # "_" is the articles without a paper, not the paper named "_".
    loose = _get(odd_client, "/api/browse/_/2023/5/1", "BrowseDay")
    assert [a["id"] for p in loose["pages"] for a in p["articles"]] == ["loose"]
    assert _get(odd_client, f"/api/browse/{quote(keys['_'])}", "BrowsePaper")["label"] == "_"


@pytest.mark.parametrize("key", ["~2", "~zz", "~41", "%7E2F", "~5F~5F"])
def test_a_key_no_name_has_is_a_404(odd_client, key):
    assert odd_client.get(f"/api/browse/{key}").status_code == 404
