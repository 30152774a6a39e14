"""Trends (issue 11): ``/api/trends`` and ``/trends``, the counts and per_1000 computed again here
from the articles' stored dates (a direct count, not the code under test)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import jsonschema
import pytest

from searchapp import trends as core_trends
from searchapp.request import Query
from searchapp.store import SearchIndex
from searchapp.web.openapi import openapi_document


def _check(data, name):
    document = openapi_document()
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


@pytest.fixture(scope="module")
def articles(dated_search):
    return list(dated_search.searcher().all_stored_fields())


def _matching(client, **params) -> set[str]:
    ids, page = set(), 1
    while True:
        data = client.get("/api/search", query_string={**params, "per_page": 100, "page": page}).get_json()
        ids |= {hit["id"] for hit in data["hits"]}
        if page * 100 >= data["total"]:
            return ids
        page += 1


def _period(stored, interval: str) -> str:
    text = stored.get("date") or ""
    if interval == "year":
        return text[:4] or (str(stored["year"]) if stored.get("year") else "")
    return text[:7] if len(text) >= 7 else ""


def _expected(articles, matching: set[str], interval: str, within=lambda stored: True):
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for stored in articles:
        period = _period(stored, interval)
        if not period or not within(stored):
            continue
        sizes[period] = sizes.get(period, 0) + 1
        counts[period] = counts.get(period, 0) + (stored["id"] in matching)
    return {period: (counts[period], round(1000 * counts[period] / sizes[period], 3)) for period in sizes}, sizes


@pytest.mark.parametrize("interval", ["year", "month"])
def test_counts_and_per_1000_match_a_direct_count(dated_client, articles, interval):
    queries = ["档案", "发展", '"阜新"']
    response = dated_client.get("/api/trends", query_string={"q": queries, "interval": interval})
    assert response.status_code == 200
    data = response.get_json()
    _check(data, "Trends")
    assert data["interval"] == interval and [s["q"] for s in data["series"]] == queries
    for series, text in zip(data["series"], queries):
        matching = _matching(dated_client, q=text)
        expected, sizes = _expected(articles, matching, interval)
        assert {p["period"]: (p["count"], p["per_1000"]) for p in series["points"]} == expected
        assert series["total"] == len(matching)
        assert [p["period"] for p in series["points"]] == sorted(expected)  # in time order, zeros kept
    assert {p["period"]: p["articles"] for p in data["periods"]} == sizes
    assert any(p["count"] == 0 for s in data["series"] for p in s["points"])


def test_filters_apply_to_every_query_and_to_the_denominator(dated_client, articles):
    data = dated_client.get("/api/trends?q=档案&q=发展&paper=铁岭日报").get_json()
    _check(data, "Trends")
    assert data["filters"] == {"paper": ["铁岭日报"]}
    in_paper = lambda stored: stored.get("paper") == "铁岭日报"  # noqa: E731
    for series in data["series"]:
        matching = _matching(dated_client, q=series["q"], paper="铁岭日报")
        expected, _ = _expected(articles, matching, "year", in_paper)
        assert {p["period"]: (p["count"], p["per_1000"]) for p in series["points"]} == expected
    dated = dated_client.get("/api/trends?q=档案&date_from=2023&date_to=2023&interval=month").get_json()
    assert {p["period"][:4] for p in dated["periods"]} == {"2023"}


@pytest.mark.parametrize("url,parameter,reason", [
    ("/api/trends", "q", "missing_query"),
    ("/api/trends?" + "&".join(f"q=词{i}" for i in range(6)), "q", "too_many_queries"),
    ("/api/trends?q=档案&interval=week", "interval", "not_an_interval"),
    ("/api/trends?q=(档案", "q", "unclosed_parenthesis"),
    ("/api/trends?q=档案&measure=count", "measure", "unknown_parameter"),
    ("/api/trends?q=档案&date_from=2023-13", "date_from", "bad_date"),
])
def test_bad_requests_are_named_400s(dated_client, url, parameter, reason):
    response = dated_client.get(url)
    assert response.status_code == 400
    _check(response.get_json(), "Error")
    error = response.get_json()["error"]
    assert (error["parameter"], error["reason"]) == (parameter, reason)


def test_the_page_draws_a_line_per_query_and_links_each_point(dated_client):
    response = dated_client.get("/trends?q=档案&q=发展")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    svg = page[page.index('<svg class="trend"'):page.index("</svg>")]
    data = dated_client.get("/api/trends?q=档案&q=发展").get_json()
    periods = len(data["periods"])
    assert svg.count('<circle class="s0"') == periods and svg.count('<circle class="s1"') == periods
    assert svg.count('<line class="s0"') == periods - 1
    links = [unescape(href) for href in re.findall(r'<a href="([^"]+)"', svg)]
    assert len(links) == 2 * periods
    first = parse_qs(urlparse(links[0]).query)
    assert first["q"] == ["档案"] and first["date_from"] == first["date_to"] == [data["periods"][0]["period"]]
    total = dated_client.get(links[0]).get_data(as_text=True)
    assert re.search(r'<span id="total">(\d+)</span>', total).group(1) == str(data["series"][0]["points"][0]["count"])
    assert "每千篇" in page and 'class="trend-table"' in page
    counts = dated_client.get("/trends?q=档案&measure=count").get_data(as_text=True)
    assert "最高 " in counts and "（篇数）" in counts
    assert dated_client.get("/trends").status_code == 200  # the empty form
    assert dated_client.get("/trends?q=档案&interval=week").status_code == 400


def test_queries_are_escaped_on_the_page(dated_client):
    evil = '"<script>alert(1)</script>"'
    page = dated_client.get("/trends", query_string={"q": evil}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def _points(svg: str) -> list[tuple[str, float, str]]:
    """(css class, x in per cent, the period its link searches) of each point of a chart."""
    found = []
    for href, css, x in re.findall(r'<a href="([^"]+)"[^>]*><circle class="(s\d)" cx="([\d.]+)%"', svg):
        found.append((css, float(x), parse_qs(urlparse(unescape(href)).query)["date_from"][0]))
    return found


def test_a_point_links_to_its_period_within_the_dates_asked_for(dated_client):
    """The review: a trend filtered to May 2023, per year, linked 2023's point to all of 2023."""
    page = dated_client.get("/trends?q=档案&date_from=2023-05&date_to=2023-05").get_data(as_text=True)
    svg = page[page.index('<svg class="trend"'):page.index("</svg>")]
    links = [parse_qs(urlparse(unescape(href)).query) for href in re.findall(r'<a href="([^"]+)"', svg)]
    assert [(link["date_from"], link["date_to"]) for link in links] == [(["2023-05"], ["2023-05"])]
    data = dated_client.get("/api/trends?q=档案&date_from=2023-05&date_to=2023-05").get_json()
    found = dated_client.get("/api/search", query_string={k: v[0] for k, v in links[0].items()}).get_json()
    assert found["total"] == data["series"][0]["points"][0]["count"]
    wide = dated_client.get("/trends?q=档案&date_from=2022-12-31&interval=month").get_data(as_text=True)
    assert "date_from=2022-12-31&amp;date_to=2022-12" in wide  # December from its last day on


