"""``Query``: what a front end asks the core for, and ``query_from_args``, which builds it from
URL parameters or CLI options alike (one set of names, limits and error messages).

The parameters: ``q`` (the query language, ``searchapp.query``), one per facet of the table of
fields (repeatable: values OR'ed), ``<name>_from`` / ``<name>_to`` per range facet, ``sort``,
``date_from`` / ``date_to`` (dates: ``2023``, ``2023-05``, ``2023-05-01``, each end taken whole),
``page`` (of results), ``per_page`` and ``aliases`` (0: search a place by the name typed only).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping

from indexer import fields
from indexer.dates import DateError, DateRange
from searchapp import settings
from searchapp.query import QueryError, Range, field_node, parse

SORTS = ("relevance", "date")
FACET_NAMES = tuple(f.name for f in fields.FACETS)
RANGE_NAMES = tuple(f.name for f in fields.FACETS if f.facet == fields.RANGE_FACET)
BOUND_PARAMS = {f"{name}_{end}": (name, end) for name in RANGE_NAMES for end in ("from", "to")}
DATE_PARAMS = ("date_from", "date_to")  # a range of dates (``indexer.dates``), either end
FILTER_PARAMS = ("q", *FACET_NAMES, *BOUND_PARAMS, *DATE_PARAMS)
SEARCH_PARAMS = (*FILTER_PARAMS, "aliases", "sort", "page", "per_page")


@dataclass(frozen=True)
class Query:
    """A search request: the query text, facet filters, order and which page of results."""

    text: str = ""
    filters: dict[str, tuple] = field(default_factory=dict)  # facet -> values (OR'ed); Ranges for a range facet
    bounds: dict[str, Range] = field(default_factory=dict)  # range facet -> from/to
    dates: DateRange | None = None  # date_from / date_to
    sort: str = "relevance"
    result_page: int = 1
    per_page: int = settings.DEFAULT_PER_PAGE
    aliases: bool = True  # a place's other names are searched too

    @cached_property
    def tree(self):
        return parse(self.text) if self.text.strip() else None

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not any(self.filters.values()) and not self.bounds and not self.dates

    def with_changes(self, **changes) -> "Query":
        return replace(self, **changes)

    def toggled(self, facet: str, value: str) -> "Query":
        """This query with ``value`` added to or removed from a facet filter (first page)."""
        if facet in RANGE_NAMES and not isinstance(value, Range):  # a chip's value is one already
            value = Range.parse(value, facet)
        values = list(self.filters.get(facet, ()))
        values = [v for v in values if v != value] if value in values else [*values, value]
        filters = {k: v for k, v in self.filters.items() if k != facet}
        if values:
            filters[facet] = tuple(values)
        return replace(self, filters=filters, result_page=1)

    def to_params(self) -> list[tuple[str, str]]:
        """URL parameters that give this query back through ``query_from_args``."""
        params: list[tuple[str, str]] = [("q", self.text)] if self.text else []
        for facet in FACET_NAMES:
            params.extend((facet, str(value)) for value in self.filters.get(facet, ()))
        for name, span in self.bounds.items():
            for end, year in (("from", span.first), ("to", span.last)):
                if year is not None:
                    params.append((f"{name}_{end}", str(year)))
        if self.dates is not None:
            params.extend((name, text) for name, text in zip(DATE_PARAMS, (self.dates.start_text, self.dates.end_text))
                          if text)
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.result_page != 1:
            params.append(("page", str(self.result_page)))
        if not self.aliases:
            params.append(("aliases", "0"))
        if self.per_page != settings.DEFAULT_PER_PAGE:
            params.append(("per_page", str(self.per_page)))
        return params


# Invisible characters that come along when text is copied from a web page or a document (zero
# width space, non-joiner, joiner, word joiner, byte order mark): removed, not refused.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def check_text(text: str, limit: int = settings.MAX_QUERY_CHARS, param: str = "q") -> str:
    """``text`` without pasted invisible characters and surrounding space; refused when it is
    longer than ``limit`` or holds another control or format character (its position counted
    in the text as given). Errors name ``param``."""
    what = "query" if param == "q" else param
    for position, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cf") and char not in "\t\n\r" and ord(char) not in INVISIBLE:
            raise QueryError(f"{what} contains a control character (U+{ord(char):04X}) at position {position + 1}",
                             param, code="control_character")
    text = text.translate(INVISIBLE)
    if len(text) > limit:
        raise QueryError(f"{what} is too long: {len(text)} characters (at most {limit})", param, code="too_long")
    return text.strip()


def _int_param(args: Mapping, name: str, default: int, low: int, high: int) -> int:
    raw = _one(args, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw!r}", name, code="not_a_number") from None
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}, not {value}", name, code="out_of_range")
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


def _bounds(args: Mapping) -> dict[str, Range]:
    ends: dict[str, dict[str, int]] = {}
    for param, (name, end) in BOUND_PARAMS.items():
        raw = _one(args, param)
        if raw in (None, ""):
            continue
        if not re.fullmatch(r"\d{4}", str(raw).strip()):
            raise QueryError(f"{param} must be a four-digit year, not {raw!r}", param, code="bad_year")
        ends.setdefault(name, {})[end] = int(str(raw).strip())
    bounds = {}
    for name, given in ends.items():
        if "from" in given and "to" in given and given["from"] > given["to"]:
            raise QueryError(f"{name}_from is after {name}_to", f"{name}_from", code="range_reversed")
        bounds[name] = Range(given.get("from"), given.get("to"))
    return bounds


def _dates(args: Mapping) -> DateRange | None:
    ends = {}
    for param in DATE_PARAMS:
        raw = str(_one(args, param) or "").strip()
        if raw:
            check_text(raw, 100, param)
            try:
                DateRange.between(raw, raw)  # one date (2023, 2023-05 or 2023-05-01)
            except DateError as error:
                raise QueryError(f"{param}: {error}", param, code="bad_date") from None
            ends[param] = raw
    if not ends:
        return None
    try:
        return DateRange.between(ends.get("date_from"), ends.get("date_to"))
    except DateError as error:
        raise QueryError(f"date_from: {error}", "date_from", code="bad_date") from None


def query_from_args(args: Mapping, *, max_chars: int = settings.MAX_QUERY_CHARS) -> Query:
    """A ``Query`` from URL parameters or CLI options; raises ``QueryError`` naming the parameter."""
    text = check_text(str(_one(args, "q") or ""), max_chars)
    if text:
        parse(text)  # report syntax errors now
    filters: dict[str, tuple] = {}
    for facet in FACET_NAMES:
        values: list = []
        for raw in _many(args, facet):
            check_text(raw, 100, facet)
            value = field_node(facet, raw, param=facet).value
            if value not in values:
                values.append(value)
        if values:
            filters[facet] = tuple(values)
    sort = str(_one(args, "sort") or "relevance")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", "sort", code="not_a_choice")
    return Query(
        text=text,
        filters=filters,
        bounds=_bounds(args),
        dates=_dates(args),
        sort=sort,
        aliases=bool(_int_param(args, "aliases", 1, 0, 1)),
        result_page=_int_param(args, "page", 1, 1, settings.MAX_PAGE),
        per_page=_int_param(args, "per_page", settings.DEFAULT_PER_PAGE, 1, settings.MAX_PER_PAGE),
    )


# For the parameters of the features' own (the concordance's ``width`` and ``sort``, …): the
# same checks, codes and messages as the search's.

def int_param(args: Mapping, name: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (``default`` when not given), checked as ``page`` is."""
    return _int_param(args, name, default, low, high)


def choice_param(args: Mapping, name: str, choices: tuple[str, ...], default: str,
                 ignore_case: bool = False) -> str:
    """One of a few words (``default`` when not given; with ``ignore_case``, in any case, as
    file formats are taken: CSV is csv); another is refused naming them (``not_one_of``)."""
    raw = _one(args, name)
    value = default if raw is None or str(raw).strip() == "" else str(raw).strip()
    if ignore_case and value.lower() in choices:
        value = value.lower()
    if value not in choices:
        raise QueryError(f"{name} must be one of {', '.join(choices)}, not {value!r}", name, code="not_one_of")
    return value
