"""What the search core takes from a parsed query: its positive terms, their jieba words, and
the strings to mark in snippets."""

from __future__ import annotations

from functools import lru_cache

from indexer.analysis import segment
from searchapp.query import AndNode, NotNode, OrNode, TermNode


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word, _, _ in segment(text).words)


def words_of(text: str) -> list[str]:
    """The jieba words of a normalised query string (memoised: a query asks several times)."""
    return list(_words(text))


def positive_terms(node, negated: bool = False) -> list[TermNode]:
    """The terms of a tree that are not negated (they rank and are highlighted)."""
    if isinstance(node, TermNode):
        return [] if negated else [node]
    if isinstance(node, NotNode):
        return positive_terms(node.child, not negated)
    if isinstance(node, (AndNode, OrNode)):
        return [term for child in node.children for term in positive_terms(child, negated)]
    return []


def highlight_terms(node) -> list[tuple[str, list[str]]]:
    """(string, its words) for every positive term of the tree: an exact term is marked only
    whole, an unquoted one by its words where it does not occur whole."""
    return [(t.text, [] if t.exact else words_of(t.text)) for t in positive_terms(node)]
