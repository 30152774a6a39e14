"""Indexing into the SphinxQL engine (issue 13): real ``searchd`` nodes (``one_shard``,
``two_shards``), the real indexer and the real ``newsearch`` command.

The engine holds the same articles with the same stored values as the embedded index built from
the same files; updates, removals, ids already used and a killed run end as they do there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import engine, fields
from indexer.build import build_index
from indexer.engine_build import SEALED, build_engine_index, indexed_sources, remove_engine_sources
from searchapp.store import SearchIndex

from conftest import CORPUS, ROOT, free_port, run_cli, seed_paragraphs

ALL_ROWS = 100_000
SUMMARY = re.compile(r"^indexed \d+ articles from \d+ files \(\d+ unchanged, \d+ removed with \d+ articles, "
                     r"\d+ problems\) in \d+\.\ds; (?P<where>\S+) holds \d+ articles$")


@pytest.fixture(params=["one_shard", "two_shards"])
def cluster(request):
    """Each engine, emptied."""
    cluster = request.getfixturevalue(request.param)
    cluster.clear()
    return cluster


@pytest.fixture()
def two(two_shards):
    two_shards.clear()
    return two_shards


def _query(node: engine.Node, sql: str) -> tuple[list[str], tuple]:
    connection = engine.connect(node)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [column[0] for column in cursor.description], cursor.fetchall()
    finally:
        connection.close()


def rows(cluster) -> dict[str, dict]:
    """aid -> every attribute of its row, read through the distributed table."""
    names, found = _query(engine.parse_url(cluster.url).read,
                          f"SELECT * FROM articles LIMIT {ALL_ROWS} OPTION max_matches={ALL_ROWS}")
    return {row["aid"]: row for row in (dict(zip(names, values)) for values in found)}


def sealed(cluster) -> set[str]:
    _, found = _query(engine.parse_url(cluster.url).read,
                      f"SELECT aid FROM articles WHERE MATCH('@tags {SEALED}') LIMIT {ALL_ROWS} "
                      f"OPTION max_matches={ALL_ROWS}")
    return {aid for (aid,) in found}


def stored(cluster) -> dict[str, dict]:
    """aid -> its stored values (the JSON ``doc``), read back as a hit's are (``stored_values``:
    Whoosh leaves out a field whose indexed value is empty, the engine's doc says ``null`` or "")."""
    return {aid: fields.stored_values(json.loads(row["doc"])) for aid, row in rows(cluster).items()}


def embedded(index: SearchIndex) -> dict[str, dict]:
    return {stored["id"]: fields.stored_values(stored) for stored in index.searcher().all_stored_fields()}


def embedded_of(paths: list[Path], index_dir: Path) -> dict[str, dict]:
    build_index(paths, index_dir, workers=1)
    index = SearchIndex(index_dir)
    try:
        return embedded(index)
    finally:
        index.close()


def shard_ids(cluster) -> list[list[int]]:
    return [[i for (i,) in _query(node, f"SELECT id FROM {node.table} LIMIT {ALL_ROWS} "
                                        f"OPTION max_matches={ALL_ROWS}")[1]]
            for node in cluster.shards]


def copy_corpus(folder: Path) -> Path:
    shutil.copytree(CORPUS, folder)
    return folder


def test_the_engine_holds_the_embedded_index_articles_and_stored_values(cluster, generated_archive,
                                                                        corpus_search, generated_search):
    report = build_engine_index([CORPUS, generated_archive], cluster.url)
    assert not report.problems, report.problems
    expected = embedded(corpus_search) | embedded(generated_search)
    assert len(expected) > 150
    assert stored(cluster) == expected
    docs = {aid: json.loads(row["doc"]) for aid, row in rows(cluster).items()}
    for index in (corpus_search, generated_search):  # what Whoosh stores, the doc holds as it is
        assert all(docs[kept["id"]][name] == value for kept in index.searcher().all_stored_fields()
                   for name, value in kept.items())
    assert report.articles_added == report.articles_total == len(expected)
    assert report.files_indexed == 5 + 42 and report.files_unchanged == 0
    # Each row on its shard (doc_id % n), every shard used.
    by_shard = shard_ids(cluster)
    assert sum(map(len, by_shard)) == len(expected)
    for number, ids in enumerate(by_shard):
        assert ids and all(i % len(by_shard) == number for i in ids)
    assert {engine.doc_id(aid) for aid in expected} == {i for ids in by_shard for i in ids}
    # Every file written whole: one seal each, on its last row.
    assert len(sealed(cluster)) == 47
    assert all(held.complete for held in indexed_sources(cluster.url).values())


def test_a_second_run_with_nothing_changed_writes_nothing(cluster, generated_archive):
    first = build_engine_index([generated_archive], cluster.url)
    before = rows(cluster)
    again = build_engine_index([generated_archive], cluster.url)
    assert (again.files_indexed, again.articles_added, again.articles_removed, again.files_removed) == (0, 0, 0, 0)
    assert again.files_unchanged == first.files_indexed == 42
    assert again.articles_total == first.articles_total == len(before)
    assert rows(cluster) == before


