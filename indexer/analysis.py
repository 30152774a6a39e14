"""Analysis of normalised text: jieba words and character grams, for indexing and querying.

Both fields take *normalised* text (``indexer.normalize.normalize``): the builder normalises a
document once, the query parser normalises each query string once, then both come here.

Words (field ``content``, ``title``)::

    >>> [t.text for t in chinese_analyzer()("阜新蒙古族自治县细河区招商")]
    ['阜新蒙古族自治县', '细河区', '招商']

Positions are sequential (0, 1, 2 ...) so phrase queries work; ``startchar``/``endchar`` are
offsets into the normalised text. Whitespace and punctuation produce no token.

Grams (field ``grams``): every character and every pair of neighbouring characters, so that a
document containing a string contains all of that string's bigrams (candidates), which are then
checked against the normalised text::

    >>> char_grams("铁岭市")
    [('铁', 0), ('铁岭', 0), ('岭', 1), ('岭市', 1), ('市', 2)]
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import FieldType
from whoosh.formats import Existence

from indexer.gazetteer import load_gazetteer
from indexer.normalize import HAN

# A token is a word if it holds a Han character, a letter or a digit.
_WORDLIKE = re.compile(f"[{HAN}0-9A-Za-z\u00c0-\u024f]")


@lru_cache(maxsize=1)
def segmenter():
    """The process's jieba tokenizer with the gazetteer's place names; built once.

    jieba 0.42.1 imports ``pkg_resources`` when it can (current setuptools no longer ships it and
    jieba falls back to plain file reads); only that one deprecation warning is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pkg_resources is deprecated.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"jieba.*")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in load_gazetteer().dictionary_words():
        tokenizer.add_word(word, freq=tokenizer.suggest_freq(word, tune=False))
    return tokenizer


@dataclass(frozen=True, slots=True)
class Segmented:
    """Words of a normalised text with their character offsets, made once by ``segment``."""

    text: str
    words: tuple[tuple[str, int, int], ...]


def segment(text: str) -> Segmented:
    """jieba's default (precise) mode, keeping only word-like tokens."""
    words = tuple(
        (word, start, end)
        for word, start, end in segmenter().tokenize(text)
        if _WORDLIKE.search(word)
    )
    return Segmented(text, words)


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


class GramTokenizer(Tokenizer):
    """Whoosh tokenizer over ``char_grams`` (used when Whoosh analyses a gram string)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for gram, pos in char_grams(value):
            token.text = gram
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + pos
                token.endchar = start_char + pos + len(gram)
            yield token


class GramField(FieldType):
    """Which documents contain each gram: no positions, no frequencies (Whoosh ``Existence``).

    Exact matching intersects the documents of a string's bigrams and verifies the candidates
    against the normalised text (kept in a column), so positions would only cost space and
    indexing time. ``index`` builds the postings straight from ``gram_set``; the result is what
    Whoosh's generic path gives with ``GramTokenizer``.
    """

    scorable = False
    stored = False
    unique = False
    indexed = True

    def __init__(self):
        self.analyzer = GramTokenizer()
        self.format = Existence()
        self.vector = None

    def index(self, value, **kwargs):
        return [(gram.encode("utf-8"), 1, 1.0, b"") for gram in gram_set(value)]
