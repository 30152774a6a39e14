"""Analysis of normalised text: jieba words and character grams, for indexing and querying.

Both fields take *normalised* text (``indexer.normalize.normalize``): the builder normalises a
document once, the query parser normalises each query string once, then both come here.

Words (field ``content``, ``title``)::

    >>> [t.text for t in chinese_analyzer()("阜新蒙古族自治县细河区招商")]
    ['阜新蒙古族自治县', '细河区', '招商']

Positions are sequential (0, 1, 2 ...) so phrase queries work; ``startchar``/``endchar`` are
offsets into the normalised text. Whitespace and punctuation produce no token.

Grams (field ``grams``, kept in the segments' gram files, ``indexer.gramindex``): every
character and every pair of neighbouring characters, so that a document containing a string
contains all of that string's bigrams (candidates), which are then checked against the
normalised text::

    >>> char_grams("铁岭市")
    [('铁', 0), ('铁岭', 0), ('岭', 1), ('岭市', 1), ('市', 2)]
"""

from __future__ import annotations

import bisect
import importlib.util
import logging
import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import itemgetter

from whoosh.analysis import Token, Tokenizer

from indexer.gazetteer import load_gazetteer
from indexer.normalize import HAN

# A token is a word if it holds a Han character, a letter or a digit.
_WORDLIKE = re.compile(f"[{HAN}0-9A-Za-z\u00c0-\u024f]")


# --- Segmentation: jieba-rs (``rjieba``) in production, Python jieba as the reference ------------
#
# ``segment`` must give exactly the tokens Python jieba 0.42.1 gives (default mode, HMM on, with
# the gazetteer's words). rjieba 0.2.2 (jieba-rs 0.11.0) is the same algorithm, ~10x faster, but
# differs from Python jieba in four ways; each is undone here, and tests/test_segmenter_parity.py
# checks the result against Python jieba itself:
#
# 1. Dictionary and total. Python jieba counts a word listed twice in ``dict.txt`` (B超) twice in
#    its total, and ``add_word`` of a word it already has adds the new frequency to the total
#    without taking the old one off; jieba-rs replaces both. The total is in every word's
#    probability, so rjieba gets Python jieba's own ``dict.txt`` word by word and a placeholder
#    word (a private-use character, which never reaches the dictionary lookup) carries the
#    difference of the totals.
# 2. Gazetteer frequencies. Python jieba's ``suggest_freq(word, tune=False)`` is recomputed with
#    Python's own arithmetic from the same dictionary (``_suggest_freq``), so Python jieba itself
#    is not loaded by the indexer or the server.
# 3. Which characters are Han. Python jieba's blocks hold U+4E00..U+9FD5 only; jieba-rs also takes
#    the other CJK ideograph ranges (``_RS_ONLY_HAN``), which Python jieba emits one by one. Text is
#    cut at those characters before rjieba sees it; Python jieba treats them as block boundaries,
#    so that changes nothing on its side.
# 4. Letters and digits left to the HMM. Python jieba splits them with
#    ``[a-zA-Z0-9]+(?:\.\d+)?%?`` (covid-19 -> covid, -, 19); jieba-rs 0.11 keeps alphanumeric runs
#    joined by ``.``, ``_`` or ``-`` together (covid-19). Python's pieces always subdivide such a
#    token exactly, and no dictionary word has that shape (checked at load), so every token
#    holding a connector is re-split with Python's expression.

# Ideographs jieba-rs's block class takes beyond Python jieba's U+4E00..U+9FD5 (found by probing
# every code point, re-checked by the parity test); lone surrogates as well, which rjieba cannot
# be given at all.
_RS_ONLY_HAN = re.compile("[\u3400-\u4dbf\u9fd6-\u9fff\uf900-\ufaff\U00020000-\U0002a6df"
                          "\U0002a700-\U0002ebef\U0002f800-\U0002fa1f\ud800-\udfff]")
# A token of letters and digits joined by connectors (jieba-rs 0.11's HMM skip match with a
# connector in it), and Python jieba's expression for the same text (jieba.finalseg.re_skip).
_CONNECTED = re.compile(r"[a-zA-Z0-9]+(?:[._\-][a-zA-Z0-9]+)+%?")
# A connector between two alphanumerics (found without consuming them: in "江南style-1-2" the
# route word 江南style ends at the first connector and 1-2 is a joined token of its own).
_RS_CONNECTOR = re.compile(r"(?<=[a-zA-Z0-9])[._\-](?=[a-zA-Z0-9])")
_PY_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_PLACEHOLDER = "\ue000"  # carries the total's difference; not in any block, never looked up


