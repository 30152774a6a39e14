"""Downloads: the ``Content-Disposition`` header of the files the API gives as attachments (an
export, a citation in RIS or BibTeX, the concordance as CSV)."""

from __future__ import annotations

import re
from urllib.parse import quote

_NOT_SIMPLE = re.compile(r"[^A-Za-z0-9_.~-]")


def attachment(filename: str, fallback: str | None = None) -> str:
    """A ``Content-Disposition`` value for a download named ``filename``: the name as it is for
    every client when it is plain (ASCII letters, digits, ``_.~-``); else an ASCII name for the
    clients that read only that (``fallback``, or the name with the other characters as ``_``)
    and the name itself as RFC 6266's ``filename*``, which browsers prefer."""
    simple = _NOT_SIMPLE.sub("_", filename)
    if simple == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback or simple}\"; filename*=UTF-8''{quote(filename, safe='')}"
