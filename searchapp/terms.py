"""What the search core takes from a parsed query: its positive terms, their jieba words, the
strings to mark in snippets, and the query widened to the other names of the places it names."""

from __future__ import annotations

from functools import lru_cache

from indexer.analysis import segment
from indexer.gazetteer import load_gazetteer
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


def with_place_names(tree) -> tuple[object, dict[str, tuple[str, ...]]]:
    """``tree`` with each unquoted term that names a place OR'ed with the place's other names
    from the gazetteer (阜蒙县 -> 阜新蒙古族自治县, 阜新县, …; a name that contains the term, or
    another name added, is left out: that one finds it already), and what was added, term ->
    names. Quoted terms stay exact."""
    added: dict[str, tuple[str, ...]] = {}

    def widen(node):
        if isinstance(node, TermNode) and not node.exact:
            wider = [name for name in load_gazetteer().other_names(node.text) if node.text not in name]
            names = tuple(n for n in wider if not any(m != n and m in n for m in wider))
            if names:
                added[node.text] = names
                return OrNode((node, *(TermNode(name, exact=False) for name in names)))
            return node
        if isinstance(node, NotNode):
            return NotNode(widen(node.child))
        if isinstance(node, (AndNode, OrNode)):
            return type(node)(tuple(widen(child) for child in node.children))
        return node

    return widen(tree), added
