import gzip
import json
import pickle

import pytest

from indexer.build import build_index
from indexer.records import Article, Problem
from indexer.sources import (InputFormat, SourceFile, Task, decode, DecodeError, find_sources, format_of,
                             jsonl_lines, load_catalog, parse_record, read_page, fingerprint, registered)
from searchapp.core import search
from searchapp.request import Query
from searchapp.store import SearchIndex

TEXT = "铁岭市明晰目标细化措施再出发\n\n本报记者 李波\n\n全面振兴新突破三年行动启动实施以来，铁岭市工业生产持续提速。\n"


def _file(tmp_path, name, data: bytes) -> SourceFile:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceFile(path, str(tmp_path), name, fingerprint(path), format_of(name))


def _read(file: SourceFile):
    page, problems = read_page(file, None, "p")
    return page or problems[0]


@pytest.mark.parametrize("encoded, encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gb18030"), "gb18030"),
    (TEXT.encode("gbk"), "gb18030"),
])
def test_encodings(tmp_path, encoded, encoding):
    page = _read(_file(tmp_path, "p.txt", encoded))
    assert page.encoding == encoding
    assert page.text == TEXT


def test_crlf_line_ends_become_newlines(tmp_path):
    page = _read(_file(tmp_path, "p.txt", TEXT.replace("\n", "\r\n").encode("utf-8")))
    assert "\r" not in page.text and page.text == TEXT


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"  \n\r\n ", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (bytes(range(0x80, 0x100)) * 4, "not UTF-8"),
])
def test_bad_files_are_problems_not_crashes(tmp_path, data, reason):
    result = _read(_file(tmp_path, "bad.txt", data))
    assert isinstance(result, Problem)
    assert reason in result.reason and result.path == str(tmp_path / "bad.txt")


def test_decode_rejects_latin1_text_that_gb18030_would_accept():
    with pytest.raises(DecodeError):
        decode("Größe café naïve déjà vu über".encode("latin-1"))


def test_jsonl_records_and_bad_lines(tmp_path):
    lines = [
        '{"id": "a1", "title": "标题", "text": "正文", "date": "2023-05-01", "city": "阜新", "district": ["细河区"], "topic": "民生"}',
        "",
        '{"id": "a2", "text": "only text"}',
        "{not json",
        '["a list"]',
        '{"id": "a3"}',
        '{"id": "a4", "text": "x", "date": "yesterday"}',
        '{"id": "a5", "text": "x", "district": 7}',
    ]
    path = tmp_path / "r.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    file = SourceFile(path, str(tmp_path), "r.jsonl.gz", fingerprint(path), format_of("r.jsonl.gz"))
    results = [item for n, line in jsonl_lines(file) for item in parse_record(file, n, line)]
    good = [r for r in results if not isinstance(r, Problem)]
    bad = [r for r in results if isinstance(r, Problem)]
    assert [a.id for a in good] == ["a1", "a2"]
    assert good[0].year == 2023 and good[0].city == "阜新" and good[0].districts == ["细河区"]
    assert [(p.line, p.reason.split(":")[0]) for p in bad] == [
        (4, "invalid JSON"), (5, "a line must be a JSON object"), (6, 'missing or empty "text" (a string is required)'),
        (7, '"date" \'yesterday\' is not a date'),
        (8, '"district" and "topic" must be a string or a list of strings')]
    assert all(p.path == str(path) and p.skipped for p in bad)
    assert good[0].source == str(path) and good[0].file == f"{tmp_path.name}/r.jsonl.gz"


@pytest.mark.parametrize("written, stored, warning", [
    ("2023-5-4", "2023-05-04", ""),
    ("2023/05/06", "2023-05-06", ""),
    ("2023.5", "2023-05", ""),
    (" 2023 ", "2023", ""),
    ("2023-13", "2023", "'2023-13' is not a date: there is no month 13; only its year is kept"),
    ("2023-02-30", "2023", "'2023-02-30' is not a date: 2023-02 has 28 days; only its year is kept"),
])
def test_record_dates_are_stored_in_one_form_and_impossible_ones_cut_to_the_year(tmp_path, written, stored,
                                                                                   warning):
    line = json.dumps({"id": "b1", "text": "阜新", "date": written}, ensure_ascii=False).encode()
    file = _file(tmp_path, "r.jsonl", line + b"\n")
    *warnings, article = parse_record(file, 3, line)
    assert isinstance(article, Article) and article.date == stored and article.year == 2023
    assert [str(p) for p in warnings] == ([f'{file.path}:3: "date" {warning}'] if warning else [])
    assert all(not p.skipped for p in warnings)


