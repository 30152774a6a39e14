"""The page's Chinese messages for the errors the core reports in English.

A ``QueryError`` carries a stable ``code`` (which the API returns as ``reason``, beside the
English message); here each code has its Chinese message, filled in with the details (position,
value, limits) read from the English message and the parameter named. Other errors (404, 405,
no index) get theirs by status.
"""

from __future__ import annotations

import ast
import re

from indexer import fields
from searchapp.query import QueryError
from searchapp.store import IndexMissing, IndexOutdated

PARAM_NAMES = {
    "q": "查询", "page": "页码", "per_page": "每页条数", "sort": "排序方式", "aliases": "别名参数",
    **{f.name: f.label for f in fields.FACETS},
    **{f"{f.name}_from": f"起始{f.label}" for f in fields.FACETS if f.facet == fields.RANGE_FACET},
    **{f"{f.name}_to": f"截止{f.label}" for f in fields.FACETS if f.facet == fields.RANGE_FACET},
    "date": "日期", "date_from": "起始日期", "date_to": "截止日期",
    "format": "格式",
    "limit": "导出条数", "cursor": "游标",
    "width": "语境宽度",
}

_AT = r"at position (?P<pos>\d+)"
_NOT = r"not (?P<value>.+)$"


def _shown(value: str) -> str:
    """A value the English message quoted with ``repr`` (or left bare), as it was typed."""
    try:
        unquoted = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return unquoted if isinstance(unquoted, str) else value


def _year_message(d: dict) -> str:
    if d["param"].endswith(("_from", "_to")):
        return f"{d['name']}“{d['value']}”无效：应为四位数的年份，如 2021。"
    return f"{d['name']}“{d['value']}”无效：请写成 2021 或 2020..2023 这样的形式（范围的一端可以不写）。"


