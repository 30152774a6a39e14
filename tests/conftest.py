"""Shared fixtures: real indexes built by the real indexer from real text.

- ``corpus_index``: the shipped ``corpus/`` (five Liaoning Daily pages).
- ``generated_archive`` / ``generated_index``: pages generated from the seeds' paragraphs in
  several encodings and scripts, plus JSON Lines records and a page holding HTML/script text.
- ``app`` / ``client``: the Flask app over the generated index; ``corpus_app`` over the corpus.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import opencc
import pytest

from indexer.build import build_index
from searchapp.store import SearchIndex
from searchapp.web import create_app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
XSS_TITLE = '<script>alert("t")</script>标题"><img src=x onerror=alert(1)>'
XSS_TEXT = '本报讯 测试页面包含<script>alert("x")</script>和"><img src=x onerror=alert(2)>这样的文字。'


def seed_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text("utf-8").split("\n"):
            line = line.strip()
            if len(line) >= 40:
                paragraphs.append(line)
    return paragraphs


def make_page(rng: random.Random, paragraphs: list[str], number: int) -> str:
    """A page shaped like the seeds: headline, byline, lead, body, a sidebar of two items."""
    body = rng.sample(paragraphs, 6)
    items = rng.sample(paragraphs, 2)
    reporter = rng.choice(["侯悦林", "田甜", "李波", "王晓波"])
    district = rng.choice(["海州区", "细河区", "开原市", "彰武县", "银州区"])
    lines = [
        "", "", f"第{number}号测试版面 {district}加快发展", "", f"本报记者 {reporter}", "",
        f"核心提示 {body[0]}", "", *[p for b in body[1:] for p in (b, "")],
        "■ 县区扫描 SAOMIAO", "",
        f"{district} 项目建设提速", "", f"本报讯 {items[0]}", "",
        "阜新县 民生实事见效", "", f"本报讯 记者{reporter}报道 {items[1]}", "",
    ]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def generated_archive(tmp_path_factory) -> Path:
    rng = random.Random(20261122)
    paragraphs = seed_paragraphs()
    to_traditional = opencc.OpenCC("s2t")
    root = tmp_path_factory.mktemp("archive")
    (root / "pages").mkdir()
    for number in range(40):
        text = make_page(rng, paragraphs, number)
        path = root / "pages" / f"page_{number:03d}.txt"
        kind = number % 5
        if kind == 1:
            path.write_bytes(to_traditional.convert(text).encode("utf-8"))
        elif kind == 2:
            path.write_bytes(text.encode("gb18030"))
        elif kind == 3:
            path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
        else:
            path.write_text(text, "utf-8")
    (root / "pages" / "page_xss.txt").write_text(f"\n{XSS_TITLE}\n\n本报记者 李波\n\n{XSS_TEXT}\n", "utf-8")
    records = []
    for number in range(30):
        records.append({
            "id": f"rec-{number:03d}", "title": f"记录{number} " + rng.choice(paragraphs)[:12],
            "text": "\n".join(rng.sample(paragraphs, 3)),
            "date": f"20{10 + number % 12:02d}-0{1 + number % 9}-1{number % 10}",
            "city": rng.choice(["沈阳", "大连", ""]),
        })
    with open(root / "records.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    (root / "catalog.csv").write_text(
        "file,date,year,paper,page,city,year_evidence\n"
        "pages/page_000.txt,2019-05-04,2019,辽宁日报,第3版,铁岭,test catalog\n", "utf-8")
    return root


@pytest.fixture(scope="session")
def generated_index(generated_archive, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("generated") / "index"
    report = build_index([generated_archive], index_dir, workers=1)
    assert not report.problems, report.problems
    return index_dir


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("corpus") / "index"
    report = build_index([CORPUS], index_dir, workers=1)
    assert report.articles_added > 5 and not report.problems
    return index_dir


@pytest.fixture(scope="session")
def corpus_search(corpus_index) -> SearchIndex:
    return SearchIndex(corpus_index)


@pytest.fixture(scope="session")
def generated_search(generated_index) -> SearchIndex:
    return SearchIndex(generated_index)


@pytest.fixture(scope="session")
def app(generated_index):
    return create_app({"INDEX_DIR": str(generated_index), "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def corpus_app(corpus_index):
    return create_app({"INDEX_DIR": str(corpus_index), "TESTING": True})


@pytest.fixture()
def corpus_client(corpus_app):
    return corpus_app.test_client()


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def cli(capsys):
    """The ``newsearch`` command in this process: ``cli(*args, index_dir=…)`` gives its exit
    status and what it printed, as a ``CompletedProcess``."""
    from searchapp.cli import main

    def run(*args: str, index_dir: Path | None = None) -> subprocess.CompletedProcess:
        argv = [*args, *(["--index-dir", str(index_dir)] if index_dir is not None else [])]
        status = main(argv)
        printed = capsys.readouterr()
        return subprocess.CompletedProcess(argv, status, printed.out, printed.err)

    return run


def run_cli(*args: str, index_dir: Path | None = None, check_env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """The real ``newsearch`` command in a subprocess."""
    command = [sys.executable, "-m", "searchapp.cli", *args]
    if index_dir is not None:
        command += ["--index-dir", str(index_dir)]
    env = None
    if check_env is not None:
        import os
        env = {**os.environ, **check_env}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


# A dated archive (issue 11): pages of two papers with dates and page numbers (版次) from a
# catalog, and JSON Lines records dated to the day, to the month only, to the year only, or not.
DATED_PAGES = [  # file, date, paper, page
    ("p01.txt", "2023-05-01", "辽宁日报", "第1版"),
    ("p02.txt", "2023-05-01", "辽宁日报", "第2版"),
    ("p03.txt", "2023-05-01", "辽宁日报", "第3版"),
    ("p04.txt", "2023-05-03", "辽宁日报", "第1版"),
    ("p05.txt", "2023-05-31", "辽宁日报", "第1版"),
    ("p06.txt", "2023-06-01", "辽宁日报", "第1版"),
    ("p07.txt", "2022-12-31", "辽宁日报", "第2版"),
    ("p08.txt", "2023-05-01", "铁岭日报", "第1版"),
    ("p09.txt", "2024-02-29", "铁岭日报", "第4版"),
    ("p10.txt", "", "铁岭日报", ""),  # a year only (the catalog's year column)
]
DATED_RECORD_DATES = ["2023-05-02", "2023-05", "2023", "", "2023-06-15", "2022-05-01", "2023-05-01",
                      "2021", "2023-04-30", "2023-12"]


@pytest.fixture(scope="session")
def dated_archive(tmp_path_factory) -> Path:
    rng = random.Random(20261124)
    paragraphs = seed_paragraphs()
    root = tmp_path_factory.mktemp("dated")
    (root / "pages").mkdir()
    rows = ["file,date,year,paper,page,city,year_evidence"]
    for number, (name, date, paper, page) in enumerate(DATED_PAGES):
        (root / "pages" / name).write_text(make_page(rng, paragraphs, 100 + number), "utf-8")
        year = date[:4] if date else "2021"
        rows.append(f"pages/{name},{date},{year},{paper},{page},,test catalog")
    (root / "catalog.csv").write_text("\n".join(rows) + "\n", "utf-8")
    with open(root / "records.jsonl", "w", encoding="utf-8") as handle:
        for number in range(40):
            record = {"id": f"dated-{number:03d}", "title": f"档案{number} " + rng.choice(paragraphs)[:12],
                      "text": "\n".join(rng.sample(paragraphs, 2)),
                      "date": DATED_RECORD_DATES[number % len(DATED_RECORD_DATES)]}
            if number % 3 == 0:
                record["paper"] = "辽宁日报"
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return root


@pytest.fixture(scope="session")
def dated_index(dated_archive, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("dated-index") / "index"
    report = build_index([dated_archive], index_dir, workers=1)
    assert not report.problems, report.problems
    return index_dir


@pytest.fixture(scope="session")
def dated_search(dated_index) -> SearchIndex:
    return SearchIndex(dated_index)


@pytest.fixture(scope="session")
def dated_app(dated_index):
    return create_app({"INDEX_DIR": str(dated_index), "TESTING": True})


@pytest.fixture()
def dated_client(dated_app):
    return dated_app.test_client()


# Issue 13: real Sphinx engines (``searchd`` processes on free ports, the layout of deploy/),
# stopped at the end of the session whatever happened (tests/engine.py).
@pytest.fixture(scope="session")
def one_shard(tmp_path_factory):
    """One node: the RT table ``shard1`` and the distributed table ``articles`` over it."""
    from engine import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("sphinx-one"), shards=1)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def two_shards(tmp_path_factory):
    """Two nodes (``shard1``, ``shard2``); ``articles`` on node 0 over both."""
    from engine import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("sphinx-two"), shards=2)
    try:
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def served(*args: str):
    """``newsearch serve ARGS`` (the real gunicorn server) on a free port, its URL while it runs;
    the server's stderr, when it ends, in ``served.stderr`` of the yielded object."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "searchapp.cli", "serve", "--port", str(port), *args],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    server = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)  # polling a port with a deadline, not guessing at a duration
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        server.stderr = process.stderr.read()


@dataclass
class Served:
    url: str
    stderr: str = ""
