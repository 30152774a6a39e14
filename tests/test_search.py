"""The search core on real indexes: query language, cross-script, recall, facets, snippets."""

import random
import re

import pytest
from pyroaring import BitMap

from indexer.normalize import normalize
from searchapp.core import get_article, related, search
from searchapp.highlight import AnsiFormatter, Formatter, HtmlFormatter
from searchapp.query import Range
from searchapp.request import Query

from conftest import XSS_TEXT


def ids(index, text, **kwargs):
    found, page = [], 1
    while True:
        result = search(index, Query(text=text, per_page=100, result_page=page, **kwargs))
        found.extend(hit.id for hit in result.hits)
        if page >= result.result_pages:
            assert len(found) == result.total
            return found
        page += 1


def all_articles(index):
    searcher = index.searcher()
    return {fields["id"]: fields for fields in searcher.all_stored_fields()}


def test_the_short_item_ranks_first(corpus_search):
    result = search(corpus_search, Query(text="海州区 文明城市"))
    assert result.hits[0].id == "002_45d33814e4b80692-05"
    assert result.hits[0].title == "海州区 获评全省文明城市"


@pytest.mark.parametrize("simplified, traditional", [("细河两岸", "細河兩岸"), ("创新", "創新"), ("侯悦林", "侯悅林")])
def test_cross_script_both_ways(corpus_search, simplified, traditional):
    assert ids(corpus_search, simplified) == ids(corpus_search, traditional)
    assert any(i.startswith("003_") for i in ids(corpus_search, simplified))  # the traditional page
    assert any(not i.startswith("003_") for i in ids(corpus_search, traditional))


def test_line_break_artefacts_do_not_hide_words(corpus_search):
    assert "004_1fb6f0697af30933-02" in ids(corpus_search, '"要想帮助企业解决问题"')
    assert "004_1fb6f0697af30933-02" in ids(corpus_search, '"铁岭市从扎实做好前期工作做起"')
    assert "001_1229933dc2040656-01" in ids(corpus_search, '"主要领导率队出征"')


def test_and_or_not_and_parentheses(corpus_search):
    fuxin, tieling = set(ids(corpus_search, "阜新")), set(ids(corpus_search, "铁岭"))
    assert set(ids(corpus_search, "阜新 铁岭")) == fuxin & tieling
    assert set(ids(corpus_search, "阜新 OR 铁岭")) == fuxin | tieling
    assert set(ids(corpus_search, "阜新 -铁岭")) == fuxin - tieling
    assert set(ids(corpus_search, "阜新 NOT 铁岭")) == fuxin - tieling
    invest = set(ids(corpus_search, "招商"))
    assert set(ids(corpus_search, "(阜新 OR 铁岭) 招商")) == (fuxin | tieling) & invest


def test_field_filters(corpus_search):
    assert set(ids(corpus_search, "city:铁岭")) == {f"004_1fb6f0697af30933-0{i}" for i in range(1, 6)}
    assert set(ids(corpus_search, "year:2021")) == {f"002_45d33814e4b80692-0{i}" for i in range(1, 6)}
    assert set(ids(corpus_search, "year:2020..2021")) == set(ids(corpus_search, "year:2020")) | set(ids(corpus_search, "year:2021"))
    assert set(ids(corpus_search, "district:海州区")) >= {"002_45d33814e4b80692-05"}
    assert "001_1229933dc2040656-01" in ids(corpus_search, "reporter:侯悦林")
    assert ids(corpus_search, "title:开门红") == ["001_1229933dc2040656-01"]
    assert set(ids(corpus_search, "topic:民生")) == set(ids(corpus_search, "", filters={"topic": ("民生",)}))


def test_exact_phrase_versus_scattered_words(corpus_search):
    exact = ids(corpus_search, '"文明城市"')
    loose = ids(corpus_search, "文明 城市")
    assert set(exact) <= set(loose)
    assert loose[0] in exact  # contiguous matches rank above scattered ones


def test_one_character_query(corpus_search):
    everything = all_articles(corpus_search)
    expected = {i for i, f in everything.items() if "沙" in normalize(f["text"])}
    assert set(ids(corpus_search, "沙")) >= expected and expected


def test_recall_guarantee_against_a_substring_scan(generated_search):
    articles = all_articles(generated_search)
    texts = {i: normalize(f["text"]) for i, f in articles.items()}
    titles = {i: normalize(f.get("title", "")) for i, f in articles.items()}
    rng = random.Random(11)
    pool = sorted(texts)
    checked = 0
    while checked < 300:
        source = texts[rng.choice(pool)]
        start = rng.randrange(len(source))
        sample = source[start:start + rng.randint(1, 8)].strip()
        if not sample or re.search(r'["“”]', sample):
            continue
        expected = {i for i in texts if sample in texts[i] or sample in titles[i]}
        assert set(ids(generated_search, f'"{sample}"')) == expected, sample
        if not re.search(r"[\s()（）:：|-]", sample) and sample not in ("OR", "NOT", "AND"):
            assert set(ids(generated_search, sample)) >= expected, sample
        checked += 1


