"""Opening the index for searching (``searchapp/store.py``): an index built by another version of
newsearch (another schema version in its meta file, no meta file, or a table of contents naming
classes that have moved) is refused with one line saying how to rebuild it, in the CLI and the
web app alike, never with a traceback."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from indexer import indexdir
from indexer.schema import SCHEMA_VERSION, build_schema
from searchapp.store import IndexMissing, IndexOutdated, SearchIndex
from searchapp.web import create_app

from conftest import CORPUS, run_cli


def message(index_dir) -> str:
    return (f"the index in {index_dir} was built by another version of newsearch; "
            "rebuild it with `newsearch index --rebuild PATH…`")


@pytest.fixture()
def index_copy(corpus_index, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    return target


def meta_file(index_dir):
    return index_dir / f"newsearch.{indexdir.generation(index_dir)}.json"


def set_schema_version(index_dir, version) -> None:
    path = meta_file(index_dir)
    meta = json.loads(path.read_text("utf-8"))
    meta["schema_version"] = version
    path.write_text(json.dumps(meta), "utf-8")


def refused(index_dir) -> IndexOutdated:
    with pytest.raises(IndexOutdated) as caught:
        SearchIndex(index_dir)
    assert str(caught.value) == message(index_dir)
    assert isinstance(caught.value, IndexMissing)  # what the CLI and the web app catch
    return caught.value


def test_an_index_of_this_version_opens(index_copy):
    assert indexdir.read_meta(index_copy)["schema_version"] == SCHEMA_VERSION
    index = SearchIndex(index_copy)
    assert index.searcher().doc_count() > 5
    index.close()


def test_another_schema_version_is_refused(index_copy):
    set_schema_version(index_copy, f"{SCHEMA_VERSION}-other")
    refused(index_copy)


def test_an_index_without_a_meta_file_is_refused(index_copy):
    meta_file(index_copy).unlink()
    refused(index_copy)


@pytest.mark.parametrize("layout", ["newsearch.json", "newsearch.<generation>.json"])
def test_an_index_of_schema_version_2_is_refused(index_copy, layout):
    """Schema version 2 kept its meta data in ``newsearch.json``; either way it is refused."""
    if layout == "newsearch.json":
        meta = json.loads(meta_file(index_copy).read_text("utf-8"))
        meta_file(index_copy).unlink()
        (index_copy / "newsearch.json").write_text(json.dumps({**meta, "schema_version": 2}), "utf-8")
    else:
        set_schema_version(index_copy, 2)
    refused(index_copy)


def test_a_pickled_schema_naming_a_moved_class_is_refused(index_copy, monkeypatch):
    """The table of contents pickles the schema: a class of ours in it (the words' analyzer)
    that has moved makes ``open_dir`` fail to unpickle it (``AttributeError``)."""
    ours = next(type(field.analyzer) for _, field in build_schema().items()
                if type(getattr(field, "analyzer", None)).__module__.startswith("indexer."))
    monkeypatch.delattr(sys.modules[ours.__module__], ours.__name__)
    refused(index_copy)


def test_pickled_segments_naming_a_moved_module_are_refused(index_copy, monkeypatch):
    """The table of contents pickles the segments with their codec (``indexer.codec``): when that
    module is gone, unpickling fails with ``ImportError``."""
    monkeypatch.setitem(sys.modules, "indexer.codec", None)
    refused(index_copy)


@pytest.fixture()
def moved_class_index(index_copy, tmp_path, monkeypatch):
    """The corpus index whose table of contents names a field class in a module that is gone."""
    folder = tmp_path / "modules"
    folder.mkdir()
    module = folder / "newsearch_gone_fields.py"
    module.write_text("from whoosh.fields import STORED\n\n\nclass GoneField(STORED):\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    import newsearch_gone_fields

    storage = FileStorage(str(index_copy))
    toc = TOC.read(storage, indexdir.INDEX_NAME, schema=build_schema())
    toc.schema.add("gone", newsearch_gone_fields.GoneField())
    (index_copy / f"_{indexdir.INDEX_NAME}_{toc.generation}.toc").unlink()  # (write does not replace it)
    toc.write(storage, indexdir.INDEX_NAME)
    module.unlink()
    sys.modules.pop("newsearch_gone_fields")
    importlib.invalidate_caches()
    return index_copy


def test_a_table_of_contents_naming_a_missing_module_is_refused(moved_class_index):
    refused(moved_class_index)


@pytest.mark.parametrize("command", [["search", "阜新"], ["show", "002_45d33814e4b80692-05"], ["stats"]])
def test_the_cli_says_so_in_one_line(index_copy, command):
    set_schema_version(index_copy, 2)
    done = run_cli(*command, index_dir=index_copy)
    assert done.returncode == 1
    assert done.stderr == f"newsearch: error: {message(index_copy)}\n"
    assert done.stdout == ""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_advised_rebuild_works_on_such_an_index(moved_class_index, corpus_index, workers):
    """What the message advises works, in one process and with worker processes (which once
    opened the index with the schema pickled in it, and died on the moved class)."""
    done = run_cli("index", "--rebuild", "--workers", workers, str(CORPUS), index_dir=moved_class_index)
    assert done.returncode == 0, done.stderr
    rebuilt, original = SearchIndex(moved_class_index), SearchIndex(corpus_index)
    assert rebuilt.searcher().doc_count() == original.searcher().doc_count()
    rebuilt.close()
    original.close()


def test_the_cli_says_so_for_a_table_of_contents_it_cannot_read(moved_class_index):
    done = run_cli("search", "阜新", index_dir=moved_class_index)
    assert done.returncode == 1
    assert done.stderr == f"newsearch: error: {message(moved_class_index)}\n"


def test_the_web_app_answers_503_with_the_message(index_copy):
    meta_file(index_copy).unlink()
    client = create_app({"INDEX_DIR": str(index_copy), "TESTING": True}).test_client()
    response = client.get("/api/search?q=阜新")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == ("index_unavailable", message(index_copy))
    page = client.get("/")
    assert page.status_code == 503 and "newsearch index --rebuild 重建" in page.get_data(as_text=True)


def _open_gram_files() -> int:
    """Gram files this process has open (each once, though ``mmap`` holds a second handle)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith(".grams"):
            found.add(target)
    return len(found)


def test_a_searcher_following_new_generations_closes_the_gram_files_of_the_old_ones(tmp_path, monkeypatch):
    """Each searcher opens its segments' gram files; when the index moves on and the searcher
    is replaced, they are closed (no file handle left behind per generation)."""
    from indexer.build import build_index
    from searchapp import store
    from searchapp.core import search
    from searchapp.request import Query

    from conftest import CORPUS

    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "index"
    build_index([archive], index_dir, workers=1)
    index = store.SearchIndex(index_dir)
    monkeypatch.setattr(store, "REFRESH_SECONDS", 0.0)  # look for a new generation on every search
    baseline = _open_gram_files()
    page = archive / "004_1fb6f0697af30933.txt"
    for round_ in range(4):
        page.write_text(page.read_text("utf-8") + f"\n补充段落第{round_}次。\n", "utf-8")
        build_index([archive], index_dir, workers=1)
        assert search(index, Query(text=f'"补充段落第{round_}次"')).total == 1
    segments = len(list(index_dir.glob("MAIN_*.grams")))
    assert _open_gram_files() - baseline <= segments
    index.close()
    assert _open_gram_files() == baseline
