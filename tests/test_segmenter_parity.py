"""rjieba (jieba-rs) segments exactly as Python jieba, the reference.

``indexer.analysis.tokenize`` (rjieba plus the corrections of the differences listed in
``indexer.analysis``) must give the very tokens, with the very offsets, that Python jieba 0.42.1's
``tokenize`` gives (default mode, HMM on), both holding the gazetteer's words: on the seed pages,
on samples of the two CCTV corpora, on tricky strings, on every short string over an alphabet of
the characters that matter, and with the HMM alone. No difference is allowed: none remains.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json

import pytest

from conftest import CORPUS, SHARED
from indexer import analysis
from indexer.analysis import (build_segmenter_state, reference_segment, reference_tokenize,
                              reference_tokenizer, segment, segmenter, segmenter_state, tokenize)
from indexer.gazetteer import load_gazetteer
from indexer.normalize import normalize

SAMPLE = 300  # articles per corpus


def assert_same_tokens(texts) -> int:
    """Each text's tokens equal the reference's; returns how many tokens were compared."""
    compared = 0
    for text in texts:
        ours, reference = tokenize(text), reference_tokenize(text)
        if ours != reference:
            at = next((i for i, (a, b) in enumerate(zip(ours, reference)) if a != b),
                      min(len(ours), len(reference)))
            pytest.fail(f"rjieba and Python jieba differ at token {at} of {text[:60]!r}: "
                        f"{ours[max(at - 2, 0):at + 3]} != {reference[max(at - 2, 0):at + 3]}")
        compared += len(reference)
    return compared


def test_seed_pages():
    pages = [path.read_text("utf-8") for path in sorted(CORPUS.glob("*.txt"))]
    assert len(pages) == 5
    assert assert_same_tokens(pages + [normalize(page) for page in pages]) > 30_000
    for page in pages:  # and so the indexer's words
        assert segment(normalize(page)) == reference_segment(normalize(page))


CORPORA = ["cctv_xwlb", "cctv_xwlb_2012_2018"]


@functools.lru_cache(maxsize=None)
def corpus_sample(corpus: str) -> list[str]:
    """Title and text of SAMPLE articles spread evenly over the corpus (the same every run)."""
    if not SHARED.is_dir():
        pytest.skip(f"needs {SHARED}/corpora (the CCTV corpora are test data outside the project)")
    path = SHARED / "corpora" / corpus / "articles.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) > SAMPLE
    records = [json.loads(lines[i * len(lines) // SAMPLE]) for i in range(SAMPLE)]
    return [record["title"] + "\n" + record["text"] for record in records]


@pytest.mark.parametrize("corpus", CORPORA)
def test_corpus_samples(corpus):
    texts = corpus_sample(corpus)
    assert assert_same_tokens(texts + [normalize(text) for text in texts]) > 50_000


TRICKY = [
    # traditional text (normalised too, below)
    "遼寧省阜新市細河區的經濟發展與兩岸交流，臺灣同胞來訪。",
    "東北振興「十四五」規劃『全面』實施",
    # Latin letters and digits
    "5G网络", "5g网络", "COVID-19疫情", "covid-19疫情", "3.5%", "同比增长3.5%以上", "A股", "a股",
    "B超", "T恤衫", "c++和c#", "AT&T", "at&t-5-6", "GDP增长5.2%", "2019-2020年", "2022-01-01",
    "iPhone15发布", "wi-fi和e-mail", "x_y", "v1.2.3-beta_4版本", "1.5.6", "5%3", "100%%", "3.5.",
    "a-5b", "--", "...", "1+1=2", "#话题#", "江南style-1-2", "小S-1-2", "4s店-1.5-2", "c++-1-2",
    "第3-5名", "PM2.5浓度", "Ｈ股和ｈ股", "ＡＢＣ１２３",
    # full-width punctuation
    "“双十行动”，开局！（记者 张三）《求是》：……——、；？",
    "。、；：？！（）【】《》〈〉「」『』〔〕",
    # newlines and spaces
    "铁\n\n岭市  WiFi\t覆盖 ", "a\r\nb", "\r\n\r\n中国", "中\u3000国", " 前后空格 ", "\n", "", " ",
    "本报记者 田 甜 本报见习记者 张铭哲",
    # the gazetteer's places
    "阜新蒙古族自治县细河区", "阜新蒙古族自治县细河区招商", "来到阜蒙县和细河区以及开原市的企业",
    "沈阳市和平区、大连市中山区、鞍山市铁东区", "".join(load_gazetteer().dictionary_words()),
    # ideographs Python jieba does not count as Han, and other planes
    "㐀㐁中国", "鿠鿡中", "豈更新", "𠀀𠀁中国𠀂", "1㐀1", "a㐀-b", "👪中国👪", "\ud800中国",
    # the HMM's own work
    "他来到了网易杭研大厦", "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings(text):
    assert_same_tokens([text, normalize(text)])


def test_every_short_string_over_the_characters_that_matter():
    # Letters, digits, the connectors and other symbols Python jieba keeps in a block, Han, an
    # ideograph only jieba-rs counts as Han, a space, a newline, and dictionary words that start
    # or end with a letter.
    units = ["a", "1", ".", "-", "_", "%", "+", "&", "中", "㐀", " ", "\n", "江南style", "b超"]
    texts = ["".join(combo) for n in range(1, 5) for combo in itertools.product(units, repeat=n)]
    assert assert_same_tokens(texts) > 100_000


def test_block_characters_are_the_ones_assumed():
    # Python jieba's expressions, which the corrections mirror.
    jieba = analysis._silenced_jieba()
    assert jieba.re_han_default.pattern == "([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)"
    assert jieba.finalseg.re_han.pattern == "([\u4E00-\u9FD5]+)"
    assert jieba.finalseg.re_skip.pattern == analysis._PY_SKIP.pattern
    # jieba-rs: "+x+" is one token exactly when x is in its block class but is neither
    # alphanumeric nor in the HMM's range; those must be Python's symbols and _RS_ONLY_HAN.
    rs = segmenter()
    joined = {chr(cp) for cp in range(0x110000)
              if not 0xD800 <= cp <= 0xDFFF and len(rs.tokenize(f"+{chr(cp)}+")) == 1}
    assumed = {chr(cp) for cp in range(0x110000)
               if not 0xD800 <= cp <= 0xDFFF and analysis._RS_ONLY_HAN.match(chr(cp))}
    assert joined == set("+#&._%-") | assumed


def test_dictionary_total_and_gazetteer_frequencies_are_python_jiebas():
    reference = reference_tokenizer()
    state = segmenter_state()
    assert state.total == reference.total
    places = load_gazetteer().dictionary_words()
    assert state.frequencies == {word: reference.FREQ[word] for word in places}
    words = dict(analysis._read_jieba_dictionary(analysis.jieba_dictionary_path()))
    words.update(state.frequencies)
    assert words == {word: freq for word, freq in reference.FREQ.items() if freq}


def test_rjiebas_own_total_is_python_jiebas():
    """rjieba does not tell its total, but a route does: with words X and Y (frequencies b and c)
    and XY (a), the route takes XY exactly when a * total > b * c (one word against two). A probe
    with b * c one below a * total and one with it one above pin the total down."""
    state = build_segmenter_state()  # a new one: the probes add words
    total = state.total
    assert total == reference_tokenizer().total
    entries = analysis._read_jieba_dictionary(analysis.jieba_dictionary_path())
    starts = {word[0] for word, _ in entries}
    starts |= {word[0] for word in state.frequencies}
    free = [chr(cp) for cp in range(0x4E00, 0x9FD6) if chr(cp) not in starts]  # start no word
    for side, x, y in [(-1, free[0], free[1]), (+1, free[2], free[3])]:
        # b * c == a * (total + a + b + c) + side, the total counting the probe's words
        a, b = next((a, b) for a in range(1, 50) for b in range(10_000, 20_000)
                    if (a * (total + a + b) + side) % (b - a) == 0)
        c = (a * (total + a + b) + side) // (b - a)
        assert b * c == a * (total + a + b + c) + side
        for word, freq in [(x, b), (y, c), (x + y, a)]:
            state.jieba.add_word(word, freq, None)
        total += a + b + c
        words = [word for word, _, _ in state.jieba.tokenize(x + y, hmm=False)]
        assert words == ([x + y] if side < 0 else [x, y])


@pytest.mark.parametrize("source", ["seed pages", *CORPORA])
def test_the_hmm_alone(source):
    """With no dictionary every block goes to the HMM whole: jieba-rs's model and Viterbi against
    Python jieba's ``finalseg``."""
    import rjieba

    jieba = analysis._silenced_jieba()
    rs = rjieba.Jieba.empty()
    rs.add_word(analysis._PLACEHOLDER, 1, None)

    def python_hmm(text):
        words = []
        for block in jieba.re_han_default.split(text):
            if jieba.re_han_default.match(block):
                words += [block] if len(block) == 1 else jieba.finalseg.cut(block)
            else:
                for part in jieba.re_skip_default.split(block):
                    words += [part] if jieba.re_skip_default.match(part) else list(part)
        offsets = itertools.accumulate(map(len, words), initial=0)
        return [(word, start, start + len(word)) for word, start in zip(words, offsets)]

    if source == "seed pages":
        texts = [path.read_text("utf-8") for path in sorted(CORPUS.glob("*.txt"))]
    else:
        texts = corpus_sample(source)
    compared = 0
    for text in texts + [normalize(text) for text in texts]:
        ours = analysis._py_skip_split(text, analysis._rs_tokens(rs, text))
        reference = python_hmm(text)
        assert ours == reference, text[:60]
        compared += len(reference)
    assert compared > 30_000
