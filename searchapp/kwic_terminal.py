"""The concordance for a terminal: one line per occurrence, the matches one above the other.

A terminal shows a Han character (and any other East Asian wide or full-width character) in two
columns, so the left contexts are padded to the same number of columns, not characters
(``columns``). Everything indexed is made printable first (``highlight.printable``: no escape
sequence or control character reaches the terminal); the match is in colour on a terminal.
"""

from __future__ import annotations

import unicodedata

from searchapp.highlight import AnsiFormatter, printable
from searchapp.kwic import KwicLine, KwicResult

DIM = "\x1b[2m"
RESET = "\x1b[0m"


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: two for a wide or full-width character, none
    for a combining mark, one for anything else."""
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def _one_line(value: str) -> str:
    return printable(value).replace("\n", " ")


def _when(line: KwicLine) -> str:
    """The date as a hit shows it ("2023 年，日期不详" for a year only), "—" when not known."""
    return line.when or "—"


def render_line(line: KwicLine, width: int, colour: bool, date_columns: int = 10) -> str:
    """``left match right  date  id``: the left context right-aligned in the columns ``width``
    wide characters take, the right context padded as much, and the date padded to
    ``date_columns`` columns, so the matches, the dates and the ids align."""
    left, match, right = _one_line(line.left), _one_line(line.match), _one_line(line.right)
    room = 2 * width
    left = " " * max(0, room - columns(left)) + left
    right = right + " " * max(0, room - columns(right))
    shown = f"{AnsiFormatter.START}{match}{AnsiFormatter.END}" if colour else match
    when = _when(line)
    tail = f"{when}{' ' * max(0, date_columns - columns(when))}  {_one_line(line.id)}"
    return f"{left} {shown} {right}  " + (f"{DIM}{tail}{RESET}" if colour else tail)


def render_kwic(result: KwicResult, colour: bool, limit: int | None = None) -> str:
    """A summary line, then the lines of ``result`` (the first ``limit`` of them)."""
    strings = "”“".join(_one_line(s) for s in result.strings)
    summary = f"“{strings}”共出现 {result.total_lines} 处，见于 {result.articles} 篇文章（检索到 {result.search_total} 篇）"
    shown = result.lines if limit is None else result.lines[:limit]
    if len(shown) < result.total_lines:
        summary += f"，显示前 {len(shown)} 处"
    if result.truncated:
        summary += "；已达上限，只列出了最新文章中的这些"
    date_columns = max((columns(_when(line)) for line in shown), default=0)
    return "\n".join([summary, *(render_line(line, result.width, colour, date_columns) for line in shown)])