def _silenced_jieba():
    """Import Python jieba (0.42.1 imports ``pkg_resources`` when it can, and current setuptools
    no longer ships it; only that one deprecation warning is silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pkg_resources is deprecated.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"jieba.*")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def reference_tokenizer():
    """Python jieba with the gazetteer's place names: the reference ``segment`` must equal.

    Only the parity test and ``reference_segment`` load it (about 0.5 s and 70 MB).
    """
    jieba = _silenced_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in load_gazetteer().dictionary_words():
        tokenizer.add_word(word, freq=tokenizer.suggest_freq(word, tune=False))
    return tokenizer


def jieba_dictionary_path() -> str:
    """Python jieba's ``dict.txt`` (found without importing jieba)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("jieba (the segmentation dictionary) is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "dict.txt")


def _read_jieba_dictionary(path: str) -> list[tuple[str, int]]:
    """``dict.txt``'s entries in file order, parsed as ``jieba.Tokenizer.gen_pfdict`` does."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")  # jieba decodes line by line; "\n" is one byte in UTF-8
    entries = []
    for line in text.split("\n"):
        line = line.strip(" \t\n\r\x0b\x0c")  # bytes.strip()'s whitespace
        if line:
            word, freq = line.split(" ")[:2]
            entries.append((word, int(freq)))
    if not entries:  # pragma: no cover - a broken install
        raise RuntimeError(f"empty jieba dictionary {path}")
    return entries


class _Dictionary:
    """Python jieba's word frequencies and total, updated as its ``add_word`` updates them."""

    def __init__(self, entries: list[tuple[str, int]]):
        self.freq: dict[str, int] = dict(entries)  # a word listed twice keeps its last frequency
        self.total = sum(freq for _, freq in entries)  # ... but both count (gen_pfdict)
        self.first_chars = {word[0] for word, _ in entries if len(word) > 1}

    def get(self, segment: str) -> int:
        """``jieba.Tokenizer.FREQ.get(segment, 1)``: a proper prefix of a word is in FREQ as 0."""
        freq = self.freq.get(segment)
        if freq is not None:
            return freq
        if len(segment) == 1:
            return 0 if segment in self.first_chars else 1
        # Rare (letters and digits joined by the cut), never for a place name.
        return 0 if any(word.startswith(segment) for word in self.freq) else 1

    def add(self, word: str, freq: int) -> None:
        """``jieba.Tokenizer.add_word``: the total grows by the new frequency, whatever was there
        before."""
        self.freq[word] = freq
        self.total += freq
        if len(word) > 1:
            self.first_chars.add(word[0])


def _suggest_freq(dictionary: _Dictionary, rs, word: str) -> int:
    """``jieba.Tokenizer.suggest_freq(word, tune=False)`` with Python jieba's arithmetic; ``rs``
    (holding the same dictionary and total) cuts ``word`` without the HMM, as Python's does."""
    ftotal = float(dictionary.total)
    freq = 1
    for seg, _, _ in _rs_tokens(rs, word, hmm=False):
        freq *= dictionary.get(seg) / ftotal
    # Python takes FREQ.get(word, 1) here; a prefix's 0 and an absent word's 1 both lose to
    # int(...) + 1 >= 1, so only a real frequency matters.
    return max(int(freq * dictionary.total) + 1, dictionary.freq.get(word, 1))


@dataclass(frozen=True, slots=True)
class SegmenterState:
    """The rjieba segmenter and what it was given beyond ``dict.txt`` (checked by the parity test
    against Python jieba's ``FREQ`` and ``total``)."""

    jieba: object  # rjieba.Jieba
    frequencies: dict[str, int]  # the gazetteer's words, as Python jieba's suggest_freq gives them
    total: int  # Python jieba's total, which rjieba's equals (with the placeholder)


def build_segmenter_state() -> SegmenterState:
    """A new rjieba segmenter (about 0.6 s); the process's own is ``segmenter_state()``."""
    import rjieba

    entries = _read_jieba_dictionary(jieba_dictionary_path())
    dictionary = _Dictionary(entries)
    rs = rjieba.Jieba.empty()
    add = rs.add_word
    for word, freq in entries:
        add(word, freq, None)
    rs_total = sum(dictionary.freq.values())  # jieba-rs replaces a repeated word's frequency

    def balance():
        add(_PLACEHOLDER, dictionary.total - rs_total, None)

    balance()
    frequencies = {}
    for word in load_gazetteer().dictionary_words():
        freq = frequencies[word] = _suggest_freq(dictionary, rs, word)
        rs_total += freq - dictionary.freq.get(word, 0)
        dictionary.add(word, freq)
        add(word, freq, None)
        balance()
    shaped = re.findall(f"^{_CONNECTED.pattern}$", "\n".join(dictionary.freq), re.M)
    if shaped:  # pragma: no cover - would make difference 4 ambiguous
        raise RuntimeError(f"dictionary words shaped like jieba-rs's joined tokens: {shaped[:10]}")
    return SegmenterState(rs, frequencies, dictionary.total)