def test_catalog_dates_are_stored_in_one_form_and_impossible_ones_warned(tmp_path):
    (tmp_path / "catalog.csv").write_text(
        "file,date,year,paper\n"
        "a.txt,2023/05/06,,辽宁日报\n"
        "b.txt,2023-5-4,,辽宁日报\n"
        "c.txt,2023-13,,辽宁日报\n"
        "d.txt,2023-02-30,2023,辽宁日报\n"
        "e.txt,soon,2021,辽宁日报\n", "utf-8")
    entries, problems = load_catalog(tmp_path)
    assert {name: (e.date, e.year) for name, e in entries.items()} == {
        "a.txt": ("2023-05-06", 2023), "b.txt": ("2023-05-04", 2023), "c.txt": ("2023", 2023),
        "d.txt": ("2023", 2023), "e.txt": ("", 2021)}
    where = tmp_path / "catalog.csv"
    assert [str(p) for p in problems] == [
        f"{where}:4: date '2023-13' is not a date: there is no month 13; only its year is kept",
        f"{where}:5: date '2023-02-30' is not a date: 2023-02 has 28 days; only its year is kept",
        f"{where}:6: date 'soon' is not a date: write YYYY, YYYY-MM or YYYY-MM-DD; the row's date is not used"]
    assert not any(p.skipped for p in problems)


def test_formats_cut_files_into_tasks_of_plain_data(tmp_path):
    page = _file(tmp_path, "p.txt", TEXT.encode("utf-8"))
    line = b'{"id": "a1", "text": "x"}\n'
    records = _file(tmp_path, "r.jsonl", line * 3)

    def no_page_id() -> str:
        raise AssertionError("a JSON Lines file holds no page")

    tasks = [*page.format.tasks(page, None, lambda: "p"), *records.format.tasks(records, None, no_page_id)]
    assert [(type(task).__name__, task.size) for task in tasks] == [
        ("PageTask", len(TEXT.encode("utf-8"))), ("LinesTask", 3 * len(line))]
    assert pickle.loads(pickle.dumps(tasks)) == tasks
    assert [format_of(name) for name in ("a/p.txt", "r.jsonl", "r.jsonl.gz", "catalog.csv")] == [
        page.format, records.format, records.format, None]


class TsvFormat(InputFormat):
    """A third format, in one class: lines of id, title and text separated by tabs."""

    suffixes = (".tsv",)

    def tasks(self, file, catalog, page_id):
        yield Task(file, file.path.stat().st_size, catalog)

    def articles(self, task):
        for number, line in enumerate(task.file.path.read_text("utf-8").splitlines(), start=1):
            record_id, title, text = line.split("\t")
            yield Article(record_id, task.file.key, text, file=task.file.label, title=title,
                          kind="record", position=number)


def test_adding_a_format_is_adding_a_class(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "notes.tsv").write_text("n1\t彰武治沙\t彰武县治沙造林的第三种格式\n"
                                       "n2\t铁岭\t铁岭市工业生产持续提速\n", "utf-8")
    (archive / "page.txt").write_text(TEXT, "utf-8")
    (tmp_path / "notes.csv").write_text("n3,无人读取,逗号分隔的格式没有注册\n", "utf-8")
    with registered(TsvFormat()):
        report = build_index([archive], tmp_path / "index", workers=1)
        unknown = find_sources([tmp_path / "notes.csv"])[0]
    assert report.articles_added == 3 and report.files_indexed == 2 and not report.problems
    assert unknown[0].reason == "not an archive file (.txt, .jsonl, .jsonl.gz or .tsv)"
    assert format_of("notes.tsv") is None  # registered for the ``with`` block only
    index = SearchIndex(tmp_path / "index")
    try:
        assert [hit.id for hit in search(index, Query(text='"治沙造林的第三种格式"')).hits] == ["n1"]
        assert {hit.id for hit in search(index, Query(text='"工业生产持续提速"')).hits} == {"n2", "page-01"}
    finally:
        index.close()
