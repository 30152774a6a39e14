"""Limits on odd content: huge articles are split, titles capped, output bounded, and no
escape sequence or control character of the indexed text reaches a terminal."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.limits import MAX_ARTICLE_CHARS, MAX_TITLE_CHARS, cap_title, limit_article, split_points
from indexer.records import Article
from searchapp.cli import main
from searchapp.core import get_article, search
from searchapp.highlight import AnsiFormatter, Formatter, HtmlFormatter, find_spans, printable, snippets
from searchapp.request import Query
from searchapp.store import SearchIndex
from searchapp.terminal import BOLD, DIM, RESET, dump_json, render_article, render_result
from searchapp.web import create_app

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ESCAPES = ["\x1b[2J", "\x1b]0;pwned\x07", "\x9b31m", "\x07", "\x08"]
# Any C0 or C1 control character but the line end, DEL, and ESC: none may reach a terminal.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
PAGE_END = "全文最后一句独一无二的结尾标记。"
RECORD_END = "记录最后一句绝无仅有的收尾标记。"


def chinese(chars: int, seed: int) -> str:
    """At least ``chars`` characters of the seed pages' paragraphs, shuffled, with no line end."""
    paragraphs = [line.strip() for path in sorted(CORPUS.glob("*.txt"))
                  for line in path.read_text("utf-8").split("\n") if len(line.strip()) >= 40]
    rng = random.Random(seed)
    parts, total = [], 0
    while total < chars:
        paragraph = rng.choice(paragraphs)
        parts.append(paragraph)
        total += len(paragraph)
    return "".join(parts)


# ---- the pure functions ----------------------------------------------------------------------

def test_a_long_title_is_cut_at_punctuation_with_an_ellipsis():
    title = "阜新" * 60 + "，" + "铁岭" * 200
    capped = cap_title(title)
    assert len(capped) <= MAX_TITLE_CHARS and capped == "阜新" * 60 + "…"
    assert cap_title("x" * 500) == "x" * (MAX_TITLE_CHARS - 1) + "…"  # no break: cut at the limit
    assert cap_title("短标题") == "短标题"


def test_split_points_prefer_blank_lines_then_lines_then_sentence_ends():
    line = "甲" * 30
    text = "\n".join([line] * 3) + "\n\n" + "\n".join([line] * 3)  # 186 characters
    for limit in (100, 150, 200):
        points = split_points(text, limit)
        bounds = list(zip([0, *points], [*points, len(text)]))
        assert "".join(text[a:b] for a, b in bounds) == text
        assert all(b - a <= limit for a, b in bounds)
    assert text[:split_points(text, 150)[0]].endswith(line + "\n\n")  # the blank line
    assert text[:split_points(text, 80)[0]].endswith(line + "\n")  # a line end
    sentences = "乙" * 20 + "。" + "丙" * 20 + "！" + "丁" * 40
    assert split_points(sentences, 60) == [42]  # after the last sentence end
    assert split_points("戊" * 250, 100) == [100, 200]  # none: hard at the limit


def test_limit_article_splits_into_numbered_parts_with_the_same_metadata():
    text = chinese(1000, seed=1)
    article = Article("rec-1", "/a/records.jsonl", text, title="标题" * 150, subtitle="副题",
                      kind="record", position=7, date="2021-03-04", year=2021, city="阜新")
    parts, warnings = limit_article(article, max_chars=300, max_title=40)
    assert "".join(p.text for p in parts) == text and all(len(p.text) <= 300 for p in parts)
    count = len(parts)
    assert [p.id for p in parts] == ["rec-1"] + [f"rec-1~{n}" for n in range(2, count + 1)]
    assert [p.title[-len(f" ({n}/{count})"):] for n, p in enumerate(parts, 1)] == \
        [f" ({n}/{count})" for n in range(1, count + 1)]
    assert all(len(p.title) <= 40 and p.title.startswith("标题标题") and "…" in p.title for p in parts)
    assert {(p.subtitle, p.kind, p.position, p.date, p.year, p.city, p.source) for p in parts} == \
        {("副题", "record", 7, "2021-03-04", 2021, "阜新", "/a/records.jsonl")}
    assert warnings == [
        "title of 300 characters cut to 40",
        f"article 'rec-1' of {len(text):,} characters split into {count} parts of at most 300",
    ]
    assert limit_article(Article("x", "s", "短文"), max_chars=300) == ([Article("x", "s", "短文")], [])


