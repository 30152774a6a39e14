"""Dates (issue 11): ``date:`` in the query language, ``date_from`` / ``date_to``, ``--date``,
checked against a direct scan of the indexed articles' dates (with ``datetime``, not the code
under test); hits known only to their year; the timeline's zoom; ``sort=date``."""

from __future__ import annotations

import calendar
import re
from datetime import date

import jsonschema
import pytest

from indexer.build import build_index
from searchapp import core
from searchapp.web import create_app
from searchapp.web.openapi import openapi_document


def _days(text: str, year) -> tuple[date, date] | None:
    """The first and last day an article of this stored date (or only year) may be from."""
    if not text and not year:
        return None
    parts = [int(p) for p in text.split("-")] if text else [int(year)]
    if len(parts) == 3:
        day = date(*parts)
        return day, day
    if len(parts) == 2:
        return date(parts[0], parts[1], 1), date(parts[0], parts[1], calendar.monthrange(*parts)[1])
    return date(parts[0], 1, 1), date(parts[0], 12, 31)


def _end(text: str, last: bool) -> date:
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(*parts)[1] if last else 1)
    return date(parts[0], 12, 31) if last else date(parts[0], 1, 1)


def _scan(articles, start: str | None, end: str | None) -> set[str]:
    low = _end(start, False) if start else date.min
    high = _end(end, True) if end else date.max
    found = set()
    for stored in articles:
        days = _days(stored.get("date") or "", stored.get("year"))
        if days and low <= days[0] and days[1] <= high:
            found.add(stored["id"])
    return found


@pytest.fixture(scope="module")
def articles(dated_search):
    return list(dated_search.searcher().all_stored_fields())


def _ids(client, **params) -> set[str]:
    ids, page = [], 1
    while True:
        data = client.get("/api/search", query_string={**params, "per_page": 100, "page": page}).get_json()
        ids.extend(hit["id"] for hit in data["hits"])
        if page * 100 >= data["total"]:
            assert len(ids) == data["total"]
            return set(ids)
        page += 1


RANGES = [("2023-05-01", "2023-05-01"), ("2023-05", "2023-05"), ("2023", "2023"), ("2022", "2024"),
          ("2023-05-01", "2023-06-30"), ("2023-05-02", "2023-05-31"), ("2023-04-30", "2023-05-01"),
          ("2023-06", None), (None, "2022-12"), ("2024-02-29", None), ("2021", "2021"),
          ("2022-05", "2023-04"), ("1990", "2000")]


def test_the_archive_has_dates_of_every_precision(articles):
    shapes = {len(a.get("date") or "") for a in articles}
    assert shapes == {0, 4, 7, 10}
    assert any(not a.get("date") and a.get("year") for a in articles)  # a year only
    assert any(not a.get("date") and not a.get("year") for a in articles)  # nothing


@pytest.mark.parametrize("start,end", RANGES)
def test_date_ranges_match_a_direct_scan(dated_client, articles, start, end):
    expected = _scan(articles, start, end)
    params = {k: v for k, v in (("date_from", start), ("date_to", end)) if v}
    assert _ids(dated_client, **params) == expected
    written = start if start == end else f"{start or ''}..{end or ''}"
    assert _ids(dated_client, q=f"date:{written}") == expected  # the query language, the same


def test_the_range_forms_select_what_they_say(dated_client, articles):
    may = _ids(dated_client, q="date:2023-05")
    first = _ids(dated_client, q="date:2023-05-01")
    year = _ids(dated_client, q="date:2023")
    assert first < may < year  # a day inside its month inside its year
    only_year = {a["id"] for a in articles if a.get("date") == "2023"}
    only_month = {a["id"] for a in articles if a.get("date") == "2023-05"}
    assert only_year and only_year <= year and not only_year & may  # a year only: not in a month
    assert only_month and only_month <= may and not only_month & first
    assert _ids(dated_client, q="date:2023-05-01.. date:..2023-05-01") == first  # AND of open ends
    assert _ids(dated_client, q="date:2023-05 OR date:2023-06") == may | _ids(dated_client, q="date:2023-06")
    assert _ids(dated_client, q="-date:2023").isdisjoint(year)


def test_dates_combine_with_words_and_facets(dated_client, articles):
    words = _ids(dated_client, q="档案")
    assert _ids(dated_client, q="档案 date:2023") == words & _ids(dated_client, q="date:2023")
    paper = {a["id"] for a in articles if a.get("paper") == "铁岭日报"}
    assert _ids(dated_client, paper="铁岭日报", date_from="2023") == paper & _scan(articles, "2023", None)


@pytest.mark.parametrize("url,parameter", [
    ("/api/search?q=date:2023-13", "date"),  # the field named, as for year:
    ("/api/search?q=date:2023-02-29", "date"),  # the field named, as for year:
    ("/api/search?q=date:2024..2023", "date"),  # the field named, as for year:
    ("/api/search?q=date:..", "date"),  # the field named, as for year:
    ("/api/search?q=date:05/01/2023", "date"),  # the field named, as for year:
    ("/api/search?date_from=2023-02-30", "date_from"),
    ("/api/search?date_to=20230501", "date_to"),
    ("/api/search?date_from=2023..2024", "date_from"),
    ("/api/search?date_from=2024&date_to=2023", "date_from"),
])
def test_bad_dates_are_named_400s(dated_client, url, parameter):
    response = dated_client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["parameter"] == parameter and error["reason"] == "bad_date"
    document = openapi_document()
    jsonschema.validate(response.get_json(), {"$ref": "#/components/schemas/Error",
                                              "components": document["components"]})


