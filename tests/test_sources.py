import gzip

import pytest

from indexer.records import Problem
from indexer.sources import SourceFile, decode, DecodeError, jsonl_lines, parse_record, read_page, fingerprint

TEXT = "铁岭市明晰目标细化措施再出发\n\n本报记者 李波\n\n全面振兴新突破三年行动启动实施以来，铁岭市工业生产持续提速。\n"


def _file(tmp_path, name, data: bytes) -> SourceFile:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceFile(path, str(tmp_path), name, fingerprint(path))


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
    file = SourceFile(path, str(tmp_path), "r.jsonl.gz", fingerprint(path))
    results = [parse_record(file, n, line) for n, line in jsonl_lines(file)]
    good = [r for r in results if r is not None and not isinstance(r, Problem)]
    bad = [r for r in results if isinstance(r, Problem)]
    assert [a.id for a in good] == ["a1", "a2"]
    assert good[0].year == 2023 and good[0].city == "阜新" and good[0].districts == ["细河区"]
    assert [(p.line, p.reason.split(":")[0]) for p in bad] == [
        (4, "invalid JSON"), (5, "a line must be a JSON object"), (6, 'missing or empty "text" (a string is required)'),
        (7, '"date" must look like YYYY, YYYY-MM or YYYY-MM-DD, not \'yesterday\''),
        (8, '"district" and "topic" must be a string or a list of strings')]
    assert all(p.path == str(path) for p in bad)
    assert good[0].source == str(path) and good[0].file == f"{tmp_path.name}/r.jsonl.gz"