@lru_cache(maxsize=1)
def segmenter_state() -> SegmenterState:
    """The process's segmenter and its gazetteer frequencies, built once."""
    return build_segmenter_state()


def segmenter():
    """The process's rjieba segmenter: Python jieba's dictionary and total, and the gazetteer's
    words with the frequencies Python jieba gives them. Use it through ``segment`` or
    ``tokenize``, which undo jieba-rs's other differences."""
    return segmenter_state().jieba


def _rs_tokens(rs, text: str, hmm: bool = True) -> list[tuple[str, int, int]]:
    """rjieba's tokens of ``text`` with Python jieba's blocks (difference 3)."""
    if not _RS_ONLY_HAN.search(text):
        return rs.tokenize(text, hmm=hmm)
    tokens = []
    start = 0
    for match in _RS_ONLY_HAN.finditer(text):
        end = match.start()
        if end > start:
            tokens.extend((word, start + a, start + b)
                          for word, a, b in rs.tokenize(text[start:end], hmm=hmm))
        tokens.append((match.group(), end, end + 1))
        start = end + 1
    if start < len(text):
        tokens.extend((word, start + a, start + b)
                      for word, a, b in rs.tokenize(text[start:], hmm=hmm))
    return tokens


def _py_skip_split(text: str, tokens: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Re-split jieba-rs's joined alphanumeric tokens as Python jieba splits them (difference 4).

    Only a token over a connector between two alphanumerics of ``text`` can be a joined one; such
    tokens are found by their start offsets, so the others are not looked at one by one.
    """
    starts = list(map(itemgetter(1), tokens))
    joined = sorted({bisect.bisect_right(starts, match.start()) - 1
                     for match in _RS_CONNECTOR.finditer(text)}, reverse=True)
    for index in joined:
        word, start, _ = tokens[index]
        if not _CONNECTED.fullmatch(word):
            continue
        pieces = []
        for piece in _PY_SKIP.split(word):
            if piece:
                pieces.append((piece, start, start + len(piece)))
                start += len(piece)
        tokens[index:index + 1] = pieces
    return tokens


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Every token (words, punctuation, spaces) of ``text`` with character offsets, exactly as
    Python jieba's ``tokenize`` gives them (default mode, HMM), computed by rjieba."""
    tokens = _rs_tokens(segmenter(), text)
    if _RS_CONNECTOR.search(text):
        tokens = _py_skip_split(text, tokens)
    return tokens


def reference_tokenize(text: str) -> list[tuple[str, int, int]]:
    """``tokenize`` by Python jieba itself (slow; for tests and checks)."""
    return list(reference_tokenizer().tokenize(text))


@dataclass(frozen=True, slots=True)
class Segmented:
    """Words of a normalised text with their character offsets, made once by ``segment``."""

    text: str
    words: tuple[tuple[str, int, int], ...]


def _segmented(text: str, tokens: list[tuple[str, int, int]]) -> Segmented:
    # The word-like tokens, filtered without a Python-level loop (the indexing hot path).
    wordlike = map(_WORDLIKE.search, map(itemgetter(0), tokens))
    return Segmented(text, tuple(compress(tokens, wordlike)))


def segment(text: str) -> Segmented:
    """jieba's default (precise) mode, keeping only word-like tokens (computed by rjieba)."""
    return _segmented(text, tokenize(text))


def reference_segment(text: str) -> Segmented:
    """``segment`` by Python jieba itself (slow; for tests and checks)."""
    return _segmented(text, reference_tokenize(text))


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer over ``segment``.

    The indexer segments each article once (``indexer.documents``) and hands Whoosh the list of
    words (Whoosh's own way to bypass an analyzer), so this runs for queries and for any text
    Whoosh analyses.
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        segmented = segment(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (word, start, end) in enumerate(segmented.words):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def chinese_analyzer():
    """The word analyzer of the ``content`` and ``title`` fields (the schema pickles it)."""
    return JiebaTokenizer()


def char_grams(text: str) -> list[tuple[str, int]]:
    """Unigrams and bigrams of ``text`` with positions; spaces are no unigram."""
    grams = []
    for i, char in enumerate(text):
        if char != " ":
            grams.append((char, i))
        if i + 1 < len(text):
            grams.append((text[i:i + 2], i))
    return grams


def gram_set(text: str) -> set[str]:
    """The distinct grams of ``char_grams`` (the indexing hot path: one set comprehension)."""
    grams = {text[i:i + 2] for i in range(len(text) - 1)}
    grams.update(text)
    grams.discard(" ")
    return grams
