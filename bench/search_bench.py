"""Search benchmark: newsearch's core against the naive Whoosh + jieba baseline, same run.

Datasets (read from ../shared, never copied into the project):
- ``cctv``: all of cctv_xwlb (36k short stories); our index comes from bench/index_bench.py
  (bench/results/cctv-index) or is built here.
- ``pages``: page-length texts, one a broadcast day, made by joining the day's stories of
  cctv_xwlb_2012_2018 (``--pages N`` of them).

Queries (``--queries`` per dataset, drawn from the texts with a fixed seed): 1-6 character
strings, 2-3 word ANDs, quoted phrases, and term + year filters. Each is timed as a full
search: 10 hits with highlighted snippets and facet counts over the whole result set.

Baseline: a Whoosh index of the same records with ``jieba.analyse.ChineseAnalyzer``, searched
through Whoosh's QueryParser with ``groupedby`` year facets and Whoosh's own highlighter.

Recall: for every quoted query, our total equals a plain substring scan of the normalised texts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "corpora"
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{6,}")


def load_records(name: str, pages: int) -> list[dict]:
    if name == "cctv":
        with gzip.open(SHARED / "cctv_xwlb" / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    days: dict[str, list[dict]] = {}
    with gzip.open(SHARED / "cctv_xwlb_2012_2018" / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            days.setdefault(record["date"], []).append(record)
            if len(days) > pages:
                break
    records = []
    for date, stories in list(days.items())[:pages]:
        text = "\n".join(f"{s['title']}\n{s['text']}" for s in stories)
        records.append({"id": f"day-{date}", "title": f"新闻联播 {date}", "date": date, "text": text})
    return records


def build_ours(records: list[dict], index_dir: Path) -> float:
    from indexer.build import build_index

    source = index_dir.parent / f"{index_dir.name}-source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    with open(source / "records.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    report = build_index([source], index_dir, rebuild=True)
    return report.seconds


def build_baseline(records: list[dict], index_dir: Path) -> float:
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, NUMERIC, TEXT, Schema

    started = time.perf_counter()
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    analyzer = ChineseAnalyzer()
    schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer, stored=True),
                    content=TEXT(analyzer=analyzer, stored=True),
                    year=NUMERIC(stored=True, sortable=True))
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer(procs=2, multisegment=True, limitmb=128)
    for record in records:
        writer.add_document(id=record["id"], title=record.get("title", ""), content=record["text"],
                            year=int(record["date"][:4]))
    writer.commit()
    return time.perf_counter() - started


def make_queries(records: list[dict], count: int, seed: int = 7) -> list[tuple[str, str, str | None]]:
    """(kind, query text, year filter) drawn from the texts."""
    from indexer.analysis import segment
    from indexer.normalize import normalize

    rng = random.Random(seed)
    queries: list[tuple[str, str, str | None]] = []
    per_kind = count // 4 + 1
    while len(queries) < count:
        record = rng.choice(records)
        runs = HAN_RUN.findall(normalize(record["text"]))
        if not runs:
            continue
        run = rng.choice(runs)
        kind = ("chars", "and", "quoted", "filtered")[len(queries) // per_kind % 4]
        if kind == "chars":
            length = 1 + len(queries) % 6
            start = rng.randrange(len(run) - length + 1)
            queries.append((kind, run[start:start + length], None))
        elif kind == "and":
            words = [w for w, _, _ in segment(normalize(record["text"])).words if len(w) >= 2]
            if len(words) >= 3:
                queries.append((kind, " ".join(rng.sample(words, 2 + len(queries) % 2)), None))
        elif kind == "quoted":
            length = rng.randint(3, 8)
            start = rng.randrange(max(1, len(run) - length + 1))
            queries.append((kind, f'"{run[start:start + length]}"', None))
        else:
            length = rng.randint(2, 4)
            start = rng.randrange(len(run) - length + 1)
            year = record["date"][:4]
            span = year if len(queries) % 2 else f"{int(year) - 1}..{year}"
            queries.append((kind, run[start:start + length], span))
    return queries


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def time_ours(index_dir: Path, queries) -> tuple[list[float], dict]:
    from searchapp.core import search
    from searchapp.highlight import HtmlFormatter
    from searchapp.request import query_from_args
    from searchapp.store import SearchIndex

    def query(text, year):
        return query_from_args({"q": text, "year": year} if year else {"q": text})

    index = SearchIndex(index_dir)
    fmt = HtmlFormatter()
    for _, text, year in queries[:20]:  # warm up: caches, facet table, file pages
        search(index, query(text, year), fmt)
    times, totals = [], {}
    for kind, text, year in queries:
        query_ = query(text, year)
        started = time.perf_counter()
        result = search(index, query_, fmt)
        times.append((time.perf_counter() - started) * 1000)
        totals[(text, year)] = (result.total, [h.id for h in result.hits])
    return times, totals


def time_baseline(index_dir: Path, queries) -> tuple[list[float], dict]:
    from whoosh import index
    from whoosh.highlight import HtmlFormatter as WhooshHtml
    from whoosh.qparser import QueryParser
    from whoosh.sorting import FieldFacet

    ix = index.open_dir(str(index_dir))
    searcher = ix.searcher()
    parser = QueryParser("content", ix.schema)
    times, totals = [], {}

    def run(text, year):
        q = parser.parse(text + (f" year:[{year.replace('..', ' TO ')}]" if year and ".." in year else
                                 f" year:{year}" if year else ""))
        results = searcher.search(q, limit=10, groupedby={"year": FieldFacet("year")})
        results.formatter = WhooshHtml()
        snippets = [hit.highlights("content", top=3) for hit in results]
        return results, snippets

    for _, text, year in queries[:20]:
        run(text, year)
    for kind, text, year in queries:
        started = time.perf_counter()
        results, _ = run(text, year)
        groups = results.groups("year")
        times.append((time.perf_counter() - started) * 1000)
        totals[(text, year)] = (len(results), groups)
    return times, totals


def recall(records: list[dict], queries, ours: dict, baseline: dict) -> dict:
    from indexer.normalize import normalize

    texts = [(r["id"], normalize(r.get("title", "")), normalize(r["text"])) for r in records]
    checked = ours_ok = base_ok = 0
    for kind, text, year in queries:
        if kind != "quoted":
            continue
        needle = normalize(text.strip('"'))
        expected = {i for i, title, body in texts if needle in body or needle in title}
        total, ids = ours[(text, None)]
        checked += 1
        ours_ok += total == len(expected) and set(ids) <= expected
        base_ok += baseline[(text, None)][0] == len(expected)
    return {"quoted_queries": checked, "ours_exact": ours_ok, "baseline_exact": base_ok,
            "ours_recall_pct": round(100 * ours_ok / max(checked, 1), 1),
            "baseline_recall_pct": round(100 * base_ok / max(checked, 1), 1)}


def summary(times: list[float]) -> dict:
    return {"p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2),
            "mean_ms": round(statistics.fmean(times), 2), "max_ms": round(max(times), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="cctv,pages")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--pages", type=int, default=1500, help="page-length texts in the pages set")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in args.datasets.split(","):
        records = load_records(name, args.pages)
        ours_dir, base_dir = RESULTS / f"{name}-index", RESULTS / f"{name}-baseline"
        chars = sum(len(r["text"]) for r in records)
        print(f"{name}: {len(records)} records, {chars} chars", flush=True)
        if not (ours_dir / "newsearch.json").exists():
            print(f"  building our index ... {build_ours(records, ours_dir):.0f}s", flush=True)
        if not base_dir.exists() or not any(base_dir.iterdir()):
            print(f"  building the baseline index ... {build_baseline(records, base_dir):.0f}s", flush=True)
        queries = make_queries(records, args.queries)
        ours_times, ours_totals = time_ours(ours_dir, queries)
        base_times, base_totals = time_baseline(base_dir, queries)
        by_kind = {}
        for kind in ("chars", "and", "quoted", "filtered"):
            picked = [i for i, q in enumerate(queries) if q[0] == kind]
            by_kind[kind] = {"ours": summary([ours_times[i] for i in picked]),
                             "baseline": summary([base_times[i] for i in picked])}
        ours_sum, base_sum = summary(ours_times), summary(base_times)
        report[name] = {
            "records": len(records), "chars": chars, "queries": len(queries),
            "ours": ours_sum, "baseline": base_sum,
            "speedup_p50": round(base_sum["p50_ms"] / ours_sum["p50_ms"], 2),
            "speedup_p95": round(base_sum["p95_ms"] / ours_sum["p95_ms"], 2),
            "by_kind": by_kind,
            "recall": recall(records, queries, ours_totals, base_totals),
        }
        row = report[name]
        print(f"  ours     p50 {ours_sum['p50_ms']:7.2f} ms  p95 {ours_sum['p95_ms']:7.2f} ms")
        print(f"  baseline p50 {base_sum['p50_ms']:7.2f} ms  p95 {base_sum['p95_ms']:7.2f} ms")
        print(f"  speed-up at p50 {row['speedup_p50']}x, at p95 {row['speedup_p95']}x; recall {row['recall']}")
        for kind, numbers in by_kind.items():
            print(f"    {kind:9} ours p50 {numbers['ours']['p50_ms']:7.2f} p95 {numbers['ours']['p95_ms']:7.2f} | "
                  f"baseline p50 {numbers['baseline']['p50_ms']:7.2f} p95 {numbers['baseline']['p95_ms']:7.2f}")
    (RESULTS / "search.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
