"""Every kind of bad input is named (``path[:line]: reason``), never a traceback, and every good
article beside it is indexed (issue 7): the real ``newsearch index`` on one archive holding all
of them. As root, the run gives up the capabilities that override file permissions, so that
unreadable files are unreadable to it.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import ctypes
import tempfile
from pathlib import Path

import pytest

from searchapp.core import search
from searchapp.request import Query
from searchapp.store import SearchIndex

from conftest import CORPUS, ROOT

GOOD_PAGE = "002_45d33814e4b80692.txt"
UTF8_LINE = "彰武县治沙造林的第一行文字。"
GBK_LINE = "阜新市细河区混合编码的第二行。"


def _record(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


# (name in the archive, what stderr says of it); the archive is made by ``_make_archive``.
NAMED = [
    ("empty.txt", "empty.txt: empty file"),
    ("blank.txt", "blank.txt: empty file"),
    ("image.txt", "image.txt: binary file"),
    ("nul.txt", "nul.txt: binary file (contains NUL bytes)"),
    ("latin1.txt", "latin1.txt: not UTF-8"),
    ("mixed.txt", "mixed.txt: mixed encodings: line 4 read as GB18030"),
    ("dangling.txt", "dangling.txt: broken symbolic link (points to nowhere.txt)"),
    ("loop.txt", "loop.txt: symbolic link loop"),
    ("unreadable.txt", "unreadable.txt: cannot read: Permission denied"),
    ("locked", "locked: cannot read folder: Permission denied"),
    ("pipe.txt", "pipe.txt: not a regular file"),
    ("folder.txt", "folder.txt: is a folder named like a file"),
    ("name", r"bad\xffname.txt: file name is not valid UTF-8"),
    ("huge.txt", "huge.txt: page file of 17,825,792 bytes is over the 16,777,216-byte limit"),
    ("fake.jsonl.gz", "fake.jsonl.gz: corrupt or truncated gzip file (Not a gzipped file"),
    ("truncated.jsonl.gz", "truncated.jsonl.gz:"),  # the line number depends on zlib's buffering
    ("records.jsonl:2", "records.jsonl:2: invalid JSON"),
    ("records.jsonl:3", "records.jsonl:3: a line must be a JSON object"),
    ("records.jsonl:4", 'records.jsonl:4: missing or empty "text"'),
    ("records.jsonl:5", """records.jsonl:5: "date" 'yesterday' is not a date: write YYYY, YYYY-MM or YYYY-MM-DD"""),
    ("records.jsonl:6", 'records.jsonl:6: "district" and "topic" must be a string or a list of strings'),
    ("records.jsonl:7", "records.jsonl:7: not UTF-8"),
    ("records.jsonl:8", 'records.jsonl:8: "text" holds an unpaired surrogate escape'),
    ("records.jsonl:9", "records.jsonl:9: id 'rec-good' is already used by"),
    ("records.jsonl:10", 'records.jsonl:10: "id" must not contain spaces or control characters'),
    ("records.jsonl:11", "records.jsonl:11: invalid JSON: Invalid control character"),
    ("records.jsonl:12", 'records.jsonl:12: "title" must be a string'),
    ("records.jsonl:13", 'records.jsonl:13: missing or empty "id"'),
    ("long.jsonl:1", "long.jsonl:1: line over the 16,777,216-byte limit"),
    ("missing", "missing-folder: no such file or folder"),
    ("notes.md", "notes.md: not an archive file"),
]


def _make_archive(root: Path) -> None:
    archive = root / "archive"
    archive.mkdir()
    shutil.copy(CORPUS / GOOD_PAGE, archive / "good.txt")
    (archive / "catalog.csv").write_bytes(
        "file,date,year,paper,page,city,year_evidence\ngood.txt,1999-09-09,1999,辽宁日报,第5版,阜新,目录\n".encode("gbk"))
    (archive / "empty.txt").write_bytes(b"")
    (archive / "blank.txt").write_bytes(b"  \n\r\n ")
    (archive / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (archive / "nul.txt").write_bytes("正文".encode() + b"\x00\x00" + "正文".encode())
    (archive / "latin1.txt").write_bytes("Größe café naïve déjà vu über".encode("latin-1"))
    (archive / "mixed.txt").write_bytes(
        f"混合编码\n\n{UTF8_LINE}\n".encode("utf-8") + GBK_LINE.encode("gbk") + b"\n")
    os.symlink("nowhere.txt", archive / "dangling.txt")
    os.symlink("loop.txt", archive / "loop.txt")
    (archive / "unreadable.txt").write_text("读不到的文件", "utf-8")
    (archive / "unreadable.txt").chmod(0)
    (archive / "locked").mkdir()
    (archive / "locked" / "inside.txt").write_text("锁住的文件夹里的文件", "utf-8")
    (archive / "locked").chmod(0)
    os.mkfifo(archive / "pipe.txt")
    (archive / "folder.txt").mkdir()
    (archive / os.fsdecode(b"bad\xffname.txt")).write_text("名字不是UTF-8", "utf-8")
    with open(archive / "huge.txt", "wb") as handle:
        handle.truncate(17 << 20)
    (archive / "fake.jsonl.gz").write_text('{"id": "x", "text": "不是压缩文件"}\n', "utf-8")
    many = b"\n".join(_record(id=f"gz-{n}", text=f"压缩记录{n:05d}号，" + "内容" * 40) for n in range(3000))
    packed = gzip.compress(many + b"\n")
    (archive / "truncated.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    lines = [
        _record(id="rec-good", title="好记录", text="铁岭市好记录的正文内容"),
        b"{broken",
        b'["a list"]',
        _record(id="no-text"),
        _record(id="bad-date", text="x", date="yesterday"),
        _record(id="bad-district", text="x", district=7),
        b'{"id": "latin", "text": "' + "café".encode("latin-1") + b'"}',
        b'{"id": "surrogate", "text": "\\ud800"}',
        _record(id="rec-good", text="重复的编号"),
        _record(id="bad\x1bid", text="x"),
        b'{"id": "nul", "text": "a\x00b"}',
        _record(id="title-list", title=["a"], text="x"),
        _record(id=" ", text="x"),
    ]
    (archive / "records.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (archive / "long.jsonl").write_bytes(
        b'{"id": "long", "text": "' + b"a" * (17 << 20) + b'"}\n' + _record(id="after-long", text="超长行之后的记录") + b"\n")
    (root / "notes.md").write_text("not an archive", "utf-8")


def _without_permission_override() -> None:
    """In the child before it runs the CLI: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.fixture(scope="module")
