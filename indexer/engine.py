"""The SphinxQL engine's side of the index: where it is, what a row holds, how text becomes tokens.

Written for Sphinx 2.2.11 (Debian's ``sphinxsearch``), using only what Manticore Search also
supports: RT tables, SphinxQL over the MySQL protocol (``pymysql``), string and multi-valued
attributes, ``FACET``, distributed tables over agents.

**Where.** ``sphinxql://HOST:PORT/TABLE`` names the table reads go to (a distributed table over
the shards, or one RT table). Writes go to the shards, an article to shard ``doc_id % n``: the
shards are the URL's ``?shards=HOST:PORT/RT,HOST:PORT/RT`` when given, else what ``DESCRIBE``
says the table is made of (its local RT tables on the same node; a remote agent
``HOST:APIPORT:RT`` is written through that node's SphinxQL port, ``APIPORT - 6``, the
convention of ``deploy/``: API 9312 / SphinxQL 9306, 9313 / 9307, …).

**Tokens.** The engine sees no Chinese: every token is ASCII, so its default tokenizer and
character table keep each one whole, whatever the text (Sphinx 2.2's tables know no Han; the
text is analysed here, as for Whoosh, by ``indexer.documents.prepare_article``).

- ``grams`` / ``title_grams``: the normalised text, one token per character (``c`` + its code
  point in hex; whitespace ``c20``). A quoted string is the phrase of its characters' tokens,
  which matches where the string occurs and nowhere else: exact, with no verification.
- ``content`` / ``title``: the jieba words, one token each (``w`` + 12 hex digits of a hash).
- ``tags``: one token per facet value, the page and the source file (``t`` + hash of
  ``name=value``), one per year (``y2023``), and ``ALL`` on every row (what a query of only
  ``NOT …`` starts from).

**Stored.** Sphinx 2.2 has no stored fields (Manticore has): the article's text and shown values
are a string attribute (``doc``: JSON of the stored values, the text among them), so they live
with their shard wherever it runs, and a hit needs no second store.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from indexer import dates, fields

SCHEME = "sphinxql"
ENV = "NEWSEARCH_BACKEND"
ALL = "tall"
SQL_PORT_OFFSET = -6  # a node's SphinxQL port from its API port, in deploy/

TEXT_FIELDS = ("grams", "title_grams", "content", "title", "tags")
# (name, kind) of the attributes; kind is the config key's tail: rt_attr_<kind>.
ATTRIBUTES = (
    ("aid", "string"), ("doc", "string"), ("source", "string"),
    ("version", "string"), ("page", "string"),
    ("year", "uint"), ("sort_date", "uint"), ("first_day", "uint"), ("last_day", "uint"),
    ("position", "uint"),
    ("city", "multi"), ("district", "multi"), ("topic", "multi"), ("paper", "multi"), ("reporter", "multi"),
)
MULTI = tuple(name for name, kind in ATTRIBUTES if kind == "multi")
# The facets the engine counts: the table of fields' facets (year is a plain attribute).
TERM_FACETS = tuple(f.name for f in fields.FACETS if f.facet == fields.TERM_FACET)


class EngineError(Exception):
    """The engine cannot be reached or refused a statement; the message says which and where."""


@dataclass(frozen=True)
class Node:
    host: str
    port: int  # SphinxQL (MySQL protocol)
    table: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.table}"


@dataclass(frozen=True)
class Target:
    """Where reads go (``read``) and, when the URL says so, where writes go (``shards``)."""

    url: str
    read: Node
    shards: tuple[Node, ...] = ()


_NODE = re.compile(r"^([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d+)/(\w+)$")


def _node(text: str, what: str) -> Node:
    match = _NODE.match(text.strip())
    if not match:
        raise EngineError(f"{what} {text!r} is not HOST:PORT/TABLE")
    return Node(match.group(1).strip("[]"), int(match.group(2)), match.group(3))


def is_engine_url(text: str | None) -> bool:
    return bool(text) and text.startswith(f"{SCHEME}://")


def parse_url(url: str) -> Target:
    """``sphinxql://HOST:PORT/TABLE[?shards=HOST:PORT/RT,…]``."""
    parsed = urlparse(url)
    if parsed.scheme != SCHEME or not parsed.hostname or not parsed.port or not parsed.path.strip("/"):
        raise EngineError(f"backend {url!r} is not {SCHEME}://HOST:PORT/TABLE")
    read = _node(f"{parsed.netloc}{parsed.path}", "backend")
    shards = ()
    extra = parse_qs(parsed.query)
    unknown = set(extra) - {"shards"}
    if unknown:
        raise EngineError(f"backend {url!r}: unknown option {sorted(unknown)[0]!r} (known: shards)")
    if "shards" in extra:
        shards = tuple(_node(part, "shard") for value in extra["shards"] for part in value.split(",") if part)
    return Target(url, read, shards)