def test_facet_counts_match_a_direct_count(generated_search):
    articles = all_articles(generated_search)
    result = search(generated_search, Query(text="发展", per_page=100))
    matched = set(ids(generated_search, "发展"))
    for facet, field in (("city", "city"), ("district", "district"), ("topic", "topic"), ("year", "year")):
        direct = {}
        for doc_id in matched:
            raw = articles[doc_id].get(field)
            values = [str(raw)] if facet in ("city", "year") else (raw or "").split(",")
            for value in values:
                if value and value != "None":
                    direct[value] = direct.get(value, 0) + 1
        shown = {b.value: b.count for b in result.facets[facet]}
        assert shown == {k: v for k, v in direct.items() if k in shown}
        assert len(shown) == min(len(direct), len(shown)) and shown


def test_filters_or_within_and_across_facets(generated_search):
    q = "发展"
    haizhou = set(ids(generated_search, q, filters={"district": ("海州区",)}))
    xihe = set(ids(generated_search, q, filters={"district": ("细河区",)}))
    both = set(ids(generated_search, q, filters={"district": ("海州区", "细河区")}))
    assert both == haizhou | xihe and haizhou and xihe
    y2019 = set(ids(generated_search, q, filters={"year": (Range(2019, 2019),)}))
    assert set(ids(generated_search, q, filters={"district": ("海州区", "细河区"), "year": (Range(2019, 2019),)})) == both & y2019
    result = search(generated_search, Query(text=q, filters={"district": ("海州区",)}))
    counts = {b.value: b.count for b in result.facets["district"]}
    assert counts["细河区"] == len(xihe)  # a facet's counts ignore its own filter
    assert next(b for b in result.facets["district"] if b.value == "海州区").selected


def test_year_range_parameters(generated_search):
    inside = set(ids(generated_search, "发展", bounds={"year": Range(2012, 2014)}))
    assert inside and inside == set(ids(generated_search, "发展 year:2012..2014"))


def test_sort_by_date_newest_first_and_stable(generated_search):
    result = search(generated_search, Query(text="发展", sort="date", per_page=50))
    dates = [(h.date or str(h.year or "")) for h in result.hits]
    assert dates == sorted(dates, reverse=True)
    assert [h.id for h in result.hits] == [h.id for h in search(generated_search, Query(text="发展", sort="date", per_page=50)).hits]


def test_pagination_covers_each_hit_once(generated_search):
    pages = [search(generated_search, Query(text="发展", per_page=7, result_page=p)) for p in range(1, 4)]
    seen = [h.id for page in pages for h in page.hits]
    assert len(seen) == len(set(seen)) == 21
    assert [h.id for h in search(generated_search, Query(text="发展", per_page=21)).hits] == seen


def test_snippets_mark_and_escape(generated_search):
    result = search(generated_search, Query(text='"测试页面包含"'))
    assert result.total == 1
    snippet = " ".join(result.hits[0].snippets)
    assert "<mark>测试页面包含</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<img" not in snippet and "&quot;&gt;&lt;img" in snippet


def test_snippets_show_original_traditional_characters(corpus_search):
    hit = next(h for h in search(corpus_search, Query(text="细河两岸")).hits if h.id.startswith("003_"))
    assert "<mark>細河兩岸</mark>" in " ".join(hit.snippets)


def test_words_are_marked_whole_and_snippets_are_bounded(corpus_search):
    result = search(corpus_search, Query(text="阜新蒙古族自治县", aliases=False))
    for hit in result.hits:
        assert len(hit.snippets) <= 3
        for snippet in hit.snippets:
            assert len(re.sub("<[^>]+>", "", snippet)) <= 160
            for mark in re.findall("<mark>(.*?)</mark>", snippet):
                assert normalize(mark) == "阜新蒙古族自治县"


def test_ansi_and_plain_formatters(corpus_search):
    ansi = search(corpus_search, Query(text="文明城市"), AnsiFormatter()).hits[0].snippets[0]
    plain = search(corpus_search, Query(text="文明城市"), Formatter()).hits[0].snippets[0]
    assert AnsiFormatter.START + "文明城市" in ansi and "<mark>" not in ansi
    assert "文明城市" in plain and "\x1b" not in plain and "<mark>" not in plain