def test_the_page_says_a_bad_date_in_chinese(dated_client):
    response = dated_client.get("/?q=date:2023-13")
    assert response.status_code == 400
    assert "日期请写成 2023、2023-05 或 2023-05-01" in response.get_data(as_text=True)
    reversed_ = dated_client.get("/?q=阜新&date_from=2024&date_to=2023")
    assert reversed_.status_code == 400 and "起始日期的范围结束早于开始" in reversed_.get_data(as_text=True)


def test_a_hit_known_only_to_its_year_says_so(dated_client, articles):
    year_only = next(a for a in articles if not a.get("date") and a.get("year") == 2021)
    hits = dated_client.get("/api/search", query_string={"q": "date:2021", "per_page": 100}).get_json()["hits"]
    hit = next(h for h in hits if h["id"] == year_only["id"])
    assert hit["when"] == "2021 年，日期不详" and "date" not in hit
    only_year = next(h for h in hits if h.get("date") == "2021")  # a record dated "2021"
    assert only_year["when"] == "2021 年，日期不详"
    days = dated_client.get("/api/search", query_string={"q": "date:2023-05", "per_page": 100}).get_json()["hits"]
    assert {h["when"] for h in days if h.get("date") == "2023-05"} == {"2023 年 5 月，日期不详"}
    assert all(h["when"] == h["date"] for h in days if len(h.get("date", "")) == 10)
    page = dated_client.get("/?q=date:2021").get_data(as_text=True)
    assert "2021 年，日期不详" in page


def test_the_cli_takes_a_date(cli, dated_index, articles):
    done = cli("search", "档案", "--date", "2023-05", "--json", "--per-page", "100", index_dir=dated_index)
    assert done.returncode == 0, done.stderr
    import json
    data = json.loads(done.stdout)
    words = {a["id"] for a in articles if a["title"].startswith("档案")}
    assert {h["id"] for h in data["hits"]} == words & _scan(articles, "2023-05", "2023-05")
    ranged = json.loads(cli("search", "档案", "--date", "2023-05-02..", "--json", "--per-page", "100",
                            index_dir=dated_index).stdout)
    assert {h["id"] for h in ranged["hits"]} == words & _scan(articles, "2023-05-02", None)
    for command in ("search", "export", "kwic"):  # the option given is the one named
        bad = cli(command, "档案", "--date", "2023-5-40", index_dir=dated_index)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stdout == ""
        assert bad.stderr == "newsearch: error: --date: '2023-5-40' is not a date: 2023-05 has 31 days\n"
        empty = cli(command, "档案", "--date", "..", index_dir=dated_index)
        assert empty.returncode == 2 and empty.stderr.startswith("newsearch: error: --date: '..' is not a range")
        reversed_ = cli(command, "档案", "--date", "2024..2023", index_dir=dated_index)
        assert reversed_.returncode == 2 and "--date: the range 2024..2023 ends before it starts" in reversed_.stderr


def _timeline_counts(articles, ids, period_of) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stored in articles:
        if stored["id"] in ids:
            period = period_of(stored.get("date") or "", stored.get("year"))
            if period:
                counts[period] = counts.get(period, 0) + 1
    return counts


def test_the_timeline_zooms_from_years_to_months_to_days(dated_client, articles):
    everything = {a["id"] for a in articles}
    years = dated_client.get("/api/search?q=date:1000..9999").get_json()["timeline"]
    assert years["interval"] == "year" and years["period"] == ""
    assert {p["period"]: p["count"] for p in years["points"]} == _timeline_counts(
        articles, everything, lambda d, y: (d[:4] or (str(y) if y else "")))

    months = dated_client.get("/api/search?date_from=2023&date_to=2023").get_json()["timeline"]
    in_2023 = _scan(articles, "2023", "2023")
    assert months["interval"] == "month" and months["period"] == "2023"
    assert {p["period"]: p["count"] for p in months["points"]} == _timeline_counts(
        articles, in_2023, lambda d, y: d[:7] if len(d) >= 7 else "")
    assert months["imprecise"] == sum(1 for a in articles if a["id"] in in_2023 and len(a.get("date") or "") < 7)
    assert months["imprecise"] > 0

    days = dated_client.get("/api/search?date_from=2023-05&date_to=2023-05").get_json()["timeline"]
    in_may = _scan(articles, "2023-05", "2023-05")
    assert days["interval"] == "day" and days["period"] == "2023-05"
    assert {p["period"]: p["count"] for p in days["points"]} == _timeline_counts(
        articles, in_may, lambda d, y: d if len(d) == 10 else "")
    assert days["imprecise"] == sum(1 for a in articles if a.get("date") == "2023-05")