def connect(node: Node, timeout: float = 10.0):
    """A SphinxQL connection to ``node`` (autocommit), or ``EngineError`` saying where."""
    import pymysql

    try:
        return pymysql.connect(host=node.host, port=node.port, autocommit=True, charset="utf8",
                               connect_timeout=timeout, read_timeout=max(timeout, 60), write_timeout=60)
    except pymysql.err.MySQLError as error:
        raise EngineError(f"cannot reach the search engine at {node.host}:{node.port}: {error.args[-1]}") from None


def write_nodes(target: Target, connection) -> list[Node]:
    """The RT tables writes go to, in shard order (see the module docstring)."""
    if target.shards:
        return list(target.shards)
    with connection.cursor() as cursor:
        cursor.execute(f"DESCRIBE {target.read.table}")
        rows = cursor.fetchall()
    kinds = {row[1] for row in rows}
    if not kinds & {"local"} and not any(kind.startswith("remote") for kind in kinds):
        return [target.read]  # an RT table itself: DESCRIBE lists its columns
    nodes = []
    for name, kind in rows:
        if kind == "local":
            nodes.append(Node(target.read.host, target.read.port, name))
        elif kind.startswith("remote"):
            host, port, table = name.rsplit(":", 2)
            nodes.append(Node(host, int(port) + SQL_PORT_OFFSET, table))
    return nodes


# -- ids and tokens -------------------------------------------------------------------------------

def doc_id(article_id: str) -> int:
    """The engine's document id of an article: 63 bits of a hash of its id (ids are strings)."""
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1 or 1


def value_id(name: str, value: str) -> int:
    """A facet value as a multi-valued attribute's number (32 bits)."""
    return int.from_bytes(hashlib.blake2b(f"{name}={value}".encode("utf-8"), digest_size=4).digest(), "big")


def gram_tokens(text: str) -> list[str]:
    """One token per character (whitespace runs are one ``c20``)."""
    tokens = []
    for char in text:
        token = "c20" if char.isspace() else f"c{ord(char):x}"
        if token == "c20" and tokens and tokens[-1] == "c20":
            continue
        tokens.append(token)
    return tokens


def word_token(word: str) -> str:
    return "w" + hashlib.blake2b(word.encode("utf-8"), digest_size=6).hexdigest()


def tag_token(name: str, value: str) -> str:
    return "t" + hashlib.blake2b(f"{name}={value}".encode("utf-8"), digest_size=6).hexdigest()


def year_token(year: int) -> str:
    return f"y{year}"


# -- rows -----------------------------------------------------------------------------------------

def _stored(prepared) -> dict:
    """The stored values of an article, as the embedded index stores them (``fields``)."""
    document = fields.document(prepared)
    stored = {}
    for field in fields.FIELDS:
        if not field.stored and field.kind != fields.STORED:
            continue
        value = document.get(f"_stored_{field.name}", document.get(field.name))
        if field.kind == fields.TERMS and isinstance(value, list):
            value = ",".join(value) or None
        stored[field.name] = value
    return stored


def row(prepared) -> dict:
    """The engine's row of a prepared article (``indexer.documents.prepare_article``)."""
    article = prepared.article
    stored = _stored(prepared)
    sort_date = dates.sort_date(article.date, article.year)
    first, last = dates.interval(sort_date)
    multi = {"city": [article.city] if article.city else [], "district": list(article.districts),
             "topic": list(article.topics), "paper": [article.paper] if article.paper else [],
             "reporter": list(article.reporters)}
    tags = [ALL] + [tag_token(name, value) for name, values in multi.items() for value in values]
    tags.append(tag_token("source", article.source))  # what updates and removals find
    if article.page_id:
        tags.append(tag_token("page", article.page_id))
    if article.year:
        tags.append(year_token(article.year))
    return {
        "id": doc_id(article.id),
        "grams": " ".join(gram_tokens(prepared.grams_text)),
        "title_grams": " ".join(gram_tokens(prepared.title_norm)),
        "content": " ".join(word_token(word) for word, _, _ in prepared.content.words),
        "title": " ".join(word_token(word) for word in prepared.title_words),
        "tags": " ".join(tags),
        "aid": article.id, "doc": json.dumps(stored, ensure_ascii=False),
        "source": article.source, "version": f"{article.source}\t{prepared.fingerprint}",
        "page": article.page_id or "",
        "year": article.year or 0, "sort_date": sort_date, "first_day": first, "last_day": last,
        "position": article.position or 0,
        **{name: [value_id(name, value) for value in values] for name, values in multi.items()},
    }


def table_config(name: str, path: str, mem_limit: str = "256M") -> str:
    """The ``index`` block of an RT table of this layout (for ``deploy/``'s configurations)."""
    lines = [f"index {name}", "{", "    type = rt", f"    path = {path}", f"    rt_mem_limit = {mem_limit}",
             "    min_word_len = 1", "    html_strip = 0"]
    lines += [f"    rt_field = {field}" for field in TEXT_FIELDS]
    lines += [f"    rt_attr_{kind} = {attribute}" for attribute, kind in ATTRIBUTES]
    lines.append("}")
    return "\n".join(lines) + "\n"
