"""Snippets with the matched strings marked, in the original characters of the article.

The core fixes how fragments are chosen (sentences split on 。！？ and line ends, scored by how
many different query terms they hold); each front end passes a ``Formatter`` (HTML, ANSI, plain).

Matches are found in the *normalised* text by plain string search (no re-segmentation), then
mapped back to the original text, so a simplified query marks the traditional characters it
matched. Each query term is marked whole where it occurs (马克思 as one mark, never 马克 + 思);
a term that does not occur as such (its words matched apart) has its words marked instead.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from indexer.normalize import normalize, normalize_with_offsets

SNIPPET_CHARS = 130
_SENTENCE_END = re.compile(r"[。！？!?]+[”」』\"]?|\n+")
_QUOTES_AND_ENDS = "。！？!?”」』\"“「『 \n"

# What a terminal would act on rather than print: escape sequences (CSI with its parameters,
# a terminated OSC/DCS/PM/APC string, other ESC sequences; also in their 8-bit C1 forms) and
# every other C0 or C1 control character or DEL. A sequence cut short (a slice of the text
# ending inside one) loses its introducer and leaves the rest as plain text.
_TERMINAL_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x00-\x1f\x7f-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def printable(value: str) -> str:
    """``value`` safe to write to a terminal: escape sequences and control characters removed,
    tabs as spaces, line ends ("\\n") kept."""
    return _TERMINAL_CONTROL.sub("", value).replace("\t", " ")


class Formatter:
    """Plain text for a terminal, a pipe or a file: no marks, no control characters."""

    def text(self, value: str) -> str:
        return printable(value)

    def mark(self, value: str) -> str:
        return printable(value)


class HtmlFormatter(Formatter):
    def text(self, value: str) -> str:
        return html.escape(value, quote=True)

    def mark(self, value: str) -> str:
        return f"<mark>{html.escape(value, quote=True)}</mark>"


class AnsiFormatter(Formatter):
    """Matches in bold red; the text itself made printable first, so these are the only escapes."""

    START = "\x1b[1;31m"
    END = "\x1b[0m"

    def mark(self, value: str) -> str:
        return f"{self.START}{printable(value)}{self.END}"


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # in the original text
    end: int
    term: int  # which query term it marks


def _occurrences(haystack: str, needle: str) -> list[tuple[int, int]]:
    found = []
    start = haystack.find(needle)
    while start != -1:
        found.append((start, start + len(needle)))
        start = haystack.find(needle, start + len(needle))
    return found


def find_spans(text: str, terms: list[tuple[str, list[str]]]) -> list[Span]:
    """Spans of ``text`` (original) that match the query terms (normalised strings)."""
    if not terms:
        return []
    norm, offsets = normalize_with_offsets(text)
    raw: list[tuple[int, int, int]] = []
    for index, (whole, words) in enumerate(terms):
        hits = _occurrences(norm, whole)
        if not hits:
            useful = [w for w in words if len(w) > 1] or words
            for word in useful:
                hits.extend(_occurrences(norm, word))
        raw.extend((start, end, index) for start, end in hits)
    raw.sort()
    merged: list[list[int]] = []
    for start, end, index in raw:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, index])
    return [Span(offsets.start(s), offsets.end(e), i) for s, e, i in merged]


def _render(text: str, start: int, end: int, spans: list[Span], fmt: Formatter) -> str:
    parts = []
    cursor = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        s, e = max(span.start, start), min(span.end, end)
        if s > cursor:
            parts.append(fmt.text(text[cursor:s]))
        parts.append(fmt.mark(text[s:e]))
        cursor = e
    if cursor < end:
        parts.append(fmt.text(text[cursor:end]))
    return "".join(parts)


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def _said(sentence: str) -> str:
    """What a sentence says, for telling repeats apart: normalised, without its quotes and end."""
    return normalize(sentence).strip(_QUOTES_AND_ENDS)


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def snippets(text: str, spans: list[Span], fmt: Formatter, count: int = 3,
             width: int = SNIPPET_CHARS, skip_prefix: str = "") -> list[str]:
    """Up to ``count`` fragments of about ``width`` characters around the best matches."""
    body_start = len(skip_prefix) if skip_prefix and text.startswith(skip_prefix) else 0
    if body_start and any(s.start >= body_start for s in spans):
        spans_in_body = [s for s in spans if s.start >= body_start]
    else:
        spans_in_body = spans
    if not spans_in_body:
        lead = _clean(text[body_start:body_start + width * 2])[:width]
        return [fmt.text(lead + ("…" if len(text) - body_start > width else ""))] if lead else []
    scored = []
    for start, end in _sentences(text):
        if spans_in_body is not spans and start < body_start:
            continue  # the title (its line end included) is shown above the snippets already
        inside = [s for s in spans if s.start < end and s.end > start]
        if inside:
            scored.append((-len({s.term for s in inside}), -len(inside), start, end, inside))
    scored.sort()
    # A page may print a sentence twice (a pull quote, a box repeating the body), or the title
    # again below a column's name: each is shown once, the title not at all unless it alone matches.
    chosen, seen = [], {_said(skip_prefix)} if skip_prefix else set()
    for item in scored:
        said = _said(text[item[2]:item[3]])
        if said not in seen:
            seen.add(said)
            chosen.append(item)
            if len(chosen) == count:
                break
    chosen = sorted(chosen or scored[:1], key=lambda item: item[2])
    fragments = []
    for _, _, start, end, inside in chosen:
        if end - start > width:
            first = inside[0].start
            last = max(s.end for s in inside if s.start - first < width)
            middle = (first + last) // 2
            start = max(start, min(middle - width // 2, first))
            end = min(end, start + width)
        while start < end and text[start].isspace():
            start += 1
        prefix = "…" if start > 0 and text[start - 1] not in "。！？!?\n" else ""
        suffix = "…" if end < len(text) and text[end - 1] not in "。！？!?\n" else ""
        body = _render(text, start, end, spans, fmt)
        fragments.append(prefix + re.sub(r"\s*\n\s*", " ", body).strip() + suffix)
    return fragments


def paragraphs(text: str, spans: list[Span], fmt: Formatter) -> list[str]:
    """Every paragraph of ``text``, with all matches marked (the article page)."""
    result = []
    offset = 0
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        if line.strip():
            result.append(_render(text, start, end, spans, fmt).strip())
    return result