def test_article_and_related(corpus_search):
    article = get_article(corpus_search, "002_45d33814e4b80692-05", "文明城市", HtmlFormatter())
    assert article.title == "海州区 获评全省文明城市" and article.year == 2021 and not article.year_inferred
    assert any("<mark>文明城市</mark>" in p for p in article.paragraphs)
    assert get_article(corpus_search, "no-such-id") is None
    others = related(corpus_search, "002_45d33814e4b80692-05")
    assert 0 < len(others) <= 5 and all(h.id != "002_45d33814e4b80692-05" for h in others)


def test_empty_text_with_filters_browses_newest_first(corpus_search):
    result = search(corpus_search, Query(filters={"city": ("铁岭",)}))
    assert result.total == 5 and {h.city for h in result.hits} == {"铁岭"}


def test_fast_posting_ids_equal_whoosh_all_ids(generated_search):
    from searchapp.matching import posting_ids
    reader = generated_search.searcher().reader()
    for fieldname, text in (("content", "发"), ("title", "发展"), ("content", "发展"), ("district", "海州区"),
                            ("content", "不存在的词"), ("content", "记录")):
        try:
            expected = set(reader.postings(fieldname, text).all_ids())
        except Exception:
            expected = set()
        assert set(posting_ids(reader, fieldname, text)) == expected


def test_skipping_intersection_equals_set_intersection(generated_search):
    from searchapp.matching import DocSets
    searcher = generated_search.searcher()
    table = generated_search.facet_table(searcher)
    docsets = DocSets(searcher, table.live, table.facets)
    small = BitMap(sorted(table.live)[::9])
    for fieldname, text in (("content", "记者"), ("title", "发展"), ("content", "发展"), ("content", "的"), ("content", "无此词")):
        fresh = DocSets(searcher, table.live, table.facets)
        assert fresh.intersect(small, fieldname, text) == small & docsets.term(fieldname, text)


def test_snippets_never_repeat_a_sentence():
    from searchapp.highlight import find_spans, snippets
    text = ("标题\n“双月调度项目”一改传统会议模式，把会议开到项目现场。其他内容。\n"
            "“双月調度項目”一改傳統會議模式，把會議開到項目現場。\n另一个项目开工。")
    found = snippets(text, find_spans(text, [("项目", [])]), Formatter(), skip_prefix="标题")
    said = [normalize(s).strip("。…") for s in found]
    assert len(said) == len(set(said)) == 2 and "另一个项目开工" in said


def test_a_sentence_printed_twice_on_the_page_is_one_snippet(corpus_search):
    hit = next(h for h in search(corpus_search, Query(text="项目", per_page=100), Formatter()).hits
               if h.id == "002_45d33814e4b80692-01")
    assert len(hit.snippets) == len(set(hit.snippets)) == 3


@pytest.mark.parametrize("text, article_id", [("发展", "003_99244411f5f1c9bb-04"),  # the title starts the text
                                              ("阜新", "001_1229933dc2040656-02")])  # below a column's name
def test_the_title_is_not_repeated_as_a_snippet(corpus_search, text, article_id):
    hit = next(h for h in search(corpus_search, Query(text=text, per_page=100), Formatter()).hits
               if h.id == article_id)
    assert hit.snippets and all(normalize(s).strip("…") != normalize(hit.title) for s in hit.snippets)


@pytest.mark.parametrize("title", [False, True])
def test_a_string_that_is_a_word_is_found_by_its_postings_exactly(generated_search, monkeypatch, title):
    """Documents whose words include a string hold it and are not verified (``SURE_WORDS``; here
    forced on for every word): for each word of three or more characters of the index, the exact
    set is still what a scan of the normalised texts (or titles) finds, traditional pages too."""
    from searchapp import matching
    monkeypatch.setattr(matching, "SURE_WORDS", 1)
    searcher = generated_search.searcher()
    table = generated_search.facet_table(searcher)
    by_number = {docnum: fields for docnum, fields in enumerate(searcher.reader().all_stored_fields())}
    texts = {d: normalize(f["title"] if title else f"{f['title']}\n{f['text']}") for d, f in by_number.items()
             if d in table.live}
    words = sorted({w.decode("utf-8") if isinstance(w, bytes) else w
                    for fieldname in ("content", "title") for w in searcher.reader().lexicon(fieldname)})
    words = [w for w in words if len(w) >= 3]
    assert len(words) > 50
    for word in words:
        docsets = matching.DocSets(searcher, table.live, table.facets)
        expected = {d for d, text in texts.items() if word in text}
        assert set(docsets.exact(word, title=title)) == expected, word
