import doctest
import random
from pathlib import Path

import pytest

import indexer.analysis
import indexer.normalize
from indexer.normalize import fold, normalize, normalize_with_offsets


def test_doctests():
    for module in (indexer.normalize, indexer.analysis):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("traditional, simplified", [
    ("細河兩岸奔涌創新潮", "细河两岸奔涌创新潮"),
    ("遼寧阜新", "辽宁阜新"),
    ("侯悅林 報道", "侯悦林 报道"),
    ("清河門區", "清河门区"),
])
def test_traditional_folds_to_simplified(traditional, simplified):
    assert fold(traditional) == simplified


def test_fold_is_length_preserving_and_folds_width_and_case():
    text = "ＷｉＦｉ覆盖１２３　ABC"
    assert fold(text) == "wifi覆盖123 abc"
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("raw, expected", [
    ("铁\n\n岭市", "铁岭市"),
    ("要\n\n想帮助企业", "要想帮助企业"),
    ("本报记者 田 甜", "本报记者田甜"),
    ("WiFi  覆盖", "wifi 覆盖"),
    ("2月,\n\n阜新", "2月, 阜新"),
    ("\n\n  开头和结尾  \n", "开头和结尾"),
])
def test_whitespace_inside_han_runs_does_not_split_words(raw, expected):
    assert normalize(raw) == expected


def test_offsets_map_back_to_the_original_characters():
    text = "\n阜新市\n\n細河\n\n區 WiFi  覆盖。"
    norm, offsets = normalize_with_offsets(text)
    assert norm == normalize(text) == "阜新市细河区 wifi 覆盖。"
    start = norm.index("细河区")
    assert text[offsets.start(start):offsets.end(start + 3)] == "細河\n\n區"
    start = norm.index("wifi")
    assert text[offsets.start(start):offsets.end(start + 4)] == "WiFi"


def test_normalising_a_substring_gives_a_substring():
    # The recall guarantee rests on this: per-character folding, local whitespace rules.
    text = (Path(__file__).parent.parent / "corpus" / "003_99244411f5f1c9bb.txt").read_text("utf-8")
    norm = normalize(text)
    rng = random.Random(3)
    for _ in range(500):
        start = rng.randrange(len(text) - 10)
        piece = text[start:start + rng.randint(1, 12)]
        if normalize(piece):
            assert normalize(piece) in norm, piece
