"""The researchers' tools (issue 11) in a real browser on `newsearch serve`, over the dated
archive: browsing by issue, the timeline's zoom, trends, on a desktop and on a phone. Screenshots
go to build/screenshots/ to be looked at."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import served
from test_browser import SCREENSHOTS, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def archive_server(dated_index):
    with served("--index-dir", str(dated_index)) as running:
        yield running.url


def _shot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _click(browser, wait, css: str, text: str | None = None):
    def found(driver):
        for element in driver.find_elements(By.CSS_SELECTOR, css):
            if text is None or element.text.strip() == text:
                return element
        return False
    element = wait.until(found)
    element.click()


def test_browse_from_the_papers_to_a_page_and_on(archive_server, browser):
    browser.set_window_size(1200, 1400)
    wait = WebDriverWait(browser, 15)
    browser.get(archive_server + "/")
    _click(browser, wait, "footer a", "按日期浏览")
    wait.until(EC.title_contains("浏览"))
    _click(browser, wait, ".papers a", "辽宁日报")
    _click(browser, wait, ".years a", "2023 年")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".months .calendar")))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".months .calendar")) == 12
    _shot(browser, "browse-year")
    _click(browser, wait, ".calendar caption a", "5 月")
    _click(browser, wait, ".calendar td.has a", "1")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".issue-page")))
    pages = [h.text.split()[0] for h in browser.find_elements(By.CSS_SELECTOR, ".issue-page h2")]
    assert pages[:3] == ["第1版", "第2版", "第3版"]
    _shot(browser, "browse-day")
    _click(browser, wait, ".issue-page h2 a", "第2版")
    wait.until(lambda d: "第2版" in d.find_element(By.TAG_NAME, "h1").text)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".issue-page")) == 1
    _click(browser, wait, ".pager a", "下一版 →")
    wait.until(lambda d: "第3版" in d.find_element(By.TAG_NAME, "h1").text)
    first_article = browser.find_element(By.CSS_SELECTOR, ".page-articles a")
    title = first_article.text
    first_article.click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == title)
    browser.back()
    _click(browser, wait, ".pager a.next-day")
    wait.until(lambda d: "2023-05-02" in d.find_element(By.TAG_NAME, "h1").text)  # a record of that paper


def test_the_timeline_zooms_by_clicking(archive_server, browser):
    browser.set_window_size(1200, 1400)
    wait = WebDriverWait(browser, 15)
    browser.get(archive_server + "/?q=档案")
    total = int(browser.find_element(By.ID, "total").text)
    year = wait.until(lambda d: next((a for a in d.find_elements(By.CSS_SELECTOR, ".timeline a")
                                      if "2023 年" in (a.get_attribute("aria-label") or "")), False))
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", year)
    wait.until(EC.url_contains("date_from=2023"))
    in_year = int(browser.find_element(By.ID, "total").text)
    assert 0 < in_year < total
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".timeline text.year")]
    assert labels == ["1月", "3月", "5月", "7月", "9月", "11月"]
    assert "只知年份" in browser.find_element(By.CSS_SELECTOR, ".timeline-note").text
    _shot(browser, "timeline-months")
    month = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".timeline a")
                 if "5 月" in (a.get_attribute("aria-label") or ""))
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", month)
    wait.until(EC.url_contains("date_from=2023-05"))
    assert int(browser.find_element(By.ID, "total").text) < in_year
    _click(browser, wait, ".timeline-note a", "← 2023 年")
    wait.until(lambda d: int(d.find_element(By.ID, "total").text) == in_year)


def test_trends_and_browsing_on_a_phone(archive_server, browser):
    browser.set_window_size(360, 800)
    try:
        wait = WebDriverWait(browser, 15)
        browser.get(archive_server + "/trends?q=档案&q=发展")
        chart = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "svg.trend")))
        assert chart.size["width"] <= 360
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 360  # nothing sticks out of the page (the table scrolls in its box)
        font = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('svg.trend text')).fontSize)")
        assert font >= 12
        _shot(browser, "trends-phone")
        browser.get(archive_server + "/browse/辽宁日报/2023/5")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".calendar")))
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        _shot(browser, "browse-month-phone")
    finally:
        browser.set_window_size(1200, 1400)


def _get_json(url: str):
    import json
    from urllib.request import urlopen

    with urlopen(url, timeout=30) as response:
        return json.load(response)


def test_the_concordance_sorts_and_each_line_lands_on_its_occurrence(archive_server, browser):
    from urllib.parse import quote

    from indexer.normalize import normalize

    browser.set_window_size(1200, 1400)
    wait = WebDriverWait(browser, 15)
    browser.get(archive_server + "/kwic?q=发展&per_page=20")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.kwic tbody tr")))
    data = _get_json(archive_server + "/api/kwic?q=" + quote("发展") + "&per_page=20")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.kwic tbody tr")
    assert len(rows) == len(data["lines"]) == 20
    assert browser.find_element(By.ID, "total-lines").text == str(data["total_lines"])
    matches = browser.find_elements(By.CSS_SELECTOR, "table.kwic td.match")
    assert {normalize(m.text) for m in matches} == {"发展"}
    assert len({round(m.rect["x"]) for m in matches}) == 1  # the matches one above the other
    dates = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table.kwic td.date")]
    assert dates == [line["when"] or "—" for line in data["lines"]]
    _shot(browser, "kwic")

    _click(browser, wait, ".summary a", "左语境")
    wait.until(EC.url_contains("sort=left"))
    assert browser.find_element(By.CSS_SELECTOR, ".summary strong").text == "左语境"
    by_left = _get_json(archive_server + "/api/kwic?q=" + quote("发展") + "&sort=left&per_page=20")
    lefts = [cell.get_attribute("textContent") for cell in browser.find_elements(By.CSS_SELECTOR, "table.kwic td.left")]
    assert lefts == [line["left"] for line in by_left["lines"]]
    _shot(browser, "kwic-by-left")

    # A line of an article with several lines: its link lands on that occurrence, not the first.
    counts: dict[str, int] = {}
    for line in by_left["lines"]:
        counts[line["id"]] = counts.get(line["id"], 0) + 1
    every = _get_json(archive_server + "/api/kwic?q=" + quote("发展") + "&per_page=500")["lines"]
    chosen = None
    for at, line in enumerate(by_left["lines"]):
        offsets = sorted(other["offset"] for other in every if other["id"] == line["id"])
        if offsets.index(line["offset"]) > 0:
            chosen, rank = at, offsets.index(line["offset"])
            break
    assert chosen is not None
    link = browser.find_elements(By.CSS_SELECTOR, "table.kwic td.match a")[chosen]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    wait.until(EC.url_contains("#match-at"))
    marked = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".body mark.at")))
    marks = browser.find_elements(By.CSS_SELECTOR, ".body mark")
    assert [m.get_attribute("class") for m in marks].index("at") == rank
    assert normalize(marked.text) == "发展"
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", marked)
    assert 0 <= top <= browser.execute_script("return window.innerHeight")  # scrolled to it
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", marked)
    assert outline == "solid"
    _shot(browser, "kwic-line-in-article")


def test_the_result_pages_tools_and_the_articles_citation(archive_server, browser):
    import feedparser
    from urllib.request import urlopen

    browser.set_window_size(1200, 1400)
    wait = WebDriverWait(browser, 15)
    browser.get(archive_server + "/?q=档案&paper=辽宁日报")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))
    total = int(browser.find_element(By.ID, "total").text)
    exports = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.export")}
    assert set(exports) == {"导出 CSV", "导出 JSON Lines"}
    with urlopen(exports["导出 CSV"], timeout=30) as response:
        assert response.headers["X-Total-Count"] == str(total)
        assert response.read().startswith(b"\xef\xbb\xbfid,title,")
    with urlopen(exports["导出 JSON Lines"], timeout=30) as response:
        assert len(response.read().decode("utf-8").splitlines()) == total
    feed_link = browser.find_element(By.CSS_SELECTOR, "a.feed")
    assert feed_link.text == "订阅"
    with urlopen(feed_link.get_attribute("href"), timeout=30) as response:
        feed = feedparser.parse(response.read())
    assert not feed.bozo and len(feed.entries) == min(total, 50)
    _shot(browser, "results-tools")

    first = browser.find_element(By.CSS_SELECTOR, "ol.hits li.hit h2 a")
    title = first.text
    first.click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == title)
    cite = browser.find_element(By.CSS_SELECTOR, "section.cite")
    browser.execute_script("arguments[0].scrollIntoView()", cite)
    assert cite.find_element(By.TAG_NAME, "h2").text == "引用"
    citation = browser.find_element(By.ID, "citation").text
    assert "[N]" in citation and "辽宁日报" in citation
    permalink = browser.find_element(By.ID, "permalink").get_attribute("href")
    assert browser.current_url.split("?")[0].split("#")[0] == permalink
    links = {a.text: a.get_attribute("href") for a in cite.find_elements(By.CSS_SELECTOR, ".cite-links a")}
    assert set(links) == {"RIS", "BibTeX"}
    with urlopen(links["RIS"], timeout=30) as response:
        ris = response.read().decode("utf-8")
    assert ris.startswith("TY  - NEWS") and f"UR  - {permalink}" in ris
    with urlopen(links["BibTeX"], timeout=30) as response:
        assert response.read().decode("utf-8").startswith("@article{")
    _shot(browser, "article-cite")
    browser.set_window_size(360, 800)
    try:
        browser.get(archive_server + "/kwic?q=发展&per_page=20")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.kwic")))
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        _shot(browser, "kwic-phone")
    finally:
        browser.set_window_size(1200, 1400)
