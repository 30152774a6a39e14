"""The counted commit names the sources that lost articles, and commits nothing."""

from collections import Counter

import pytest

from indexer import indexdir
from indexer.build import build_index
from indexer.codec import NewsearchCodec
from indexer.writer import CheckedWriter, CountMismatch

from conftest import CORPUS
from test_safety import _count


def test_a_wrong_count_names_the_sources_short_of_articles_and_commits_nothing(tmp_path):
    index_dir = tmp_path / "index"
    build_index([CORPUS], index_dir, workers=1)
    writer = CheckedWriter(indexdir.open_for_writing(index_dir), codec=NewsearchCodec())
    for number in range(3):
        writer.add_document(id=f"a-{number}", source="/archive/a.txt")
    writer.add_document(id="b-0", source="/archive/b.txt")
    writer.expected_sources = Counter({"/archive/a.txt": 3, "/archive/b.txt": 2})
    writer.expected = 26 + 5
    with pytest.raises(CountMismatch) as failure:
        writer.commit()
    assert "would hold 30 articles, 31 were expected" in str(failure.value)
    assert str(failure.value).endswith("articles missing from: /archive/b.txt (1 of 2)")
    writer.cancel()
    assert _count(index_dir) == 26
