"""Ways out of an empty result, built from the parsed query (never by cutting its text): each is
a label and a ``Query`` that is valid by construction (its text is ``to_text`` of a tree)."""

from __future__ import annotations

from indexer import fields
from searchapp.query import AndNode, FieldNode, NotNode, OrNode, TermNode, to_text
from searchapp.request import Query
from searchapp.terms import words_of

MAX_SUGGESTIONS = 6
LABELS = {field.name: field.label for field in fields.FIELDS if field.label}


def suggestions(query: Query) -> list[tuple[str, Query]]:
    """(label, looser query) pairs, most useful first."""
    ways: list[tuple[str, Query]] = []
    for facet, values in query.filters.items():
        for value in values:
            ways.append((f"去掉筛选“{LABELS.get(facet, facet)}：{value}”", query.toggled(facet, str(value))))
    for name in query.bounds:
        bounds = {k: v for k, v in query.bounds.items() if k != name}
        ways.append((f"去掉{LABELS.get(name, name)}范围", query.with_changes(bounds=bounds, result_page=1)))
    if query.tree is not None:
        for label, tree in _looser(query.tree):
            ways.append((label, query.with_changes(text=to_text(tree), result_page=1)))
    return ways[:MAX_SUGGESTIONS]


def _positive(node) -> bool:
    return not isinstance(node, NotNode)


def _looser(tree) -> list[tuple[str, object]]:
    """Trees that match more than ``tree``: a term left out, quotes dropped, a field widened,
    a term's words OR'ed (within an OR, each alternative loosened)."""
    found = []
    if isinstance(tree, AndNode):
        children = list(tree.children)
        for child in children:
            rest = [c for c in children if c is not child]
            if any(map(_positive, rest)):
                found.append((f"去掉“{to_text(child)}”", rest[0] if len(rest) == 1 else AndNode(tuple(rest))))
    elif isinstance(tree, OrNode):
        for number, child in enumerate(tree.children):
            for label, looser in _looser(child):
                children = tree.children[:number] + (looser,) + tree.children[number + 1:]
                found.append((label, OrNode(children)))
    elif isinstance(tree, TermNode):
        words = words_of(tree.text)
        if tree.exact and len(words) > 1:
            found.append((f"不加引号搜 {tree.text}", TermNode(tree.text, exact=False)))
        elif not tree.exact and len(words) > 1:
            either = OrNode(tuple(TermNode(word, exact=False) for word in words))
            found.append((f"只要含其中一个词：{to_text(either)}", either))
    elif isinstance(tree, FieldNode) and tree.name == "title":
        found.append((f"在全文中搜“{tree.value}”", TermNode(str(tree.value), exact=tree.exact)))
    elif isinstance(tree, FieldNode):
        found.append((f"不限{LABELS.get(tree.name, tree.name)}，搜“{tree.value}”", TermNode(str(tree.value), exact=False)))
    return found
