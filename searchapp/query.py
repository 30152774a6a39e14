"""The query language, and ``Query``: what a front end asks the core for.

Language (the same in the web page, the API and the CLI)::

    阜新 招商              both terms (AND)
    阜新 OR 铁岭           either
    NOT 铁岭, -铁岭        without
    (阜新 OR 铁岭) 招商    grouping
    "细河区 文明"          exact: the string occurs as such (“…” works too)
    city:阜新 district:海州区 year:2021 year:2020..2023 topic:营商环境 reporter:侯悦林 title:开门红

Every string is normalised like the indexed text (traditional = simplified, full width = half
width, case folded), so 細河 and 细河 are the same query.

``query_from_args`` builds a ``Query`` from a flat mapping (URL parameters or CLI options), so
that the front ends share parameter names, limits and error messages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Mapping

from indexer.analysis import segment
from indexer.gazetteer import load_gazetteer
from indexer.normalize import fold, normalize
from searchapp import settings

FIELDS = ("city", "district", "year", "topic", "reporter", "title")
FACET_PARAMS = ("city", "district", "year", "topic")
SORTS = ("relevance", "date")


class QueryError(ValueError):
    """A query or parameter that cannot be searched; the message says what and where."""

    def __init__(self, message: str, param: str = "q"):
        super().__init__(message)
        self.param = param


# ---------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True, slots=True)
class TermNode:
    text: str  # normalised
    exact: bool


@dataclass(frozen=True, slots=True)
class FieldNode:
    name: str
    value: str  # normalised
    exact: bool = False


@dataclass(frozen=True, slots=True)
class NotNode:
    child: object


@dataclass(frozen=True, slots=True)
class AndNode:
    children: tuple


@dataclass(frozen=True, slots=True)
class OrNode:
    children: tuple


# ---------------------------------------------------------------------------------------------
# Tokens

_OPEN_QUOTES = {'"': '"', "“": "”", "”": "”"}
_TOKEN_BREAK = set(' ()"“”')
_FIELD_RE = re.compile(r"([A-Za-z_]+):")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, phrase, field, or, not, minus, open, close
    value: str
    pos: int


def _tokens(raw: str) -> list[_Token]:
    """Tokens of a query. Structure is read from the folded text (full-width brackets and colons
    count); the operators OR, NOT and AND only in capitals as typed (folding lower-cases)."""
    text = fold(raw)
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(_Token("open", char, i))
            i += 1
        elif char == ")":
            tokens.append(_Token("close", char, i))
            i += 1
        elif char in _OPEN_QUOTES:
            end = _closing_quote(text, i)
            tokens.append(_Token("phrase", text[i + 1:end], i))
            i = end + 1
        elif char == "-" and i + 1 < len(text) and not text[i + 1].isspace() and (
                i == 0 or text[i - 1].isspace() or text[i - 1] == "("):
            tokens.append(_Token("minus", char, i))
            i += 1
        else:
            match = _FIELD_RE.match(text, i)
            if match:
                tokens.append(_Token("field", match.group(1).lower(), i))
                i = match.end()
                continue
            start = i
            while i < len(text) and text[i] not in _TOKEN_BREAK and not text[i].isspace():
                i += 1
            word = text[start:i]
            kind = {"OR": "or", "|": "or", "NOT": "not", "AND": "and"}.get(raw[start:i], "word")
            if kind != "and":
                tokens.append(_Token(kind, word if kind == "word" else raw[start:i], start))
    return tokens


def _closing_quote(text: str, start: int) -> int:
    closers = {_OPEN_QUOTES[text[start]], '"'}
    for end in range(start + 1, len(text)):
        if text[end] in closers:
            return end
    raise QueryError(f"unbalanced quote: the quote at position {start + 1} is never closed")


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self):
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            if token.kind == "close":
                raise QueryError(f"unbalanced parenthesis: ')' at position {token.pos + 1} has no '('")
            raise QueryError(f"unexpected {token.value!r} at position {token.pos + 1}")
        return node

    def or_expr(self):
        children = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "close"):
                raise QueryError(f"OR at position {token.pos + 1} needs a term after it")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else OrNode(tuple(children))

    def and_expr(self):
        children = []
        while (token := self.peek()) is not None and token.kind not in ("or", "close"):
            children.append(self.unary())
        if not children:
            token = self.peek()
            where = f" before position {token.pos + 1}" if token else ""
            raise QueryError(f"expected a term{where}")
        return children[0] if len(children) == 1 else AndNode(tuple(children))

    def unary(self):
        token = self.peek()
        if token.kind in ("not", "minus"):
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "close"):
                raise QueryError(f"{token.value} at position {token.pos + 1} needs a term after it")
            return NotNode(self.unary())
        return self.primary()

    def primary(self):
        token = self.take()
        if token.kind == "open":
            if self.peek() is None:
                raise QueryError(f"unbalanced parenthesis: '(' at position {token.pos + 1} is never closed")
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError(f"unbalanced parenthesis: '(' at position {token.pos + 1} is never closed")
            self.take()
            return node
        if token.kind == "close":
            raise QueryError(f"unbalanced parenthesis: ')' at position {token.pos + 1} has no '('")
        if token.kind == "phrase":
            return _term(token.value, exact=True, pos=token.pos)
        if token.kind == "field":
            return self.field(token)
        return _term(token.value, exact=False, pos=token.pos)

    def field(self, token: _Token):
        if token.value not in FIELDS:
            raise QueryError(f"unknown field '{token.value}:' at position {token.pos + 1}; "
                             f"known fields: {', '.join(FIELDS)}")
        value = self.peek()
        if value is None or value.kind not in ("word", "phrase") or value.pos != token.pos + len(token.value) + 1:
            raise QueryError(f"field '{token.value}:' at position {token.pos + 1} needs a value right after the colon")
        self.take()
        return field_node(token.value, value.value, exact=value.kind == "phrase")


def _term(raw: str, exact: bool, pos: int) -> TermNode:
    text = normalize(raw)
    if not text:
        raise QueryError(f"empty {'quotes' if exact else 'term'} at position {pos + 1}")
    return TermNode(text, exact)


_YEAR_RE = re.compile(r"^(\d{4})?(?:(\.\.)(\d{4})?)?$")


def parse_years(value: str, param: str = "year") -> tuple[int | None, int | None]:
    """``2021`` or ``2020..2023`` (either end may be left open) -> (first, last)."""
    match = _YEAR_RE.match(value.strip())
    if not match or value.strip() in ("", ".."):
        raise QueryError(f"{param} must be a year (2021) or a range (2020..2023), not {value!r}", param)
    first, dots, last = match.groups()
    first_year = int(first) if first else None
    last_year = int(last) if last else (first_year if not dots else None)
    if first_year is not None and last_year is not None and first_year > last_year:
        raise QueryError(f"{param} range {value!r} ends before it starts", param)
    return first_year, last_year


def field_node(name: str, raw: str, exact: bool = False, param: str | None = None) -> FieldNode:
    param = param or name
    value = normalize(raw)
    if not value:
        raise QueryError(f"{name} needs a value", param)
    if name == "year":
        parse_years(value, param)
    elif name == "city":
        value = canonical_city(value)
    elif name == "district":
        value = canonical_district(value)
    return FieldNode(name, value, exact)


def canonical_city(value: str) -> str:
    gazetteer = load_gazetteer()
    for city in gazetteer.cities:
        if value in (city, city + "市"):
            return city
    return value


def canonical_district(value: str) -> str:
    gazetteer = load_gazetteer()
    known = [d for ds in gazetteer.districts_by_city.values() for d in ds]
    if value in known:
        return value
    for suffix in ("区", "县", "市"):
        if value + suffix in known:
            return value + suffix
    mentions = gazetteer.find(words_of(value))
    if len(mentions.districts) == 1:
        return mentions.districts[0]
    return value


def parse(text: str):
    """The syntax tree of a query string (already checked for length and characters)."""
    tokens = _tokens(text)
    if not tokens:
        raise QueryError("empty query: type a word to search for")
    return _Parser(tokens).parse()


# ---------------------------------------------------------------------------------------------
# The Query value


@dataclass(frozen=True)
class Query:
    """A search request: the query text, facet filters, order and page."""

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> values (OR)
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = settings.DEFAULT_PER_PAGE

    @cached_property
    def tree(self):
        return parse(self.text) if self.text.strip() else None

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not any(self.filters.values()) and \
            self.year_from is None and self.year_to is None

    def with_changes(self, **changes) -> "Query":
        return replace(self, **changes)

    def toggled(self, facet: str, value: str) -> "Query":
        """This query with ``value`` added to or removed from a facet filter (page 1)."""
        values = list(self.filters.get(facet, ()))
        values = [v for v in values if v != value] if value in values else [*values, value]
        filters = {k: v for k, v in self.filters.items() if k != facet}
        if values:
            filters[facet] = tuple(values)
        return replace(self, filters=filters, page=1)

    def to_params(self) -> list[tuple[str, str]]:
        """URL parameters that give this query back through ``query_from_args``."""
        params: list[tuple[str, str]] = []
        if self.text:
            params.append(("q", self.text))
        for facet in FACET_PARAMS:
            params.extend((facet, value) for value in self.filters.get(facet, ()))
        if self.year_from is not None:
            params.append(("year_from", str(self.year_from)))
        if self.year_to is not None:
            params.append(("year_to", str(self.year_to)))
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.page != 1:
            params.append(("page", str(self.page)))
        if self.per_page != settings.DEFAULT_PER_PAGE:
            params.append(("per_page", str(self.per_page)))
        return params


def check_text(text: str, limit: int = settings.MAX_QUERY_CHARS) -> str:
    if len(text) > limit:
        raise QueryError(f"query is too long: {len(text)} characters (at most {limit})")
    for position, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cf") and char not in "\t\n\r":
            raise QueryError(f"query contains a control character (U+{ord(char):04X}) at position {position + 1}")
    return text.strip()


def _int_param(args: Mapping, name: str, default: int, low: int, high: int) -> int:
    raw = _one(args, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw!r}", name) from None
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}, not {value}", name)
    return value


def _one(args: Mapping, name: str):
    value = args.get(name)
    if isinstance(value, (list, tuple)):
        return value[-1] if value else None
    return value


def _many(args: Mapping, name: str) -> list[str]:
    if hasattr(args, "getlist"):
        values = args.getlist(name)
    else:
        value = args.get(name)
        values = [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]
    return [v for v in (str(v).strip() for v in values) if v]


def query_from_args(args: Mapping, *, max_chars: int = settings.MAX_QUERY_CHARS) -> Query:
    """A ``Query`` from URL parameters or CLI options; raises ``QueryError`` naming the parameter.

    Parameters: ``q``, ``city``, ``district``, ``year`` (``2021`` or ``2020..2023``), ``year_from``,
    ``year_to``, ``topic`` (each facet may repeat), ``sort``, ``page``, ``per_page``.
    """
    text = check_text(str(_one(args, "q") or ""), max_chars)
    if text:
        parse(text)  # report syntax errors now
    filters: dict[str, tuple[str, ...]] = {}
    for facet in FACET_PARAMS:
        values = []
        for raw in _many(args, facet):
            check_text(raw, 100)
            node = field_node(facet, raw, param=facet)
            if node.value not in values:
                values.append(node.value)
        if values:
            filters[facet] = tuple(values)
    bounds = {}
    for name in ("year_from", "year_to"):
        raw = _one(args, name)
        if raw not in (None, ""):
            if not re.fullmatch(r"\d{4}", str(raw).strip()):
                raise QueryError(f"{name} must be a four-digit year, not {raw!r}", name)
            bounds[name] = int(str(raw).strip())
    if "year_from" in bounds and "year_to" in bounds and bounds["year_from"] > bounds["year_to"]:
        raise QueryError("year_from is after year_to", "year_from")
    sort = str(_one(args, "sort") or "relevance")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", "sort")
    return Query(
        text=text,
        filters=filters,
        year_from=bounds.get("year_from"),
        year_to=bounds.get("year_to"),
        sort=sort,
        page=_int_param(args, "page", 1, 1, settings.MAX_PAGE),
        per_page=_int_param(args, "per_page", settings.DEFAULT_PER_PAGE, 1, settings.MAX_PER_PAGE),
    )


# ---------------------------------------------------------------------------------------------
# What the core needs from a tree


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
