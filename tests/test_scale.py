"""At scale: a 20,000-article archive made by ``bench/scale_archive.py`` from the real corpora,
indexed by the real ``newsearch index``, searched through the core, and every answer checked
against a direct scan of the generated records.

The scan knows, per article, its normalised title and text (``indexer.normalize.normalize``), its
year (from the record's date) and its city (the record's: only the generator's local stories name
a Liaoning place, see ``bench/scale_archive.py``). A few hundred queries are drawn from the text
with a fixed seed; for each, ``E`` is the set of articles whose normalised title or text contains
the string (all strings, for an AND), within the filters.

- quoted strings (5–8 characters, a third typed in traditional characters) and quoted ANDs:
  the total is exactly ``|E|`` (the ids too, when there are at most 300);
- unquoted terms (README: the exact string OR all its jieba words, in the text or the title),
  which a scan cannot reproduce without jieba: every article of ``E`` is found (``t "t"``, the
  term AND its own exact string, finds all of ``E``; the ids themselves when few), and nothing is
  found that lacks one of the term's characters; a single character is its own only word, so
  there the total is exactly ``|E|``;
- year and city filters (parameters and query fields), ``sort=date`` (the newest of ``E`` first);
- year and city facet counts over the whole result set (each facet leaving out its own filter);
- hits are highlighted: a hit whose text contains the string shows it marked.

Place-name widening is turned off (``aliases=0``) so that a term means what it says.
Runs in about a minute on two shared cores (49–67 s measured), most of it the index build; set
NEWSEARCH_SCALE_ARTICLES to a smaller count while working on it.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench import scale_archive
from indexer import fields
from indexer.normalize import normalize

pytestmark = pytest.mark.scale

ARTICLES = int(os.environ.get("NEWSEARCH_SCALE_ARTICLES", "20000"))  # smaller while developing
SEED = 2026
PER_KIND = 40
ID_LIMIT = 300  # results fetched id by id (per_page 100) up to this many
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


@dataclass
class Scan:
    """The generated records, as a direct scan sees them."""

    ids: list[str]
    years: list[int]
    dates: list[str]
    cities: list[str]
    texts: list[str]  # normalised text
    both: list[str]  # normalised title, NUL, normalised text
    by_id: dict[str, int] = field(default_factory=dict)
    _exact: dict[str, frozenset[int]] = field(default_factory=dict)
    _chars: dict[str, frozenset[int]] = field(default_factory=dict)

    def exact(self, string: str) -> frozenset[int]:
        """Articles whose normalised title or text contains ``string``."""
        if string not in self._exact:
            self._exact[string] = frozenset(i for i, value in enumerate(self.both) if string in value)
        return self._exact[string]

    def all_chars(self, string: str) -> frozenset[int]:
        """Articles holding every character of ``string`` (title and text together): the most an
        unquoted term can find."""
        result = None
        for char in set(string):
            if char not in self._chars:
                self._chars[char] = frozenset(i for i, value in enumerate(self.both) if char in value)
            result = self._chars[char] if result is None else result & self._chars[char]
        return result or frozenset()

    def within(self, docs, years=None, city=None) -> frozenset[int]:
        return frozenset(i for i in docs if (years is None or self.years[i] in years)
                         and (city is None or self.cities[i] == city))


@dataclass
class Case:
    kind: str
    q: str  # the query as typed
    strings: list[str]  # the normalised strings whose articles must be found
    quoted: bool
    params: dict = field(default_factory=dict)  # year, year_from, year_to, city, sort
    years: range | None = None
    city: str | None = None


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict]:
    if not scale_archive.corpus_files():
        pytest.skip(f"the scale test needs the real corpora in {scale_archive.CORPORA} "
                    "(*/articles.jsonl.gz); they are not there")
    folder = tmp_path_factory.mktemp("scale") / "archive"
    stats = scale_archive.generate(folder, ARTICLES, seed=SEED)
    return folder, stats


@pytest.fixture(scope="module")
def scan(archive) -> Scan:
    folder, _ = archive
    ids, years, dates, cities, texts, both = [], [], [], [], [], []
    for record in scale_archive.iter_records(folder):
        ids.append(record["id"])
        dates.append(record["date"])
        years.append(int(record["date"][:4]))
        cities.append(record.get("city", ""))
        text = normalize(record["text"])
        texts.append(text)
        both.append(normalize(record["title"]) + "\0" + text)
    return Scan(ids, years, dates, cities, texts, both, {id_: n for n, id_ in enumerate(ids)})


@pytest.fixture(scope="module")
def index_dir(archive, tmp_path_factory) -> Path:
    """The archive indexed by the real command (in this process)."""
    from searchapp.cli import main

    folder, _ = archive
    index_dir = tmp_path_factory.mktemp("scale-index") / "index"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["index", str(folder), "--quiet", "--json", "--index-dir", str(index_dir)])
    report = json.loads(out.getvalue())
    assert status == 0 and not report["problems"], report["problems"][:5]
    assert report["articles_added"] == ARTICLES
    return index_dir


@pytest.fixture(scope="module")
def index(index_dir):
    from searchapp.store import SearchIndex

    return SearchIndex(index_dir)


def run(index, q: str, **params):
    from searchapp.core import search
    from searchapp.highlight import HtmlFormatter
    from searchapp.request import query_from_args

    return search(index, query_from_args({"q": q, "aliases": "0", **params}), HtmlFormatter())


def result_ids(index, q: str, total: int, **params) -> set[str]:
    ids: set[str] = set()
    for page in range(1, -(-total // 100) + 1):
        ids.update(hit.id for hit in run(index, q, per_page="100", page=str(page), **params).hits)
    return ids


# -- the queries -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cases(scan) -> dict[str, list[Case]]:
    """Queries drawn from the generated text (seeded), by kind: the strings of one query come
    from one article, and a filter mostly holds that article (so that most queries find some)."""
    import jieba  # only to pick words for queries; the expectations never use it
    import opencc

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    to_traditional = opencc.OpenCC("s2t").convert
    rng = random.Random(SEED)
    local = [i for i, city in enumerate(scan.cities) if city]
    cities = sorted(set(scan.cities[i] for i in local))

    def article(local_only: bool = False) -> int:
        return rng.choice(local) if local_only else rng.randrange(len(scan.ids))

    def substring(i: int, length: int) -> str | None:
        runs = [r for r in HAN_RUN.findall(scan.texts[i]) if len(r) >= length]
        if not runs:
            return None
        run_ = rng.choice(runs)
        start = rng.randrange(len(run_) - length + 1)
        return run_[start:start + length]

    def words(i: int, lengths: range, count: int) -> list[str] | None:
        found = sorted({w for w in tokenizer.cut(scan.texts[i]) if len(w) in lengths and HAN_RUN.fullmatch(w)})
        return rng.sample(found, count) if len(found) >= count else None

    def draw(make):
        while True:
            made = make(article())
            if made:
                return made

    def year_filter(year: int) -> tuple[dict, range, str]:
        roll = rng.randrange(4)
        if roll == 0:
            return {"year": str(year)}, range(year, year + 1), ""
        if roll == 1:
            first, last = year - rng.randrange(0, 6), min(2026, year + rng.randrange(0, 6))
            return {"year": f"{first}..{last}"}, range(first, last + 1), ""
        if roll == 2:
            first, last = year - rng.randrange(0, 12), min(2026, year + rng.randrange(0, 12))
            return {"year_from": str(first), "year_to": str(last)}, range(first, last + 1), ""
        return {}, range(year, year + 1), f" year:{year}"

    out: dict[str, list[Case]] = {k: [] for k in ("char", "word", "string", "quoted", "and", "quoted_and",
                                                  "filtered")}
    for _ in range(PER_KIND):
        char = draw(lambda i: substring(i, 1))
        out["char"].append(Case("char", char, [char], False))
        word = draw(lambda i: words(i, range(2, 3), 1))[0]
        out["word"].append(Case("word", word, [word], False))
        string = draw(lambda i: substring(i, rng.choice((3, 4))))
        out["string"].append(Case("string", string, [string], False))
        terms = draw(lambda i: words(i, range(2, 5), rng.choice((2, 3))))
        out["and"].append(Case("and", " ".join(terms), terms, False))
    for number in range(PER_KIND + PER_KIND // 2):
        string = draw(lambda i: substring(i, rng.randint(5, 8)))
        typed = to_traditional(string) if number % 3 == 0 else string
        out["quoted"].append(Case("quoted", f'"{typed}"', [normalize(typed)], True))
    for _ in range(PER_KIND // 2):
        pair = draw(lambda i: (substring(i, rng.randint(2, 4)), (words(i, range(2, 5), 1) or [None])[0]))
        while not all(pair):
            pair = draw(lambda i: (substring(i, rng.randint(2, 4)), (words(i, range(2, 5), 1) or [None])[0]))
        out["quoted_and"].append(Case("quoted_and", f'"{pair[0]}" "{pair[1]}"', list(pair), True))
    for number in range(PER_KIND + PER_KIND // 2):
        quoted = number % 2 == 0
        with_city = number % 3 != 0
        i = article(local_only=with_city)
        string = substring(i, rng.randint(3, 6)) if quoted else (words(i, range(2, 4), 1) or [None])[0]
        while string is None:
            i = article(local_only=with_city)
            string = substring(i, rng.randint(3, 6)) if quoted else (words(i, range(2, 4), 1) or [None])[0]
        case = Case("filtered", f'"{string}"' if quoted else string, [string], quoted)
        if number % 3 != 1:
            year = scan.years[i] if rng.random() < 0.8 else rng.randrange(1950, 2027)
            params, years, in_query = year_filter(year)
            case.params.update(params)
            case.years = years
            case.q += in_query
        if with_city:
            city = scan.cities[i] if rng.random() < 0.8 else rng.choice(cities)
            case.city = city
            if number % 5 == 0:
                case.q += f" city:{city}"
            else:
                case.params["city"] = city
        if number % 4 == 0:
            case.params["sort"] = "date"
        out["filtered"].append(case)
    return out


# -- the checks --------------------------------------------------------------------------------

def expected(scan: Scan, case: Case, strings=None) -> frozenset[int]:
    docs = None
    for string in strings or case.strings:
        docs = scan.exact(string) if docs is None else docs & scan.exact(string)
    return scan.within(docs, case.years, case.city)


def check(index, scan: Scan, case: Case) -> list[str]:
    """What is wrong with the answer to one query (nothing: [])."""
    said = f"{case.kind} {case.q!r} {case.params or ''}"
    wrong = []
    result = run(index, case.q, **case.params)
    want = expected(scan, case)
    want_ids = {scan.ids[i] for i in want}
    if case.quoted:
        if result.total != len(want):
            wrong.append(f"{said}: total {result.total}, the scan finds {len(want)}")
        elif result.total <= ID_LIMIT and result_ids(index, case.q, result.total, **case.params) != want_ids:
            wrong.append(f"{said}: the ids differ from the scan's")
    else:
        most = scan.within(frozenset.intersection(*(scan.all_chars(s) for s in case.strings)), case.years, case.city)
        exact_too = case.q + "".join(f' "{s}"' for s in case.strings)
        found_exact = run(index, exact_too, **case.params).total
        if found_exact != len(want):
            wrong.append(f"{said}: finds {found_exact} of the {len(want)} articles holding the exact "
                         f"string(s) ({exact_too!r})")
        if not len(want) <= result.total <= len(most):
            wrong.append(f"{said}: total {result.total}, outside [{len(want)} exact, {len(most)} holding "
                         "every character]")
        elif case.kind == "char" and result.total != len(want):
            wrong.append(f"{said}: total {result.total}, the scan finds {len(want)}")
        elif result.total <= ID_LIMIT:
            ids = result_ids(index, case.q, result.total, **case.params)
            if not want_ids <= ids or not ids <= {scan.ids[i] for i in most}:
                wrong.append(f"{said}: ids missing {sorted(want_ids - ids)[:3]}, "
                             f"impossible {sorted(ids - {scan.ids[i] for i in most})[:3]}")
    if case.params.get("sort") == "date" and result.hits and case.quoted and want:
        newest = max(scan.dates[i] for i in want)
        dates = [hit.date for hit in result.hits]
        if dates[0] != newest or dates != sorted(dates, reverse=True):
            wrong.append(f"{said}: sort=date gives {dates[:3]}…, the newest is {newest}")
    wrong.extend(check_marks(scan, case, result))
    return wrong


def check_marks(scan: Scan, case: Case, result) -> list[str]:
    """Each hit whose text holds one of the strings shows one marked."""
    wrong = []
    for hit in result.hits:
        text = scan.texts[scan.by_id[hit.id]]
        inside = [s for s in case.strings if s in text]
        if not inside:
            continue  # only in the title: the snippets are of the text
        marked = [normalize(html.unescape(m)) for snippet in hit.snippets for m in MARK.findall(snippet)]
        if not any(s in m for s in inside for m in marked):
            wrong.append(f"{case.kind} {case.q!r}: hit {hit.id} holds {inside[0]!r} in its text, "
                         f"but its snippets mark {marked[:4]}")
    return wrong


def check_kind(index, scan, cases, kind) -> None:
    wrong = [problem for case in cases[kind] for problem in check(index, scan, case)]
    assert not wrong, f"{len(wrong)} problems in {len(cases[kind])} {kind} queries:\n" + "\n".join(wrong[:40])


def test_the_archive_is_the_generator_s_and_all_of_it_is_indexed(archive, scan, index, cli, index_dir):
    folder, stats = archive
    assert stats["articles"] == len(scan.ids) == ARTICLES == len(set(scan.ids))
    assert 0.07 < stats["traditional"] / ARTICLES < 0.13 and 0.25 < stats["local"] / ARTICLES < 0.35
    assert min(scan.years) == 1950 and max(scan.years) == 2026
    shown = cli("stats", "--json", index_dir=index_dir)
    assert shown.returncode == 0 and json.loads(shown.stdout)["articles"] == ARTICLES


@pytest.mark.parametrize("kind", ["char", "word", "string", "quoted", "and", "quoted_and", "filtered"])
def test_totals_and_highlights_agree_with_a_scan(index, scan, cases, kind):
    check_kind(index, scan, cases, kind)


def expected_buckets(scan: Scan, docs, name: str) -> dict[str, int]:
    values = scan.years if name == "year" else scan.cities
    return dict(Counter(str(values[i]) for i in docs if values[i]))


def check_facets(result, scan: Scan, matched, filters: dict, selected: dict | None = None) -> list[str]:
    """Year and city buckets against the scan; each facet leaves out its own filter. A facet
    shows its first ``max_buckets`` values (years latest first, cities most first) with a count
    or selected by its filter, and every selected one."""
    wrong = []
    for name in ("year", "city"):
        within = matched
        for other, keep in filters.items():
            if other != name:
                within = [i for i in within if keep(i)]
        want = expected_buckets(scan, within, name)
        shown = {b.value: b.count for b in result.facets[name]}
        limit = fields.BY_NAME[name].max_buckets
        chosen = (selected or {}).get(name, set())
        listed = set(want) | chosen
        if name == "year":
            top = sorted(listed, key=int, reverse=True)[:limit]
        else:
            top = sorted(listed, key=lambda v: (-want.get(v, 0), v))[:limit]
        top += sorted(chosen - set(top))
        bad = {v: (shown[v], want.get(v, 0)) for v in shown if shown[v] != want.get(v, 0)}
        missing = [v for v in top if v not in shown]
        if bad or missing:
            wrong.append(f"{result.query!r} {name}: (shown, scan) {dict(list(bad.items())[:5])}, not shown {missing[:5]}")
    return wrong


def test_facet_counts_cover_the_whole_result_set(index, scan, cases):
    wrong = []
    everything = run(index, "", per_page="1")
    wrong += check_facets(everything, scan, range(len(scan.ids)), {})
    assert everything.total == ARTICLES
    # Single characters and quoted strings: the scan knows their result sets exactly.
    picked = cases["char"][:8] + cases["quoted"][:8]
    for case in picked:
        result = run(index, case.q)
        wrong += check_facets(result, scan, expected(scan, case), {})
    for number, case in enumerate(cases["char"][8:16]):
        cities = sorted({c for c in scan.cities if c})
        city = cities[number % len(cities)]
        first = 1950 + 9 * number
        result = run(index, case.q, city=city, year=f"{first}..{first + 15}")
        matched = scan.exact(case.strings[0])
        filters = {"city": lambda i, c=city: scan.cities[i] == c,
                   "year": lambda i, f=first: f <= scan.years[i] <= f + 15}
        want = [i for i in matched if all(keep(i) for keep in filters.values())]
        if result.total != len(want):
            wrong.append(f"{case.q!r} city={city} year={first}..{first + 15}: total {result.total}, scan {len(want)}")
        chosen = {"city": {city}, "year": {str(y) for y in set(scan.years) if first <= y <= first + 15}}
        wrong += check_facets(result, scan, matched, filters, chosen)
    assert not wrong, "\n".join(wrong[:40])


def test_the_city_facet_holds_the_local_stories_only(index, scan):
    """Only the generator's local stories name a Liaoning place: the city facet of the whole
    archive is the records' cities, and a city filter finds exactly its stories."""
    want = Counter(c for c in scan.cities if c)
    everything = run(index, "", per_page="1")
    assert {b.value: b.count for b in everything.facets["city"]} == dict(want)
    for city, count in want.items():
        assert run(index, "", city=city, per_page="1").total == count, city