def test_a_changed_file_replaces_only_its_rows(two, tmp_path):
    archive = copy_corpus(tmp_path / "archive")
    build_engine_index([archive], two.url)
    before = rows(two)
    changed = archive / "002_45d33814e4b80692.txt"
    key = str(changed.resolve())
    old = {aid for aid, row in before.items() if row["source"] == key}
    with open(changed, "a", encoding="utf-8") as handle:
        handle.write("\n本报讯 新增的一条消息，说的是细河两岸的新变化。\n")
    report = build_engine_index([archive], two.url)
    assert (report.files_indexed, report.files_unchanged) == (1, 4)
    after = rows(two)
    new = {aid for aid, row in after.items() if row["source"] == key}
    assert report.articles_removed == len(old) and report.articles_added == len(new)
    assert {aid: row for aid, row in after.items() if aid not in new} == \
        {aid: row for aid, row in before.items() if aid not in old}
    assert any("细河两岸的新变化" in json.loads(after[aid]["doc"])["text"] for aid in new)
    assert stored(two) == embedded_of([archive], tmp_path / "index")


def test_files_removed_by_command_and_gone_from_a_folder_lose_their_rows(two, tmp_path):
    archive = copy_corpus(tmp_path / "archive")
    build_engine_index([archive], two.url)
    before = rows(two)
    gone, named = archive / "000_4137a59cd7bc1a7b.txt", archive / "001_1229933dc2040656.txt"
    gone_key, named_key = str(gone.resolve()), str(named.resolve())
    gone.unlink()
    report = build_engine_index([archive], two.url)
    assert report.removed == [gone_key] and report.files_removed == 1
    assert report.articles_removed == sum(row["source"] == gone_key for row in before.values()) > 0
    done = run_cli("remove", str(named), "--backend", two.url)
    assert done.returncode == 0, done.stderr
    assert f"removed {named_key}" in done.stdout
    assert SUMMARY.match(done.stdout.splitlines()[-1]).group("where") == two.url
    left = rows(two)
    assert {row["source"] for row in left.values()} == {row["source"] for row in before.values()} - {gone_key, named_key}
    assert left == {aid: row for aid, row in before.items() if row["source"] not in (gone_key, named_key)}
    nothing = remove_engine_sources([named], two.url)
    assert [str(p) for p in nothing.problems] == [f"{named}: nothing in the index is from here"]
    assert rows(two) == left


def test_a_rebuild_empties_the_engine_and_says_what_it_dropped(two, tmp_path, generated_archive):
    build_engine_index([CORPUS, generated_archive], two.url)
    report = build_engine_index([CORPUS], two.url, rebuild=True)
    generated = sorted({row["source"] for row in rows(two).values()} - {str(p.resolve()) for p in CORPUS.glob("*.txt")})
    assert generated == []
    assert len(report.removed) == 42 and all(s.startswith(str(generated_archive)) for s in report.removed)
    assert report.files_indexed == 5 and report.articles_total == report.articles_added
    assert stored(two) == embedded_of([CORPUS], tmp_path / "index")


def _two_folders(root: Path) -> tuple[Path, Path]:
    """Folders a and b, each with a record of the same id and a page of the same page id."""
    for folder, mark in (("a", "甲"), ("b", "乙")):
        (root / folder).mkdir(parents=True)
        records = [{"id": f"{folder}-1", "text": f"{mark}文件独有的内容"},
                   {"id": "shared-id", "text": f"{mark}文件里重复的编号"}]
        (root / folder / "articles.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
        shutil.copy(CORPUS / "002_45d33814e4b80692.txt", root / folder / "page.txt")
    return root / "a", root / "b"


def test_ids_already_used_are_skipped_with_the_embedded_index_problems(two, tmp_path):
    a, b = _two_folders((tmp_path / "archive").resolve())
    index_dir = tmp_path / "index"
    build_index([a], index_dir, workers=1)
    embedded_problems = [str(p) for p in build_index([b], index_dir, workers=1).problems]
    assert not build_engine_index([a], two.url).problems
    problems = [str(p) for p in build_engine_index([b], two.url).problems]
    assert problems == embedded_problems
    assert f"{b}/articles.jsonl:2: id 'shared-id' is already used by {a}/articles.jsonl; skipped" in problems
    assert any("page id 'page' is already used by" in p and "indexed under 'b~page'" in p for p in problems)
    index = SearchIndex(index_dir)
    try:
        assert stored(two) == embedded(index)
    finally:
        index.close()
    assert json.loads(rows(two)["shared-id"]["doc"])["text"].startswith("甲文件")
    # Updating b's page keeps its qualified page id; the unchanged records file is not read again.
    with open(b / "page.txt", "a", encoding="utf-8") as handle:
        handle.write("\n补充的一段文字。\n")
    embedded_again = [str(p) for p in build_index([b], index_dir, workers=1).problems]
    again = build_engine_index([b], two.url)
    assert [str(p) for p in again.problems] == embedded_again == []
    index = SearchIndex(index_dir)
    try:
        assert stored(two) == embedded(index)
    finally:
        index.close()
    assert all(row["page"] == "b~page" for row in rows(two).values() if row["source"] == str((b / "page.txt").resolve()))


def test_the_command_indexes_into_the_engine_with_the_same_summary(two, tmp_path):
    done = run_cli("index", str(CORPUS), "--backend", two.url, "--quiet")
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1]
    assert SUMMARY.match(line).group("where") == two.url
    embedded_line = run_cli("index", str(CORPUS), "--quiet", index_dir=tmp_path / "index").stdout.splitlines()[-1]
    assert SUMMARY.match(embedded_line).group("where") == str(tmp_path / "index")
    shape = lambda text: re.sub(r" in \d+\.\ds; \S+ holds", " in Ts; X holds", text)  # noqa: E731
    assert shape(line) == shape(embedded_line)
    # $NEWSEARCH_BACKEND chooses the engine when --backend is not given.
    again = run_cli("index", str(CORPUS), "--quiet", check_env={"NEWSEARCH_BACKEND": two.url})
    assert again.returncode == 0 and again.stdout.startswith("indexed 0 articles from 0 files (5 unchanged")
    assert SUMMARY.match(again.stdout.splitlines()[-1]).group("where") == two.url


