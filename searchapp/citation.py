"""Citations of an article: a GB/T 7714-2015 reference, RIS and BibTeX.

``reference(article, permalink)`` takes what a citation needs from an article (an
``ArticleDetail``, or any object with its attributes) and the article's permalink, which only a
front end can make absolute; ``cite(reference, format)`` writes it in one of ``FORMATS``. No Flask
here: the web module passes the permalink in.

The three formats say the same things:

- authors: the article's reporters (photographers are not authors);
- title: the headline, with its subtitle after ": " (GB/T 7714's 其他题名信息); the article's id
  when it has no headline;
- the newspaper; the date as far as it is known (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``: a page
  with no date in its catalog row gives only the year); the page (版次) read from the page
  label (``第3版`` -> ``3``, ``A3版`` -> ``A3``, ``第十二版`` -> ``12``; a label that names no
  page number, like ``要闻``, gives none);
- the permalink.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

FORMATS = ("gbt7714", "ris", "bibtex")
GBT_MAX_AUTHORS = 3  # GB/T 7714: the first three, then "等"


@dataclass(frozen=True)
class Reference:
    id: str
    authors: tuple[str, ...]
    title: str  # with the subtitle, if any
    paper: str  # "" when not known
    date: str  # "YYYY-MM-DD", "YYYY-MM", "YYYY" or ""
    date_inferred: bool  # only a year, and it was inferred from the text (not given)
    page: str  # "3", "A3" or ""
    url: str  # the permalink

    @property
    def year(self) -> str:
        return self.date[:4]


def reference(article, permalink: str) -> Reference:
    """What a citation of ``article`` says (see the module's docstring)."""
    title = _one_line(article.title) or article.id
    subtitle = _one_line(getattr(article, "subtitle", "") or "")
    if subtitle:
        title = f"{title}: {subtitle}"
    date = iso_date(article.date or "") or (f"{article.year:04d}" if article.year else "")
    return Reference(
        id=article.id,
        authors=tuple(_one_line(name) for name in article.reporters if _one_line(name)),
        title=title,
        paper=_one_line(article.paper or ""),
        date=date,
        date_inferred=len(date) == 4 and not article.date and bool(getattr(article, "year_inferred", False)),
        page=page_number(getattr(article, "page_label", "") or ""),
        url=permalink,
    )


def iso_date(value: str) -> str:
    """A date as ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (a catalog may write ``2019-5-4`` or
    ``2019/05/04``); "" when it is not one."""
    match = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?", value.strip())
    if not match:
        return ""
    return "-".join(part.zfill(2) for part in match.groups() if part)


def cite(ref: Reference, format: str) -> str:
    """``ref`` as ``format`` (one of ``FORMATS``)."""
    return {"gbt7714": gbt7714, "ris": ris, "bibtex": bibtex}[format](ref)


# --- the page number ------------------------------------------------------------------------

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _chinese_number(text: str) -> int | None:
    """1 to 99 written in Chinese numerals (三, 十二, 二十, 二十三), else None."""
    if text in _DIGITS:
        return _DIGITS[text]
    match = re.fullmatch(r"([一二三四五六七八九]?)十([一二三四五六七八九]?)", text)
    if not match:
        return None
    tens, ones = match.groups()
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def page_number(label: str) -> str:
    """The page (版次) a page label names: ``第3版`` -> ``3``, ``A3`` -> ``A3``, ``第十二版`` ->
    ``12``; "" when it names none."""
    match = re.fullmatch(r"第?\s*([A-Za-z]?\d{1,4}|[一二三四五六七八九十]{1,3})\s*版?", label.strip())
    if not match:
        return ""
    number = match.group(1)
    if number[-1].isdigit():
        return number.upper()
    value = _chinese_number(number)
    return str(value) if value else ""


# --- GB/T 7714-2015 -------------------------------------------------------------------------


def gbt7714(ref: Reference) -> str:
    """``作者. 题名[N]. 报纸名, 出版日期(版次).`` (GB/T 7714-2015, a newspaper article).

    Several authors are joined with ", ", more than three cut to three and ", 等". With no
    author, the reference starts with the title. An inferred year (no date known, the year read
    from the text) is put in square brackets, as the standard writes an estimated date: ``[2023]``.
    The page goes in parentheses after the date, and only with a date. With no newspaper the
    last element is the date alone (``2023-05-01(3).``); with neither, the reference ends with
    the title's ``[N].``.
    """
    parts = []
    if ref.authors:
        names = list(ref.authors[:GBT_MAX_AUTHORS])
        if len(ref.authors) > GBT_MAX_AUTHORS:
            names.append("等")
        parts.append(", ".join(names) + ".")
    parts.append(f"{ref.title}[N].")
    when = f"[{ref.date}]" if ref.date_inferred else ref.date
    if when and ref.page:
        when += f"({ref.page})"
    published = ", ".join(part for part in (ref.paper, when) if part)
    if published:
        parts.append(published + ".")
    return " ".join(parts)


# --- RIS ------------------------------------------------------------------------------------

RIS_LINE_END = "\r\n"  # the RIS specification: each tag on its own line, ended by CR LF


def ris(ref: Reference) -> str:
    """One RIS record (type ``NEWS``): ``TY``, ``AU`` per author, ``TI``, ``T2`` (the
    newspaper), ``PY`` (the year), ``DA`` (``YYYY/MM/DD/`` or ``YYYY/MM//`` when more than the
    year is known), ``SP`` (the page), ``UR`` (the permalink), ``ER``; lines end with CR LF."""
    lines = [("TY", "NEWS"), *(("AU", name) for name in ref.authors), ("TI", ref.title)]
    if ref.paper:
        lines.append(("T2", ref.paper))
    if ref.year:
        lines.append(("PY", ref.year))
    if len(ref.date) > 4:
        year, month, *day = ref.date.split("-")
        lines.append(("DA", f"{year}/{month}/{day[0] if day else ''}/"))
    if ref.page:
        lines.append(("SP", ref.page))
    lines.append(("UR", ref.url))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}{RIS_LINE_END}" for tag, value in lines)


