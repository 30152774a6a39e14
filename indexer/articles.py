"""Splitting a newspaper page into its articles.

A page holds a main piece (headline, optional kicker or "——" subtitle, byline, "核心提示" lead,
body with section headings and photo captions), and may hold further bylined features, a
commentary (title, author, label such as "评论" or "银网思语"), boxes, and sidebar columns
("■ 县区扫描 SAOMIAO") of short "本报讯" items.

An article starts at:
- the first line of the page;
- a headline followed by a byline ("本报记者 侯悦林");
- a column header ("■ 阜新时讯 SHIXUN");
- a headline followed by a "本报讯" line (a short news item);
- a headline followed by an author line and a commentary label;
- inside a commentary, a headline after a paragraph (a box set beside it).

Each article is a contiguous slice of the page, so the articles of a page, in order, are the
page. Classification looks at the *normalised* line (traditional pages split the same way);
the article keeps the original characters. Titles and subtitles, taken from an article's first
lines, are capped at ``indexer.limits.MAX_TITLE_CHARS`` (a page of one 50 MB line has a title
of at most 200 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.limits import cap_title
from indexer.normalize import HAN, fold, normalize
from indexer.records import Article, Page

COMMENTARY_LABELS = {"评论", "银网思语", "短评", "时评", "编后", "编者按", "述评", "记者手记", "观察", "快评"}

_NAME = f"[{HAN}]{{2,4}}"
_ROLE = r"(?:本报)?(?:特约|见习)?记者|通讯员"
_ROLE_SPLIT = re.compile(f"({_ROLE})")
_NAME_PIECE = re.compile(f"[{HAN}]{{1,4}}")
_HEADLINE_PUNCT = re.compile(r"[。！？!?，,；;：:]")
_COLUMN_HEADER = re.compile(f"^■?\\s*([{HAN}]{{2,10}})\\s+[A-Za-z]{{3,}}$")
_AUTHOR_LINE = re.compile(f"^[{HAN}](?:\\s?[{HAN}]){{1,3}}$")
_PHOTO_CREDIT = re.compile(
    f"(?:(?:{_ROLE})\\s*)?((?:[{HAN}]\\s?){{1,3}}[{HAN}])\\s*摄$"
)
_REPORTED_BY = re.compile(f"记者\\s*({_NAME}?)(?:报道|采写)")
_GROUP_CREDIT = re.compile(f"本组稿件由(?:本报)?记者\\s*({_NAME}?)采写")


@dataclass(slots=True)
class Line:
    text: str  # original, stripped
    norm: str  # normalised
    folded: str  # folded only: spaces kept (bylines separate names with them)
    start: int  # offset of the line in the page text
    end: int


def page_lines(text: str) -> list[Line]:
    lines = []
    offset = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = offset + raw.index(stripped[0])
            folded = fold(stripped)
            lines.append(Line(stripped, normalize(folded), folded, start, start + len(stripped)))
        offset += len(raw) + 1
    return lines


def byline_names(folded: str) -> list[str] | None:
    """Names in a byline ("本报记者 田 甜 本报见习记者 张铭哲"); ``None`` if not a byline.

    Takes folded text (spaces kept): single characters separated by a space are one name.
    """
    if len(folded) > 40 or "摄" in folded or not re.search(_ROLE, folded):
        return None
    names: list[str] = []
    pending = ""  # single characters of a spaced name ("田 甜")
    for part in folded.split():
        for piece in _ROLE_SPLIT.split(part):
            if not piece:
                continue
            if re.fullmatch(_ROLE, piece):
                if pending:
                    names.append(pending)
                    pending = ""
                continue
            if not _NAME_PIECE.fullmatch(piece):
                return None
            if len(piece) == 1:
                pending += piece
            else:
                if pending:
                    names.append(pending)
                    pending = ""
                names.append(piece)
    if pending:
        names.append(pending)
    return [n for n in names if len(n) >= 2] or None


def photo_credit(norm: str) -> list[str]:
    """Photographers credited by a caption line ending in "摄"."""
    match = _PHOTO_CREDIT.search(norm)
    if not match:
        return []
    name = match.group(1).replace(" ", "")
    for role in ("本版图片由本报特约记者", "本版图片由本报记者", "本报特约记者", "本报记者", "特约记者", "记者"):
        if role in name:
            name = name.split(role)[-1]
    return [name] if 2 <= len(name) <= 4 else []


def is_headline(line: Line) -> bool:
    norm = line.norm
    if not 2 <= len(norm) <= 45 or _HEADLINE_PUNCT.search(norm):
        return False
    return (byline_names(line.folded) is None and not norm.startswith("本报讯")
            and not norm.endswith("摄"))


def _at(lines: list[Line], i: int) -> Line | None:
    return lines[i] if 0 <= i < len(lines) else None


def _starts_article(lines: list[Line], i: int, current_kind: str) -> str | None:
    """The kind of article starting at line ``i``, or ``None``."""
    line, nxt, after = lines[i], _at(lines, i + 1), _at(lines, i + 2)
    if _COLUMN_HEADER.match(line.norm):
        return "column"
    if not is_headline(line) or nxt is None:
        return None
    previous = _at(lines, i - 1)
    if previous is not None and _COLUMN_HEADER.match(previous.norm):
        return None  # the header already started this item
    if line.norm.startswith("——") or (previous is not None and previous.norm.endswith("——")):
        return None  # the second line of a two-line title
    if byline_names(nxt.folded) is not None:
        return "feature"
    if (line.norm.endswith("——") and after is not None and is_headline(nxt)
            and byline_names(after.folded) is not None):
        return "feature"  # kicker line, headline, byline
    if nxt.norm.startswith("本报讯"):
        return "news"
    if after is not None and _AUTHOR_LINE.match(nxt.text) and after.norm in COMMENTARY_LABELS:
        return "commentary"
    if current_kind == "commentary" and previous is not None and not is_headline(previous):
        return "sidebar"
    return None


def _split_title(lines: list[Line]) -> tuple[str, str, int]:
    """Title, subtitle and how many lines they take, from the first lines of an article."""
    first = lines[0].text
    second = lines[1].text if len(lines) > 1 else ""
    if "——" in first:
        left, _, right = first.partition("——")
        left, right = left.strip(), right.strip()
        if not right and second and is_headline(lines[1]):
            return second, left, 2  # kicker line "……——", then the headline
        if right and first[first.index("——") + 2:][:1].isspace():
            return right, left, 1  # "kicker—— headline"
        if left and right:
            return left, right, 1  # "headline ——subtitle"
    if second.startswith("——"):
        return first, second.lstrip("—").strip(), 2
    return first, "", 1


@dataclass(slots=True)
class _Block:
    kind: str
    first: int  # index of its first line
    column: str = ""


def split_page(page: Page) -> list[Article]:
    """The articles of ``page`` in page order (metadata other than the header is not set)."""
    lines = page_lines(page.text)
    if not lines:
        return []
    blocks = [_Block("main", 0)]
    column = ""
    for i in range(1, len(lines)):
        kind = _starts_article(lines, i, blocks[-1].kind)
        if kind is None:
            continue
        if kind == "column":
            column = _COLUMN_HEADER.match(lines[i].norm).group(1)
            blocks.append(_Block("news", i, column))
            continue
        if kind in ("feature", "commentary"):
            column = ""
        blocks.append(_Block(kind, i, column if kind == "news" else ""))

    articles = []
    for position, block in enumerate(blocks):
        end = blocks[position + 1].first if position + 1 < len(blocks) else len(lines)
        own = lines[block.first:end]
        articles.append(_article(page, position, block, own))
    _apply_group_credits(articles)
    return articles


def _article(page: Page, position: int, block: _Block, own: list[Line]) -> Article:
    header = own[1:] if block.column and _COLUMN_HEADER.match(own[0].norm) else own
    title, subtitle, used = _split_title(header) if header else ("", "", 0)
    reporters: list[str] = []
    photographers: list[str] = []
    rest = header[used:]
    if block.kind == "commentary" and rest:
        reporters.append(rest[0].norm.replace(" ", ""))
    for line in rest:
        if line.norm.endswith("摄"):
            photographers.extend(p for p in photo_credit(line.norm) if p not in photographers)
            continue
        names = byline_names(line.folded)
        if names:
            reporters.extend(n for n in names if n not in reporters)
        for match in _REPORTED_BY.finditer(line.norm[:40]):
            if match.group(1) and match.group(1) not in reporters:
                reporters.append(match.group(1))
    start, end = own[0].start, own[-1].end
    return Article(
        id=f"{page.page_id}-{position + 1:02d}",
        source=page.source,
        file=page.file,
        text=page.text[start:end],
        title=cap_title(title),
        subtitle=cap_title(subtitle),
        kind=block.kind,
        column=block.column,
        page_id=page.page_id,
        position=position + 1,
        reporters=reporters,
        photographers=photographers,
    )


def _apply_group_credits(articles: list[Article]) -> None:
    """"本组稿件由本报记者田甜采写" credits every item of its column."""
    for article in articles:
        match = _GROUP_CREDIT.search(normalize(article.text))
        if not match or not article.column:
            continue
        name = match.group(1)
        for other in articles:
            if other.column == article.column and name not in other.reporters:
                other.reporters.append(name)