def bad_run():
    root = Path(tempfile.mkdtemp(prefix="newsearch-bad-input-"))
    try:
        _make_archive(root)
        as_user = {"preexec_fn": _without_permission_override} if os.geteuid() == 0 else {}
        done = subprocess.run(
            [sys.executable, "-m", "searchapp.cli", "index", str(root / "archive"), str(root / "missing-folder"),
             str(root / "notes.md"), "--quiet", "--index-dir", str(root / "index")],
            cwd=ROOT, capture_output=True, text=True, errors="replace", timeout=300, **as_user)
        index = SearchIndex(root / "index")
        yield done, index
        index.close()
    finally:
        (root / "archive" / "locked").chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_the_run_names_problems_and_exits_1_without_a_traceback(bad_run):
    done, _ = bad_run
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr.replace("JSON", "")
    assert len(NAMED) >= 20


@pytest.mark.parametrize("kind, said", NAMED, ids=[kind for kind, _ in NAMED])
def test_each_bad_input_is_named_with_where_and_why(bad_run, kind, said):
    done, _ = bad_run
    lines = [line for line in done.stderr.splitlines() if said in line]
    assert lines, f"{kind}: expected {said!r} in\n{done.stderr}"
    assert all(line.startswith("newsearch: ") for line in lines)


def _found(index, text: str) -> set[str]:
    return {hit.id for hit in search(index, Query(text=text, per_page=100)).hits}


def test_every_good_article_beside_them_is_indexed(bad_run):
    _, index = bad_run
    assert _found(index, '"阜新"')  # the good page, with its GBK catalog row
    good = search(index, Query(text="海州区", per_page=1)).hits[0]
    assert good.year == 1999 and good.date == "1999-09-09"
    assert _found(index, f'"{GBK_LINE[:-1]}"') == _found(index, f'"{UTF8_LINE[:-1]}"') != set()
    assert _found(index, '"铁岭市好记录的正文内容"') == {"rec-good"}
    assert _found(index, '"超长行之后的记录"') == {"after-long"}
    assert _found(index, '"压缩记录00000号"') == {"gz-0"}  # the lines before the truncation
    assert not _found(index, '"重复的编号"')