# code -> (pattern of the English message giving the details, the Chinese message from them and
# "param" (the parameter) and "name" (its Chinese name)).
MESSAGES: dict[str, tuple[str, object]] = {
    "too_long": (r"(?P<n>\d+) characters \(at most (?P<limit>\d+)\)",
                 lambda d: f"{d['name']}太长：{d['n']} 个字符，最多 {d['limit']} 个。"),
    "control_character": (r"\(U\+(?P<cp>[0-9A-F]+)\) " + _AT,
                           lambda d: f"{d['name']}的第 {d['pos']} 个字符是控制字符（U+{d['cp']}），请删去它。"),
    "unclosed_quote": (_AT, lambda d: f"第 {d['pos']} 个字符处的引号没有配对的后引号。"),
    "unopened_parenthesis": (_AT, lambda d: f"第 {d['pos']} 个字符处的右括号“)”前面没有对应的左括号。"),
    "unclosed_parenthesis": (_AT, lambda d: f"第 {d['pos']} 个字符处的左括号“(”没有对应的右括号。"),
    "unexpected": (r"unexpected (?P<value>.+) " + _AT,
                   lambda d: f"第 {d['pos']} 个字符处不应出现“{d['value']}”。"),
    "missing_operand": (r"^(?P<op>\S+) " + _AT,
                        lambda d: f"第 {d['pos']} 个字符处的 {d['op']} 后面需要一个检索词。"),
    "expected_term": (r"before position (?P<pos>\d+)",
                      lambda d: f"第 {d['pos']} 个字符前缺少检索词。" if d["pos"] else "缺少检索词。"),
    "unknown_field": (r"'(?P<field>[^']*):' " + _AT + r"; known fields: (?P<known>.*)$",
                      lambda d: f"第 {d['pos']} 个字符处的“{d['field']}:”不是可用的字段；"
                                f"可用的字段有：{d['known'].replace(', ', '、')}。"),
    "field_needs_value": (r"'(?P<field>[^']*):' " + _AT,
                          lambda d: f"第 {d['pos']} 个字符处的“{d['field']}:”后面要紧跟一个值（冒号后不留空格）。"),
    "empty_quotes": (_AT, lambda d: f"第 {d['pos']} 个字符处的引号里没有内容。"),
    "empty_term": (_AT, lambda d: f"第 {d['pos']} 个字符处的检索词是空的。"),
    "empty_query": ("", lambda d: "请输入要检索的词。"),
    "missing_value": ("", lambda d: f"{d['name']}需要一个值。"),
    "bad_year": (_NOT, _year_message),
    "bad_date": (r"'(?P<value>[^']*)' is not|(?P<reversed>ends before it starts)",
                 lambda d: f"{d['name']}的范围结束早于开始。" if d.get("reversed") else
                 f"{d['name']}“{d['value']}”无效：日期请写成 2023、2023-05 或 2023-05-01，"
                 f"范围写成 2023-05-01..2023-06-30（一端可以不写）。"),
    "range_reversed": ("", lambda d: "起始年份晚于截止年份。" if d["param"].endswith("_from")
                       else f"{d['name']}范围的结束早于开始。"),
    "not_a_number": (_NOT, lambda d: f"{d['name']}应为整数，而不是“{d['value']}”。"),
    "out_of_range": (r"between (?P<low>\d+) and (?P<high>\d+), not (?P<value>-?\d+)",
                     lambda d: f"{d['name']}应在 {d['low']} 到 {d['high']} 之间，而不是 {d['value']}。"),
    "not_a_choice": (_NOT, lambda d: f"{d['name']}只能是 relevance（相关度）或 date（日期），而不是“{d['value']}”。"),
    # Only the API refuses these (the page ignores parameters it does not know).
    "unknown_parameter": (r"unknown parameter (?P<value>'[^']*'|\"[^\"]*\")",
                          lambda d: f"没有“{d['value']}”这个参数。"),
    "missing_query": ("", lambda d: "请输入查询，或至少选择一个筛选条件。"),
    "too_many_queries": (r"not (?P<value>\d+)$", lambda d: f"最多比较 5 个查询，而不是 {d['value']} 个。"),
    "not_an_interval": (_NOT, lambda d: f"时间单位只能是 year（年）或 month（月），而不是“{d['value']}”。"),
    "not_a_measure": (_NOT, lambda d: f"指标只能是 per_1000（每千篇）或 count（篇数），而不是“{d['value']}”。"),
    # Cursor paging of /api/search (``searchapp.paging``).
    "bad_cursor": ("", lambda d: "游标无效：请原样使用上一次结果中的 next_cursor。"),
    "cursor_other_query": ("", lambda d: "这个游标属于另一个查询：翻页时请保持查询和筛选条件不变（只有每页条数可以改）。"),
    "stale_cursor": ("", lambda d: "索引已经更新，这个游标已失效：请不带游标重新开始检索。"),
    "cursor_with_page": ("", lambda d: "游标和页码不能同时使用。"),
    # A parameter that takes one of a few words (the concordance's sort, …): the English message lists them.
    "not_one_of": (r"one of (?P<choices>.+), not (?P<value>.+)$",
                   lambda d: f"{d['name']}只能是 {d.get('choices', '').replace(', ', '、')} 之一，而不是“{d['value']}”。"),
    "nothing_to_find": ("", lambda d: "语境检索需要至少一个要查找的词（不是排除的词，也不是 title: 这样的字段）。"),
    # A format parameter (a citation's, …): the English message lists the formats.
    "unknown_format": (r"one of (?P<choices>.+), not (?P<value>.+)$",
                       lambda d: f"{d['name']}只能是 {d.get('choices', '').replace(', ', '、')}，而不是“{d['value']}”。"),
}

_BY_STATUS = {
    400: "请求有误。",
    404: "找不到这个页面。",
    405: "这个地址不接受这种请求方式。",
    413: "请求太大了。",
    414: "网址太长了：查询最多 500 个字符。",
    500: "服务器出错了，请稍后再试。",
}


def query_error(error: QueryError) -> str:
    """The Chinese message for a query or parameter error."""
    pattern, message = MESSAGES.get(error.code, ("", None))
    if message is None:
        return f"{PARAM_NAMES.get(error.param, error.param)}有误（{error}）。"
    found = re.search(pattern, str(error))
    details = {k: (_shown(v) if k == "value" else v) for k, v in (found.groupdict() if found else {}).items()}
    details.setdefault("pos", None)
    details.setdefault("value", "")
    return message({**details, "param": error.param, "name": PARAM_NAMES.get(error.param, error.param)})


def index_missing(error: IndexMissing) -> str:
    if isinstance(error, IndexOutdated):
        return (f"{error.index_dir} 中的索引是另一个版本的 newsearch 建立的，"
                f"请用 newsearch index --rebuild 重建。")
    return f"{error.index_dir} 中还没有检索索引，请先用 newsearch index 建立索引。"


def http_error(status: int | None, description: str | None, default: str | None) -> str:
    """A status's Chinese message, unless the page gave its own (Chinese) description."""
    if description and description != default:
        return description
    return _BY_STATUS.get(status or 500, "出错了。")
