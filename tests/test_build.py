import json
import shutil
from pathlib import Path

from indexer.build import build_index, indexed_versions
from searchapp.core import search
from searchapp.request import Query
from searchapp.store import SearchIndex
from whoosh import index as whoosh_index

from conftest import CORPUS


def _ids(index_dir: Path, text: str) -> set[str]:
    index = SearchIndex(index_dir)
    result = search(index, Query(text=text, per_page=100))
    index.close()
    return {hit.id for hit in result.hits}


def _copy_corpus(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    return archive


def test_incremental_update_changes_only_what_changed(tmp_path):
    archive = _copy_corpus(tmp_path)
    index_dir = tmp_path / "index"
    first = build_index([archive], index_dir, workers=1)
    assert first.files_indexed == 5 and first.articles_added == 26

    again = build_index([archive], index_dir, workers=1)
    assert (again.files_indexed, again.files_unchanged, again.articles_added) == (0, 5, 0)
    assert again.seconds < first.seconds / 3

    page = archive / "004_1fb6f0697af30933.txt"
    page.write_text(page.read_text("utf-8") + "\n独一无二的补充段落。\n", "utf-8")
    (archive / "000_4137a59cd7bc1a7b.txt").unlink()
    third = build_index([archive], index_dir, workers=1)
    assert (third.files_indexed, third.files_unchanged, third.files_removed) == (1, 3, 1)
    assert _ids(index_dir, '"独一无二的补充段落"') == {"004_1fb6f0697af30933-05"}
    assert not _ids(index_dir, '"保持“快”的姿态"')
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        assert searcher.doc_count() == 26 - 3
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        versions = indexed_versions(reader)
    assert set(versions) == {
        str(p.resolve()) for p in archive.glob("*.txt")}


def test_rebuild_starts_over(tmp_path):
    archive = _copy_corpus(tmp_path)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1)
    report = build_index([archive], index_dir, rebuild=True, workers=1)
    assert report.files_indexed == 5 and report.articles_added == 26
    assert not list(tmp_path.glob(".index.building-*"))  # no leftovers
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith("MAIN_")) == [
        "_MAIN_2.toc", "newsearch.2.json"]  # one generation: the old one's files are gone
    assert len(list(index_dir.glob("MAIN_*.grams"))) == 1  # one segment


def test_catalog_overrides_inferred_year(generated_search):
    result = search(generated_search, Query(text="第0号测试版面", per_page=5))
    page0 = [h for h in result.hits if h.id.startswith("pages~page_000")]
    assert page0 and all(h.year == 2019 and h.city == "铁岭" for h in page0)
    assert page0[0].date == "2019-05-04"


def test_bad_input_is_named_and_good_input_still_indexed(tmp_path, cli):
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(CORPUS / "002_45d33814e4b80692.txt", archive / "good.txt")
    (archive / "empty.txt").write_bytes(b"")
    (archive / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00")
    (archive / "latin1.txt").write_bytes("Größe café naïve déjà vu".encode("latin-1"))
    (archive / "gbk.txt").write_bytes("彰武县治沙造林，绿色发展。\n".encode("gbk"))
    (archive / "lines.jsonl").write_text(
        '{"id": "ok-1", "title": "好记录", "text": "沈阳市和平区的新闻"}\n{broken\n', "utf-8")
    index_dir = tmp_path / "index"
    done = cli("index", str(archive), "--quiet", index_dir=index_dir)
    assert done.returncode == 1, done.stderr
    errors = done.stderr.splitlines()
    assert any(line.endswith("empty.txt: empty file") for line in errors)
    assert any("binary.txt: binary file" in line for line in errors)
    assert any("latin1.txt: not UTF-8" in line for line in errors)
    assert any("lines.jsonl:2: invalid JSON" in line for line in errors)
    assert "Traceback" not in done.stderr
    assert _ids(index_dir, "彰武县") == {"gbk-01"}
    assert _ids(index_dir, "和平区") == {"ok-1"}
    assert _ids(index_dir, "文明城市")  # the good page


def test_stats_json(corpus_index, cli):
    done = cli("stats", "--json", index_dir=corpus_index)
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["articles"] == 26 and data["pages"] == 5 and data["index_bytes"] > 0
    assert {b["value"] for b in data["facets"]["city"]} == {"阜新", "铁岭"}
    assert {b["value"]: b["count"] for b in data["facets"]["year"]} == {"2025": 3, "2023": 13, "2021": 5, "2020": 5}


def test_a_rebuild_lists_the_sources_it_drops(tmp_path):
    archive = _copy_corpus(tmp_path)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1)
    one = archive / "002_45d33814e4b80692.txt"
    report = build_index([one], index_dir, rebuild=True, workers=1)
    dropped = sorted(str(p.resolve()) for p in archive.glob("*.txt") if p != one)
    assert report.removed == dropped and report.files_removed == 4
    assert report.articles_total == report.articles_added == 26 - report.articles_removed