def test_the_chart_puts_periods_on_a_time_axis_with_gaps(dated_client):
    data = dated_client.get("/api/trends?q=档案&interval=month").get_json()
    periods = [p["period"] for p in data["periods"]]
    assert "2022-05" in periods and "2022-12" in periods and not any("2022-06" <= p < "2022-12" for p in periods)
    page = dated_client.get("/trends?q=档案&interval=month").get_data(as_text=True)
    svg = page[page.index('<svg class="trend"'):page.index("</svg>")]
    first, last = (int(p[:4]) * 12 + int(p[5:]) - 1 for p in (periods[0], periods[-1]))
    months = last - first + 1  # every month from the first to the last
    slot = 100 / months
    points = _points(svg)
    assert [period for _, _, period in points] == periods
    for _, x, period in points:
        assert x == pytest.approx((int(period[:4]) * 12 + int(period[5:]) - 1 - first + 0.5) * slot, abs=0.01)
    # A line joins only periods next to each other in time.
    neighbours = sum(1 for a, b in zip(periods, periods[1:])
                     if int(b[:4]) * 12 + int(b[5:]) - int(a[:4]) * 12 - int(a[5:]) == 1)
    assert svg.count('<line class="s0"') == neighbours < len(periods) - 1


class _OneVersionIndex(SearchIndex):
    """The real index, saying how many times a searcher was asked for: each ask may return a
    newer version of the index (after a refresh), whose document numbers are not the old ones'."""

    asked = 0

    def searcher(self):
        self.asked += 1
        return super().searcher()


def test_all_queries_of_a_trend_read_one_index_version(dated_index):
    index = _OneVersionIndex(dated_index)
    found = core_trends.trends(index, ["档案", "发展", "阜新"], Query(), "year")
    assert len(found.series) == 3 and index.asked == 1


def test_aliases_are_taken_as_the_search_takes_them(dated_client):
    totals = []
    for aliases in ("0", "1"):
        response = dated_client.get(f"/api/trends?q=阜蒙县&aliases={aliases}")
        assert response.status_code == 200
        _check(response.get_json(), "Trends")
        totals.append(response.get_json()["series"][0]["total"])
        assert totals[-1] == dated_client.get(f"/api/search?q=阜蒙县&aliases={aliases}").get_json()["total"]
    assert totals[0] < totals[1]  # 阜新蒙古族自治县 is found only with the aliases
    page = dated_client.get("/trends?q=阜蒙县&aliases=0").get_data(as_text=True)
    assert "aliases=0" in page  # kept in the form and in each point's link
