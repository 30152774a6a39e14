"""Cursor paging: walking a whole result set a page at a time, with no page limit.

A cursor is an opaque string that says how far a walk has got (the number of hits already
returned), for which query (a hash of its parameters, paging left out) and in which version of
the index (a hash of the reader's segments and their deletions, ``store.index_version``). The
order of a result set is fixed while the index does not change (ties broken by document number,
in ``ranking.ranked`` and ``DateSets.newest`` alike), and the first n of that order are the same
whatever more is asked for, so a walk from cursor to cursor returns every hit exactly once,
whatever ``per_page`` each step asks for. A cursor of another query or of an index that has
changed since is refused (it would skip or repeat hits), as is one that was not made here.

The checksum is there to catch a cursor that was cut short or edited, not to keep a secret: a
cursor made by hand could only say another position in the same query's results.

The cost of a step grows with its depth: it orders the result set up to the position reached
plus a page (``ranked`` scores, ``newest`` sorts, no further than that) — the same as asking
for that page by number, which is acceptable for walks of tens of thousands of hits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from searchapp.query import QueryError
from searchapp.store import index_version

CURSOR_PARAM = "cursor"
VERSION = "c1"
MAX_CURSOR_CHARS = 200
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")
PAGING_PARAMS = ("page", "per_page")  # not part of what a cursor is for


def index_identity(searcher) -> str:
    """Names what ``searcher`` sees: changes with every update of the index."""
    return _digest(repr(index_version(searcher.reader())))


def query_identity(query) -> str:
    """Names a query's result set and its order (its parameters but the page and page size)."""
    params = sorted((name, value) for name, value in query.to_params() if name not in PAGING_PARAMS)
    return _digest(json.dumps(params, ensure_ascii=False))


def make_cursor(offset: int, query, index_id: str) -> str:
    """The cursor of the hits after the first ``offset`` of ``query``'s results in that index."""
    body = f"{VERSION}.{offset}.{index_id}.{query_identity(query)}"
    raw = f"{body}.{_checksum(body)}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def cursor_offset(cursor: str, query, index_id: str) -> int:
    """How many of ``query``'s results a cursor has passed; raises ``QueryError`` (parameter
    ``cursor``) for a damaged one (``bad_cursor``), one of another query (``cursor_other_query``)
    and one of another version of the index (``stale_cursor``)."""
    version, offset, cursor_index, cursor_query = _decode(cursor)
    if cursor_query != query_identity(query):
        raise QueryError("cursor belongs to another query: keep the parameters of the search that "
                         "returned it (only per_page may change)", CURSOR_PARAM, code="cursor_other_query")
    if cursor_index != index_id:
        raise QueryError("cursor is stale: the index has changed since it was made; start again "
                         "without a cursor", CURSOR_PARAM, code="stale_cursor")
    return offset


def _decode(cursor: str) -> tuple[str, int, str, str]:
    bad = QueryError("cursor is not one returned as next_cursor (damaged or edited)", CURSOR_PARAM,
                     code="bad_cursor")
    if len(cursor) > MAX_CURSOR_CHARS or not _CURSOR_CHARS.fullmatch(cursor):
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise bad from None
    if base64.urlsafe_b64encode(raw.encode("ascii")).rstrip(b"=").decode("ascii") != cursor:
        raise bad  # another spelling of the same bytes (unused low bits changed)
    parts = raw.split(".")
    if len(parts) != 5 or parts[0] != VERSION or not re.fullmatch(r"0|[1-9][0-9]{0,11}", parts[1]):
        raise bad
    body, check = raw.rsplit(".", 1)
    if not hmac.compare_digest(check, _checksum(body)):
        raise bad
    return parts[0], int(parts[1]), parts[2], parts[3]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _checksum(body: str) -> str:
    return hashlib.sha256(f"newsearch cursor {body}".encode("ascii")).hexdigest()[:12]
