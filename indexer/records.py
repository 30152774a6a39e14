"""The plain records that flow through the indexer: files -> Page -> Article -> index document."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the input, said with where it is: skipped (not indexed), or, when
    ``skipped`` is false, indexed with a change the reason says (a cut title, a split article)."""

    path: str
    reason: str
    line: int | None = None
    skipped: bool = True

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the archive's catalog knows of one page file; it wins over inference."""

    file: str
    date: str = ""
    year: int | None = None
    paper: str = ""
    page: str = ""
    city: str = ""
    year_evidence: str = ""


@dataclass(slots=True)
class Page:
    """One decoded newspaper page file."""

    source: str  # the file's absolute path: what the index knows it by
    file: str  # the file as people see it: its folder's name and its path below it
    page_id: str
    text: str
    encoding: str
    catalog: CatalogEntry | None = None


@dataclass(slots=True)
class Article:
    """The unit of search: one piece of a page, or one JSON Lines record."""

    id: str
    source: str  # absolute path of the file it came from
    text: str  # original text, as displayed
    file: str = ""  # that file as people see it (folder name / path below it)
    title: str = ""
    subtitle: str = ""
    kind: str = "article"  # main, feature, news, commentary, sidebar, record
    column: str = ""  # sidebar column ("县区扫描"), if any
    page_id: str = ""
    position: int = 0  # order on its page
    reporters: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)
    date: str = ""  # ISO date when known
    year: int | None = None
    year_inferred: bool = False
    year_evidence: str = ""
    paper: str = ""
    page_label: str = ""
    city: str = ""  # main city (short name)
    cities: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    url: str = ""
