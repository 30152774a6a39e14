"""Rendering core results for a terminal (colour when stdout is one, plain text otherwise).

Indexed text (titles, metadata, ids, snippets, paragraphs) may hold escape sequences and
control characters; none reaches the terminal. Snippets and paragraphs are made printable by
the formatter (``terminal_formatter``) before it adds its colours, everything else here.
"""

from __future__ import annotations

import json
import os
import re
import sys

from searchapp import results
from searchapp.highlight import AnsiFormatter, Formatter, printable

DIM = "\x1b[2m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"

# DEL and the C1 controls: JSON allows them raw in strings, and ``ensure_ascii=False`` leaves them.
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def colour_wanted(stream=None) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set to anything (https://no-color.org)."""
    return (stream or sys.stdout).isatty() and not os.environ.get("NO_COLOR")


def terminal_formatter(stream=None) -> Formatter:
    """For the snippets and paragraphs of ``render_result`` and ``render_article``."""
    return AnsiFormatter() if colour_wanted(stream) else Formatter()


def _line(value: str) -> str:
    """Indexed text for one line: printable, its line ends as spaces."""
    return printable(value).replace("\n", " ")


def _style(text: str, style: str, colour: bool) -> str:
    return f"{style}{_line(text)}{RESET}" if colour else _line(text)


def _when(item) -> str:
    return item.when


def meta_line(hit: results.Hit) -> str:
    """What is known of a hit, the unknown left out: city · districts · date · paper and page · topics."""
    parts = [hit.city, "、".join(hit.districts), _when(hit), f"{hit.paper} {hit.page_label}".strip(),
             "、".join(hit.topics)]
    return " · ".join(part for part in parts if part)


def render_result(result: results.SearchResult, colour: bool) -> str:
    """The hits of a result; their snippets made by ``terminal_formatter()``."""
    lines = []
    shown = f"第 {result.result_page}/{result.result_pages} 页" if result.total else "没有结果"
    lines.append(f"找到 {result.total} 篇文章（{shown}，{result.took_ms:.0f} ms）")
    for term, names in result.aliases.items():
        lines.append(_style(f"同时搜索了 {'、'.join(names)}（{term} 的别名；--no-aliases 只搜 {term}）", DIM, colour))
    first = (result.result_page - 1) * result.per_page
    for number, hit in enumerate(result.hits, start=first + 1):
        lines.append("")
        lines.append(f"{number:3d}. " + _style(hit.title or hit.id, BOLD, colour) + f"  [{_line(hit.id)}]")
        lines.append("     " + _style(meta_line(hit), DIM, colour))
        for snippet in hit.snippets:
            lines.append("     " + snippet)
        if hit.explain is not None:
            lines.extend("     " + _style(line, DIM, colour) for line in explain_lines(hit.explain))
    if result.total == 0:
        lines.append("换个说法试试：去掉筛选条件、用更短的词，或换用繁体/简体。")
    return "\n".join(lines)


FIELD_NAMES = {"title": "标题", "text": "正文"}


def explain_lines(why: dict) -> list[str]:
    """A hit's ``explain`` (``core.explanation``) in a few lines: its tier, its score word by
    word, and each word's occurrences and lengths by field."""
    if why["order"] == "date":
        return ["排序：按日期，最新的在前（同一天按索引顺序，无日期的在最后）"]
    tier = why["tier"]
    exact = "、".join(_line(term) for term in tier["exact_terms"]) or "无"
    lines = [f"为何排在第 {why['position']} 位：{len(tier['exact_terms'])}/{tier['terms']} 个检索词整串出现（{exact}），"
             "整串出现的越多越靠前"]
    if why["score"] is None:
        lines.append("得分：检索词都不是它里面的词（只作为字符串出现），排在同层的最后")
    else:
        parts = " + ".join(f"{_line(word['word'])} {word['score']:.3f}" for word in why["words"])
        lines.append(f"得分 {why['score']:.3f} = {parts}（{why['model']}）")
    for word in why["words"]:
        counts = "，".join(f"{FIELD_NAMES[part['field']]} {part['tf']:g} 次/{part['length']} 词" for part in word["fields"])
        lines.append(f"  {_line(word['word'])}：{counts}")
    lines.append("  参数：" + "，".join(f"{name}={value:g}" for name, value in why["params"].items()))
    return lines


def render_article(article: results.ArticleDetail, colour: bool) -> str:
    """One article; its paragraphs made by ``terminal_formatter()``."""
    lines = [_style(article.title, BOLD, colour)]
    if article.subtitle:
        lines.append(_line(article.subtitle))
    meta = " · ".join(part for part in (article.city, "、".join(article.districts), _when(article)) if part)
    if meta:
        lines.append(_style(meta, DIM, colour))
    if article.topics:
        lines.append(_style("主题：" + "、".join(article.topics), DIM, colour))
    if article.reporters:
        lines.append(_style("记者：" + "、".join(article.reporters), DIM, colour))
    lines.append(_style(f"来源：{article.source}（第 {article.position} 篇）  id: {article.id}", DIM, colour))
    lines.append("")
    lines.extend(article.paragraphs)
    return "\n".join(lines)


def dump_json(data) -> str:
    """Indented JSON with readable Chinese; every control character escaped (``json`` escapes
    C0 itself), so that none reaches a terminal raw."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
