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
    assert "文明城市" in lines[5] and "获评全省文明城市" not in "".join(lines[4:])  # not the title again


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


def _on_a_terminal(*args: str, env: dict) -> str:
    """What the real command prints on a pseudo-terminal."""
    import os
    import subprocess
    import sys
    from conftest import ROOT
    master, slave = os.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    process = subprocess.Popen([sys.executable, "-m", "searchapp.cli", *args], cwd=ROOT, stdout=slave,
                               stderr=subprocess.PIPE, env={**environment, **env})
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
    return output.decode("utf-8")


def test_matches_are_coloured_on_a_terminal(corpus_index):
    text = _on_a_terminal("search", "文明城市", "--index-dir", str(corpus_index), env={})
    assert "\x1b[1;31m文明城市\x1b[0m" in text


@pytest.mark.parametrize("command", [["search", "文明城市"], ["show", "002_45d33814e4b80692-05", "-q", "文明城市"]])
def test_no_color_turns_colour_off_on_a_terminal(corpus_index, command):
    text = _on_a_terminal(*command, "--index-dir", str(corpus_index), env={"NO_COLOR": "1"})
    assert "文明城市" in text and "\x1b" not in text


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


@pytest.mark.parametrize("before", [[], ["--"]])
def test_a_query_may_start_with_a_minus(corpus_index, corpus_search, cli, before):
    from searchapp.core import search
    from searchapp.request import Query
    done = cli("search", "--json", "--per-page", "100", "--index-dir", str(corpus_index), *before, "-铁岭", "阜新")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    expected = search(corpus_search, Query(text="阜新 -铁岭", per_page=100))
    assert data["query"] == "-铁岭 阜新" and data["total"] == expected.total > 0
    assert {h["id"] for h in data["hits"]} == {h.id for h in expected.hits}


def test_minus_terms_and_options_mix(corpus_index, cli):
    done = cli("search", '-"铁岭"', "-(彰武 OR 细河)", "阜新", "--city", "阜新", "--json", index_dir=corpus_index)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["query"] == '-"铁岭" -(彰武 OR 细河) 阜新'
    shown = cli("show", "002_45d33814e4b80692-05", "-q", "-铁岭", index_dir=corpus_index)
    assert shown.returncode == 0 and shown.stdout.startswith("海州区 获评全省文明城市")
    with pytest.raises(SystemExit) as unknown:  # an ASCII option stays an option
        cli("search", "阜新", "--colour", index_dir=corpus_index)
    assert unknown.value.code == 2


def test_pasted_invisible_characters_are_removed(corpus_index, cli):
    done = cli("search", "\u200b文明城市\ufeff", "--json", index_dir=corpus_index)
    assert done.returncode == 0 and json.loads(done.stdout)["query"] == "文明城市"


def test_help_states_the_true_defaults(capsys):
    import os
    from indexer.build import PARALLEL_MIN_BYTES
    from searchapp import settings
    from searchapp.cli import build_parser, main
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, command in commands.items():
        for action in command._actions:
            if action.default not in (None, False, "==SUPPRESS==") and action.help:
                assert f"default: {action.default}" in action.help or f"{action.default} (default)" in action.help, \
                    (name, action.dest, action.default, action.help)
    assert "default: 1," in commands["search"]._option_string_actions["--page"].help
    assert f"at most {settings.MAX_PER_PAGE}" in commands["search"]._option_string_actions["--per-page"].help
    # Given no --workers: min(cores, 4) for both; the indexer uses one below PARALLEL_MIN_BYTES.
    assert "cores, at most 4" in commands["serve"]._option_string_actions["--workers"].help
    index_workers = commands["index"]._option_string_actions["--workers"].help
    assert "cores, at most 4" in index_workers and f"{PARALLEL_MIN_BYTES >> 20} MiB" in index_workers
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert "-铁岭 excludes" in capsys.readouterr().out.replace("\n", " ").replace("  ", " ")
    assert os.cpu_count()  # the defaults above are computed from it


def test_the_meta_line_leaves_unknown_fields_out():
    from searchapp.results import Hit
    from searchapp.terminal import meta_line
    bare = Hit(id="x", title="t", when="", source="s", date="", year=None, city="", districts=[], topics=["民生"],
               reporters=[], score=0.0, snippets=[])
    assert meta_line(bare) == "民生"
    full = Hit(id="x", title="t", when="2019-05-04", source="s", date="2019-05-04", year=2019, city="铁岭", districts=["银州区"],
               topics=[], reporters=[], score=0.0, snippets=[], paper="辽宁日报", page_label="第3版")
    assert meta_line(full) == "铁岭 · 银州区 · 2019-05-04 · 辽宁日报 第3版"
