"""Metadata of an article from its normalised text: places, year, topics, keywords.

What the catalog (or a JSON Lines record) says is kept; only what is missing is inferred.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from indexer.analysis import Segmented
from indexer.gazetteer import load_gazetteer
from indexer.records import Article, CatalogEntry
from indexer.taxonomy import load_taxonomy

ZODIAC = "鼠牛虎兔龙蛇马羊猴鸡狗猪"
ZODIAC_BASE = 2020  # 2020 was a year of the rat (鼠)
_ZODIAC_YEAR = re.compile(f"([{ZODIAC}])年(?:新春|春节|伊始|到来|开局|春运|元宵)")
_EXPLICIT_YEAR = re.compile(r"(?<![\d.])((?:19[5-9]|20[0-4])\d)年(?!度|代|前|以前)")
_THIS_YEAR = re.compile(r"今年[（(]?((?:19[5-9]|20[0-4])\d)年|((?:19[5-9]|20[0-4])\d)年[（(]今年")

KEYWORD_COUNT = 8


def zodiac_year(animal: str, near: int) -> int:
    """The year of ``animal`` closest to ``near`` (蛇 near 2024 -> 2025)."""
    offset = (ZODIAC.index(animal) - (near - ZODIAC_BASE)) % 12
    after = near + offset
    before = after - 12
    return after if after - near <= near - before else before


def infer_year(norm: str, latest: int = 2026) -> tuple[int | None, str]:
    """Publication year from the text, with the evidence; ``(None, "")`` if there is none."""
    explicit = sorted({int(y) for y in _EXPLICIT_YEAR.findall(norm) if int(y) <= latest})
    this_year = _THIS_YEAR.search(norm)
    if this_year:
        year = int(this_year.group(1) or this_year.group(2))
        return year, f"text says 今年 is {year}年"
    zodiac = _ZODIAC_YEAR.search(norm)
    if zodiac:
        anchor = explicit[-1] if explicit else latest - 1
        year = zodiac_year(zodiac.group(1), min(anchor, latest))
        return year, f"text mentions {zodiac.group(0)} ({year})"
    if explicit:
        return explicit[-1], f"latest year named in the text: {explicit[-1]}年"
    return None, ""


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    from jieba.analyse import default_tfidf

    return default_tfidf.idf_freq, default_tfidf.median_idf


def keywords(segmented: Segmented, count: int = KEYWORD_COUNT) -> list[str]:
    """Top TF-IDF words (jieba's IDF table), from the words already segmented."""
    idf, median = idf_table()
    tf = Counter(w for w, _, _ in segmented.words if len(w) > 1 and not w.isdigit())
    scored = sorted(tf.items(), key=lambda item: (-item[1] * idf.get(item[0], median), item[0]))
    return [word for word, _ in scored[:count]]


def enrich(article: Article, norm: str, segmented: Segmented,
           catalog: CatalogEntry | None = None) -> Article:
    """Fill the article's metadata in place (and return it).

    Places are judged in context (``Gazetteer.find`` with the text): an ambiguous district name
    counts only when its city is named nearby or is the article's city, which the record or the
    catalog may give."""
    known_city = article.city or (catalog.city if catalog is not None else "")
    places = load_gazetteer().find(segmented.words, text=norm, city=known_city)
    article.cities = places.cities
    if not article.districts:
        article.districts = places.districts
    if catalog is not None:
        article.date = article.date or catalog.date
        article.paper = article.paper or catalog.paper
        article.page_label = article.page_label or catalog.page
        if catalog.year is not None:
            article.year = catalog.year
            article.year_evidence = f"catalog: {catalog.year_evidence or 'year given'}"
        if catalog.city and not article.city:
            article.city = catalog.city
    if not article.city:
        article.city = places.main_city
    if article.city and article.city not in article.cities:
        article.cities = [article.city, *article.cities]
    if article.year is None:
        year, evidence = infer_year(norm)
        if year is not None:
            article.year, article.year_inferred, article.year_evidence = year, True, evidence
    elif not article.year_evidence:
        article.year_evidence = "date given" if article.date else "year given"
    if not article.topics:
        article.topics = load_taxonomy().classify(norm)
    article.keywords = keywords(segmented)
    return article