def test_the_pages_timeline_links_zoom_in(dated_client):
    page = dated_client.get("/?q=档案").get_data(as_text=True)
    svg = page[page.index('<svg class="timeline"'):page.index("</svg>")]
    assert "date_from=2023&amp;date_to=2023" in svg  # a year zooms to its months
    months = dated_client.get("/?q=档案&date_from=2023&date_to=2023").get_data(as_text=True)
    svg = months[months.index('<svg class="timeline"'):months.index("</svg>")]
    assert "date_from=2023-05&amp;date_to=2023-05" in svg
    assert "<title>2023 年 5 月：" in svg
    assert "只知年份" in months  # the articles of 2023 without a month are said, not dropped
    days = dated_client.get("/?q=档案&date_from=2023-05&date_to=2023-05").get_data(as_text=True)
    svg = days[days.index('<svg class="timeline"'):days.index("</svg>")]
    assert "date_from=2023-05-01&amp;date_to=2023-05-01" in svg
    assert "日期：2023-05" in days  # the chip that removes the filter
    assert 'href="/?q=%E6%A1%A3%E6%A1%88&amp;date_from=2023&amp;date_to=2023"' in days  # zoom out to the year


def test_sort_by_date_is_newest_first_with_stable_ties(dated_client, articles):
    stored = {a["id"]: a for a in articles}
    data = dated_client.get("/api/search?q=date:1000..9999&sort=date&per_page=100").get_json()
    keys = []
    for hit in data["hits"]:
        first, last = _days(stored[hit["id"]].get("date") or "", stored[hit["id"]].get("year"))
        keys.append(stored[hit["id"]].get("date") or str(stored[hit["id"]].get("year")))
    assert [h["id"] for h in data["hits"]] == [
        h["id"] for h in dated_client.get("/api/search?q=date:1000..9999&sort=date&per_page=100").get_json()["hits"]]
    # newest first by the sort date (a year only sorts as the year's start: after its dated days)
    numbers = [int((k.replace("-", "") + "0000")[:8]) for k in keys]
    assert numbers == sorted(numbers, reverse=True)
    paged = [h["id"] for page in (1, 2, 3, 4)
             for h in dated_client.get(f"/api/search?q=date:1000..9999&sort=date&per_page=10&page={page}").get_json()["hits"]]
    assert paged == [h["id"] for h in data["hits"]][:len(paged)]


def test_dates_are_read_once_when_indexed(tmp_path):
    """The review's repro: a record dated "2023-13" made /api/trends a 500 (the month 13 reached
    the calendar); a catalog's "2023/05/06" was stored as written and no date filter found it."""
    archive = tmp_path / "archive"
    (archive / "pages").mkdir(parents=True)
    (archive / "pages" / "p.txt").write_text("\n阜新县 民生实事见效\n\n本报讯 阜新县的民生实事见效。\n", "utf-8")
    (archive / "catalog.csv").write_text("file,date,year,paper,page\npages/p.txt,2023/05/06,,辽宁日报,第2版\n",
                                         "utf-8")
    (archive / "records.jsonl").write_text(
        '{"id":"b1","text":"阜新","date":"2023-13"}\n{"id":"b2","text":"阜新","date":"2023-5-4"}\n', "utf-8")
    report = build_index([archive], tmp_path / "index", workers=1)
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()

    trends = client.get("/api/trends?q=阜新&interval=month")
    assert trends.status_code == 200
    assert [str(p) for p in report.problems] == [
        f"{archive / 'records.jsonl'}:1: \"date\" '2023-13' is not a date: there is no month 13; "
        "only its year is kept"]
    assert [(p["period"], p["count"]) for p in trends.get_json()["series"][0]["points"]] == [
        ("2023-05", 2)]
    hits = {h["id"]: h for h in client.get("/api/search?q=阜新&per_page=100").get_json()["hits"]}
    assert (hits["b1"]["date"], hits["b1"]["when"]) == ("2023", "2023 年，日期不详")
    assert (hits["b2"]["date"], hits["b2"]["when"]) == ("2023-05-04", "2023-05-04")
    on_day = client.get("/api/search?q=date:2023-05-06").get_json()["hits"]
    assert on_day and all(h["date"] == "2023-05-06" and h["paper"] == "辽宁日报" for h in on_day)
    day = client.get("/api/browse/辽宁日报/2023/5/6")
    assert day.status_code == 200
    assert {a["id"] for p in day.get_json()["pages"] for a in p["articles"]} == {h["id"] for h in on_day}


@pytest.mark.parametrize("date, year, shown", [
    ("2023-05-01", 2023, "2023-05-01"), ("2023-05", 2023, "2023 年 5 月，日期不详"),
    ("2023", 2023, "2023 年，日期不详"), ("", 2021, "2021 年，日期不详"), ("", None, ""),
    ("2023-13", 2023, "2023 年，日期不详"),  # an impossible date, as an older index may hold
    ("2023-02-30", 2023, "2023 年，日期不详"),
])
def test_when_reads_the_stored_date(date, year, shown):
    assert core.when(date, year) == shown
