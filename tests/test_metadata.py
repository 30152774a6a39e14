import pytest

from indexer.analysis import segment
from indexer.gazetteer import load_gazetteer
from indexer.metadata import enrich, infer_year, zodiac_year
from indexer.records import Article, CatalogEntry
from indexer.taxonomy import load_taxonomy


@pytest.mark.parametrize("animal, near, year", [("蛇", 2024, 2025), ("蛇", 2026, 2025), ("龙", 2024, 2024), ("马", 2025, 2026)])
def test_zodiac_years(animal, near, year):
    assert zodiac_year(animal, near) == year


@pytest.mark.parametrize("text, year", [
    ("蛇年新春，行走阜新城乡", 2025),
    ("今年（2023年）的目标。2022年增幅居全省前列", 2023),
    ("2020年在6个县区召开现场会，2018—2020年度评选", 2020),
    ("没有年份的文字", None),
])
def test_infer_year(text, year):
    assert infer_year(text)[0] == year


def test_places_are_found_on_tokens_not_substrings():
    places = load_gazetteer().find(w for w, _, _ in segment("搭建平台，阜蒙县和细河区，铁岭的开原").words)
    assert places.main_city == "阜新"
    assert places.districts == ["阜新蒙古族自治县", "细河区", "开原市"]
    assert "建平县" not in places.districts


def test_shared_district_name_goes_to_the_city_mentioned():
    places = load_gazetteer().find(w for w, _, _ in segment("沈阳市铁西区和沈阳的浑南区").words)
    assert places.districts == ["沈阳铁西区", "浑南区"]


def test_topics_are_multi_label_from_the_taxonomy():
    topics = load_taxonomy().classify("优化营商环境，提升政务服务效率，审批更快。招商引资签约项目落地，投资开工。")
    assert topics[:2] == ["招商引资与项目建设", "营商环境"] or set(topics[:2]) == {"招商引资与项目建设", "营商环境"}


def test_catalog_wins_over_inference():
    text = "蛇年新春，阜新市召开大会。"
    article = Article(id="x", source="p.txt", text=text)
    enrich(article, text, segment(text), CatalogEntry("p.txt", year=2019, city="铁岭", year_evidence="print date"))
    assert article.year == 2019 and not article.year_inferred
    assert article.city == "铁岭" and "阜新" in article.cities
    assert article.year_evidence == "catalog: print date"
    inferred = Article(id="y", source="q.txt", text=text)
    enrich(inferred, text, segment(text))
    assert inferred.year == 2025 and inferred.year_inferred and "蛇年" in inferred.year_evidence