# --- BibTeX ---------------------------------------------------------------------------------

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
    "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}",
}
_BIBTEX_SPECIAL_RE = re.compile("|".join(re.escape(char) for char in _BIBTEX_SPECIAL))


def bibtex_escape(value: str) -> str:
    """``value`` as literal text inside a BibTeX field: LaTeX's special characters escaped (so
    braces stay balanced and nothing is read as a command)."""
    return _BIBTEX_SPECIAL_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group()], value)


def bibtex_key(article_id: str) -> str:
    """A citation key from the article's id, the same every time: the id when it has only
    characters every BibTeX tool takes in a key (letters, digits, ``_ . : -``), else those kept,
    the others as ``_``, and a short hash of the id so that different ids stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_.:-]", "_", article_id)
    if safe == article_id:
        return safe
    return f"{safe}-{hashlib.sha1(article_id.encode('utf-8')).hexdigest()[:8]}"


def _bibtex_name(name: str) -> str:
    """A name as one unit: braced when BibTeX would otherwise split it (a space, a comma, an
    "and")."""
    escaped = bibtex_escape(name)
    return f"{{{escaped}}}" if re.search(r"[\s,]|\band\b", name) else escaped


def bibtex(ref: Reference) -> str:
    """One ``@article`` entry (biblatex's ``entrysubtype = {newspaper}``): ``author`` (joined
    with " and "), ``title``, ``journal`` (the newspaper), ``date`` (ISO, for biblatex) and
    ``year`` (for BibTeX), ``pages``, ``url``. Text fields are escaped; the URL is written as it
    is (url fields are read verbatim; the permalink is percent-encoded, so it has no braces)."""
    fields = []
    if ref.authors:
        fields.append(("author", " and ".join(_bibtex_name(name) for name in ref.authors)))
    fields.append(("title", bibtex_escape(ref.title)))
    if ref.paper:
        fields.append(("journal", bibtex_escape(ref.paper)))
    if ref.date:
        fields.append(("date", ref.date))
        fields.append(("year", ref.year))
    if ref.page:
        fields.append(("pages", ref.page))
    fields.append(("url", ref.url))
    fields.append(("entrysubtype", "newspaper"))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
    return f"@article{{{bibtex_key(ref.id)},\n{body}}}\n"


def _one_line(value: str) -> str:
    """``value`` on one line: line ends, tabs and other control characters as single spaces
    (a RIS tag is one line; a reference is one line of text)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", value).strip()