@pytest.mark.parametrize("command", [["index", str(CORPUS)], ["remove", str(CORPUS)]])
def test_an_engine_that_cannot_be_reached_is_one_line_and_exit_1(command):
    port = free_port()
    done = run_cli(*command, "--backend", f"sphinxql://127.0.0.1:{port}/articles")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("newsearch: error: cannot reach the search engine at ")
    assert f"127.0.0.1:{port}" in done.stderr and done.stdout == ""


def test_a_bad_backend_url_is_bad_usage():
    done = run_cli("index", str(CORPUS), "--backend", "sphinxql://nowhere")
    assert done.returncode == 2 and "sphinxql://HOST:PORT/TABLE" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_shard_down_stops_the_run_before_it_writes(two, tmp_path):
    archive = copy_corpus(tmp_path / "archive")
    build_engine_index([archive], two.url)
    before = rows(two)
    (archive / "000_4137a59cd7bc1a7b.txt").unlink()
    with two.node_down(1) as node:
        done = run_cli("index", str(archive), "--backend", two.url)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert f"agent 127.0.0.1:{node.api_port}" in done.stderr and "Traceback" not in done.stderr
    assert rows(two) == before


# -- a killed run -------------------------------------------------------------------------------------

# The child indexes with small batches (so rows reach the engine file by file and within a
# file) and stops, blocked on its stdin, after ``stop_at`` tasks; the test kills it there.
CHILD = """
import sys
from pathlib import Path
from indexer import engine_build

engine_build.BATCH_BYTES = 20_000
url, archive, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

class StopAt:
    def __init__(self, total, label):
        self.tasks = 0
    def advance(self, amount, note=""):
        self.tasks += 1
        if self.tasks == stop_at:
            print("stopped", flush=True)
            sys.stdin.readline()
    def close(self):
        pass

engine_build.build_engine_index([Path(archive)], url, progress_factory=StopAt)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def kill_archive(tmp_path_factory) -> Path:
    """The corpus's five pages and 450 records (three tasks of at most 200 lines)."""
    root = copy_corpus(tmp_path_factory.mktemp("kill") / "archive")
    paragraphs = seed_paragraphs()
    with open(root / "records.jsonl", "w", encoding="utf-8") as handle:
        for number in range(450):
            text = "\n".join(paragraphs[(number + k) % len(paragraphs)] for k in range(3))
            handle.write(json.dumps({"id": f"kill-{number:03d}", "title": f"记录{number}", "text": text,
                                     "date": f"20{10 + number % 12}-05-01"}, ensure_ascii=False) + "\n")
    return root


def _killed_run(cluster, archive: Path, stop_at: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, cluster.url, str(archive), str(stop_at)],
                             cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "stopped"
        child.kill()  # SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(60)
    assert child.returncode == -9


# Tasks: the five pages (1–5), then the records file's three batches (6–8).
@pytest.mark.parametrize("stop_at, cut_file", [(3, None), (7, "records.jsonl")])
def test_a_run_killed_midway_is_finished_by_the_next_one(two, kill_archive, stop_at, cut_file):
    whole = build_engine_index([kill_archive], two.url)
    assert not whole.problems and whole.articles_total == 26 + 450
    expected, expected_sealed = rows(two), sealed(two)
    two.clear()
    _killed_run(two, kill_archive, stop_at)
    left = indexed_sources(two.url)
    written = sum(held.articles for held in left.values())
    assert 0 < written < whole.articles_total  # a real mid-run state
    if cut_file:
        held = left[str((kill_archive / cut_file).resolve())]
        assert not held.complete and 0 < held.articles < 450
    again = build_engine_index([kill_archive], two.url)
    assert not again.problems
    if cut_file:
        assert "files an interrupted run left half-written, written again: 1" in again.notes
    assert again.articles_total == whole.articles_total
    assert rows(two) == expected
    assert sealed(two) == expected_sealed
    assert build_engine_index([kill_archive], two.url).files_unchanged == 6
