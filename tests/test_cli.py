"""The ``newsearch`` command (in this process; on a terminal, as a real one): output and exit codes."""

import json

import pytest

from indexer import fields



def test_search_prints_a_numbered_list(corpus_index, cli):
    done = cli("search", "海州区 文明城市", index_dir=corpus_index)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("找到 ")
    assert lines[2].strip().startswith("1. 海州区 获评全省文明城市")
    assert "阜新 · 海州区 · 2021" in lines[3]
    assert "\x1b[" not in done.stdout  # not a terminal: no colour
    assert "文明城市" in lines[4]


def test_search_json_is_the_api_object(corpus_index, corpus_client, cli):
    done = cli("search", "细河", "--json", "--per-page", "3", index_dir=corpus_index)
    assert done.returncode == 0
    cli = json.loads(done.stdout)
    api = corpus_client.get("/api/search?q=细河&per_page=3").get_json()
    for data in (cli, api):
        data.pop("took_ms")
    assert cli == api
    assert cli["total"] == 4 and len(cli["hits"]) == 3
    assert set(cli["facets"]) == {field.name for field in fields.FACETS}


def test_filters_sort_and_pages(corpus_index, cli):
    done = cli("search", "发展", "--city", "铁岭", "--year", "2023", "--sort", "date",
                   "--page", "2", "--per-page", "2", "--json", index_dir=corpus_index)
    data = json.loads(done.stdout)
    assert data["page"] == 2 and len(data["hits"]) <= 2
    assert all(h["city"] == "铁岭" and h["year"] == 2023 for h in data["hits"])


@pytest.mark.parametrize("args, message", [
    (["search", '"细河'], "unbalanced quote"),
    (["search", "(阜新"], "unbalanced parenthesis"),
    (["search", "foo:bar"], "unknown field"),
    (["search", "year:2023..2020"], "ends before it starts"),
    (["search", "阜新", "--year", "20x1"], "year must be"),
    (["search", ""], "empty query"),
    (["search", "阜" * 10000], "too long"),
    (["search", "阜新\x07"], "control character"),
    (["search", "阜新", "--per-page", "500"], "per_page must be between"),
    (["search", "阜新", "--sort", "random"], "sort must be one of"),
])
def test_bad_input_exits_2_with_one_line(corpus_index, args, message, cli):
    done = cli(*args, index_dir=corpus_index)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("newsearch: error:")


def test_missing_index_says_how_to_build_one(tmp_path, cli):
    done = cli("search", "阜新", index_dir=tmp_path / "nothing")
    assert done.returncode == 1
    assert "newsearch index" in done.stderr and "Traceback" not in done.stderr


def test_show_prints_one_article(corpus_index, cli):
    done = cli("show", "002_45d33814e4b80692-05", "-q", "文明城市", index_dir=corpus_index)
    assert done.returncode == 0
    assert done.stdout.startswith("海州区 获评全省文明城市")
    data = json.loads(cli("show", "002_45d33814e4b80692-05", "--json", index_dir=corpus_index).stdout)
    assert data["id"] == "002_45d33814e4b80692-05" and data["year"] == 2021
    missing = cli("show", "nope", index_dir=corpus_index)
    assert missing.returncode == 1 and "no article with id 'nope'" in missing.stderr


def test_index_dir_from_the_environment(corpus_index, cli, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_INDEX_DIR", str(corpus_index))
    done = cli("search", "细河")
    assert done.returncode == 0 and "找到 4 篇文章" in done.stdout


def test_matches_are_coloured_on_a_terminal(corpus_index):
    import os
    import subprocess
    import sys
    from conftest import ROOT
    master, slave = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "searchapp.cli", "search", "文明城市",
                                "--index-dir", str(corpus_index)], cwd=ROOT, stdout=slave,
                               stderr=subprocess.PIPE)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(master)
    text = output.decode("utf-8")
    assert "\x1b[1;31m文明城市\x1b[0m" in text


def test_progress_is_drawn_only_when_enabled():
    import io
    from indexer.progress import Progress
    shown, hidden = io.StringIO(), io.StringIO()
    for stream, enabled in ((shown, True), (hidden, None)):
        progress = Progress(100, "indexing", stream=stream, enabled=enabled)
        progress.advance(50, "half")
        progress.advance(50, "done")
        progress.close()
    assert "indexing [" in shown.getvalue() and "100.0%" in shown.getvalue()
    assert hidden.getvalue() == ""  # a StringIO is not a terminal
