"""The query language: a query string -> a syntax tree.

Language (the same in the web page, the API and the CLI)::

    阜新 招商              both terms (AND)
    阜新 OR 铁岭           either
    NOT 铁岭, -铁岭        without
    (阜新 OR 铁岭) 招商    grouping
    "细河区 文明"          exact: the string occurs as such (“…”, 「…」 and 『…』 work too)
    city:阜新 district:海州区 year:2021 year:2020..2023 topic:营商环境 reporter:侯悦林 title:开门红
    date:2023-05-01 date:2023-05 date:2023 date:2023-05-01..2023-06-30 date:2020.. (indexer.dates)

The ``field:`` names are the query fields of the table of fields (``indexer.fields``). Every
string is normalised like the indexed text (traditional = simplified, full width = half width,
case folded), so 細河 and 细河 are the same query; a range field's value is parsed once, into a
``Range``. ``to_text`` writes a tree back as a query string (for suggestions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer import fields
from indexer.dates import DateError
from indexer.normalize import fold, normalize

QUERY_FIELDS = {field.name: field for field in fields.QUERY_FIELDS}


class QueryError(ValueError):
    """A query or parameter that cannot be searched; the message says what and where (in
    English), ``code`` which kind of error it is (stable: the API's ``reason``, and what the page
    picks its Chinese message by)."""

    def __init__(self, message: str, param: str = "q", *, code: str = "bad_query"):
        super().__init__(message)
        self.param = param
        self.code = code


_RANGE_RE = re.compile(r"^(\d{4})?(?:(\.\.)(\d{4})?)?$")


@dataclass(frozen=True, slots=True)
class Range:
    """A range of a number field (years): ``2021``, ``2020..2023``, ``2020..``, ``..2023``."""

    first: int | None
    last: int | None

    @classmethod
    def parse(cls, value: str, param: str = "year") -> "Range":
        text = value.strip()
        match = _RANGE_RE.match(text)
        if not match or text in ("", ".."):
            raise QueryError(f"{param} must be a year (2021) or a range (2020..2023), not {value!r}", param,
                             code="bad_year")
        first, dots, last = match.groups()
        first_year = int(first) if first else None
        last_year = int(last) if last else (first_year if not dots else None)
        if first_year is not None and last_year is not None and first_year > last_year:
            raise QueryError(f"{param} range {value!r} ends before it starts", param, code="range_reversed")
        return cls(first_year, last_year)

    def __contains__(self, number: int) -> bool:
        return (self.first is None or number >= self.first) and (self.last is None or number <= self.last)

    def __str__(self) -> str:
        if self.first == self.last:
            return str(self.first)
        return f"{self.first or ''}..{self.last or ''}"


# ---------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True, slots=True)
class TermNode:
    text: str  # normalised
    exact: bool


@dataclass(frozen=True, slots=True)
class FieldNode:
    name: str
    value: str | Range  # normalised (a Range for a range field)
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

# An opening quote -> its closing one ('"' closes any). Corner brackets are the quotes of
# traditional Chinese text (and what some input methods type); ” also opens, as input methods
# often type ”…”.
_OPEN_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』"}
_TOKEN_BREAK = set(' ()"“”「『')
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
    raise QueryError(f"unbalanced quote: the quote at position {start + 1} is never closed",
                     code="unclosed_quote")


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
                raise QueryError(f"unbalanced parenthesis: ')' at position {token.pos + 1} has no '('",
                                 code="unopened_parenthesis")
            raise QueryError(f"unexpected {token.value!r} at position {token.pos + 1}", code="unexpected")
        return node

    def or_expr(self):
        children = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "close"):
                raise QueryError(f"OR at position {token.pos + 1} needs a term after it",
                                 code="missing_operand")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else OrNode(tuple(children))

    def and_expr(self):
        children = []
        while (token := self.peek()) is not None and token.kind not in ("or", "close"):
            children.append(self.unary())
        if not children:
            token = self.peek()
            where = f" before position {token.pos + 1}" if token else ""
            raise QueryError(f"expected a term{where}", code="expected_term")
        return children[0] if len(children) == 1 else AndNode(tuple(children))

    def unary(self):
        token = self.peek()
        if token.kind in ("not", "minus"):
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "close"):
                raise QueryError(f"{token.value} at position {token.pos + 1} needs a term after it",
                                 code="missing_operand")
            return NotNode(self.unary())
        return self.primary()

    def primary(self):
        token = self.take()
        if token.kind == "open":
            if self.peek() is None:
                raise QueryError(f"unbalanced parenthesis: '(' at position {token.pos + 1} is never closed",
                                 code="unclosed_parenthesis")
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError(f"unbalanced parenthesis: '(' at position {token.pos + 1} is never closed",
                                 code="unclosed_parenthesis")
            self.take()
            return node
        if token.kind == "close":
            raise QueryError(f"unbalanced parenthesis: ')' at position {token.pos + 1} has no '('",
                             code="unopened_parenthesis")
        if token.kind == "phrase":
            return _term(token.value, exact=True, pos=token.pos)
        if token.kind == "field":
            return self.field(token)
        return _term(token.value, exact=False, pos=token.pos)

    def field(self, token: _Token):
        if token.value not in QUERY_FIELDS:
            raise QueryError(f"unknown field '{token.value}:' at position {token.pos + 1}; "
                             f"known fields: {', '.join(QUERY_FIELDS)}", code="unknown_field")
        value = self.peek()
        if value is None or value.kind not in ("word", "phrase") or value.pos != token.pos + len(token.value) + 1:
            raise QueryError(f"field '{token.value}:' at position {token.pos + 1} needs a value right after the colon",
                             code="field_needs_value")
        self.take()
        return field_node(token.value, value.value, exact=value.kind == "phrase")


def _term(raw: str, exact: bool, pos: int) -> TermNode:
    text = normalize(raw)
    if not text:
        raise QueryError(f"empty {'quotes' if exact else 'term'} at position {pos + 1}",
                         code="empty_quotes" if exact else "empty_term")
    return TermNode(text, exact)


def field_node(name: str, raw: str, exact: bool = False, param: str | None = None) -> FieldNode:
    """A ``name:raw`` filter, its value normalised, spelled as the index spells it, and parsed
    into a ``Range`` for a range field."""
    param = param or name
    field = QUERY_FIELDS[name]
    value = normalize(raw)
    if not value:
        raise QueryError(f"{name} needs a value", param, code="missing_value")
    if field.facet == fields.RANGE_FACET:
        return FieldNode(name, Range.parse(value, param), exact)
    if field.parse is not None:
        try:
            return FieldNode(name, field.parse(value), exact)
        except DateError as error:
            raise QueryError(f"{param}: {error}", param, code="bad_date") from None
    if field.canonical is not None:
        value = field.canonical(value)
    return FieldNode(name, value, exact)


def parse(text: str):
    """The syntax tree of a query string (already checked for length and characters)."""
    tokens = _tokens(text)
    if not tokens:
        raise QueryError("empty query: type a word to search for", code="empty_query")
    return _Parser(tokens).parse()


# A term or field value written without quotes: no space, bracket, quote mark or colon in it
# (and no leading '-'); anything else is written in "…".
_SPECIAL = re.escape("".join(sorted({*_TOKEN_BREAK, *_OPEN_QUOTES, *_OPEN_QUOTES.values(), ":", "："} - {" "})))
_PLAIN = re.compile(rf"^[^\s{_SPECIAL}-][^\s{_SPECIAL}]*$")


def to_text(node) -> str:
    """A tree written back in the query language (parsing it gives the same tree)."""
    if isinstance(node, TermNode):
        return node.text if not node.exact and _PLAIN.match(node.text) and node.text not in ("OR", "NOT", "AND", "|") \
            else f'"{node.text}"'
    if isinstance(node, FieldNode):
        value = str(node.value)
        return f"{node.name}:{value}" if not node.exact and _PLAIN.match(value) else f'{node.name}:"{value}"'
    if isinstance(node, NotNode):
        return f"-{_grouped(node.child)}"
    if isinstance(node, AndNode):
        return " ".join(_grouped(child) for child in node.children)
    if isinstance(node, OrNode):
        return " OR ".join(_grouped(child) if isinstance(child, OrNode) else to_text(child)
                           for child in node.children)
    raise TypeError(node)


def _grouped(node) -> str:
    return f"({to_text(node)})" if isinstance(node, (AndNode, OrNode)) else to_text(node)
