"""A real browser (Debian's chromium through chromium-driver) on `newsearch serve` (gunicorn).

`.ci/run` (and `make test`) install chromium and chromium-driver when they are missing.
"""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, served
from indexer.normalize import normalize

SCREENSHOTS = ROOT / "build" / "screenshots"
pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def server(generated_index):
    with served("--index-dir", str(generated_index)) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "install Debian's chromium and chromium-driver (bash .ci/ensure-chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1200,1400",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _total(browser) -> int:
    return int(browser.find_element(By.ID, "total").text)


def test_search_facet_paginate_open_and_go_back(server, browser):
    wait = WebDriverWait(browser, 15)
    browser.get(server + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("发展")
    box.submit()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))
    marks = browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
    assert marks and all(normalize(m.text) == "发展" for m in marks)  # 發展 on traditional pages
    before = _total(browser)

    bucket = browser.find_element(By.CSS_SELECTOR, '.facet[data-facet="district"] a.bucket[data-value="海州区"]')
    facet_count = int(bucket.find_element(By.CSS_SELECTOR, ".count").text)
    bucket.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".chip")))
    assert "海州区" in browser.find_element(By.CSS_SELECTOR, ".chip").text
    assert _total(browser) == facet_count < before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "results.png"))

    browser.find_element(By.CSS_SELECTOR, ".chip").click()  # remove the filter again
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, ".chip"))
    assert _total(browser) == before

    browser.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'a[rel="prev"]')))
    assert "page=2" in browser.current_url
    results_url = browser.current_url

    first = browser.find_element(By.CSS_SELECTOR, "li.hit h2 a")
    title = first.text
    first.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.article h1")))
    assert browser.find_element(By.CSS_SELECTOR, "article.article h1").text == title
    assert normalize(browser.find_element(By.ID, "first-match").text) == "发展"
    browser.save_screenshot(str(SCREENSHOTS / "article.png"))

    browser.back()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.hits")))
    assert browser.current_url == results_url


def test_phone_width_layout(server, browser):
    browser.set_window_size(390, 844)
    try:
        browser.get(server + "/?q=发展")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400  # no sideways scrolling
        browser.save_screenshot(str(SCREENSHOTS / "phone.png"))
    finally:
        browser.set_window_size(1200, 1400)


def test_phone_timeline_is_readable_and_long_facets_open(server, browser):
    browser.set_window_size(360, 800)
    try:
        browser.get(server + "/?q=发展")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        labels = browser.find_elements(By.CSS_SELECTOR, ".timeline text")
        assert labels and any(label.get_attribute("class") == "count" for label in labels)
        for label in labels:  # 12 CSS px, not scaled down with the chart
            assert browser.execute_script("return parseFloat(getComputedStyle(arguments[0]).fontSize)", label) >= 12
            assert label.rect["height"] >= 11
        boxes = [label.rect for label in labels if label.get_attribute("class") == "year"]
        assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:]))  # no overlaps
        more = browser.find_element(By.CSS_SELECTOR, '.facet[data-facet="year"] details.more')
        hidden = more.find_elements(By.CSS_SELECTOR, "a.bucket")
        assert hidden and not hidden[0].is_displayed()
        more.find_element(By.TAG_NAME, "summary").click()
        assert hidden[0].is_displayed()
        browser.save_screenshot(str(SCREENSHOTS / "phone-360.png"))
    finally:
        browser.set_window_size(1200, 1400)