def test_a_snippet_is_bounded_even_in_a_sentence_of_megabytes():
    text = "前言。" + "阜新细河区" * 100_000 + "文明城市" + "铁岭" * 250_000  # 3 MB, one "sentence"
    spans = find_spans(text, [("文明城市", ["文明", "城市"])])
    for fmt in (Formatter(), HtmlFormatter(), AnsiFormatter()):
        fragments = snippets(text, spans, fmt)
        assert len(fragments) == 1 and "文明城市" in fragments[0]
        assert len(fragments[0]) < 200  # 130 characters of text, the marks, two "…"


def test_printable_removes_escape_sequences_and_control_characters():
    assert printable("标\x1b[2J题\x1b]0;pwned\x07正\x9b31m文\x07响\x08退\r\n下\t行\x7f") == "标题正文响退\n下 行"
    assert printable("\x1b[1;31m红\x1b[0m \x1bP1$r\x1b\\ \x1b(B \x9d8;;http://x\x9c") == "红   "
    assert printable("切\x1b[") == "切" and printable("切\x1b]0;半截") == "切0;半截"  # cut short
    assert printable("阜新（2021）“文明城市”") == "阜新（2021）“文明城市”"


def test_dump_json_escapes_every_control_character():
    data = {"text": "".join(ESCAPES) + "\x7f\x85正文"}
    dumped = dump_json(data)
    assert not CONTROL.search(dumped.replace("\n", "")) and "\x1b" not in dumped
    assert json.loads(dumped) == data and "正文" in dumped  # Chinese stays readable


def test_split_page_caps_the_title_of_a_page_of_one_line():
    from indexer.articles import split_page
    from indexer.records import Page

    text = "标题——" + chinese(300_000, seed=2)
    articles = split_page(Page(source="/a/one_line.txt", file="a/one_line.txt", page_id="one_line",
                                text=text, encoding="utf-8"))
    assert len(articles) == 1 and articles[0].text == text
    assert articles[0].title == "标题"
    assert len(articles[0].subtitle) <= MAX_TITLE_CHARS and articles[0].subtitle.endswith("…")


# ---- a real index of odd content -------------------------------------------------------------

