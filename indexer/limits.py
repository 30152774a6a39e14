"""Size limits on what one article may hold, and the pure functions that apply them.

- ``MAX_TITLE_CHARS = 200``: a real headline is 10 to 60 characters, a long record title rarely
  over 100; 200 keeps a hit's title to a few lines of a result list while cutting no real one.
  Subtitles get the same cap.
- ``MAX_ARTICLE_CHARS = 200_000``: a whole newspaper page is about 6,000 characters and a long
  feature 20,000, so no real article is split. Everything done per article is linear in its size
  (jieba, the per-document postings Whoosh builds in memory, the text marked up for a hit or an
  article page); at 200,000 characters that is under a second of indexing and tens of megabytes
  of memory, and an ``/api/articles/<id>`` response of about 1.2 MB (the text twice, as text and
  as paragraphs), whatever the input.

A longer article is split into parts, each a slice of its text (the parts' texts joined are the
text), so every string in the text still finds its article unless it spans a split point.
Nothing here raises: what was changed is returned as warnings for the indexer to report.
"""

from __future__ import annotations

import re
from dataclasses import replace

from indexer.records import Article

MAX_TITLE_CHARS = 200
MAX_ARTICLE_CHARS = 200_000

# Where a too-long article is split, strongest first: a blank line, a line end, a sentence end.
_BREAKS = (
    re.compile(r"\n[^\S\n]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"[。！？!?]+[”」』\"]?"),
)
# Where a too-long title is cut: at a run of punctuation or spaces (dropped for the "…").
_TITLE_BREAK = re.compile(r"[\s，,、；;：:。！？!?）)》”」—-]+")


def cap_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """``title`` if it has at most ``limit`` characters, else cut to at most ``limit`` with "…".

    The cut is at the last run of punctuation or spaces in the second half of the allowed
    length, else at the limit.
    """
    if len(title) <= limit:
        return title
    keep = limit - 1  # room for "…"
    breaks = [m.start() for m in _TITLE_BREAK.finditer(title, keep // 2, keep)]
    return title[:breaks[-1] if breaks else keep].rstrip() + "…"


def split_points(text: str, limit: int = MAX_ARTICLE_CHARS) -> list[int]:
    """Offsets where ``text`` is cut so that no part is longer than ``limit`` characters.

    Each part ends after the last break of the strongest kind in the second half of its
    ``limit`` characters (so parts are at least half the limit, the last one excepted), or at
    the limit when there is none.
    """
    points = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        for pattern in _BREAKS:
            found = [m.end() for m in pattern.finditer(text, start + limit // 2, end)]
            if found:
                end = found[-1]
                break
        points.append(end)
        start = end
    return points


def limit_article(article: Article, max_chars: int = MAX_ARTICLE_CHARS,
                  max_title: int = MAX_TITLE_CHARS) -> tuple[list[Article], list[str]]:
    """``article`` within the limits, and a warning for each thing that was changed.

    The title and subtitle are capped (``cap_title``). A text over ``max_chars`` is split into
    parts (``split_points``): ids ``<id>``, ``<id>~2``, ``<id>~3``…, the same title with a
    " (2/3)" part marker (the whole still within ``max_title``), the same metadata.
    """
    warnings = [f"{name} of {len(value):,} characters cut to {max_title}"
                for name, value in (("title", article.title), ("subtitle", article.subtitle))
                if len(value) > max_title]
    title, subtitle = cap_title(article.title, max_title), cap_title(article.subtitle, max_title)
    points = split_points(article.text, max_chars)
    if not points:
        return [replace(article, title=title, subtitle=subtitle)], warnings
    bounds = list(zip([0, *points], [*points, len(article.text)]))
    warnings.append(f"article {article.id!r} of {len(article.text):,} characters split into "
                    f"{len(bounds)} parts of at most {max_chars:,}")
    parts = []
    for number, (start, end) in enumerate(bounds, start=1):
        marker = f" ({number}/{len(bounds)})"
        parts.append(replace(
            article,
            id=article.id if number == 1 else f"{article.id}~{number}",
            text=article.text[start:end],
            title=(cap_title(title, max_title - len(marker)) + marker).lstrip(),
            subtitle=subtitle,
        ))
    return parts, warnings
