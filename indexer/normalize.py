"""Text normalisation for matching: str -> str, the same for documents and queries.

Two steps, both deterministic character by character so that a substring of a text
normalises to a substring of the normalised text (the recall guarantee depends on it):

1. ``fold``: one ``str.translate`` table, length-preserving. Traditional characters become
   simplified ones (OpenCC's character mapping, applied per character, never by phrase),
   full-width ASCII becomes half-width, the ideographic space a plain space, and letters are
   lower-cased.

   >>> fold("細河兩岸 ＡＢＣ１２３")
   '细河两岸 abc123'

2. ``join_whitespace``: whitespace between two Han characters is removed (layout artefacts
   such as "铁\\n\\n岭市" or the spaced names in bylines), any other run of whitespace becomes one
   space, and leading and trailing whitespace goes.

   >>> normalize("铁\\n\\n岭市  WiFi\\t覆盖 ")
   '铁岭市 wifi 覆盖'

``normalize_with_offsets`` also returns, for each normalised character, the index of the
character of the original text it came from: highlighting marks the original text.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

# Han ideographs (BMP blocks and the supplementary planes' ideographs).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{HAN}]")
_WHITESPACE_RE = re.compile(r"\s+")

_OPENCC_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """The translate table of ``fold``, built once per process (about 20 ms)."""
    import opencc

    table: dict[int, str] = {}
    converter = opencc.OpenCC("t2s")
    for start, stop in _OPENCC_RANGES:
        chars = [chr(code) for code in range(start, stop)]
        # One call for the whole block; the newline keeps OpenCC from using phrases.
        converted = converter.convert("\n".join(chars)).split("\n")
        if len(converted) != len(chars):  # pragma: no cover - would mean OpenCC changed shape
            raise RuntimeError("OpenCC did not convert character by character")
        for char, simple in zip(chars, converted):
            if simple != char and len(simple) == 1:
                table[ord(char)] = simple
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    for code in range(0x10000):
        char = chr(code)
        if code in table or not char.isupper():
            continue
        lower = char.lower()
        if len(lower) == 1:
            table[code] = lower
    # Full-width capitals fold to lower-case ASCII in one step.
    for code, value in list(table.items()):
        lower = value.lower()
        if len(lower) == 1 and lower != value:
            table[code] = lower
    return table


def fold(text: str) -> str:
    """Length-preserving character folding (see module docstring)."""
    return text.translate(fold_table())


def _removable(text: str, match: re.Match) -> bool:
    start, end = match.span()
    return (
        start > 0
        and end < len(text)
        and _HAN_RE.match(text, start - 1) is not None
        and _HAN_RE.match(text, end) is not None
    )


def join_whitespace(text: str) -> str:
    """Drop whitespace inside Han runs, collapse the rest, strip the ends."""

    def replace(match: re.Match) -> str:
        return "" if _removable(text, match) else " "

    return _WHITESPACE_RE.sub(replace, text).strip(" ")


def normalize(text: str) -> str:
    """The text as it is matched: ``join_whitespace(fold(text))``."""
    return join_whitespace(fold(text))


class OffsetMap:
    """Maps positions in a normalised text back to the original text.

    Stored as the starts of the runs in which normalised and original positions advance
    together, so a lookup is one bisection.
    """

    __slots__ = ("_norm_starts", "_orig_starts", "_orig_length")

    def __init__(self, norm_starts: list[int], orig_starts: list[int], orig_length: int):
        self._norm_starts = norm_starts
        self._orig_starts = orig_starts
        self._orig_length = orig_length

    def start(self, norm_pos: int) -> int:
        """Original index of the normalised character at ``norm_pos``."""
        i = bisect.bisect_right(self._norm_starts, norm_pos) - 1
        return self._orig_starts[i] + (norm_pos - self._norm_starts[i])

    def end(self, norm_end: int) -> int:
        """Original end index (exclusive) of a span that ends at ``norm_end``."""
        if norm_end <= 0:
            return 0
        return min(self.start(norm_end - 1) + 1, self._orig_length)


def normalize_with_offsets(text: str) -> tuple[str, OffsetMap]:
    """``normalize(text)`` and the map from its positions to positions in ``text``."""
    folded = fold(text)
    pieces: list[str] = []
    norm_starts: list[int] = [0]
    orig_starts: list[int] = [0]
    norm_len = 0
    orig_pos = 0
    for match in _WHITESPACE_RE.finditer(folded):
        start, end = match.span()
        pieces.append(folded[orig_pos:start])
        norm_len += start - orig_pos
        at_edge = start == 0 or end == len(folded)
        if not at_edge and not _removable(folded, match):
            pieces.append(" ")
            norm_len += 1
        orig_pos = end
        norm_starts.append(norm_len)
        orig_starts.append(end)
    pieces.append(folded[orig_pos:])
    return "".join(pieces), OffsetMap(norm_starts, orig_starts, len(text))