@pytest.fixture(scope="module")
def odd_archive(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("odd")
    page = chinese(MAX_ARTICLE_CHARS * 4, seed=3) + PAGE_END  # 2.4 MB, no line break
    (root / "huge_page.txt").write_text(page, "utf-8")
    (root / "escapes.txt").write_text(
        f"\n转义标题{ESCAPES[0]}测试\n\n本报记者 李波\n\n本报讯 转义{'转义'.join(ESCAPES)}正文到此。\n", "utf-8")
    records = [
        {"id": "big-rec", "title": "超长标题" * 1500, "text": chinese(MAX_ARTICLE_CHARS + 50_000, seed=4)
         + RECORD_END, "date": "2020-01-02", "city": "大连"},
        {"id": "esc-rec", "title": f"记录{ESCAPES[0]}标题{ESCAPES[2]}", "text": "记录转义" + "转义".join(ESCAPES),
         "city": f"沈阳{ESCAPES[3]}"},
    ]
    (root / "records.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return {"root": root, "page": page, "record": records[0]}


@pytest.fixture(scope="module")
def odd_index(odd_archive, tmp_path_factory) -> tuple[Path, list]:
    index_dir = tmp_path_factory.mktemp("odd-index") / "index"
    report = build_index([odd_archive["root"]], index_dir, workers=1)
    return index_dir, report.problems


@pytest.fixture(scope="module")
def odd_client(odd_index):
    return create_app({"INDEX_DIR": str(odd_index[0]), "TESTING": True}).test_client()


def _hits(client, query: str) -> list[dict]:
    response = client.get("/api/search", query_string={"q": query, "per_page": "100"})
    assert response.status_code == 200
    return response.get_json()["hits"]


def _parts(client, first_id: str) -> list[dict]:
    """All parts of a split article, in order, from the API."""
    first = client.get(f"/api/articles/{first_id}").get_json()
    count = int(re.search(r"\((\d+)/(\d+)\)$", first["title"]).group(2))
    rest = [client.get(f"/api/articles/{first_id}~{n}").get_json() for n in range(2, count + 1)]
    return [first, *rest]


def test_warnings_name_the_file_and_skip_nothing(odd_index, odd_archive):
    said = [(Path(p.path).name, p.line, p.reason, p.skipped) for p in odd_index[1]]
    assert len(said) == 3, said
    page_warning = rf"article '.+' of {len(odd_archive['page']):,} characters split into \d+ parts " \
                   f"of at most {MAX_ARTICLE_CHARS:,}"
    assert any(name == "huge_page.txt" and line is None and re.fullmatch(page_warning, reason)
               and not skipped for name, line, reason, skipped in said), said
    assert ("records.jsonl", 1, f"title of 6,000 characters cut to {MAX_TITLE_CHARS}", False) in said
    assert ("records.jsonl", 1, f"article 'big-rec' of {len(odd_archive['record']['text']):,} characters "
            f"split into 2 parts of at most {MAX_ARTICLE_CHARS:,}", False) in said


def test_the_parts_hold_the_whole_text_and_the_last_one_is_found(odd_index, odd_archive, odd_client):
    for end, original in ((PAGE_END, odd_archive["page"]), (RECORD_END, odd_archive["record"]["text"])):
        hits = _hits(odd_client, f'"{end}"')
        assert len(hits) == 1 and re.search(r"~\d+$", hits[0]["id"])
        first_id = hits[0]["id"].rsplit("~", 1)[0]
        parts = _parts(odd_client, first_id)
        assert hits[0]["id"] == f"{first_id}~{len(parts)}"
        assert "".join(part["text"] for part in parts) == original
        assert all(len(part["text"]) <= MAX_ARTICLE_CHARS for part in parts)
        assert all(len(part["title"]) <= MAX_TITLE_CHARS for part in parts)
        assert [part["title"][-6:].split("(")[-1] for part in parts] == \
            [f"{n}/{len(parts)})" for n in range(1, len(parts) + 1)]


def test_api_responses_are_bounded(odd_client, odd_archive):
    hits = _hits(odd_client, f'"{PAGE_END}"')
    response = odd_client.get(f"/api/articles/{hits[0]['id'].rsplit('~', 1)[0]}")
    # the part's text twice (text and paragraphs, 3 UTF-8 bytes a character) and related hits
    assert response.status_code == 200 and len(response.data) < 7 * MAX_ARTICLE_CHARS
    found = odd_client.get("/api/search", query_string={"q": "阜新", "per_page": "100"})
    assert found.get_json()["total"] >= 3 and len(found.data) < 200_000
    assert all(len(hit["title"]) <= MAX_TITLE_CHARS for hit in found.get_json()["hits"])


def _no_control(text: str) -> None:
    assert not CONTROL.search(text), repr(CONTROL.search(text))


def test_cli_search_and_show_print_no_control_characters(odd_index, odd_client, capsys):
    index_dir = str(odd_index[0])
    page_article = _hits(odd_client, '"正文到此"')[0]["id"]
    assert main(["search", "转义", "--index-dir", index_dir]) == 0
    out = capsys.readouterr().out
    _no_control(out)
    assert "找到 2 篇文章" in out and "转义标题测试" in out and "记录标题" in out
    assert main(["search", "阜新", "--per-page", "100", "--index-dir", index_dir]) == 0
    out = capsys.readouterr().out
    assert len(out) < 100_000 and all(len(line) < 400 for line in out.splitlines())
    for article_id in ("esc-rec", page_article):
        assert main(["show", article_id, "-q", "转义", "--index-dir", index_dir]) == 0
        out = capsys.readouterr().out
        _no_control(out)
        assert "转义转义转义" in out
        assert main(["show", article_id, "--json", "--index-dir", index_dir]) == 0
        out = capsys.readouterr().out
        _no_control(out.replace("\n", ""))
        assert all(escape in json.loads(out)["text"] for escape in ESCAPES)  # stored as it was
    assert main(["search", "转义", "--json", "--index-dir", index_dir]) == 0
    _no_control(capsys.readouterr().out.replace("\n", ""))


def test_in_colour_the_only_escapes_are_the_terminals_own(odd_index):
    index = SearchIndex(odd_index[0])
    own = {AnsiFormatter.START, AnsiFormatter.END, BOLD, DIM, RESET}
    result = search(index, Query(text="转义 pwned"), AnsiFormatter())
    article = get_article(index, "esc-rec", "转义 pwned", AnsiFormatter())
    for output in (render_result(result, colour=True), render_article(article, colour=True)):
        escapes = re.findall(r"\x1b\[[0-9;]*m", output)
        assert escapes and set(escapes) <= own
        _no_control(re.sub(r"\x1b\[[0-9;]*m", "", output))
        assert AnsiFormatter.START + "转义" + AnsiFormatter.END in output
        assert AnsiFormatter.START + "pwned" + AnsiFormatter.END in output  # a match inside an OSC
