from pathlib import Path

import pytest

from indexer.articles import byline_names, photo_credit, split_page
from indexer.records import Page
from indexer.sources import page_id_of

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _split(name):
    text = (CORPUS / name).read_text("utf-8")
    return text, split_page(Page(f"/archive/{name}", f"archive/{name}", page_id_of(name), text, "utf-8"))


def test_articles_partition_the_page():
    for path in sorted(CORPUS.glob("*.txt")):
        text, articles = _split(path.name)
        joined = "".join(a.text for a in articles)
        assert "".join(text.split()) == "".join(joined.split())


def test_page_001_main_piece_and_sidebar_items():
    _, articles = _split("001_1229933dc2040656.txt")
    main = articles[0]
    assert main.title == "跑好第一棒 冲刺开门红"
    assert main.subtitle == "阜新用实干和拼搏推动“三年行动”开好局起好步"
    assert main.reporters == ["侯悦林"]
    assert "李冬岩" in main.photographers
    items = articles[1:]
    assert [a.title.split()[0] for a in items] == ["阜新县", "彰武县", "海州区", "细河区", "太平区", "新邱区", "清河门区"]
    assert all(a.kind == "news" and a.column == "县区扫描" for a in items)
    assert all(a.reporters == ["田甜"] for a in items)  # "本组稿件由本报记者田甜采写"


def test_haizhou_civilised_city_is_its_own_short_item():
    _, articles = _split("002_45d33814e4b80692.txt")
    item = next(a for a in articles if a.title == "海州区 获评全省文明城市")
    assert item.kind == "news" and item.column == "阜新时讯"
    assert len(item.text) < 600 and "全省文明城市" in item.text
    assert "三大调度机制" not in item.text


def test_bylines_with_spaced_names_and_two_reporters():
    _, articles = _split("000_4137a59cd7bc1a7b.txt")
    assert articles[0].title == "强势开局 实干争先"
    assert articles[0].subtitle == "阜新市向决胜之年目标任务发起冲锋"
    assert articles[0].reporters == ["田甜", "张铭哲"]
    commentary = articles[1]
    assert commentary.kind == "commentary" and commentary.title == "保持“快”的姿态"
    assert commentary.reporters == ["李越"]
    assert articles[2].title == "“双十行动”这样干"


def test_traditional_page_splits_like_a_simplified_one():
    _, articles = _split("003_99244411f5f1c9bb.txt")
    assert articles[0].title == "細河兩岸奔涌創新潮"  # original characters kept
    assert articles[0].reporters == ["侯悦林"]
    assert [a.column for a in articles[1:]] == ["阜新时讯"] * 4


def test_page_004_second_feature_and_commentary():
    _, articles = _split("004_1fb6f0697af30933.txt")
    kinds = [(a.kind, a.title) for a in articles]
    assert kinds[0] == ("main", "实施“三个提升”工程确保首战告捷")
    assert ("feature", "深挖政策富矿 助企纾困解难") in kinds
    assert ("commentary", "下好“带土培植”这盘棋") in kinds
    assert articles[0].subtitle == "铁岭市明晰目标细化措施再出发"
    assert {"王晓波"} <= set(articles[-1].reporters)


@pytest.mark.parametrize("line, names", [
    ("本报记者 侯悦林", ["侯悦林"]),
    ("本报记者 田 甜 本报见习记者 张铭哲", ["田甜", "张铭哲"]),
    ("李显彬 本报记者 侯悦林", ["李显彬", "侯悦林"]),
    ("本组稿件由本报记者田甜采写", None),
    ("本报特约记者 朱学著 摄", None),
    ("全面振兴新突破三年行动启动实施以来", None),
])
def test_byline_names(line, names):
    assert byline_names(line) == names


@pytest.mark.parametrize("line, names", [
    ("本报特约记者朱学著摄", ["朱学著"]),
    ("李冬岩摄", ["李冬岩"]),
    ("清河门区乌龙坝镇风机安装现场。刘杰印摄", ["刘杰印"]),
    ("本版图片由本报特约记者朱学著摄", ["朱学著"]),
])
def test_photo_credits(line, names):
    assert photo_credit(line) == names
